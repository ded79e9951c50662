// The package as another project uses it: `npm pack` (which builds dist/lib), the tarball
// installed into a new project with no TypeScript loader, the README's example run there
// against the simulated SIM7000 (the mail then read back with the installed package's own
// CLI), and a TypeScript file type-checked against the published declarations.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runProcess, startSimulator, type SimProcess } from "../kit/cli-process.ts";

const test = suite("the packed package in a new project");

let project = "";
let tarball = "";
let sim: SimProcess;

function npm(args: string[], cwd: string): string {
  const result = spawnSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" }, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`npm ${args.join(" ")} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The README's example, between its marker comment and the end of the code block. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /<!-- example: send-one\.mjs[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, "README.md has the send-one.mjs example");
  return m![1];
}

test.before(async () => {
  project = mkdtempSync(join(tmpdir(), "simmail-user-project-"));
  // prepack (the library build) prints on stdout before npm's JSON.
  const output = npm(["pack", "--json", "--pack-destination", project], ROOT);
  const [packed] = JSON.parse(output.slice(output.search(/^\[/m))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(project, packed.filename);
  const paths = packed.files.map((f) => f.path);
  for (const path of ["dist/lib/index.js", "dist/lib/index.d.ts", "dist/lib/host/index.js", "dist/lib/app/index.js", "dist/lib/host/cli.js", "bin/simmail", "README.md"]) {
    assert.ok(paths.includes(path), `the package has ${path}`);
  }
  assert.not.ok(paths.some((path) => path.startsWith("src/") || path.startsWith("host-tests/") || path.startsWith("sim/")), "no sources, tests or simulator in the package");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
  npm(["install", tarball, "--prefer-offline", "--no-audit", "--no-fund"], project);
  sim = await startSimulator("simmail-package-");
});

test.after(async () => {
  await sim?.stop();
  if (project !== "") rmSync(project, { recursive: true, force: true });
});

test("the README's example sends a mail from plain Node, and the installed CLI reads it back", async () => {
  writeFileSync(join(project, "send-one.mjs"), readmeExample());
  const env: NodeJS.ProcessEnv = { ...process.env, SIMMAIL_PORT: sim.port, SMTP_HOST: sim.info.smtp.host, SMTP_PORT: String(sim.info.smtp.port), SIMMAIL_PASSWORD: "alarm-secret" };
  delete env.NODE_OPTIONS;
  const example = spawnSync(process.execPath, ["send-one.mjs"], { cwd: project, env, encoding: "utf8", timeout: 60_000 });
  assert.is(example.status, 0, `${example.stdout}\n${example.stderr}`);
  assert.is(example.stdout, "sent\n");

  const cli = join(project, "node_modules/.bin/simmail");
  const version = await runProcess(cli, ["--version"], { env });
  assert.is(version.stdout, `simmail ${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`, version.stderr);
  const pop3 = `${sim.info.pop3.host}:${sim.info.pop3.port}`;
  const headers = await runProcess(cli, ["inbox", "--port", sim.port, "--pop3", pop3, "--user", "bob", "headers", "1"], { env: { ...env, SIMMAIL_PASSWORD: "bob-secret" } });
  assert.is(headers.status, 0, headers.stderr);
  assert.match(headers.stdout, /^Subject: Hello from Node$/m);
});

test("the installed CLI's sim refuses in one line: the simulator runs from a checkout, with devDependencies", async () => {
  const cli = join(project, "node_modules/.bin/simmail");
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const run = await runProcess(cli, ["sim", "--pty", join(project, "modem")], { env });
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, run.stderr);
  assert.match(lines[0], /^simmail: sim needs a checkout of the simmail repository: the simulator \(sim\/\) is not in the installed package/);
  assert.match(lines[0], /devDependencies smtp-server and mailparser/);
  assert.match(lines[0], /run npm ci there/);
  assert.not.ok(existsSync(join(project, "modem")), "no pty link was made");
});

test("a TypeScript user's code type-checks against the published declarations of all three entry points", () => {
  writeFileSync(join(project, "check.ts"), [
    'import { AtEngine, Modem, openMailDialect, type MailMessage } from "simmail";',
    'import { HostSerial, nodeTimers, hostPlatform } from "simmail/node";',
    'import { AlarmApp, signCommandSubject, type AlarmConfig } from "simmail/app";',
    "export async function open(path: string): Promise<AtEngine> {",
    "  const serial = await HostSerial.open(path, 115200);",
    "  const engine = new AtEngine({ serial, timers: nodeTimers });",
    "  serial.attach(engine);",
    '  new Modem(engine, nodeTimers);',
    "  return engine;",
    "}",
    'export const message: MailMessage = { from: { address: "a@example.com" }, to: [{ address: "b@example.com" }], subject: "s", body: "b" };',
    "export const used = [openMailDialect, hostPlatform, AlarmApp, signCommandSubject];",
    "export type Config = AlarmConfig;",
    "// @ts-expect-error: the declarations are real, so a wrong type is an error",
    "export const wrong: MailMessage = { from: 1 };",
    "",
  ].join("\n"));
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", noEmit: true, skipLibCheck: false, types: [], typeRoots: [join(ROOT, "node_modules/@types")] }, files: ["check.ts"] }));
  const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: project, encoding: "utf8" });
  assert.is(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});

test.run();
