// The firmware entry, src/device/main.ts, bundled with every module it imports as the lin
// manifest has them, the Moddable ones replaced by the stand-ins of moddable-runtime.ts (lin
// serial and timer as the SDK implements them, the fake flash, `mc/config` from manifest.json
// for lin), loaded as an ES module beside the stand-in modules and run under XS with the built-ins
// frozen. The SIM7000 at the far end of the device path is the simulator's (sim/modem, in the
// same XS machine), its mail servers in memory (kit/xs/xs-modem.ts).
//
// The stack is the manifest's creation.stack plus 768 (alarmRigStack): here the module body runs
// at load, with the simulator's bindings beside the app's, where the device preloads the bundle
// and runs no module body (mcsim's peak is 418 slots), so the manifest's own figure is checked in
// mcsim (mcsim.test.ts, bench/mcsim-memory.ts), not here.
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
import { simpleParser } from "mailparser";
import type { DeliveredMail } from "../../sim/servers/memory-smtp.ts";
import { alarmRigStack, runInXs, type XsStep } from "../kit/xs/run-xs.ts";
import { mcConfig } from "./mc-config.ts";
import { buildFirmwareWithStandIns, type FirmwareModules } from "./moddable-stand-ins.ts";

const test = suite("the firmware on the lin stand-ins under XS (frozen built-ins)");
const WALL_AT_ZERO = Date.UTC(2026, 11, 1, 8, 30);
/** The shipped lin settings, with a bearer to open (the simulator starts with it closed). */
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
    ['export { modemEnd, traces } from "./host-tests/device/lin-firmware-setup.ts";', 'export { createXsModem } from "./host-tests/kit/xs/xs-modem.ts";'].join("\n"),
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
    const { runtime, traces, modemEnd, createXsModem } = lin;
    // Autobauding while it starts: the first sync ATs go unanswered and are sent again from the
    // deadline's own callback; network time then takes longer than the sync timeout (500 ms).
    globalThis.modem = createXsModem(modemEnd, modemEnd.scheduler, {
      wallAtZero: ${WALL_AT_ZERO},
      smtp: { host: ${JSON.stringify(CONFIG.smtpHost)}, port: ${Number(CONFIG.smtpPort)}, user: "", password: "" },
      sim: { autobaud: true, autobaudSyncs: 2, ntpDelayMs: 1500 },
    });
    modem.sim.powerOn();
    app.default();
    runtime.runUntil(() => traces.some((line) => line.startsWith("simmail: modem ready: ")), 300_000).then((ready) => {
      report({ ready, at: runtime.clock.now(), refused: modem.refused, serials: runtime.serial.open, timedOut: traces.filter((line) => line.includes("no answer")), strays: runtime.timers.strays, tail: ready ? [] : traces.slice(-20) });
    });
  `,
};

const ALARM: XsStep = {
  name: "alarm",
  code: `
    const { runtime, traces } = lin;
    runtime.flash.put(${JSON.stringify(`${PINS}32`)}, "0\\n");
    runtime.runUntil(() => modem.mail.delivered.length > 0, 120_000).then((sent) => {
      report(sent ? { strays: runtime.timers.strays, mail: modem.mail.delivered[0] } : { tail: traces.slice(-20) });
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
  assert.equal(start.refused, [], "no command was refused");
  assert.is(start.serials, 1);
  assert.equal(start.timedOut, [], "once the modem answered, no command timed out (network time takes 1.5 s)");
  assert.is(start.strays, 0, "every lin timer source belongs to its timer");
  assert.is(alarm.tail, undefined, "an alarm mail was sent");
  assert.is(alarm.strays, 0);
  // The mail as the SMTP server received it, parsed here.
  const delivered = alarm.mail as DeliveredMail;
  assert.equal(delivered.recipients, [String(CONFIG.mailTo)]);
  const mail = await simpleParser(Buffer.from(delivered.message, "latin1"));
  assert.match(String(mail.subject), /^Unnamed site: Input 1: ALARM$/);
  assert.match(String(mail.text), /Input 1: ALARM/);
  assert.is(mail.attachments.length, 1);
  assert.match(String(mail.attachments[0].filename), /\.txt$/);
  const log = mail.attachments[0].content.toString("latin1");
  assert.match(log, /ALARM {2}Input 1=0 {2}Input 1: ALARM/, "the day's log is attached");
  assert.match(log, /Input 2: normal \(at start\)/, "the whole day's log");
});

test("a setting out of range: its default export says so in a trace line before it throws", async () => {
  const badScratch = mkdtempSync(join(tmpdir(), "simmail-lin-firmware-bad-"));
  try {
    const bad = await buildFirmwareWithStandIns(
      badScratch,
      "src/device/main.ts",
      { ...CONFIG, modemBootSeconds: 500 },
      'export { modemEnd, traces } from "./host-tests/device/lin-firmware-setup.ts";',
    );
    const { steps } = await runInXs({
      scripts: [],
      stack: alarmRigStack(),
      steps: [
        { name: "runtime", code: `import(${JSON.stringify(bad.runtime)}).then((ns) => { globalThis.lin = ns; })` },
        {
          name: "start",
          code: `import(${JSON.stringify(bad.app)}).then((ns) => {
            let thrown = "";
            try { ns.default(); } catch (error) { thrown = error.message; }
            report({ thrown, traces: lin.traces.slice(), serialsOpened: lin.runtime.serial.opened.length });
          })`,
        },
      ],
    });
    const { thrown, traces, serialsOpened } = steps[1].reports[0] as { thrown: string; traces: string[]; serialsOpened: number };
    assert.match(thrown, /modemBootSeconds/);
    assert.equal(traces, [`simmail: cannot start: ${thrown}`], "the reason, in one trace line, before the throw");
    assert.is(serialsOpened, 0, "nothing was opened");
  } finally {
    rmSync(badScratch, { recursive: true, force: true });
  }
});

test.run();
