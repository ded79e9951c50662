// XS harness: what runInXs gives back from a real XS worker (values, prints, meters, failures).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInXs, XsStepError, type XsRunResult } from "../kit/xs/run-xs.ts";

const test = suite("XS: harness (run-xs.ts, xs-child.mjs)");

let scratch = "";
let library = "";

test.before(() => {
  scratch = mkdtempSync(join(tmpdir(), "simmail-xs-harness-"));
  library = join(scratch, "library.js");
  writeFileSync(library, "var library = { square(n) { return n * n; } };\nprint('library loaded');\n");
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The XsStepError a job fails with (asserting that it fails). */
async function failureOf(job: Parameters<typeof runInXs>[0]): Promise<XsStepError> {
  try {
    await runInXs(job);
  } catch (error) {
    assert.instance(error, XsStepError);
    return error as XsStepError;
  }
  throw new assert.Assertion({ message: "the job was expected to fail", generated: true, operator: "throws", expects: "failure", actual: "success" });
}

function step(result: XsRunResult, name: string) {
  const found = result.steps.find((s) => s.name === name);
  assert.ok(found, `a result for step "${name}"`);
  return found!;
}

test("evaluates scripts then steps, in one global scope, and returns reports and prints", async () => {
  const result = await runInXs({
    scripts: [library],
    steps: [
      { name: "square", code: "report(library.square(12)); report({ list: [1, 'two'], nested: { ok: true } });" },
      { name: "state carries over", code: "globalThis.kept = library.square(3); print('kept', kept);" },
      { name: "read it back", code: "report(kept + 1);" },
    ],
  });
  assert.equal(result.steps.map((s) => s.name), ["square", "state carries over", "read it back"]);
  assert.equal(step(result, "square").reports, [144, { list: [1, "two"], nested: { ok: true } }]);
  assert.equal(step(result, "state carries over").prints, ["kept 9"]);
  assert.equal(step(result, "read it back").reports, [10]);
  assert.equal(result.prints, ["library loaded", "kept 9"]);
});

test("meter readings are positive numbers, and compute grows with the work done", async () => {
  const result = await runInXs({
    scripts: [],
    steps: [
      { name: "little", code: "report(1 + 1);" },
      { name: "loop", code: "let sum = 0; for (let i = 0; i < 100000; i++) sum += i; report(sum);" },
    ],
  });
  for (const s of result.steps) {
    for (const key of ["compute", "currentHeapCount", "allocate"] as const) {
      const value = s.meterUsage[key];
      assert.type(value, "number");
      assert.ok(Number.isInteger(value) && value > 0, `${s.name}: ${key} is ${value}`);
    }
    assert.is(s.heapAfterGc, null, "no GC was asked for");
  }
  assert.equal(step(result, "loop").reports, [4999950000]);
  assert.ok(step(result, "loop").meterUsage.compute > 100 * step(result, "little").meterUsage.compute);
});

test("the heap figure is meaningful: 10,000 live objects show, and go after release and GC", async () => {
  const result = await runInXs({
    scripts: [],
    steps: [
      { name: "baseline", code: "globalThis.keep = null;", gc: true },
      {
        name: "allocate after awaits",
        // 10,000 objects kept and 10,000 dropped, after promise jobs: the GC follows them.
        code: "(async () => { await null; await null; globalThis.keep = []; for (let i = 0; i < 10000; i++) { keep.push({ i }); ({ i }); } })()",
        gc: true,
      },
      { name: "release", code: "keep = null;", gc: true },
      { name: "inline gc", code: "gc();" },
    ],
  });
  const baseline = step(result, "baseline").heapAfterGc!;
  const held = step(result, "allocate after awaits").heapAfterGc!;
  const released = step(result, "release").heapAfterGc!;
  // Each { i } is one slot for the object and one for its property, and the array holds 10,000 more.
  assert.ok(held - baseline >= 20000 && held - baseline <= 31000, `10,000 kept objects hold ${held - baseline} slots`);
  assert.is(step(result, "allocate after awaits").meterUsage.currentHeapCount, held, "with gc: true the step's figure is the collected one");
  assert.ok(Math.abs(released - baseline) <= 16, `after release and GC: ${released} slots, baseline ${baseline}`);
  assert.ok(Math.abs(step(result, "inline gc").meterUsage.currentHeapCount - baseline) <= 16, "gc() inside a step works the same");
});

test("promise jobs run before a step's result is read; a returned promise is waited for", async () => {
  const result = await runInXs({
    scripts: [],
    steps: [
      { name: "fire and forget", code: "(async () => { for (let i = 0; i < 5; i++) await null; report('chain done'); })(); undefined;" },
      { name: "returned promise", code: "Promise.resolve(20).then((n) => n + 1).then(report)" },
      { name: "left pending on purpose", code: "globalThis.gate = new Promise((resolve) => { globalThis.open = resolve; }); gate.then(() => report('opened')); undefined;" },
      { name: "settled by a later step", code: "open(); undefined;" },
    ],
  });
  assert.equal(step(result, "fire and forget").reports, ["chain done"]);
  assert.equal(step(result, "returned promise").reports, [21]);
  assert.equal(step(result, "left pending on purpose").reports, []);
  assert.equal(step(result, "settled by a later step").reports, ["opened"]);
});

test("a device lacks xsnap's host extras, so a step does not see them either", async () => {
  const result = await runInXs({
    scripts: [],
    steps: [
      {
        name: "globals",
        code: "report(['TextEncoder', 'TextDecoder', 'setImmediate', 'performance', 'issueCommand', 'setTimeout', 'console'].map((name) => typeof globalThis[name]));",
      },
    ],
  });
  assert.equal(step(result, "globals").reports, [Array(7).fill("undefined")]);
});

test("an exception in a step fails the run with its message and the step's name", async () => {
  const failure = await failureOf({
    scripts: [library],
    steps: [
      { name: "fine", code: "report('before');" },
      { name: "breaks", code: "function parse(text) { return text.missing.length; }\nparse({});" },
      { name: "never run", code: "report('after');" },
    ],
  });
  assert.is(failure.step, "breaks");
  assert.match(failure.xsMessage, /^TypeError: /);
  assert.match(failure.xsMessage, /parse/);
  assert.match(failure.message, /"breaks" failed: TypeError/);
  assert.match(failure.xsStack ?? "", /at parse \(step:1\)/, "the stack gives the function and the line in the step");
  assert.equal(failure.partial.steps.map((s) => s.name), ["fine"]);
  assert.equal(failure.partial.steps[0].reports, ["before"]);
});

test("rejected, never-settled, syntax-error and crashing steps fail with what went wrong", async () => {
  const [rejected, pending, syntax, overflow] = await Promise.all([
    failureOf({ scripts: [], steps: [{ name: "rejects", code: "Promise.resolve().then(() => { throw new RangeError('no signal'); })" }] }),
    failureOf({ scripts: [], steps: [{ name: "waits forever", code: "new Promise(() => {})" }] }),
    failureOf({ scripts: [], steps: [{ name: "typo", code: "report(1);\nlet = = 2;" }] }),
    failureOf({ scripts: [], steps: [{ name: "recurses", code: "function down(n) { return down(n + 1) + 1; } down(0);" }] }),
  ]);
  assert.is(rejected.step, "rejects");
  assert.is(rejected.xsMessage, "RangeError: no signal");
  assert.is(pending.step, "waits forever");
  assert.match(pending.xsMessage, /still pending after XS ran every job/);
  assert.is(syntax.step, "typo");
  assert.match(syntax.xsMessage, /^SyntaxError: .*typo:2/);
  assert.is(overflow.step, "recurses");
  assert.match(overflow.xsMessage, /exited: stack overflow/);
});

test("a script that throws or cannot be read, and a malformed job, fail clearly", async () => {
  const broken = join(scratch, "broken.js");
  writeFileSync(broken, "var ok = 1;\nthrow new Error('bad bundle');\n");
  const [throws, missing, malformed] = await Promise.all([
    failureOf({ scripts: [broken], steps: [] }),
    failureOf({ scripts: [join(scratch, "absent.js")], steps: [] }),
    failureOf({ scripts: [], steps: [{ name: "no code" } as never] }),
  ]);
  assert.is(throws.step, `script ${broken}`);
  assert.is(throws.xsMessage, "Error: bad bundle");
  assert.ok(throws.xsStack?.includes(`${broken}:2`), `the stack names the script file and line: ${throws.xsStack}`);
  assert.match(missing.xsMessage, /cannot read it: ENOENT/);
  assert.is(malformed.step, "(job)");
  assert.is(malformed.xsMessage, "job.steps[0] must have a string name and a string code");
});

test("a run longer than the timeout is killed and rejected", async () => {
  const started = Date.now();
  try {
    await runInXs({ scripts: [], steps: [{ name: "spins", code: "for (;;) {}" }] }, 1500);
    assert.unreachable("the run should time out");
  } catch (error) {
    assert.not.instance(error, XsStepError);
    assert.match((error as Error).message, /longer than 1500 ms/);
  }
  assert.ok(Date.now() - started < 5000);
});

test.run();
