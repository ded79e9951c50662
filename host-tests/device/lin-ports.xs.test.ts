// src/device/ports.ts, the modem UART and the deadlines, under XS (frozen built-ins, the
// device's stack) on stand-ins of Moddable's lin `embedded:io/serial` and of its `timer` for lin
// and esp32, copied from the SDK's C code (moddable-serial.ts, moddable-timer.ts). These are the
// two lin behaviours that once stopped the firmware in mcsim and that no other test without the
// SDK meets: the lin serial takes whole ArrayBuffers and says "would overflow" when full, and
// a lin timer re-armed from its own callback with a delay other than its interval leaves a
// source behind that fires on.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runInXs } from "../kit/xs/run-xs.ts";
import { bundleWithStandIns } from "./moddable-stand-ins.ts";

const test = suite("device ports on the lin serial and the lin and esp32 timers (XS)");
let scratch = "";
let bundle = "";

test.before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "simmail-lin-ports-"));
  bundle = join(scratch, "ports.js");
  await bundleWithStandIns(
    [
      'export { runtime } from "./host-tests/device/moddable-runtime.ts";',
      'export { deviceTimers, deviceClock, openModemSerial } from "./src/device/ports.ts";',
      'export { AtEngine, AtCommand } from "./src/transport/index.ts";',
    ].join("\n"),
    bundle,
    "linPorts",
  );
});

test.after(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

/** Runs `code` (script text: may `report`, may end in a promise) after the bundle, in one step. */
async function inXs(code: string): Promise<unknown[]> {
  const { steps } = await runInXs({ scripts: [bundle], steps: [{ name: "test", code }] });
  return steps[0].reports;
}

/** The deadline sequence both tests run: each [what, virtual time] the callback saw or the test did. */
const DEADLINE_SEQUENCE = `
  const { runtime, deviceTimers } = linPorts;
  const clock = runtime.clock;
  const log = [];
  const at = () => clock.now() - start;
  let start = clock.now();
  // Re-armed inside its own callback, as the engine does (a timeout starts the next command).
  const rearms = [30, 7, 300, 2];
  const d = deviceTimers.deadline(() => {
    log.push(["fired", at()]);
    const next = rearms.shift();
    if (next !== undefined) d.arm(next);
  });
  d.arm(100);
  clock.advance(60_000);
  log.push(["quiet until", at()]);
  d.arm(200);
  clock.advance(50);
  d.disarm();
  clock.advance(60_000);
  log.push(["disarmed, quiet until", at()]);
  d.arm(0);
  clock.advance(10);
  d.arm(500);
  d.arm(20);
  clock.advance(60_000);
  log.push(["re-armed before firing, quiet until", at()]);
  d.close();
  clock.advance(60_000);
  report({ log, fired: runtime.timers.fired, live: runtime.timers.live, scheduled: runtime.timers.scheduled });
`;

const EXPECTED_LOG = [
  ["fired", 100], ["fired", 130], ["fired", 137], ["fired", 437], ["fired", 439], ["quiet until", 60_000],
  ["disarmed, quiet until", 120_050],
  ["fired", 120_051], ["fired", 120_080], ["re-armed before firing, quiet until", 180_060],
];

test("the lin timer stand-in has the SDK's flaw: re-armed in its callback with delay ≠ interval, a source fires on past unschedule", async () => {
  const [lin, esp32] = await inXs(`
    const { runtime } = linPorts;
    const clock = runtime.clock;
    for (const platform of ["lin", "esp32"]) {
      const Timer = runtime.useTimers(platform);
      const fires = [];
      const start = clock.now();
      let rearmed = false;
      // The deadline pattern of old: interval 0x3fffffff, unscheduled in the callback, re-armed there.
      const t = Timer.set(() => {
        Timer.schedule(t);
        fires.push(clock.now() - start);
        if (!rearmed) { rearmed = true; Timer.schedule(t, 50, 0x3fffffff); }
      }, 1, 0x3fffffff);
      Timer.schedule(t);
      Timer.schedule(t, 100, 0x3fffffff);
      clock.advance(200);
      Timer.schedule(t); // unscheduled: nothing more may fire
      clock.advance(300);
      const afterUnschedule = fires.length;
      Timer.clear(t);
      clock.advance(300);
      report({ platform, fires, afterUnschedule, afterClear: fires.length, scheduled: Timer.scheduled, live: Timer.live });
    }
  `);
  // lin: fired at 100, re-armed to 150 in the callback; that source is lost and fires every 50 ms,
  // through the unschedule at 200; at its first firing after the clear it finds the timer removed.
  assert.equal(lin, { platform: "lin", fires: [100, 150, 200, 250, 300, 350, 400, 450, 500], afterUnschedule: 9, afterClear: 9, scheduled: 0, live: 0 });
  assert.equal(esp32, { platform: "esp32", fires: [100, 150], afterUnschedule: 2, afterClear: 2, scheduled: 0, live: 0 });
});

test("the stand-in timers free a one-shot after it fires, as the SDK does, and refuse to schedule it again", async () => {
  const reports = await inXs(`
    const { runtime } = linPorts;
    for (const platform of ["lin", "esp32"]) {
      const Timer = runtime.useTimers(platform);
      let fired = 0;
      const once = Timer.set(() => fired++, 10);
      runtime.clock.advance(100);
      let again = "allowed";
      try { Timer.schedule(once, 10, 10); } catch (e) { again = e.name + ": " + e.message; }
      const repeating = Timer.repeat(() => fired++, 25);
      runtime.clock.advance(100);
      Timer.clear(repeating);
      runtime.clock.advance(100);
      report({ platform, fired, again, live: Timer.live, scheduled: Timer.scheduled });
    }
  `);
  for (const platform of ["lin", "esp32"]) {
    assert.equal(reports.shift(), { platform, fired: 5, again: "SyntaxError: C: xsGetHostData: invalid host data", live: 0, scheduled: 0 });
  }
});

test("deadlines (src/device/ports.ts) on the lin timer: one firing per arming, also when re-armed in their callback; none after disarm or close", async () => {
  const [result] = await inXs(`linPorts.runtime.useTimers("lin"); ${DEADLINE_SEQUENCE}`);
  assert.equal(result, { log: EXPECTED_LOG, fired: 7, live: 0, scheduled: 0 });
});

test("deadlines (src/device/ports.ts) on the esp32 timer: the same", async () => {
  const [result] = await inXs(`linPorts.runtime.useTimers("esp32"); ${DEADLINE_SEQUENCE}`);
  assert.equal(result, { log: EXPECTED_LOG, fired: 7, live: 0, scheduled: 0 });
});

test("the lin serial stand-in: ArrayBuffers only, the rest kept while the device is full, then 'would overflow' until it drains", async () => {
  const [result] = await inXs(`
    const { runtime } = linPorts;
    const far = runtime.serial.create("/dev/pts/test");
    const seen = [];
    const serial = new runtime.serial.Serial({
      device: "/dev/pts/test", baud: 115200, format: "buffer",
      onReadable(count) { seen.push("readable " + count + " " + String.fromCharCode(...new Uint8Array(this.read()))); },
      onWritable(count) { seen.push("writable " + count); },
    });
    const attempt = (data) => { try { serial.write(data); return "written"; } catch (e) { return e.name + ": " + e.message; } };
    runtime.clock.advance(1);
    const view = attempt(Uint8Array.of(65, 84, 13));
    far.capacity = 4;
    far.paused = true;
    const firstBuffer = attempt(Uint8Array.of(1, 2, 3, 4, 5, 6).buffer);
    const whileKept = attempt(Uint8Array.of(7).buffer);
    const tooLong = attempt(new ArrayBuffer(1025));
    far.resume();
    runtime.clock.advance(1);
    far.write("OK\\r\\n");
    runtime.clock.advance(1);
    const afterDrain = attempt(Uint8Array.of(7).buffer);
    runtime.clock.advance(1);
    far.writeError = "Input/output error";
    const failing = attempt(Uint8Array.of(8).buffer);
    report({ view, firstBuffer, whileKept, tooLong, afterDrain, failing, seen, accepted: far.accepted, read: String(serial.read()), missing: (() => { try { new runtime.serial.Serial({ device: "/nowhere", baud: 1 }); } catch (e) { return e.message; } })() });
  `);
  assert.equal(result, {
    view: "TypeError: not an ArrayBuffer instance",
    firstBuffer: "written",
    whileKept: "Error: would overflow",
    tooLong: "Error: would overflow",
    afterDrain: "written",
    failing: "Error: Input/output error",
    seen: ["writable 1024", "writable 1024", "readable 4 OK\r\n", "writable 1024"],
    accepted: [1, 2, 3, 4, 5, 6, 7],
    read: "undefined",
    missing: "No such file or directory",
  });
});

/** Sets up the modem UART of ports.ts on the lin stand-in, and an engine on the lin timers. */
const ENGINE_SETUP = `
  const { runtime, openModemSerial, deviceTimers, AtEngine, AtCommand } = linPorts;
  runtime.useTimers("lin");
  const far = runtime.serial.create("/tmp/simmail-modem");
  const modem = openModemSerial({ device: "/tmp/simmail-modem", baud: 115200 });
  const engine = new AtEngine({ serial: modem.serial, timers: deviceTimers, syncOnStart: false });
  modem.listen(engine);
  const command = (text, timeoutMs = 5000) => {
    const cmd = new AtCommand(160);
    cmd.text.reset().raw(text).end();
    cmd.timeoutMs = timeoutMs;
    return cmd;
  };
  const outcome = (promise) => promise.then(() => "done at " + runtime.clock.now(), (e) => e.name + " at " + runtime.clock.now() + ": " + e.message);
  const received = () => String.fromCharCode(...far.accepted);
`;

test("ports.ts on the lin serial: a command goes out whole as ArrayBuffers and its answer comes back", async () => {
  const [result] = await inXs(`${ENGINE_SETUP}
    far.onData = (bytes) => { if (String.fromCharCode(...bytes).endsWith("\\r")) far.write("\\r\\nOK\\r\\n"); };
    const done = outcome(engine.run(command("AT+CSQ")));
    runtime.runUntil(() => false, 10_000).then(() => done).then((text) => report({ text, sent: received() }));
  `);
  assert.equal(result, { text: "done at 0", sent: "AT+CSQ\r" });
});

test("ports.ts on the lin serial: 'would overflow' holds the rest back until onWritable; every byte goes out once, in order", async () => {
  const line = `AT+SMTPSUB="${"x".repeat(120)}"`;
  const [result] = await inXs(`${ENGINE_SETUP}
    // A far end with a small buffer that reads 3 bytes every 5 ms: the driver keeps what does
    // not fit and refuses the next write ("would overflow") until it has sent all it kept.
    far.capacity = 3;
    far.paused = true;
    let answered = false;
    const slowReader = () => {
      if (answered) return;
      far.resume();
      runtime.clock.setTimer(() => { if (!answered) far.paused = true; }, 0);
      runtime.clock.setTimer(slowReader, 5);
    };
    runtime.clock.setTimer(slowReader, 5);
    far.onData = () => {
      if (!answered && received().endsWith("\\r")) { answered = true; far.paused = false; far.write("\\r\\nOK\\r\\n"); }
    };
    const done = outcome(engine.run(command(${JSON.stringify(line)}, 60_000)));
    runtime.runUntil(() => false, 60_000).then(() => done).then((text) => report({ text, sent: received() }));
  `);
  const { text, sent } = result as { text: string; sent: string };
  assert.is(sent, `${line}\r`, "every byte once, in order");
  assert.match(text, /^done at \d+$/);
  assert.ok(Number(text.split(" ").pop()) >= 5 * Math.floor(line.length / 3), `paced by the far end: ${text}`);
});

test("ports.ts on the lin serial: any other write failure fails the command at once with a SerialWriteError naming it", async () => {
  const [result] = await inXs(`${ENGINE_SETUP}
    far.writeError = "Input/output error";
    const done = outcome(engine.run(command("AT+CSQ", 5000)));
    runtime.runUntil(() => false, 10_000).then(() => done).then(report);
  `);
  assert.is(result, "SerialWriteError at 0: writing to the modem's serial port failed: Input/output error");
});

test.run();
