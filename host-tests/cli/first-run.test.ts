// `npm start` as a newcomer runs it, as a process: where Dovecot cannot run (missing, or not
// root) the demo still completes, on the built-in Node POP3 server; an expected failure is one
// line without a stack trace; the alarm mail's subject reads well.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { accessSync, chownSync, constants, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { runProcess, type CliRun, type RunOptions } from "../kit/cli-process.ts";

const test = suite("first run: npm start without Dovecot");

/** A path Dovecot is surely not at: scripts/ensure-dovecot.sh and the servers both read SIMMAIL_DOVECOT. */
const MISSING_DOVECOT = "/nonexistent/simmail-test/dovecot";

const temporary: string[] = [];
test.after(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** Where `name` is on this process's PATH. */
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this one
    }
  }
  throw new Error(`${name} is not on PATH`);
}

function npmStart(env: NodeJS.ProcessEnv, options: Omit<RunOptions, "env"> = {}): Promise<CliRun> {
  return runProcess(onPath("npm"), ["start", "--silent"], { env, ...options });
}

/** The demo ran to its end and read back the alarm mail, whose subject reads well. */
function assertDemoCompleted(run: CliRun): void {
  assert.is(run.status, 0, run.output);
  assert.match(run.stdout, /^summary: alarm mail with its log sent and read back through the simulated SIM7000 in [\d.]+ s$/m, run.output);
  assert.match(run.stdout, /^ {3}mail 1: "Pump house: door: ALARM" from "Pump house alarm" <alarm@simmail\.test>$/m, "the subject names the site, the input and ALARM once");
  assert.match(run.stdout, /^ {3}attachment: pump-house-1-log\.txt, \d+ bytes$/m);
  assert.is(run.stderr, "", "nothing on stderr");
}

test("Dovecot missing (SIMMAIL_DOVECOT at a missing binary): npm start says so in one line and completes the demo on the Node POP3 server", async () => {
  const run = await npmStart({ ...process.env, SIMMAIL_DOVECOT: MISSING_DOVECOT });
  assertDemoCompleted(run);
  const why = run.stdout.split("\n").filter((line) => line.includes("ensure-dovecot:"));
  assert.equal(why, [`   ensure-dovecot: SIMMAIL_DOVECOT=${MISSING_DOVECOT} does not exist (apt-get would install /usr/sbin/dovecot)`]);
  assert.match(run.stdout, /^ {3}modem on .+; SMTP mail\.simmail\.test:\d+, POP3 mail\.simmail\.test:\d+ \(the built-in Node server\)$/m);
});

test("not root: npm start falls back to the Node POP3 server without trying to install anything", async () => {
  // As root, the unprivileged user is nobody (with a home of its own for npm); otherwise this user.
  const asRoot = process.getuid?.() === 0;
  const home = tempDir("simmail-first-run-home-");
  const user = asRoot ? { uid: Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" })) } : {};
  if (asRoot) chownSync(home, user.uid!, user.gid!);
  const run = await npmStart({ ...process.env, HOME: home, npm_config_cache: join(home, ".npm") }, user);
  assertDemoCompleted(run);
  assert.not.match(run.stdout, /installing dovecot-pop3d/);
  const why = run.stdout.split("\n").filter((line) => line.includes("ensure-dovecot:"));
  assert.is(why.length, 1, run.stdout);
  assert.match(why[0], /not root|as root/);
  assert.match(run.stdout, /\(the built-in Node server\)$/m);
});

test("an expected failure (no python3 for the pty helper) is one 'summary: FAILED' line naming python3, with no stack trace", async () => {
  // A PATH with what npm and scripts/ensure-dovecot.sh need, and no python3.
  const bin = tempDir("simmail-first-run-bin-");
  for (const command of ["sh", "bash", "id", "node", "npm"]) symlinkSync(onPath(command), join(bin, command));
  const run = await npmStart({ ...process.env, PATH: bin, SIMMAIL_DOVECOT: MISSING_DOVECOT });
  assert.is(run.status, 1, run.output);
  const failures = run.output.split("\n").filter((line) => /FAILED|Error|python3/.test(line));
  assert.equal(failures, ["summary: FAILED: the simulated modem did not start: cannot run python3 for the pty helper: spawn python3 ENOENT"], run.output);
  assert.not.match(run.output, /^\s+at /m, "no stack frames");
  assert.is(run.stderr, "", "nothing on stderr");
});

test.run();
