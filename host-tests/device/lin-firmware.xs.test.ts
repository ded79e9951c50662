// The firmware entry, src/device/main.ts, bundled with every module it imports as the lin
// manifest has them, the Moddable ones replaced by the stand-ins of moddable-runtime.ts (lin
// serial and timer as the SDK implements them, the fake flash, `mc/config` from manifest.json
// for lin), loaded as an ES module beside the stand-in modules and run under XS with the built-ins
// frozen. The SIM7000 at the far end of the device path is XsSim7000.
//
// The stack is the manifest's creation.stack plus 256 (alarmRigStack): xsnap needs more stack
// than the Moddable runtime to load the same module (798 slots for this app module, measured by
// bisection, where mcsim runs the whole scenario in 572), so the manifest's own figure is
// checked in mcsim (mcsim.test.ts, bench/mcsim-memory.ts), not here.
//
// What mcsim showed and no other test without the SDK does: evaluating the module must start
// nothing (the module body's frame holds every top-level binding of the bundle, so start-up
// runs from the default export, which the runtime calls once the module has loaded); then,
// started, the firmware brings the modem up through network time (a lin deadline re-armed from
// its own callback) and mails an alarm with its log.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { alarmRigStack, runInXs, type XsStep } from "../kit/xs/run-xs.ts";
import { mcConfig } from "./mc-config.ts";
import { buildFirmwareWithStandIns, type FirmwareModules } from "./moddable-stand-ins.ts";

const test = suite("the firmware on the lin stand-ins under XS (frozen built-ins)");
const WALL_AT_ZERO = Date.UTC(2026, 11, 1, 8, 30);
/** The shipped lin settings, with a bearer to open (XsSim7000 starts with it closed). */
const CONFIG = mcConfig("lin", { apn: "internet", gatherMs: 0 });
const PINS = String(CONFIG.pinsDirectory);

let scratch = "";
let modules: FirmwareModules = { runtime: "", app: "" };

test.before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "simmail-lin-firmware-"));
  modules = await buildFirmwareWithStandIns(
    scratch,
    "src/device/main.ts",
    CONFIG,
    // Evaluated first: the device path exists and trace() is kept before the app module loads.
    ['export { modemEnd, traces } from "./host-tests/device/lin-firmware-setup.ts";', 'export { XsSim7000 } from "./host-tests/kit/xs/xs-sim7000.ts";'].join("\n"),
  );
});

test.after(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

/** Loads the stand-in runtime (`lin`), then the app module (`app`) as the Moddable runtime does, and reports what loading it did. */
const loadSteps = (): XsStep[] => [
  { name: "runtime", code: `import(${JSON.stringify(modules.runtime)}).then((ns) => { globalThis.lin = ns; })` },
  {
    name: "load",
    code: `import(${JSON.stringify(modules.app)}).then((ns) => {
      globalThis.app = ns;
      const { runtime, traces } = lin;
      report({
        serialsOpened: runtime.serial.opened.length,
        timers: runtime.timers.live,
        fileOperations: runtime.flash.log.length,
        directories: runtime.directories.length,
        traces: traces.slice(),
        defaultExport: typeof ns.default,
      });
    })`,
  },
];

const START: XsStep = {
  name: "start",
  code: `
    const { runtime, traces, modemEnd, XsSim7000 } = lin;
    globalThis.modem = new XsSim7000(modemEnd, ${WALL_AT_ZERO});
    // Deaf while it starts: the first sync ATs time out and are sent again from the deadline's
    // own callback; network time then takes longer than the sync timeout (500 ms).
    modem.deafUntilMs = 1200;
    modem.timeSyncMs = 1500;
    app.default();
    runtime.runUntil(() => traces.some((line) => line.startsWith("simmail: modem ready: ")), 300_000).then((ready) => {
      report({ ready, at: runtime.clock.now(), unknown: modem.unknown, serials: runtime.serial.open, timedOut: traces.filter((line) => line.includes("no answer")), strays: runtime.timers.strays, tail: ready ? [] : traces.slice(-20) });
    });
  `,
};

const ALARM: XsStep = {
  name: "alarm",
  code: `
    const { runtime, traces } = lin;
    runtime.flash.put(${JSON.stringify(`${PINS}32`)}, "0\\n");
    runtime.runUntil(() => modem.sent.length > 0, 120_000).then((sent) => {
      const mail = modem.sent[0];
      report(sent ? { strays: runtime.timers.strays, subject: mail.subject, recipients: mail.recipients, body: mail.body, fileName: mail.fileName, log: mail.attachment } : { tail: traces.slice(-20) });
    });
  `,
};

test("evaluating the firmware module starts nothing; its default export is the start-up", async () => {
  const { steps } = await runInXs({ scripts: [], steps: loadSteps(), stack: alarmRigStack() });
  assert.equal(steps[1].reports[0], { serialsOpened: 0, timers: 0, fileOperations: 0, directories: 0, traces: [], defaultExport: "function" });
});

test("started by its default export, it brings the modem up and mails an input's alarm with the log", async () => {
  const { steps } = await runInXs({ scripts: [], steps: [...loadSteps(), START, ALARM], stack: alarmRigStack() });
  const [start, alarm] = steps.slice(2).map((step) => step.reports[0] as Record<string, unknown>);
  assert.equal(start.tail, [], "the modem came up");
  assert.ok(start.ready);
  assert.equal(start.unknown, [], "every command was one the SIM7000 knows");
  assert.is(start.serials, 1);
  assert.equal(start.timedOut, [], "once the modem answered, no command timed out (network time takes 1.5 s)");
  assert.is(start.strays, 0, "every lin timer source belongs to its timer");
  assert.is(alarm.tail, undefined, "an alarm mail was sent");
  assert.match(String(alarm.subject), /^Unnamed site: Input 1: ALARM$/);
  assert.is(alarm.strays, 0);
  assert.match(String(alarm.body), /Input 1: ALARM/);
  assert.match(String(alarm.fileName), /\.txt$/);
  // The host encodes the attachment (base64 lines in the AT+SMTPFT data).
  const log = Buffer.from(String(alarm.log), "base64").toString("latin1");
  assert.match(log, /ALARM {2}Input 1=0 {2}Input 1: ALARM/, "the day's log is attached");
  assert.match(log, /Input 2: normal \(at start\)/, "the whole day's log");
});

test.run();
