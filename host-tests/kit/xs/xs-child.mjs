// Runs one job under the real XS engine (an @agoric/xsnap worker), in a process of its own:
// xsnap's Node API needs SES lockdown (@endo/init), which must never happen in a test runner.
// Started by run-xs.ts; by hand: `node host-tests/kit/xs/xs-child.mjs job.json` (or the job on stdin).
//
// Job:    { scripts: string[] (files evaluated in order), steps: [{ name, code, gc? }],
//           worker?: path of an xsnap worker that takes SIMMAIL_XS_STACK (device-xsnap.mjs), stack?: slots }
// Result: { steps: [{ name, reports, prints, meterUsage, heapAfterGc }], prints, failure? }
//         on stdout, as one JSON text. The run stops at the first script or step that fails.
//
// In the worker, besides the ECMAScript globals, a step sees:
//   report(value)  sends a JSON value back (the step's `reports`)
//   print(...), trace(...)  text for the result's `prints`
//   gc()           a full garbage collection
// The Moddable conditions are imposed: xsnap's host extras a Moddable device lacks are removed
// (HIDDEN), every built-in reachable from the global object is frozen, as a Moddable build
// freezes them (the global object itself stays extensible), and with `worker` the stack is the
// device's (`stack` slots) instead of xsnap's 4096.
// After each evaluation xsnap runs every pending promise job before answering, so a step's
// async work is done when its result is read. A step whose completion value is a promise
// waits for it: a rejection fails the step, and so does a promise still pending once no job
// is left (nothing could settle it any more); end a step with `undefined;` to leave one pending.
import { spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

/** Globals xsnap adds that a plain Moddable build does not have. */
const HIDDEN = ["TextEncoder", "TextDecoder", "setImmediate", "performance", "Base64", "issueCommand", "currentMeterLimit", "resetMeter"];

/** Worker output kept for failure messages (XS writes fatal diagnostics to stderr). */
const WORKER_OUTPUT_LIMIT = 16 * 1024;

const PRELUDE = `(() => {
  "use strict";
  const g = globalThis;
  const issueCommand = g.issueCommand;
  const encoder = new g.TextEncoder();
  const indirectEval = g.eval;
  const collect = g.gc;
  const afterJobs = g.setImmediate;
  const send = (message) => { issueCommand(encoder.encode(JSON.stringify(message)).buffer); };
  const describe = (error) =>
    error instanceof Error
      ? { message: error.name + ": " + error.message, stack: String(error.stack ?? "") }
      : { message: "a non-Error was thrown: " + String(error) };
  for (const name of ${JSON.stringify(HIDDEN)}) delete g[name];
  const define = (name, value) => Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  define("report", (value) => {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError("report(value): " + typeof value + " is not a JSON value");
    send({ kind: "report", json });
  });
  define("print", (...values) => send({ kind: "print", text: values.map(String).join(" ") }));
  define("trace", (...values) => send({ kind: "print", text: values.map(String).join("") }));
  // Moddable freezes the built-ins: e.g. assigning an Error subclass's "name" throws there.
  const seen = new WeakSet();
  const freeze = (value) => {
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) return;
    seen.add(value);
    Object.freeze(value);
    freeze(Object.getPrototypeOf(value));
    for (const key of Reflect.ownKeys(value)) {
      const property = Object.getOwnPropertyDescriptor(value, key);
      freeze(property.value);
      freeze(property.get);
      freeze(property.set);
    }
  };
  seen.add(g);
  for (const key of Reflect.ownKeys(g)) freeze(Object.getOwnPropertyDescriptor(g, key).value);
  define("__xsHarnessRun", (code, collectAfter) => {
    // xsnap runs timers only once no promise job is left, and steps cannot make timers.
    if (collectAfter) afterJobs(collect);
    try {
      const value = indirectEval(code);
      if ((typeof value === "object" || typeof value === "function") && value !== null && typeof value.then === "function") {
        send({ kind: "awaiting" });
        Promise.resolve(value).then(
          () => send({ kind: "settled" }),
          (error) => send({ kind: "threw", error: describe(error) }),
        );
      }
    } catch (error) {
      send({ kind: "threw", error: describe(error) });
    }
  });
})();
undefined;`;

/** Checks the job's shape; returns it or throws an Error saying what is wrong. */
function validateJob(job) {
  if (typeof job !== "object" || job === null) throw new Error("the job must be an object { scripts, steps }");
  if (!Array.isArray(job.scripts) || !job.scripts.every((path) => typeof path === "string")) {
    throw new Error("job.scripts must be an array of file paths");
  }
  if (!Array.isArray(job.steps)) throw new Error("job.steps must be an array of { name, code, gc? }");
  job.steps.forEach((step, index) => {
    if (typeof step?.name !== "string" || typeof step.code !== "string") {
      throw new Error(`job.steps[${index}] must have a string name and a string code`);
    }
    if (step.gc !== undefined && typeof step.gc !== "boolean") throw new Error(`job.steps[${index}].gc must be a boolean`);
  });
  if (job.worker !== undefined && typeof job.worker !== "string") throw new Error("job.worker must be a file path");
  if (job.stack !== undefined && !(Number.isInteger(job.stack) && job.stack > 0)) throw new Error("job.stack must be a positive whole number of slots");
  return job;
}

async function readJobText() {
  if (process.argv[2] !== undefined) return readFileSync(process.argv[2], "utf8");
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/**
 * XS (release build) gives no line for a syntax error; V8's parser usually finds the same
 * error and says where ("label:line"), or returns null.
 */
function syntaxErrorPlace(label, code) {
  try {
    new Script(code, { filename: label });
    return null;
  } catch (error) {
    const place = String(error.stack).split("\n")[0];
    return `${place}: ${error.message}`;
  }
}

async function run(job) {
  await import("@endo/init");
  const { xsnap } = await import("@agoric/xsnap");

  const out = { steps: [], prints: [] };
  let unit = null; // what the worker's messages belong to
  let workerOutput = "";
  const keepOutput = (chunk) => {
    workerOutput = (workerOutput + chunk).slice(-WORKER_OUTPUT_LIMIT);
  };
  const decoder = new TextDecoder();
  const worker = await xsnap({
    name: "simmail-xs",
    os: os.type(),
    // The worker's own stdout and stderr are read here: this process's stdout carries the result.
    spawn: (command, args, options) => {
      const env = job.stack === undefined ? options.env : { ...options.env, SIMMAIL_XS_STACK: String(job.stack) };
      const child = spawn(job.worker ?? command, args, {
        ...options,
        env,
        stdio: options.stdio.map((fd, index) => (index === 1 || index === 2 ? "pipe" : fd)) });
      child.stdout.setEncoding("utf8").on("data", keepOutput);
      child.stderr.setEncoding("utf8").on("data", keepOutput);
      return child;
    },
    fs: fsPromises,
    meteringLimit: 0,
    handleCommand: async (bytes) => {
      const message = JSON.parse(decoder.decode(bytes));
      if (message.kind === "print") {
        out.prints.push(message.text);
        unit?.prints.push(message.text);
      } else if (unit === null) {
        throw new Error(`worker message outside a step: ${message.kind}`);
      } else if (message.kind === "report") {
        unit.reports.push(JSON.parse(message.json));
      } else if (message.kind === "threw") {
        unit.error = message.error;
      } else if (message.kind === "awaiting") {
        unit.awaiting = true;
      } else if (message.kind === "settled") {
        unit.settled = true;
      }
      return new Uint8Array(0);
    },
  });

  // __xsHarnessRun catches every exception, so a rejected evaluation means the worker died
  // (stack overflow, out of memory) or broke the protocol: it is then terminated, not closed.
  let workerAlive = true;
  /**
   * Evaluates `code` in the worker through __xsHarnessRun; returns meterUsage, or sets out.failure.
   * `sourceURL` names the code in XS stack traces. XS keeps each distinct name for good (a heap
   * slot), so all steps share the name "step": the heap must not grow with the number of steps.
   */
  const evaluateUnit = async (label, code, sourceURL, collectAfter = false) => {
    unit = { reports: [], prints: [], error: null, awaiting: false, settled: false };
    let result;
    try {
      result = await worker.evaluate(`__xsHarnessRun(${JSON.stringify(`${code}\n//# sourceURL=${sourceURL}\n`)}, ${collectAfter});`);
    } catch (error) {
      workerAlive = false;
      const output = workerOutput.trim();
      out.failure = { step: label, message: `${error.message}${output ? `\nworker output:\n${output}` : ""}` };
      return null;
    }
    if (unit.error !== null) {
      let message = unit.error.message;
      if (message.startsWith("SyntaxError:")) {
        const place = syntaxErrorPlace(label, code);
        if (place !== null) message += ` (V8's parser: ${place})`;
      }
      out.failure = { step: label, message, ...(unit.error.stack ? { stack: unit.error.stack } : {}) };
      return null;
    }
    if (unit.awaiting && !unit.settled) {
      out.failure = {
        step: label,
        message:
          "its completion value is a promise still pending after XS ran every job, so nothing can settle it " +
          "(end the step with `undefined;` to leave a promise pending on purpose)",
      };
      return null;
    }
    const { compute, currentHeapCount, allocate } = result.meterUsage;
    return { compute, currentHeapCount, allocate };
  };

  try {
    await worker.evaluate(PRELUDE);
    for (const path of job.scripts) {
      let source;
      try {
        source = readFileSync(path, "utf8");
      } catch (error) {
        out.failure = { step: `script ${path}`, message: `cannot read it: ${error.message}` };
        return out;
      }
      if ((await evaluateUnit(`script ${path}`, source, path)) === null) return out;
    }
    for (const step of job.steps) {
      const collectAfter = step.gc === true;
      const meterUsage = await evaluateUnit(step.name, step.code, "step", collectAfter);
      if (meterUsage === null) break;
      const heapAfterGc = collectAfter ? meterUsage.currentHeapCount : null;
      out.steps.push({ name: step.name, reports: unit.reports, prints: unit.prints, meterUsage, heapAfterGc });
    }
    return out;
  } finally {
    unit = null;
    if (workerAlive) await worker.close().catch(() => undefined);
    else await worker.terminate();
  }
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  let out;
  let job = null;
  try {
    job = validateJob(JSON.parse(await readJobText()));
  } catch (error) {
    out = { steps: [], prints: [], failure: { step: "(job)", message: error.message } };
  }
  if (job !== null) {
    try {
      out = await run(job);
    } catch (error) {
      out = { steps: [], prints: [], failure: { step: "(harness)", message: String(error.stack ?? error) } };
    }
  }
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
}
