// XS suite: long runs of the alarm mailer under the real XS engine, on timers that hold what
// they reach until closed, as Moddable's do. Command polls, each with data never seen before
// (UIDL, nonce, Message-ID, signing time), and events with growing sequence numbers read back
// through the day log: the heap after GC must not grow with them, and no timer may be left
// open. A leak here is a slow death for firmware that runs for months.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { alarmRigStack, bundleAlarmXs, runInXs, type XsStepResult } from "../kit/xs/run-xs.ts";

const WALL_AT_ZERO = Date.UTC(2026, 11, 1, 12, 0, 0);
/** More than the ledger keeps (32 nonces, 32 UIDLs): it is full before the heap is measured. */
const WARM_UP_POLLS = 40;
const POLLS = 500;
/** Polls come this often here, so a long run takes little virtual (and real) time. */
const POLL_INTERVAL_MS = 1_000;
const IDLE_MS = 120_000;
const WARM_UP_EVENTS = 100;
const EVENTS = 1000;
/** Events between two reads of the whole day log. */
const EVENTS_PER_LOG_READ = 100;

const test = suite("XS: long runs without heap growth");

let scratch: string | null = null;
let bundled: Promise<string> | null = null;

/** AlarmApp and the rig bundled as for the device (alarm-xs-entry.ts), once for both tests. */
function alarmBundle(): Promise<string> {
  bundled ??= (async () => {
    scratch = mkdtempSync(join(tmpdir(), "simmail-long-run-xs-"));
    const bundle = join(scratch, "alarm-xs.js");
    await bundleAlarmXs(bundle);
    return bundle;
  })();
  return bundled;
}

const setUp = (pollIntervalMs: number) => `
  globalThis.rig = alarmXs.createAlarmRig({ wallAtZero: ${WALL_AT_ZERO}, secret: "correct horse battery staple 42", allowlist: ["ops@example.net"], pollIntervalMs: ${pollIntervalMs} });
  rig.app.start();
  rig.runUntil(() => rig.steps.includes("poll-done"), 120000).then(report);`;

/** Set-up, a warm-up, an idle step and the measured step, each ending in a GC; checks the set-up. */
async function runPhases(pollIntervalMs: number, warmUp: string, measuredName: string, measured: string) {
  const { steps } = await runInXs({
    stack: alarmRigStack(),
    scripts: [await alarmBundle()],
    steps: [
      { name: "set-up", code: setUp(pollIntervalMs) },
      { name: "warm-up", code: warmUp, gc: true },
      { name: "idle", code: "", gc: true },
      { name: measuredName, code: measured, gc: true },
    ],
  }, 120_000);
  const step = (name: string): XsStepResult => steps.find((s) => s.name === name)!;
  assert.equal(step("set-up").reports, [true], "modem up and the first (empty) poll done");
  return step;
}

test(`${POLLS} command polls, each with a new UIDL and nonce: every command obeyed, no timer left open, heap flat`, async () => {
  const polls = (count: number) => `(async () => {
    for (let i = 0; i < ${count}; i++) await rig.commandCycle();
    // Idle long enough for every cancelled timer of the virtual clock to fall due and go.
    await rig.runUntil(() => false, ${IDLE_MS});
    report(rig.timers.open.size);
    report(rig.app.status());
  })();`;
  const step = await runPhases(POLL_INTERVAL_MS, polls(WARM_UP_POLLS), "polls", polls(POLLS));
  const [openAfterWarmUp] = step("warm-up").reports as [number];
  const [openAfterPolls, status] = step("polls").reports as [number, Record<string, unknown>];
  const commands = WARM_UP_POLLS + POLLS;
  // Every STATUS obeyed and answered by its status mail; nothing refused, nothing failed.
  assert.equal(status, { state: "Ready", armed: true, modemReady: true, outboxDepth: 0, lastError: "", sendingHalted: "", pollingHalted: "", mailsSent: commands, commandsObeyed: commands, commandsRefused: 0 });

  const before = step("idle").heapAfterGc!;
  const drift = before - step("warm-up").heapAfterGc!;
  const after = step("polls").heapAfterGc!;
  console.log(`  XS heap after GC: ${before} slots after ${WARM_UP_POLLS} polls, ${after} after ${POLLS} more (harness drift ${drift} per step); ${openAfterPolls} timers open; ${Math.round(step("polls").meterUsage.compute / POLLS)} compute per poll`);
  assert.is(openAfterPolls, openAfterWarmUp, `${POLLS} polls left ${openAfterPolls - openAfterWarmUp} more timers open (on the device each holds its owner for good)`);
  assert.ok(after - before - drift <= 0, `${POLLS} command polls grew the XS heap by ${after - before - drift} slots`);
});

test(`${EVENTS} events with growing sequence numbers, read back through the day log: heap flat`, async () => {
  // Log-only events (as the app records obeyed commands), a little virtual time apart; every
  // ${EVENTS_PER_LOG_READ} of them the whole day log is read as a mail attachment would be.
  const events = (count: number) => `(async () => {
    const block = new Uint8Array(512);
    let lines = 0;
    let last = "";
    for (let i = 0; i < ${count}; i++) {
      const seq = rig.app.record({ type: "command", source: "ops@example.net", state: 1, alarm: false, notify: false, text: "STATUS by ops@example.net #" + (rig.app.outbox.lastSeq + 1) });
      if (seq !== rig.app.outbox.lastSeq) throw new Error("event " + seq + " is not the newest");
      if ((i + 1) % 10 === 0) await rig.runUntil(() => false, 1000);
      if ((i + 1) % ${EVENTS_PER_LOG_READ} !== 0) continue;
      const log = rig.app.outbox.dayLog({ title: "Pump house: events of the last 24 hours" });
      let tail = "";
      lines = 0;
      for (let n = log.read(block, 0, block.length); n > 0; n = log.read(block, 0, block.length)) {
        for (let k = 0; k < n; k++) if (block[k] === 10) lines++;
        for (let k = n > 100 ? n - 100 : 0; k < n; k++) tail += String.fromCharCode(block[k]);
        tail = tail.slice(-100);
      }
      last = tail;
    }
    await rig.runUntil(() => false, ${IDLE_MS});
    report(rig.app.outbox.lastSeq);
    report(lines);
    report(last);
    report(rig.timers.open.size);
    report(rig.app.status());
  })();`;
  const step = await runPhases(60_000, events(WARM_UP_EVENTS), "events", events(EVENTS));
  const [seqAfterWarmUp, , , openAfterWarmUp] = step("warm-up").reports as [number, number, string, number];
  const [lastSeq, lines, tail, openAfterEvents, status] = step("events").reports as [number, number, string, number, Record<string, unknown>];
  assert.is(lastSeq, seqAfterWarmUp + EVENTS, "every event numbered in turn");
  assert.is(lines, 1 + lastSeq, "the day log has its title and every event of the day");
  assert.match(tail, new RegExp(`#${lastSeq} {2}command {2}ops@example\\.net {2}STATUS by ops@example\\.net #${lastSeq}\r\n$`), `the day log ends with the newest event: ${JSON.stringify(tail)}`);
  assert.equal(status, { state: "Ready", armed: true, modemReady: true, outboxDepth: 0, lastError: "", sendingHalted: "", pollingHalted: "", mailsSent: 0, commandsObeyed: 0, commandsRefused: 0 });
  assert.is(openAfterEvents, openAfterWarmUp, `${EVENTS} events left ${openAfterEvents - openAfterWarmUp} more timers open`);

  const before = step("idle").heapAfterGc!;
  const drift = before - step("warm-up").heapAfterGc!;
  const after = step("events").heapAfterGc!;
  console.log(`  XS heap after GC: ${before} slots after ${WARM_UP_EVENTS} events, ${after} after ${EVENTS} more (harness drift ${drift} per step); ${Math.round(step("events").meterUsage.compute / EVENTS)} compute per event`);
  assert.ok(after - before - drift <= 0, `${EVENTS} events grew the XS heap by ${after - before - drift} slots`);
});

test.after(() => {
  if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
});

test.run();
