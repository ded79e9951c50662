// The CLI suites' processes: `bin/simmail` run as a user runs it, and the simulated SIM7000
// with its mail servers (sim/main.ts) in its own process on a pty.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  output: string;
}

/** Runs `bin/simmail` with `password` as SIMMAIL_PASSWORD (none: the variable unset). */
export function runSimmail(args: string[], password?: string): Promise<CliRun> {
  const env = { ...process.env };
  delete env.SIMMAIL_PASSWORD;
  if (password !== undefined) env.SIMMAIL_PASSWORD = password;
  return runProcess(process.execPath, [join(ROOT, "bin/simmail"), ...args], { env });
}

export interface RunOptions {
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (needs root). */
  uid?: number;
  gid?: number;
}

/** Runs `command` in the repository's root and collects what it prints. */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: ROOT, uid: options.uid, gid: options.gid });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => ((stdout += c), (output += c)));
    child.stderr.setEncoding("utf8").on("data", (c: string) => ((stderr += c), (output += c)));
    child.once("error", (error) => ((stderr += `${error.message}\n`), (output += `${error.message}\n`)));
    child.on("close", (status) => resolve({ status: status ?? -1, stdout, stderr, output }));
  });
}

/** The first stdout line of `child` that starts with "{", parsed; rejects if `what` exits first. */
export function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let text = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      text += c;
      const line = text.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.on("exit", (code) => reject(new Error(`${what} exited ${code}`)));
  });
}

/** Where the simulator's servers listen, as it prints them (with `--tls`, the TLS ports too). */
export interface SimInfo {
  smtp: { host: string; port: number };
  pop3: { host: string; port: number };
  tls?: { smtps: number; smtpStarttls: number; pop3s: number; ca: string };
}

export interface SimProcess<Info extends SimInfo = SimInfo> {
  info: Info;
  /** A fresh temporary folder, removed by `stop()`. */
  work: string;
  /** The simulator's pty, in `work`. */
  port: string;
  stop(): Promise<void>;
}

/** Starts sim/main.ts on a pty in a new `<tmpdir>/<prefix>…` folder; `args` go to it. */
export async function startSimulator<Info extends SimInfo = SimInfo>(prefix: string, args: string[] = []): Promise<SimProcess<Info>> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const port = join(work, "modem");
  const sim = spawn(process.execPath, ["--import", "tsx", join(ROOT, "sim/main.ts"), "--pty", port, "--smtp-port", "0", "--pop3-port", "0", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const info = await firstJsonLine<Info>(sim, "simulator");
  return {
    info, work, port,
    async stop() {
      sim.kill("SIGTERM");
      await new Promise((r) => sim.once("exit", r));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Runs a program on a pty of its own (python3's pty.fork), its input and output relayed. */
const ON_TERMINAL = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
sources = [fd, 0]
while True:
    ready, _, _ = select.select(sources, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            sources.remove(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

export interface TerminalRun {
  status: number;
  /** Everything the program wrote to its terminal (stdout and stderr), as the terminal shows it. */
  screen: string;
}

/**
 * Runs `bin/simmail` as on a user's terminal (stdin, stdout and stderr a pty; SIMMAIL_PASSWORD
 * unset), typing `answer.text` once `answer.after` appears on the screen.
 */
export function runSimmailOnTerminal(args: string[], answer?: { after: RegExp; text: string }): Promise<TerminalRun> {
  const env = { ...process.env };
  delete env.SIMMAIL_PASSWORD;
  return new Promise((resolve) => {
    const child = spawn("python3", ["-c", ON_TERMINAL, process.execPath, join(ROOT, "bin/simmail"), ...args], { env, cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    let screen = "";
    let answered = answer === undefined;
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      screen += c;
      if (!answered && answer!.after.test(screen)) {
        answered = true;
        child.stdin.write(answer!.text);
      }
    });
    child.on("close", (status) => resolve({ status: status ?? -1, screen }));
  });
}

export interface RunningSimmail {
  child: ChildProcess;
  /** Resolves once `pattern` appears in stderr (rejects if the process exits first). */
  stderrMatch(pattern: RegExp): Promise<void>;
  /**
   * Resolves once `count` whole stderr lines match `pattern` (rejects if the process exits
   * first). Each line is looked at once, as it comes: a signal sent then lands where it was
   * meant to, not after the work it should interrupt (a regex such as `(line[^]*){20}` over
   * the whole stderr backtracks exponentially, and its seconds let the transfer run to its end).
   */
  stderrLines(pattern: RegExp, count: number): Promise<void>;
  /** Resolves with the run once the process exits. */
  done: Promise<CliRun>;
}

/** Starts `bin/simmail` (as runSimmail) and hands the process over: to signal it mid-run. */
export function startSimmail(args: string[], password?: string): RunningSimmail {
  const env = { ...process.env };
  delete env.SIMMAIL_PASSWORD;
  if (password !== undefined) env.SIMMAIL_PASSWORD = password;
  const child = spawn(process.execPath, [join(ROOT, "bin/simmail"), ...args], { env, cwd: ROOT });
  let stdout = "";
  let stderr = "";
  let output = "";
  const watchers: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const lineWatchers: Array<{ pattern: RegExp; left: number; resolve: () => void }> = [];
  /** Where the first stderr line not yet counted for lineWatchers starts. */
  let lineStart = 0;
  child.stdout!.setEncoding("utf8").on("data", (c: string) => ((stdout += c), (output += c)));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
    output += c;
    for (const w of watchers.splice(0)) if (w.pattern.test(stderr)) w.resolve(); else watchers.push(w);
    for (let end = stderr.indexOf("\n", lineStart); end >= 0; end = stderr.indexOf("\n", lineStart)) {
      const line = stderr.slice(lineStart, end);
      lineStart = end + 1;
      for (const w of lineWatchers.splice(0)) if (w.pattern.test(line) && --w.left === 0) w.resolve(); else lineWatchers.push(w);
    }
  });
  const done = new Promise<CliRun>((resolve) => child.on("close", (status, signal) => resolve({ status: status ?? (signal === "SIGKILL" ? 137 : -1), stdout, stderr, output })));
  const exitedBefore = (what: string, run: CliRun) => new Error(`simmail exited ${run.status} before ${what}:\n${run.stderr.slice(-2000)}`);
  return {
    child,
    done,
    stderrMatch: (pattern) => new Promise<void>((resolve, reject) => {
      if (pattern.test(stderr)) return resolve();
      watchers.push({ pattern, resolve });
      void done.then((run) => reject(exitedBefore(String(pattern), run)));
    }),
    stderrLines: (pattern, count) => new Promise<void>((resolve, reject) => {
      const counted = stderr.slice(0, lineStart).split("\n").filter((line) => pattern.test(line)).length;
      if (counted >= count) return resolve();
      lineWatchers.push({ pattern, left: count - counted, resolve });
      void done.then((run) => reject(exitedBefore(`${count} lines like ${pattern}`, run)));
    }),
  };
}
