// Runs a job under the real XS engine (xsnap) in its own process: SES lockdown (@endo/init)
// must not touch the test runner. Job on stdin as JSON: { scripts: [paths], steps: [{ name, code }] }.
// Result on stdout as JSON: { steps: [{ name, reports, meterUsage }] } or { error }.
import "@endo/init";
import { xsnap } from "@agoric/xsnap";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import os from "node:os";
import tmp from "tmp";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});
const job = JSON.parse(input);
let reports = [];
const worker = await xsnap({
  name: "simmail-xs",
  os: os.type(),
  spawn,
  fs: { ...fsp, createReadStream: fs.createReadStream, tmpName: tmp.tmpName },
  stdout: "inherit",
  stderr: "inherit",
  meteringLimit: 0,
  handleCommand: async (message) => {
    reports.push(JSON.parse(new TextDecoder().decode(message)));
    return new Uint8Array();
  },
});
const out = { steps: [] };
try {
  // report(value): hands a JSON value to the parent; heapAfterGc(): live slots after a full GC.
  await worker.evaluate(`
    globalThis.report = (value) => { issueCommand(new TextEncoder().encode(JSON.stringify(value)).buffer); };
  `);
  // A script's completion value must be undefined: xsnap ends the worker on other values.
  for (const path of job.scripts) await worker.evaluate(`${fs.readFileSync(path, "utf8")}\n;undefined;`);
  for (const step of job.steps) {
    reports = [];
    let result;
    try {
      result = await worker.evaluate(`${step.code}\n;undefined;`);
    } catch (error) {
      throw new Error(`step "${step.name}": ${error.message}`);
    }
    const { compute, currentHeapCount, allocate } = result.meterUsage;
    out.steps.push({ name: step.name, reports, meterUsage: { compute, currentHeapCount, allocate } });
  }
} catch (error) {
  out.error = error.message;
} finally {
  await worker.close();
}
process.stdout.write(JSON.stringify(out));
