// `simmail sim` as a user runs it, the CLI as a process: fixed ports (the same at every start,
// so typed commands keep working), the commands it prints working as pasted, the JSON line only
// for programs (or --json), every simulator flag forwarded, and a pty path that is in use or in
// a missing folder refused in one line.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, firstJsonLine, runSimmail, runSimmailOnTerminal, type SimInfo } from "../kit/cli-process.ts";
import { deadPort } from "../kit/sim-support.ts";

const test = suite("CLI: simmail sim, interactively");

let work = "";
test.before(() => {
  work = mkdtempSync(join(tmpdir(), "simmail-sim-command-"));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  info: SimInfo & { pty: string };
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** `simmail sim` with `args`, its stdout a pipe (not a terminal), until its JSON line. */
async function startSim(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [join(ROOT, "bin/simmail"), "sim", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const info = await firstJsonLine<SimInfo & { pty: string }>(child, "simmail sim").catch((error: Error) => {
    throw new Error(`${error.message}\n${stderr}`);
  });
  await waitFor(() => stdout.includes("Ctrl-C stops it."), 5000);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, info, stdout: () => stdout, stderr: () => stderr, stop: () => (child.kill("SIGINT"), exited) };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("fixed ports: --smtp-port and --pop3-port are used, the same at the next start; the defaults are 2525 and 1100", async () => {
  const [smtp, pop3] = [await deadPort(), await deadPort()];
  const pty = join(work, "fixed");
  for (const round of [1, 2]) {
    const sim = await startSim(["--pty", pty, "--smtp-port", String(smtp), "--pop3-port", String(pop3)]);
    assert.is(sim.info.smtp.port, smtp, `round ${round}`);
    assert.is(sim.info.pop3.port, pop3, `round ${round}`);
    assert.is(await sim.stop(), 0);
  }
  // The defaults are fixed machine-wide ports: another program (another test run on this
  // machine) may hold one. Then the refusal must name the default port, which shows it too.
  let defaults: Started;
  try {
    defaults = await startSim(["--pty", join(work, "defaults")]);
  } catch (error) {
    assert.match((error as Error).message, /^sim: (SMTP port 2525|POP3 port 1100) on 127\.0\.0\.1 is in use by another program/m, "refused naming a default port");
    return;
  }
  try {
    assert.is(defaults.info.smtp.port, 2525);
    assert.is(defaults.info.pop3.port, 1100);
  } finally {
    await defaults.stop();
  }
});

test("a port in use is one line naming the flag that picks another", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const taken = (blocker.address() as { port: number }).port;
  try {
    const run = await runSimmail(["sim", "--pty", join(work, "taken"), "--smtp-port", String(taken), "--pop3-port", "0"]);
    assert.is(run.status, 1);
    assert.is(run.stderr, `sim: SMTP port ${taken} on 127.0.0.1 is in use by another program (--smtp-port N picks another, 0 any free one)\n`);
  } finally {
    blocker.close();
  }
});

test("the commands it prints work as pasted (probe, send, then inbox sees the mail)", async () => {
  const sim = await startSim(["--pty", join(work, "paste"), "--smtp-port", "0", "--pop3-port", "0"]);
  try {
    const pasted = sim.stdout().split("\n").filter((line) => /^ {2}(SIMMAIL_PASSWORD=\S+ )?simmail /.test(line)).map((line) => line.trim());
    assert.is(pasted.length, 3, sim.stdout());
    for (const [i, line] of pasted.entries()) {
      // As a user with simmail on PATH would run it: through a shell.
      const result = spawnSync("sh", ["-c", line.replace(/\bsimmail /, `${join(ROOT, "bin/simmail")} `)], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      assert.is(result.status, 0, `${line}\n${result.stdout}${result.stderr}`);
      if (i === 0) assert.match(result.stdout, /^modem: /m);
      if (i === 1) assert.match(result.stdout, /^sent to 1 recipient/);
      if (i === 2) assert.match(result.stdout, /^1\t\d+\t/m);
    }
  } finally {
    await sim.stop();
  }
});

test("on a terminal: no JSON line unless --json; the usage lists every forwarded flag", async () => {
  const stopWhenUp = { after: /Ctrl-C stops it\./, text: "\u0003" };
  const plain = await runSimmailOnTerminal(["sim", "--pty", join(work, "tty"), "--smtp-port", "0", "--pop3-port", "0"], stopWhenUp);
  assert.is(plain.status, 0, plain.screen);
  assert.match(plain.screen, /^Simulated SIM7000 modem on /m);
  assert.not.match(plain.screen, /^\{"pty"/m, "no JSON for a person");
  const json = await runSimmailOnTerminal(["sim", "--pty", join(work, "tty-json"), "--smtp-port", "0", "--pop3-port", "0", "--json"], stopWhenUp);
  assert.match(json.screen, /^\{"pty":/m);
  const help = await runSimmail(["help", "sim"]);
  for (const flag of ["--dialect", "--baud", "--tls", "--smtp-port", "--pop3-port", "--autobaud", "--boot", "--no-echo", "--timeout-scale", "--trace", "--json"]) {
    assert.ok(help.stdout.includes(flag), `simmail help sim lists ${flag}`);
  }
});

test("--trace, --boot, --no-echo, --timeout-scale and --autobaud reach the simulator", async () => {
  const sim = await startSim(["--pty", join(work, "forward"), "--smtp-port", "0", "--pop3-port", "0", "--trace", "--boot", "--no-echo", "--timeout-scale", "2", "--autobaud"]);
  try {
    const probe = await runSimmail(["probe", "--port", sim.info.pty]);
    assert.is(probe.status, 0, probe.stderr);
    assert.match(sim.stderr(), /^sim: /m, "--trace: the dialogue on stderr");
    assert.match(sim.stderr(), /AT\+CPIN\?/);
  } finally {
    await sim.stop();
  }
  const bad = await runSimmail(["sim", "--pty", join(work, "bad"), "--timeout-scale", "-1", "--smtp-port", "0", "--pop3-port", "0"]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /--timeout-scale must be a positive number, not "-1"/, "the value went to the simulator, which judged it");
});

test("a second sim on a path in use is refused and the first keeps working; a missing folder is one line", async () => {
  const path = join(work, "shared");
  const first = await startSim(["--pty", path, "--smtp-port", "0", "--pop3-port", "0"]);
  try {
    const link = readlinkSync(path);
    const second = await runSimmail(["sim", "--pty", path, "--smtp-port", "0", "--pop3-port", "0"]);
    assert.is(second.status, 1);
    assert.is(second.stderr, `sim: ${path} is in use: it links to ${link}, a pty another program holds (another simulator?); stop that one or pick another path\n`);
    assert.is(readlinkSync(path), link, "the first simulator's link is untouched");
    const probe = await runSimmail(["probe", "--port", path]);
    assert.is(probe.status, 0, probe.stderr);
  } finally {
    await first.stop();
  }
  assert.not.ok(existsSync(path), "the first removes its own link when it stops");
  const missing = join(work, "no-such-folder", "modem");
  const run = await runSimmail(["sim", "--pty", missing, "--smtp-port", "0", "--pop3-port", "0"]);
  assert.is(run.status, 1);
  assert.is(run.stderr, `sim: cannot create ${missing}: the folder ${join(work, "no-such-folder")} does not exist\n`);
  assert.not.match(run.stderr, /Traceback/);
});

test.run();
