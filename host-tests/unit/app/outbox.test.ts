import { suite } from "uvu";
import * as assert from "uvu/assert";
import { eventLine, formatUtc } from "../../../src/app/event-log-text.ts";
import { MAX_RECORD, MAX_SOURCE_BYTES, MAX_TEXT_BYTES, MIN_RECORD } from "../../../src/app/outbox-format.ts";
import { countBoot, Outbox, type AlarmEvent, type StoredEvent } from "../../../src/app/outbox.ts";
import { OutboxFullError, type OutboxOptions } from "../../../src/app/outbox-options.ts";
import { NetworkWallClock } from "../../../src/app/wall-clock.ts";
import type { ByteSource } from "../../../src/mail/message.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { MockFlash } from "../../kit/mock-flash.ts";

const T0 = Date.UTC(2026, 5, 17, 10, 0, 0);

function setup(options: Partial<OutboxOptions> = {}) {
  const flash = new MockFlash();
  const clock = new VirtualClock(5_000);
  const wall = new NetworkWallClock(clock);
  const store = flash.log();
  const open = (bootId: number, extra: Partial<OutboxOptions> = {}) =>
    Outbox.open(store, { bootId, uptime: clock, wall, ...options, ...extra });
  return { flash, clock, wall, store, open };
}

function event(i: number, extra: Partial<AlarmEvent> = {}): AlarmEvent {
  return { type: "input", source: `in${i % 3}`, state: i % 2, alarm: i % 2 === 1, text: `event ${i}`, ...extra };
}

function all(outbox: Outbox): StoredEvent[] {
  return [...outbox.pending()];
}

function readAll(source: ByteSource, chunk: number): string {
  const out = new Uint8Array(chunk);
  const parts: number[] = [];
  for (let n = source.read(out, 0, chunk); n > 0; n = source.read(out, 0, chunk)) parts.push(...out.subarray(0, n));
  return Buffer.from(parts).toString("utf8");
}

// ---------------------------------------------------------------------------------------------

const basics = suite("outbox: append, pending, delivered");

basics("events come back in order with every field, and survive a reopen", () => {
  const { clock, wall, open } = setup();
  const outbox = open(1);
  assert.is(outbox.depth, 0);
  assert.is(outbox.lastSeq, 0);
  const seqs = [
    outbox.append({ type: "input", source: "door", state: 1, alarm: true, text: "Door opened" }),
    outbox.append({ type: "test", source: "test button", state: 1, alarm: false, text: "Test alarm" }),
  ];
  clock.advance(1500);
  wall.set(T0);
  seqs.push(outbox.append({ type: "command", source: "ops@example.com", state: 0, alarm: false, text: "DISARM — Tür zu ✓" }));
  assert.equal(seqs, [1, 2, 3]);
  assert.is(outbox.depth, 3);
  const expectFirst = {
    seq: 1, type: "input", source: "door", state: 1, alarm: true, notify: true, text: "Door opened", bootId: 1, wallMs: T0 - 1500, uptimeMs: 5_000,
  };
  const got = all(outbox);
  assert.equal(got[0], expectFirst, "uptime stamp fixed up with the offset written when the clock was set");
  assert.is(got[1].type, "test");
  assert.equal(got[2], { seq: 3, type: "command", source: "ops@example.com", state: 0, alarm: false, notify: true, text: "DISARM — Tür zu ✓", bootId: 1, wallMs: T0, uptimeMs: null });

  const reopened = open(2);
  assert.is(reopened.depth, 3);
  assert.is(reopened.lastSeq, 3);
  assert.equal(all(reopened), got);
  assert.is(reopened.report.records, 4, "three events and one TIME_FIX");
  assert.is(reopened.report.skippedBytes, 0);
  assert.is(reopened.report.repaired, false);
});

basics("markDelivered moves the front; pending never shows delivered events; numbers continue after reopen", () => {
  const { open } = setup();
  const outbox = open(1);
  for (let i = 1; i <= 10; i++) outbox.append(event(i));
  outbox.markDelivered(4);
  assert.is(outbox.depth, 6);
  assert.is(outbox.deliveredThrough, 4);
  assert.equal(all(outbox).map((e) => e.seq), [5, 6, 7, 8, 9, 10]);
  outbox.markDelivered(4);
  outbox.markDelivered(2);
  assert.is(outbox.deliveredThrough, 4, "older marks are ignored");
  outbox.markDelivered(10);
  assert.is(outbox.depth, 0);
  assert.equal(all(outbox), []);
  const reopened = open(2);
  assert.is(reopened.depth, 0);
  assert.is(reopened.deliveredThrough, 10);
  assert.is(reopened.append(event(11)), 11);
});

basics("the cursor sees events appended while it reads, and stops at delivered ones", () => {
  const { open } = setup();
  const outbox = open(1);
  outbox.append(event(1));
  const cursor = outbox.pending();
  assert.is(cursor.read()?.seq, 1);
  assert.is(cursor.read(), null);
  outbox.append(event(2));
  assert.is(cursor.read()?.seq, 2);
  const empty = outbox.pending();
  outbox.markDelivered(2);
  outbox.append(event(3));
  assert.is(empty.read()?.seq, 3);
});

basics("log-only events (notify false) are kept and numbered but never pending", () => {
  const { open } = setup();
  const outbox = open(1);
  outbox.append(event(1, { notify: false }));
  outbox.append(event(2));
  outbox.append(event(3, { notify: false }));
  assert.is(outbox.depth, 1);
  assert.equal(all(outbox).map((e) => e.seq), [2]);
  outbox.markDelivered(2);
  assert.is(outbox.depth, 0);
  assert.match(readAll(outbox.dayLog(), 64), /#3 {2}ALARM {2}in0=1 {2}event 3\r\n$/);
  const reopened = open(2);
  assert.is(reopened.depth, 0);
  assert.is(reopened.lastSeq, 3);
});

basics("long names and texts are cut at a character boundary, never refused", () => {
  const { open } = setup();
  const outbox = open(1);
  const longSource = "é".repeat(40); // 80 bytes of UTF-8
  const longText = "x".repeat(MAX_TEXT_BYTES - 1) + "€€";
  outbox.append({ type: "system", source: longSource, state: 0, alarm: false, text: longText });
  const [stored] = all(outbox);
  assert.is(stored.source, "é".repeat(MAX_SOURCE_BYTES / 2));
  assert.is(stored.text, "x".repeat(MAX_TEXT_BYTES - 1), "a 3-byte character that does not fit is left out whole");
  outbox.append({ type: "system", source: "s", state: 0, alarm: false, text: "\ud800 lone" });
  assert.is(all(outbox)[1].text, "\ufffd lone");
});

basics("bad events and bad marks are refused with clear errors", () => {
  const { open } = setup();
  const outbox = open(1);
  assert.throws(() => outbox.append({ ...event(1), type: "door" as never }), /event type "door" is not one of input, test, command, system/);
  assert.throws(() => outbox.append({ ...event(1), state: 256 }), /state 256 is not an integer 0-255/);
  assert.throws(() => outbox.append({ ...event(1), text: 5 as never }), /text must be text/);
  assert.throws(() => outbox.append({ ...event(1), alarm: "yes" as never }), /alarm must be true or false/);
  assert.throws(() => outbox.markDelivered(1), /event 1 was never recorded \(the last is 0\)/);
  outbox.append(event(1));
  assert.throws(() => outbox.markDelivered(1.5), /1.5 is not a sequence number/);
  assert.throws(() => Outbox.open(outbox.store, { bootId: -1, uptime: new VirtualClock(), wall: { now: () => null } }), /boot id -1 is not a 32-bit unsigned integer/);
  assert.throws(() => Outbox.open(outbox.store, { bootId: 1, uptime: new VirtualClock(), wall: { now: () => null }, maxBytes: 100, compactAtBytes: 200 }), /maxBytes \(100\) is below compactAtBytes \(200\)/);
});

basics("countBoot gives a new id each boot, persisted", () => {
  const flash = new MockFlash();
  assert.is(countBoot(flash.kv), 1);
  assert.is(countBoot(flash.kv), 2);
  assert.is(countBoot(flash.kv, "other"), 1);
  assert.is(countBoot(flash.kv), 3);
});

basics.run();

// ---------------------------------------------------------------------------------------------

const damage = suite("outbox: torn and corrupt records");

damage("a torn tail (any prefix of the last record) is skipped, reported and rewritten clean", () => {
  for (let cut = 1; cut < 40; cut++) {
    const { store, open } = setup();
    const outbox = open(1);
    for (let i = 1; i <= 3; i++) outbox.append(event(i));
    const whole = store.size();
    outbox.append(event(4));
    const fourth = store.size() - whole;
    if (cut >= fourth) break;
    store.truncate(whole + cut);
    const reopened = open(2);
    assert.is(reopened.report.skippedBytes, cut, `cut after ${cut} bytes`);
    assert.is(reopened.report.firstSkipped, whole);
    assert.ok(reopened.report.repaired);
    assert.is(store.size(), whole, "the torn bytes are gone from the file");
    assert.equal(all(reopened).map((e) => e.seq), [1, 2, 3]);
    assert.is(reopened.append(event(5)), 4, "the torn record's number is reused: it was never acknowledged");
    const again = open(3);
    assert.is(again.report.skippedBytes, 0);
    assert.equal(all(again).map((e) => e.text), ["event 1", "event 2", "event 3", "event 5"]);
  }
});

damage("a flipped bit in the middle loses that record only; the scan finds the next one", () => {
  const { store, open } = setup();
  const outbox = open(1);
  const starts: number[] = [];
  for (let i = 1; i <= 6; i++) {
    starts.push(store.size());
    outbox.append(event(i));
  }
  const bytes = store.bytes();
  store.corrupt(starts[2] + 30, [bytes[starts[2] + 30] ^ 0x10]);
  const reopened = open(2);
  assert.is(reopened.report.skippedBytes, starts[3] - starts[2]);
  assert.ok(reopened.report.repaired);
  assert.equal(all(reopened).map((e) => e.seq), [1, 2, 4, 5, 6]);
  assert.is(reopened.depth, 5);
});

damage("garbage that is not a record at all (bad magic, length, kind) is skipped", () => {
  const { store, open } = setup();
  const outbox = open(1);
  outbox.append(event(1));
  const garbage = new Uint8Array(MAX_RECORD + 10);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 37) & 0xff;
  garbage[0] = 0xff;
  garbage[1] = 0xa7; // right magic, wrong everything else
  store.append(garbage, 0, garbage.length);
  const end = store.size();
  outbox.append(event(2));
  const reopened = open(2);
  assert.is(reopened.report.skippedBytes, end - (end - garbage.length));
  assert.equal(all(reopened).map((e) => e.seq), [1, 2]);
});

damage("an append that fails part way (flash error) is repaired before the next one", () => {
  const { store, open } = setup();
  const outbox = open(1);
  outbox.append(event(1));
  const realAppend = store.append.bind(store);
  store.append = (data, offset) => {
    realAppend(data, offset, 7);
    throw new Error("LittleFS: no space");
  };
  assert.throws(() => outbox.append(event(2)), /no space/);
  store.append = realAppend;
  assert.is(outbox.append(event(3)), 2);
  assert.equal(all(outbox).map((e) => e.text), ["event 1", "event 3"]);
  assert.is(open(2).report.skippedBytes, 0);
});

damage.run();

// ---------------------------------------------------------------------------------------------

const compaction = suite("outbox: compaction and limits");

compaction("delivered events past the day window go; pending and recent ones stay; numbers continue", () => {
  const { store, clock, wall, open } = setup({ compactAtBytes: 1024, dayWindowMs: 60_000 });
  wall.set(T0);
  const outbox = open(1);
  for (let i = 1; i <= 30; i++) {
    outbox.append(event(i));
    clock.advance(10_000);
  }
  const before = store.size();
  assert.ok(before > 1024);
  outbox.markDelivered(27);
  assert.ok(store.size() < before / 2, `compacted from ${before} to ${store.size()} bytes`);
  assert.is(outbox.generation, 1);
  assert.equal(all(outbox).map((e) => e.seq), [28, 29, 30]);
  // Delivered but younger than a minute: 25, 26, 27 (event 24 is 70 s old).
  assert.equal(readAll(outbox.dayLog(), 256).split("\r\n").filter(Boolean).map((l) => /#(\d+)/.exec(l)![1]), ["25", "26", "27", "28", "29", "30"]);
  outbox.markDelivered(30);
  clock.advance(120_000);
  outbox.compact();
  const reopened = open(2);
  assert.is(reopened.deliveredThrough, 30);
  assert.is(reopened.lastSeq, 30, "the newest event always stays so numbering never restarts");
  assert.is(reopened.report.records, 2);
  assert.is(reopened.append(event(31)), 31);
});

compaction("compaction does not repeat while little can be dropped (doubling threshold)", () => {
  const { store, open } = setup({ compactAtBytes: 512 });
  const outbox = open(1);
  for (let i = 1; i <= 200; i++) {
    outbox.append(event(i));
    // Delivered events younger than the day window cannot be dropped either.
    if (i % 10 === 0 && i > 20) outbox.markDelivered(i - 20);
  }
  assert.ok(store.replaces >= 2 && store.replaces <= 6, `${store.replaces} rewrites for 200 events`);
  assert.is(outbox.depth, 20);
});

compaction("uptime-stamped events keep their TIME_FIX through compaction", () => {
  const { clock, wall, open } = setup({ compactAtBytes: 256, dayWindowMs: 3_600_000 });
  const outbox = open(1);
  outbox.append(event(1));
  clock.advance(2000);
  wall.set(T0);
  outbox.fixTime();
  for (let i = 2; i <= 12; i++) outbox.append(event(i));
  outbox.markDelivered(12);
  outbox.compact();
  const reopened = open(2);
  assert.match(readAll(reopened.dayLog(), 100), /^2026-06-17 09:59:58Z {2}#1 {2}ALARM/);
});

function fillUntilFull(outbox: Outbox): unknown {
  for (let i = 1; i <= 1000; i++) {
    try {
      outbox.append(event(i));
    } catch (error) {
      return error;
    }
  }
  return null;
}

compaction("a full outbox refuses new events with a specific error, yet a delivery can always be recorded", () => {
  const { store, open } = setup({ compactAtBytes: 300, maxBytes: 600 });
  const outbox = open(1);
  const error = fillUntilFull(outbox);
  assert.instance(error, OutboxFullError);
  assert.match(String(error), /outbox full: \d+ of 600 bytes used by \d+ undelivered events; deliver some first/);
  const full = outbox.depth;
  outbox.markDelivered(2);
  assert.is(outbox.depth, full - 2);
  assert.ok(store.size() <= 600);
  outbox.append(event(99));
  assert.is(outbox.depth, full - 1, "the squeeze dropped the delivered events, making room");
  assert.is(open(2).depth, full - 1);
});

compaction("when full, the log of the day yields to new alarms (delivered events are squeezed out)", () => {
  const { store, open } = setup({ compactAtBytes: 300, maxBytes: 600 });
  const outbox = open(1);
  for (let i = 1; i <= 6; i++) outbox.append(event(i));
  outbox.markDelivered(6);
  assert.is(fillUntilFull(outbox) instanceof OutboxFullError, true);
  const pendingWhenFull = outbox.depth;
  assert.ok(pendingWhenFull > 0);
  assert.ok(store.size() <= 600);
  const numbers = readAll(outbox.dayLog(), 100).split("\r\n").filter(Boolean).map((l) => Number(/#(\d+)/.exec(l)![1]));
  assert.is(numbers[0], 7, "delivered events 1-6 (recent as they are) made room");
  assert.is(numbers.length, pendingWhenFull);
});

compaction("a delivery mark fits even when the file is at its very limit", () => {
  const { store, open } = setup({ compactAtBytes: 300, maxBytes: 600 });
  const outbox = open(1);
  fillUntilFull(outbox);
  // Fill the reserve with marks that free nothing (everything else stays pending).
  let through = 0;
  while (store.size() + MIN_RECORD <= 600) outbox.markDelivered(++through);
  outbox.markDelivered(through + 1);
  assert.is(outbox.deliveredThrough, through + 1);
  assert.ok(store.size() <= 600);
  assert.is(open(2).deliveredThrough, through + 1);
});

compaction("records no mail waits for never keep an alarm out: the outbox squeezes again whenever such records came since the last squeeze", () => {
  // Issue 15.1: after one squeeze, notes (a flood of refused command mails) filled it again and
  // the next alarm met "outbox full" with no undelivered event in it, until a reboot.
  const { store, open } = setup({ compactAtBytes: 1_000, maxBytes: 4_000 });
  const outbox = open(1);
  const note = (i: number): AlarmEvent => ({ type: "command", source: "pop3", state: 0, alarm: false, notify: false, text: `refused forged-sender from junk-${i}@evil.test: ${"x".repeat(200)}` });
  let squeezes = 0;
  for (let i = 1; i <= 200; i++) {
    const before = store.size();
    outbox.append(note(i));
    if (store.size() < before) squeezes++;
    assert.ok(store.size() <= 4_000);
  }
  assert.ok(squeezes >= 2, `squeezed again and again (${squeezes})`);
  assert.is(outbox.depth, 0);
  const seq = outbox.append(event(1));
  assert.is(outbox.depth, 1, "the alarm was recorded");
  assert.is(all(outbox)[0].seq, seq);
});

compaction.run();

// ---------------------------------------------------------------------------------------------

const text = suite("outbox: the event log as text");

text("lines, exact bytes, size, any read size, rewind", () => {
  const { clock, wall, open } = setup();
  const outbox = open(7);
  outbox.append({ type: "input", source: "door", state: 1, alarm: true, text: "Door opened" });
  clock.advance(12_345);
  outbox.append({ type: "input", source: "door", state: 0, alarm: false, text: "" });
  const before = outbox.dayLog({ title: "pump house: last 24 h" });
  assert.is(
    readAll(before, 4096),
    "pump house: last 24 h\r\n" +
    "boot 7 +5.000s  #1  ALARM  door=1  Door opened\r\n" +
    "boot 7 +17.345s  #2  input  door=0\r\n",
  );
  wall.set(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  outbox.append({ type: "system", source: "system", state: 0, alarm: false, text: "line\r\nbreak\ttab" });
  outbox.append({ type: "test", source: "test", state: 1, alarm: false, text: "Grüße" });
  const log = outbox.dayLog();
  const expected =
    "2024-02-29 23:59:47Z  #1  ALARM  door=1  Door opened\r\n" +
    "2024-02-29 23:59:59Z  #2  input  door=0\r\n" +
    "2024-02-29 23:59:59Z  #3  system  system  line  break tab\r\n" +
    "2024-02-29 23:59:59Z  #4  TEST  test=1  Grüße\r\n";
  assert.is(log.size, Buffer.byteLength(expected));
  assert.is(readAll(log, 1), expected);
  log.rewind();
  assert.is(readAll(log, 7), expected);
  log.rewind();
  assert.is(readAll(log, 4096), expected);
  assert.is(readAll(outbox.dayLog({ ascii: true }), 50).split("\r\n")[3], "2024-02-29 23:59:59Z  #4  TEST  test=1  Gr??e");
});

text("eventLine renders a stored event like the log does (for mail bodies)", () => {
  const { clock, wall, open } = setup();
  const outbox = open(7);
  outbox.append({ type: "input", source: "door", state: 1, alarm: true, text: "Door\nopened" });
  outbox.append({ type: "command", source: "ops@example.com", state: 0, alarm: false, text: "" });
  assert.equal(all(outbox).map(eventLine), ["boot 7 +5.000s  #1  ALARM  door=1  Door opened", "boot 7 +5.000s  #2  command  ops@example.com"]);
  clock.advance(1000);
  wall.set(T0);
  outbox.append({ type: "test", source: "button", state: 0, alarm: false, text: "Test" });
  const lines = all(outbox).map(eventLine);
  assert.equal(lines, readAll(outbox.dayLog(), 4096).split("\r\n").filter(Boolean));
  assert.is(lines[2], "2026-06-17 10:00:00Z  #3  TEST  button=0  Test");
  assert.is(formatUtc(Date.UTC(2000, 0, 1, 0, 0, 0)), "2000-01-01 00:00:00Z");
  assert.is(formatUtc(Date.UTC(2100, 1, 28, 13, 5, 9, 999)), "2100-02-28 13:05:09Z");
});

text("it is a snapshot, filters by window and by numbers, and stops when the file is rewritten", () => {
  const { clock, wall, open } = setup({ dayWindowMs: 60_000 });
  wall.set(T0);
  const outbox = open(1);
  for (let i = 1; i <= 5; i++) {
    outbox.append(event(i));
    clock.advance(20_000);
  }
  const day = outbox.dayLog();
  outbox.append(event(6));
  const lines = readAll(day, 64).split("\r\n").filter(Boolean);
  assert.equal(lines.map((l) => /#(\d+)/.exec(l)![1]), ["3", "4", "5"], "a minute back from the time it was made; event 6 came later");
  assert.equal(readAll(outbox.eventLog({ fromSeq: 2, throughSeq: 4 }), 64).split("\r\n").filter(Boolean).map((l) => /#(\d+)/.exec(l)![1]), ["2", "3", "4"]);
  const stale = outbox.dayLog();
  outbox.markDelivered(6);
  outbox.compact();
  assert.throws(() => stale.read(new Uint8Array(10), 0, 10), /outbox was rewritten \(compacted or repaired\) while it was being read/);
  assert.throws(() => outbox.dayLog({ windowMs: 0 }), /window 0 ms is not a positive duration/);
});

text("events of an earlier boot whose time was never learned show in the pending list, not in the day log", () => {
  const { clock, wall, open } = setup();
  open(1).append(event(1));
  clock.advance(1000);
  wall.set(T0);
  const next = open(2);
  next.append(event(2));
  const [first, second] = all(next);
  assert.equal([first.wallMs, first.uptimeMs, first.bootId], [null, 5000, 1]);
  assert.is(second.wallMs, T0);
  assert.equal(readAll(next.dayLog(), 100).split("\r\n").filter(Boolean).length, 1);
});

text("memory stays fixed: a long log streams through buffers of the record size", () => {
  const { open } = setup({ maxBytes: 4_000_000, compactAtBytes: 2_000_000 });
  const outbox = open(1);
  for (let i = 1; i <= 3000; i++) outbox.append(event(i, { text: "y".repeat(100) }));
  const log = outbox.dayLog();
  assert.ok(log.size > 3000 * 100);
  const out = new Uint8Array(MIN_RECORD);
  let total = 0;
  for (let n = log.read(out, 0, out.length); n > 0; n = log.read(out, 0, out.length)) total += n;
  assert.is(total, log.size);
});

text.run();
