// A real Linux pseudo-terminal for the simulator, so a program (the simmail CLI, minicom, a
// serialport test) can open it as a serial device. Node has no pty module here, so a small
// python3 helper (pty-helper.py) owns the pty and relays its bytes over stdin/stdout.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SimModem } from "./modem/modem.ts";

const HELPER = fileURLToPath(new URL("./pty-helper.py", import.meta.url));
const START_TIMEOUT_MS = 5000;
/** Output pacing granularity when a baud rate is set. */
const PACE_TICK_MS = 10;

export interface PtyOptions {
  /**
   * Pace bytes toward the program at this rate (10 bits per byte), as a real UART would.
   * Default: no pacing (a pty has no line rate).
   */
  baud?: number;
  /** The python interpreter. Default "python3". */
  python?: string;
}

export class PtyBridge {
  /** The symlink a program opens. */
  readonly path: string;
  /** The pty's slave device (/dev/pts/N) the link points to. */
  readonly device: string;
  /** Bytes the program wrote. */
  onData: ((bytes: Uint8Array) => void) | null = null;
  private readonly child: ChildProcessWithoutNullStreams;
  private baud: number | null;
  private queue: Buffer[] = [];
  private pacer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly exited: Promise<void>;

  private constructor(path: string, device: string, child: ChildProcessWithoutNullStreams, baud: number | null) {
    this.path = path;
    this.device = device;
    this.child = child;
    this.baud = baud;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stdout.on("data", (chunk: Buffer) => this.onData?.(new Uint8Array(chunk)));
  }

  /**
   * Creates the pty and the link at `path`. A stale link there is replaced; one to a pty that
   * exists (another simulator's) is refused, as is a path in a folder that does not exist.
   */
  static open(path: string, options: PtyOptions = {}): Promise<PtyBridge> {
    const baud = options.baud ?? null;
    if (baud !== null && !(Number.isInteger(baud) && baud > 0)) throw new RangeError(`baud must be a positive integer, not ${baud}`);
    const folder = dirname(resolve(path));
    if (!existsSync(folder)) return Promise.reject(new Error(`cannot create ${path}: the folder ${folder} does not exist`));
    const child = spawn(options.python ?? "python3", [HELPER, path], { stdio: ["pipe", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
      let stderr = "";
      const timer = setTimeout(() => {
        child.kill("SIGTERM");
        reject(new Error(`pty helper did not start within ${START_TIMEOUT_MS} ms: ${stderr.trim() || "no output"}`));
      }, START_TIMEOUT_MS);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${options.python ?? "python3"} for the pty helper: ${error.message}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        const refusal = /^ERROR (.*)$/m.exec(stderr);
        reject(new Error(refusal !== null ? refusal[1] : `pty helper exited (${code}): ${stderr.trim()}`));
      });
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (text: string) => {
        stderr += text;
        const ready = /^READY (\S+)$/m.exec(stderr);
        if (ready) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve(new PtyBridge(path, ready[1], child, baud));
        }
      });
    });
  }

  /** Connects a simulated modem: its output goes to the program, the program's bytes to it. */
  connect(sim: SimModem): void {
    sim.setSink((bytes) => this.write(bytes));
    this.onData = (bytes) => sim.receive(bytes);
  }

  /** Changes the pacing rate (AT+IPR); null turns pacing off. */
  setBaud(baud: number | null): void {
    this.baud = baud;
  }

  /** Bytes toward the program. */
  write(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.baud === null) {
      this.child.stdin.write(bytes);
      return;
    }
    this.queue.push(Buffer.from(bytes));
    this.pacer ??= setInterval(() => this.pace(), PACE_TICK_MS);
  }

  private pace(): void {
    let budget = Math.max(1, Math.floor((this.baud! / 10) * (PACE_TICK_MS / 1000)));
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const take = Math.min(budget, head.length);
      this.child.stdin.write(head.subarray(0, take));
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
      budget -= take;
    }
    if (this.queue.length === 0 && this.pacer !== null) {
      clearInterval(this.pacer);
      this.pacer = null;
    }
  }

  /** Removes the link and ends the helper. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    if (this.pacer !== null) clearInterval(this.pacer);
    this.onData = null;
    this.child.stdin.end();
    const force = setTimeout(() => this.child.kill("SIGTERM"), 2000);
    await this.exited;
    clearTimeout(force);
  }
}
