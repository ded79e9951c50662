// The XS runs impose the Moddable runtime's conditions (see xs-child.mjs and device-xsnap.mjs):
// the built-ins are frozen, and the stack is the device's (manifest.json `creation.stack`).
// Under plain xsnap neither holds, and both once hid defects that aborted the firmware.

import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { deviceStackSlots } from "../kit/xs/device-xsnap.mjs";
import { runInXs, XsStepError } from "../kit/xs/run-xs.ts";

const core = join(import.meta.dirname, "..", "..", "dist", "xs", "simmail-core.js");
const test = suite("XS: the Moddable conditions");

test("the built-ins are frozen, the global object is not", async () => {
  const { steps } = await runInXs({
    scripts: [],
    steps: [{
      name: "frozen",
      code: `
        class Named extends Error { constructor() { super("x"); this.name = "Named"; } }
        let assignment = "allowed";
        try { new Named(); } catch (e) { assignment = e.constructor.name; }
        globalThis.appGlobal = 1;
        report({ error: Object.isFrozen(Error.prototype), array: Object.isFrozen(Array.prototype), json: Object.isFrozen(JSON), assignment, global: globalThis.appGlobal });
      `,
    }],
  });
  assert.equal(steps[0].reports[0], { error: true, array: true, json: true, assignment: "TypeError", global: 1 });
});

test("every error class of the core constructs under frozen built-ins and names itself", async () => {
  const { steps } = await runInXs({
    scripts: [core],
    steps: [{
      name: "errors",
      code: `
        const names = [];
        for (const key of Object.keys(simmail)) {
          const value = simmail[key];
          if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
          const error = new value("a", "b", "c");
          names.push(key === error.name ? key : key + " named " + error.name);
        }
        report(names);
      `,
    }],
  });
  const names = steps[0].reports[0] as string[];
  assert.ok(names.length >= 10, `the core exports its error classes (${names.length} found)`);
  for (const name of names) assert.not.match(name, / named /, name);
});

test("the stack is the device's: a call depth that fits xsnap's own 4096 slots overflows it", async () => {
  const slots = deviceStackSlots();
  assert.ok(slots < 4096, "the manifest's stack is smaller than xsnap's default");
  const depth = (limit: number) => `let d = 0; function down() { if (++d < ${limit}) down(); } down(); report(d);`;
  const fits = await runInXs({ scripts: [], steps: [{ name: "shallow", code: depth(Math.floor(slots / 16)) }] });
  assert.is(fits.steps[0].reports[0], Math.floor(slots / 16));
  try {
    await runInXs({ scripts: [], steps: [{ name: "deep", code: depth(slots) }] });
    assert.unreachable(`a call depth of ${slots} fits in ${slots} slots`);
  } catch (error) {
    assert.instance(error, XsStepError);
    assert.match((error as Error).message, /stack overflow/i);
  }
});

test.run();
