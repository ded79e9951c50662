// Power cut injected at every flash write of a run of 200 events (with mails, delivery marks,
// a time fix and compactions along the way). After each cut: reboot, reopen and check that
//  - no event whose append returned is lost,
//  - no event reappears as pending once its DELIVERED mark was written; only the events of the
//    one mail in flight (mark not yet durable) may be sent again,
//  - pending events come in sequence order with exactly the content appended,
//  - a torn record is skipped (and the file rewritten clean), never taken for data,
//  - the outbox then works on: new numbers above every earlier one, deliveries stick.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { countBoot, Outbox, type AlarmEvent, type StoredEvent } from "../../src/app/outbox.ts";
import { NetworkWallClock } from "../../src/app/wall-clock.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import { MockFlash, PowerCut } from "../kit/mock-flash.ts";

const EVENTS = 200;
const MAIL_EVERY = 7;
const EVENTS_PER_MAIL = 5;
const CLOCK_SET_AT = 60;
const T0 = Date.UTC(2026, 5, 17, 8, 0, 0);

interface Model {
  /** seq → event index, for appends that returned. */
  acked: Map<number, number>;
  /** The append under way: its index and the number it gets. */
  attempting: { i: number; seq: number } | null;
  /** Highest mark whose markDelivered returned. */
  deliveredAcked: number;
  /** The mark being written (mail sent, mark not yet durable). */
  inFlightThrough: number | null;
  /** fixTime returned: events before the clock was set carry their UTC time. */
  timeFixed: boolean;
}

function eventFor(i: number): AlarmEvent {
  return {
    type: i % 11 === 0 ? "test" : "input",
    source: i % 5 === 0 ? "Tür" : `input ${i % 4}`,
    state: i % 2,
    alarm: i % 3 === 0,
    text: `event ${i}${i % 13 === 0 ? " — ünïcødé ✓" : ""}`,
  };
}

function options(flash: MockFlash, clock: VirtualClock, wall: NetworkWallClock) {
  return { bootId: countBoot(flash.kv), uptime: clock, wall, compactAtBytes: 1500, dayWindowMs: 30_000 };
}

/** The device's first life: 200 events, a mail of up to 5 events after every 7th. */
function run(flash: MockFlash, model: Model): void {
  const clock = new VirtualClock(0);
  const wall = new NetworkWallClock(clock);
  const outbox = Outbox.open(flash.log(), options(flash, clock, wall));
  for (let i = 1; i <= EVENTS; i++) {
    clock.advance(1000);
    if (i === CLOCK_SET_AT) {
      wall.set(T0);
      outbox.fixTime();
      model.timeFixed = true;
    }
    model.attempting = { i, seq: outbox.lastSeq + 1 };
    const seq = outbox.append(eventFor(i));
    assert.is(seq, model.attempting.seq);
    model.acked.set(seq, i);
    model.attempting = null;
    if (i % MAIL_EVERY === 0) {
      const cursor = outbox.pending();
      let last = 0;
      for (let n = 0; n < EVENTS_PER_MAIL; n++) {
        const event = cursor.read();
        if (event === null) break;
        last = event.seq;
      }
      // The mail went out (+SMTPSEND: 1); now the mark.
      model.inFlightThrough = last;
      outbox.markDelivered(last);
      model.deliveredAcked = last;
      model.inFlightThrough = null;
    }
  }
}

function newModel(): Model {
  return { acked: new Map(), attempting: null, deliveredAcked: 0, inFlightThrough: null, timeFixed: false };
}

function sameContent(stored: StoredEvent, i: number, where: string): void {
  const expected = eventFor(i);
  assert.equal(
    { type: stored.type, source: stored.source, state: stored.state, alarm: stored.alarm, text: stored.text },
    { type: expected.type, source: expected.source, state: expected.state, alarm: expected.alarm, text: expected.text },
    `${where}: content of event ${stored.seq}`,
  );
}

/** Reopens after a cut and checks every promise; returns the reopened outbox. */
function checkAfterCut(flash: MockFlash, model: Model, where: string): Outbox {
  flash.reboot();
  const clock = new VirtualClock(0);
  const wall = new NetworkWallClock(clock);
  const outbox = Outbox.open(flash.log(), options(flash, clock, wall));
  const delivered = outbox.deliveredThrough;
  assert.ok(
    delivered === model.deliveredAcked || (model.inFlightThrough !== null && delivered === model.inFlightThrough),
    `${where}: delivered through ${delivered}; acknowledged ${model.deliveredAcked}, in flight ${model.inFlightThrough}`,
  );
  const pending = [...outbox.pending()];
  assert.is(outbox.depth, pending.length, `${where}: depth`);
  let previous = delivered;
  for (const event of pending) {
    assert.ok(event.seq > previous, `${where}: pending in sequence order (${event.seq} after ${previous})`);
    previous = event.seq;
    assert.ok(event.seq > model.deliveredAcked, `${where}: event ${event.seq} was delivered (mark durable) yet is pending again`);
    const i = model.acked.get(event.seq) ?? (model.attempting?.seq === event.seq ? model.attempting.i : undefined);
    assert.ok(i !== undefined, `${where}: pending event ${event.seq} was never appended`);
    sameContent(event, i, where);
    if (model.timeFixed && i < CLOCK_SET_AT) {
      assert.is(event.wallMs, T0 - (CLOCK_SET_AT - i) * 1000, `${where}: event ${event.seq} fixed up to UTC`);
    }
  }
  const pendingSeqs = new Set(pending.map((e) => e.seq));
  for (const [seq] of model.acked) {
    if (seq > delivered) assert.ok(pendingSeqs.has(seq), `${where}: acknowledged event ${seq} is lost`);
  }
  return outbox;
}

/** The reopened outbox keeps working: numbers go on above every earlier one, deliveries stick. */
function checkWorksOn(flash: MockFlash, outbox: Outbox, model: Model, where: string): void {
  const highestAcked = Math.max(0, ...model.acked.keys());
  const last = outbox.lastSeq;
  const seq = outbox.append({ type: "system", source: "system", state: 0, alarm: false, text: "after reboot" });
  assert.is(seq, last + 1, `${where}: numbering goes on`);
  assert.ok(seq > highestAcked, `${where}: new number ${seq} after acknowledged ${highestAcked}`);
  outbox.markDelivered(outbox.lastSeq);
  const clock = new VirtualClock(0);
  const again = Outbox.open(flash.log(), options(flash, clock, new NetworkWallClock(clock)));
  assert.is(again.report.skippedBytes, 0, `${where}: the file was left clean`);
  assert.is(again.depth, 0, `${where}: everything delivered`);
  assert.is(again.lastSeq, seq, `${where}: numbering`);
}

const powerCut = suite("outbox: a power cut at every flash write");

powerCut("the run without a cut: counts its writes and sends every event exactly once", () => {
  const flash = new MockFlash();
  const model = newModel();
  run(flash, model);
  assert.is(model.acked.size, EVENTS);
  assert.ok(flash.writes > EVENTS + EVENTS / MAIL_EVERY, `${flash.writes} writes`);
  assert.ok(flash.log().replaces >= 3, `${flash.log().replaces} compactions`);
});

powerCut("cut at write k, for every k: nothing lost, nothing delivered comes back, torn records skipped", () => {
  const clean = new MockFlash();
  run(clean, newModel());
  const totalWrites = clean.writes;
  const kinds = new Map<string, number>();
  let torn = 0;
  let resent = 0;
  for (let k = 1; k <= totalWrites; k++) {
    const flash = new MockFlash({ seed: k });
    flash.cutAtWrite = k;
    const model = newModel();
    assert.throws(() => run(flash, model), (error: unknown) => error instanceof PowerCut, `the cut at write ${k} must stop the run`);
    const cut = flash.lastCut!;
    assert.is(cut.write, k);
    kinds.set(cut.what, (kinds.get(cut.what) ?? 0) + 1);
    const where = `cut at write ${k} (${cut.what} ${cut.target}${cut.kept !== undefined ? `, ${cut.kept} of ${cut.length} bytes` : ""})`;
    const outbox = checkAfterCut(flash, model, where);
    const tornRecord = cut.what === "append" && cut.kept! > 0 && cut.kept! < cut.length!;
    if (tornRecord) {
      torn++;
      assert.is(outbox.report.skippedBytes, cut.kept, `${where}: the torn bytes are skipped`);
      assert.ok(outbox.report.repaired, `${where}: and the file rewritten`);
    } else {
      assert.is(outbox.report.skippedBytes, 0, `${where}: nothing to skip`);
    }
    if (model.inFlightThrough !== null && outbox.deliveredThrough < model.inFlightThrough) resent++;
    checkWorksOn(flash, outbox, model, where);
  }
  assert.ok(torn > 50, `${torn} torn records among ${totalWrites} cuts`);
  assert.ok(resent > 0, "some cuts hit a mark in flight (those mails go out twice, as documented)");
  assert.ok((kinds.get("replace-write") ?? 0) > 0 && (kinds.get("replace-rename") ?? 0) > 0 && (kinds.get("put") ?? 0) > 0, `cuts hit every kind of write: ${JSON.stringify([...kinds])}`);
});

powerCut("a second cut during the repair after the first one changes nothing", () => {
  const clean = new MockFlash();
  run(clean, newModel());
  let repairsCut = 0;
  for (let k = 3; k <= clean.writes; k += 4) {
    const flash = new MockFlash({ seed: 1000 + k });
    flash.cutAtWrite = k;
    const model = newModel();
    assert.throws(() => run(flash, model), (error: unknown) => error instanceof PowerCut);
    const cut = flash.lastCut!;
    if (!(cut.what === "append" && cut.kept! > 0 && cut.kept! < cut.length!)) continue;
    // Cut again at each write of the recovery (boot count, repair rewrite, rename).
    for (let j = 1; ; j++) {
      const copy = new MockFlash({ seed: 1000 + k });
      copy.cutAtWrite = k;
      const replay = newModel();
      assert.throws(() => run(copy, replay), (error: unknown) => error instanceof PowerCut);
      copy.reboot();
      copy.cutAfter(j);
      const clock = new VirtualClock(0);
      let recovered = true;
      try {
        Outbox.open(copy.log(), options(copy, clock, new NetworkWallClock(clock)));
      } catch (error) {
        if (!(error instanceof PowerCut)) throw error;
        recovered = false;
        repairsCut++;
      }
      const where = `cut at write ${k}, then at recovery write ${j}`;
      const outbox = checkAfterCut(copy, replay, where);
      checkWorksOn(copy, outbox, replay, where);
      if (recovered) break;
    }
  }
  assert.ok(repairsCut > 20, `${repairsCut} recoveries cut`);
});

powerCut.run();
