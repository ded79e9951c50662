// Runs code under the real XS engine (@agoric/xsnap) in a child process (xs-child.mjs) and
// returns what each step reported, printed and cost. See README.md in this folder.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { deviceStackSlots, deviceXsnapWorker } from "./device-xsnap.mjs";

export interface XsStep {
  name: string;
  /**
   * Script code, evaluated in the worker's global scope. It may call `report(value)` (a JSON
   * value for `reports`), `print(...)`, `gc()`. A completion value that is a promise is waited for.
   */
  code: string;
  /** Run a full GC after the step and its promise jobs, and give the live slot count (`heapAfterGc`). */
  gc?: boolean;
}

export interface XsJob {
  /** Files evaluated in order before the steps (e.g. dist/xs/simmail-core.js). */
  scripts: string[];
  steps: XsStep[];
  /** JavaScript stack in slots. Default: the device's (manifest.json `creation.stack`). */
  stack?: number;
}

export interface XsMeterUsage {
  /** XS's computation meter for the step: roughly one unit per bytecode or built-in step. */
  compute: number;
  /** Heap slots in use at the end of the step: live ones plus garbage not yet collected. */
  currentHeapCount: number;
  /** Bytes the XS machine has obtained for its heaps so far (grows, never shrinks). */
  allocate: number;
}

export interface XsStepResult {
  name: string;
  reports: unknown[];
  prints: string[];
  meterUsage: XsMeterUsage;
  /** Live heap slots after a full GC that followed the step, when it asked for one (`gc: true`). */
  heapAfterGc: number | null;
}

export interface XsRunResult {
  steps: XsStepResult[];
  /** Everything printed, scripts and steps, in order. */
  prints: string[];
}

/** A script or step failed under XS; `partial` holds the steps that completed before it. */
export class XsStepError extends Error {
  override name = "XsStepError";
  constructor(
    /** The step's name, `script <path>`, `(job)` or `(harness)`. */
    readonly step: string,
    /** What XS said, e.g. "TypeError: foo: cannot coerce null to object". */
    readonly xsMessage: string,
    readonly xsStack: string | undefined,
    readonly partial: XsRunResult,
  ) {
    super(`XS: ${step === "(job)" || step === "(harness)" ? step : `"${step}"`} failed: ${xsMessage}${xsStack ? `\n${xsStack}` : ""}`);
  }
}

const CHILD = fileURLToPath(new URL("./xs-child.mjs", import.meta.url));

interface ChildOutput extends XsRunResult {
  failure?: { step: string; message: string; stack?: string };
}

/**
 * Runs `job` in a fresh XS worker. Resolves with every step's result; rejects with an
 * XsStepError when a script or step fails, or an Error when the run takes longer than
 * `timeoutMs` or the child process breaks down.
 */
export function runInXs(job: XsJob, timeoutMs = 60_000): Promise<XsRunResult> {
  // Built (once, outside the timeout) before the child starts.
  const worker = deviceXsnapWorker();
  const stack = job.stack ?? deviceStackSlots();
  return new Promise((resolve, reject) => {
    // Its own process group: a timeout kills the xsnap worker under it too.
    const child = spawn(process.execPath, [CHILD], { stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the XS child process: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`the XS run took longer than ${timeoutMs} ms and was killed${stderr ? `; stderr:\n${stderr}` : ""}`));
        return;
      }
      let output: ChildOutput;
      try {
        output = JSON.parse(stdout) as ChildOutput;
      } catch {
        const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`the XS child process ended (${how}) without a result${stderr || stdout ? `:\n${stderr}${stdout}` : ""}`));
        return;
      }
      const result: XsRunResult = { steps: output.steps, prints: output.prints };
      if (output.failure === undefined) resolve(result);
      else reject(new XsStepError(output.failure.step, output.failure.message, output.failure.stack, result));
    });
    // A child that dies before reading its job is reported by the close handler.
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify({ ...job, worker, stack }));
  });
}

/**
 * Plain JS for the XS drivers (Node evaluates them too): a serial that hands the engine the
 * chunk last given to it and takes every write (`onWrite(bytes)` sees it), and timers that never fire.
 */
export const STUB_PORTS_JS = `
function stubSerial(onWrite) {
  let pending = new Uint8Array(0);
  return {
    give(bytes) { pending = bytes; return bytes.length; },
    read(buffer) {
      const n = Math.min(buffer.length, pending.length);
      for (let i = 0; i < n; i++) buffer[i] = pending[i];
      pending = pending.subarray(n);
      return n;
    },
    write(bytes) { onWrite(bytes); return true; },
  };
}
function stubTimers() {
  return { deadline: () => ({ arm() {}, disarm() {}, close() {} }) };
}
`;

/**
 * The stack for runs of the alarm rig bundle: the device's plus 768 slots. The rig is one IIFE
 * whose frame holds every top-level binding while it is evaluated: the simulator's SIM7000 and
 * mail servers and the plain-JS HMAC as well as the app's, where the device preloads its bundle
 * and runs no module body at all (mcsim's peak: 418 slots). Measured: 1,024 overflows once the
 * simulator is in the rig, 1,280 passes. The steps after it run on that stack too.
 */
export function alarmRigStack(): number {
  return deviceStackSlots() + 768;
}

/** Bundles alarm-xs-entry.ts (AlarmApp and its XS rig, as for the device) into `outfile`, publishing `alarmXs`. */
export async function bundleAlarmXs(outfile: string): Promise<void> {
  await build({
    absWorkingDir: join(import.meta.dirname, "..", "..", ".."),
    entryPoints: [join(import.meta.dirname, "alarm-xs-entry.ts")],
    outfile,
    bundle: true,
    format: "iife",
    globalName: "alarmXs",
    // A strict script's top-level var stays local under xsnap: publish the namespace explicitly.
    footer: { js: "globalThis.alarmXs = alarmXs;" },
    target: "es2022",
    platform: "neutral",
    minify: true,
    logLevel: "error",
  });
}
