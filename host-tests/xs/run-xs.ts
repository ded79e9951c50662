// Runs code under the real XS engine (@agoric/xsnap) in a child process and returns what each
// step reported and XS's meter readings after it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface XsStep {
  name: string;
  /** Script code; `report(value)` sends a JSON value back; `gc()` runs a full collection. */
  code: string;
}

export interface XsStepResult {
  name: string;
  reports: unknown[];
  /** XS meters after the step: `compute` (instructions), `currentHeapCount` (live heap slots), `allocate` (bytes). */
  meterUsage: { compute: number; currentHeapCount: number; allocate: number };
}

const CHILD = fileURLToPath(new URL("./xs-child.mjs", import.meta.url));

export function runInXs(job: { scripts: string[]; steps: XsStep[] }, timeoutMs = 120_000): Promise<XsStepResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the XS run took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("close", (code) => {
      clearTimeout(timer);
      let result: { steps: XsStepResult[]; error?: string };
      try {
        result = JSON.parse(stdout.slice(stdout.indexOf('{"steps"')));
      } catch {
        reject(new Error(`the XS child exited with ${code} and no result: ${stderr || stdout}`));
        return;
      }
      if (result.error) reject(new Error(`XS: ${result.error}`));
      else resolve(result.steps);
    });
    child.stdin.end(JSON.stringify(job));
  });
}
