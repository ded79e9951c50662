// The firmware in the Moddable runtime: manifest.json built for lin with mcconfig, run in the
// SDK's simulator mcsim on a private headless X display (Xvfb), talking over a pty to the
// project's simulated SIM7000 (sim/) with the real mail servers (sim/servers)
// behind it. Used by mcsim.test.ts and bench/mcsim-memory.ts.
//
// Everything is written in temp dirs: the build (mcconfig -o), mcsim's HOME (it copies mc.so
// into $HOME/.config/tech.moddable.mcsim/), the pins and the pty link. The app's own files are
// under /tmp/<storageDirectory>/ because the lin file module's root is /tmp/. Processes are
// stopped by their PID, never by name: other mcsim instances may run on the same machine.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { MailServers } from "../../sim/servers/index.ts";
import { SimModem } from "../../sim/modem/modem.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";
import { PtyBridge } from "../../sim/pty.ts";
import { REPO, sdkEnv } from "./moddable-sdk.ts";

export interface Sdk {
  path: string;
  bin: string;
}

/** Names the simulated modem resolves to the local servers (as sim/main.ts). */
const MAIL_HOST = "mail.simmail.test";

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Runs a command to its end; rejects with the last lines of its output when it fails. */
export function runToEnd(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.once("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.split("\n").slice(-30).join("\n")}`));
    });
  });
}

export interface LinBuildOptions {
  /** mcconfig's -o: the whole build goes there. */
  outDir: string;
  /** Default the repo's manifest.json. */
  manifest?: string;
  /** `key=value` overrides of the manifest's config. */
  config: Record<string, string | number>;
  /** mcconfig -i: a release build with XS instrumentation (mcsim prints heap figures every second). */
  instrument?: boolean;
}

/** The repo's bundle (build/build.mjs), then `mcconfig -m -p lin`; resolves with the path of mc.so. */
export async function buildForLin(sdk: Sdk, options: LinBuildOptions): Promise<string> {
  await runToEnd(process.execPath, ["build/build.mjs"], { cwd: REPO });
  mkdirSync(options.outDir, { recursive: true });
  const settings = Object.entries(options.config).map(([key, value]) => `${key}=${value}`);
  const args = ["-m", "-p", "lin", ...(options.instrument ? ["-i"] : []), "-o", options.outDir, options.manifest ?? join(REPO, "manifest.json"), ...settings];
  await runToEnd("mcconfig", args, { cwd: REPO, env: { ...sdkEnv(sdk), MAKEFLAGS: "-j2" } });
  const image = walk(join(options.outDir, "bin")).find((path) => path.endsWith("/mc.so"));
  if (image === undefined) throw new Error(`mcconfig succeeded but wrote no mc.so under ${options.outDir}/bin`);
  return image;
}

/** A private X display: Xvfb picks a free number itself (-displayfd), so concurrent runs never collide. */
export interface Display {
  name: string;
  /** Set if Xvfb ended before stop(): how. */
  lost: string | null;
  stop(): Promise<void>;
}

export function startDisplay(): Promise<Display> {
  const child = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  let errors = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (errors += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopProcess(child, "SIGTERM");
      reject(new Error(`Xvfb gave no display number within 15 s: ${errors.trim()}`));
    }, 15_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run Xvfb (Debian package xvfb): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before giving a display: ${errors.trim()}`));
    });
    let number = "";
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding("utf8");
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (text: string) => {
      number += text;
      if (!number.includes("\n")) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const display: Display = { name: `:${number.trim()}`, lost: null, stop: () => stopProcess(child, "SIGTERM") };
      child.once("exit", (code, signal) => {
        display.lost = `Xvfb (pid ${child.pid}) ended (${signal ?? `exit ${code}`}): ${errors.trim().split("\n").slice(-3).join(" / ")}`;
      });
      resolve(display);
    });
  });
}

/** Signals one process by its PID and resolves once it has exited. */
function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

export interface McsimOptions {
  sdk: Sdk;
  image: string;
  display: Display;
  /** mcsim's HOME (its copy of mc.so goes to .config/tech.moddable.mcsim/ there). */
  home: string;
  /** Every output line is appended here too. */
  logFile: string;
}

/** One mcsim process: its output lines (the app's trace()), waits on them, and a kill by PID. */
export class Mcsim {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly display: Display;
  private readonly log: WriteStream;
  private waiters: Array<() => void> = [];
  private partial = "";

  private constructor(child: ChildProcess, display: Display, log: WriteStream) {
    this.child = child;
    this.display = display;
    this.log = log;
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => {
      this.flushPartial();
      this.notify();
      resolve({ code, signal });
    }));
    const take = (text: string) => {
      log.write(text);
      this.partial += text;
      const parts = this.partial.split("\n");
      this.partial = parts.pop()!;
      if (parts.length === 0) return;
      this.lines.push(...parts);
      this.notify();
    };
    child.stdout!.setEncoding("utf8").on("data", take);
    child.stderr!.setEncoding("utf8").on("data", take);
  }

  static start(options: McsimOptions): Mcsim {
    mkdirSync(join(options.home, ".config", "tech.moddable.mcsim"), { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: options.home,
      DISPLAY: options.display.name,
      // A bus that does not exist: with a reachable D-Bus a new mcsim hands its mc.so to one
      // already running (the GTK application id is fixed) and exits.
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent",
      NO_AT_BRIDGE: "1",
    };
    delete env.XDG_CONFIG_HOME;
    const log = createWriteStream(options.logFile, { flags: "a" });
    log.write(`---- mcsim ${options.image} ----\n`);
    // stdbuf execs mcsim in the same process: the PID is mcsim's, and its output comes line by line.
    const child = spawn("stdbuf", ["-oL", "-eL", join(options.sdk.bin, "mcsim"), options.image], { cwd: options.home, env, stdio: ["ignore", "pipe", "pipe"] });
    return new Mcsim(child, options.display, log);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills this mcsim (by its PID) and waits until it has exited. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await stopProcess(this.child, signal);
    this.log.end();
  }

  /** Kills at once, synchronously (from inside a trace callback, before anything else runs). */
  killNow(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** The lines of the app's trace ("simmail: " taken off) that match. */
  traced(pattern: RegExp): string[] {
    return this.lines.filter((line) => line.startsWith("simmail: ")).map((line) => line.slice(9)).filter((line) => pattern.test(line));
  }

  /** The "XS abort: ..." line (or a break on an exception), if the app stopped that way. */
  aborted(from = 0): string | undefined {
    return this.lines.slice(from).find((text) => text.startsWith("XS abort") || text.includes("# Break:"));
  }

  /** Resolves with the first output line (from index `from`) that matches; rejects on timeout, an abort or exit. */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((text) => pattern.test(text));
      if (line !== undefined) return line;
      const abort = this.aborted(from);
      if (abort !== undefined) throw new Error(`mcsim: ${abort} (waiting for ${pattern})\n${this.tail()}`);
      if (!this.running) throw new Error(`mcsim exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`mcsim printed nothing matching ${pattern} within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The last output lines, for failure messages (and what became of the display, if it went). */
  tail(count = 40): string {
    const lines = this.lines.slice(-count).map((line) => `  | ${line}`);
    if (this.display.lost !== null) lines.push(`  display ${this.display.name}: ${this.display.lost}`);
    return lines.join("\n");
  }

  private flushPartial(): void {
    if (this.partial !== "") this.lines.push(this.partial);
    this.partial = "";
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The simulated SIM7000 on a pty at `path`, resolving the mail names to `servers`. */
export interface PtyModem {
  sim: SimModem;
  pty: PtyBridge;
  /** Every simulator trace line (commands, URCs, the mail dialogue). */
  trace: string[];
  /** Called with each trace line as it happens (a test kills mcsim from here at a chosen step). */
  onTrace: ((text: string) => void) | null;
  close(): Promise<void>;
}

export interface PtyModemOptions {
  /** Every trace line is appended here too. */
  traceFile?: string;
  /** Pace the modem's output at this rate, as a UART would (default: no pacing). */
  baud?: number;
}

export async function startPtyModem(path: string, servers: MailServers, options: PtyModemOptions = {}): Promise<PtyModem> {
  const log = options.traceFile === undefined ? null : createWriteStream(options.traceFile, { flags: "a" });
  const modem: PtyModem = {
    sim: null as unknown as SimModem,
    pty: null as unknown as PtyBridge,
    trace: [],
    onTrace: null,
    close: async () => {
      modem.sim.close();
      await modem.pty.close();
      log?.end();
    },
  };
  modem.sim = new NodeSimModem({
    dialect: "sim7000",
    ...(options.baud !== undefined ? { baud: options.baud } : {}),
    hosts: { [MAIL_HOST]: servers.host },
    trace: (text) => {
      modem.trace.push(text);
      log?.write(`${text}\n`);
      modem.onTrace?.(text);
    },
  });
  modem.pty = await PtyBridge.open(path, options.baud !== undefined ? { baud: options.baud } : {});
  modem.pty.connect(modem.sim);
  modem.sim.powerOn({ quiet: true });
  return modem;
}

/** Sets a simulated input pin (a file holding "0" or "1"), atomically so a read never sees it half written. */
export function setPin(pinsDirectory: string, pin: number, level: 0 | 1): void {
  mkdirSync(pinsDirectory, { recursive: true });
  const file = join(pinsDirectory, String(pin));
  writeFileSync(`${file}.new`, String(level));
  renameSync(`${file}.new`, file);
}

export interface SimulatorConfig {
  modemDevice: string;
  pinsDirectory: string;
  storageDirectory: string;
  servers: MailServers;
  /** The device's SMTP account and POP3 command mailbox. */
  deviceUser: string;
  /** Where alarms go; also the one sender commands are taken from. */
  operatorUser: string;
  commandSecret: string;
}

/**
 * The config overrides that point the shipped app at the simulator: its pty, pins and storage
 * in temp dirs, the servers' accounts, and the shortest timings the settings allow (the first
 * poll follows the bring-up at once; later ones every 30 s, the least commandPollSeconds takes).
 */
export function simulatorConfig(options: SimulatorConfig): Record<string, string | number> {
  const { servers } = options;
  const user = (name: string) => {
    const found = servers.users.find((u) => u.name === name);
    if (found === undefined) throw new Error(`the mail servers have no user ${name}`);
    return found;
  };
  const device = user(options.deviceUser);
  const operator = user(options.operatorUser);
  return {
    modemDevice: options.modemDevice,
    pinsDirectory: options.pinsDirectory.endsWith("/") ? options.pinsDirectory : `${options.pinsDirectory}/`,
    storageDirectory: options.storageDirectory,
    apn: "internet",
    smtpHost: MAIL_HOST,
    smtpPort: servers.smtpPort,
    smtpUser: device.name,
    smtpPassword: device.password,
    mailFrom: device.address,
    mailTo: operator.address,
    pop3Host: MAIL_HOST,
    pop3Port: servers.pop3Port,
    pop3User: device.name,
    pop3Password: device.password,
    commandAllowlist: operator.address,
    commandSecret: options.commandSecret,
    commandPollSeconds: 30,
    gatherMs: 0,
    retryBaseMs: 1000,
    retryMaxMs: 5000,
    maxBringUpBackoffMs: 5000,
    mailsPerHour: 3600,
    // No daily status mail in the middle of a run: the first would be 31 days after start.
    heartbeatHours: 744,
    heartbeatAt: "none",
  };
}

/** The keys of a manifest's `creation` that the measurements set (mcconfig fills in the rest). */
export interface Creation {
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
}

export interface VariantOptions {
  /** Replaces the manifest's creation, for every platform. */
  creation: Creation;
  /**
   * A JavaScript entry module that becomes "main" instead of the app; the app's bundle is then
   * the module "simmail-app" (its default export starts it), and the SDK's `instrumentation`
   * and `debug` modules are included for the entry.
   */
  entry?: string;
}

/**
 * A copy of the repo's manifest.json in `dir` for a measurement (the shipped manifest stays as
 * it is): its relative paths made absolute, its creation replaced, optionally another entry.
 * Returns the copy's path.
 */
export function writeVariantManifest(dir: string, options: VariantOptions): string {
  const manifest = JSON.parse(readFileSync(join(REPO, "manifest.json"), "utf8")) as Record<string, unknown>;
  const absolute = (value: unknown): unknown => {
    if (typeof value === "string") return value.startsWith("./") ? join(REPO, value) : value;
    if (Array.isArray(value)) return value.map(absolute);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, absolute(item)]));
    return value;
  };
  const variant = absolute(manifest) as {
    creation: Creation; include: string[]; modules: Record<string, unknown>; preload: string[]; platforms: Record<string, Record<string, unknown>>;
  };
  variant.creation = options.creation;
  for (const platform of Object.values(variant.platforms)) delete platform.creation;
  mkdirSync(dir, { recursive: true });
  if (options.entry !== undefined) {
    const entry = join(dir, "main.js");
    writeFileSync(entry, options.entry);
    const app = variant.modules["*"];
    variant.modules["*"] = entry.replace(/\.js$/, "");
    variant.modules["simmail-app"] = app;
    // The app stays preloaded under its new name; the entry is not (it starts timers).
    variant.preload = variant.preload.map((name) => (name === "main" ? "simmail-app" : name));
    variant.include.push("$(MODDABLE)/modules/base/instrumentation/manifest.json", "$(MODDABLE)/modules/base/debug/manifest.json");
  }
  const path = join(dir, "manifest.json");
  writeFileSync(path, `${JSON.stringify(variant, null, "\t")}\n`);
  return path;
}

/** The creation values the generated mc.xs.c really holds (to check that a rebuild took a new one). */
export function builtCreation(outDir: string): string {
  const source = walk(outDir).find((path) => path.endsWith("/mc.xs.c"));
  if (source === undefined) throw new Error(`no mc.xs.c under ${outDir}`);
  // gxPreparation's creation: { chunk initial, incremental, heap initial, incremental, stack, ... }.
  const match = /gxPreparation = \{[^]*?\{ (\d+), (\d+), (\d+), (\d+), (\d+),/.exec(readFileSync(source, "utf8"));
  if (match === null) throw new Error(`cannot find the creation in ${source}`);
  return match.slice(1).join(",");
}

/**
 * Whether the build preloaded the JavaScript module `name`: in the generated mc.xs.c its script
 * record then holds no bytecode (NULL code, its objects are in the ROM heap instead), where a
 * module loaded at run time keeps its `gxCode<n>` array.
 */
export function isPreloaded(outDir: string, name: string): boolean {
  const source = walk(outDir).find((path) => path.endsWith("/mc.xs.c"));
  if (source === undefined) throw new Error(`no mc.xs.c under ${outDir}`);
  // gxScripts: { callback, symbols, symbolsSize, code, codeSize, hosts, hostsSize, path, version }.
  const record = /^\t\{ \w+, \w+, \d+, (NULL|\(txS1\*\)gxCode\d+), \d+, \w+, \d+, "([^"]+)"/gm;
  for (const [, code, path] of readFileSync(source, "utf8").matchAll(record)) if (path === name) return code === "NULL";
  throw new Error(`no script record of the module ${name} in ${source}`);
}

/** Files under `dir` changed since `sinceMs` (the SDK must stay untouched by a build). */
export function changedSince(dir: string, sinceMs: number): string[] {
  if (!existsSync(dir)) return [];
  const changed: string[] = [];
  const visit = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.mtimeMs > sinceMs || stat.ctimeMs > sinceMs) changed.push(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return changed;
}
