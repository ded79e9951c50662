import { suite } from "uvu";
import * as assert from "uvu/assert";
import { escapeBytes, latin1Bytes, parseEscaped } from "../kit/bytes.ts";
import { createUartPair, wireTimeMs, type HostSerial, type UartPair } from "../kit/mock-uart.ts";
import { RealClock, VirtualClock } from "../../sim/scheduler.ts";
import { ScriptedModem } from "../kit/scripted-modem.ts";
import { listSessions, parseSession, readSession, renderSession, renderTranscript, sessionToScript, type Session } from "../kit/transcript.ts";

const BYTE_115200 = 10_000 / 115200;

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ms, expected ${expected} ms`);
}

function text(bytes: ArrayLike<number>): string {
  return String.fromCharCode(...Array.from(bytes));
}

/** A host that reads everything as soon as it is told, noting each onReadable count and time. */
function readingHost(host: HostSerial, clock: VirtualClock) {
  const got: number[] = [];
  const counts: number[] = [];
  const times: number[] = [];
  const writable: number[] = [];
  const buffer = new Uint8Array(128);
  host.attach({
    onReadable(count) {
      counts.push(count);
      times.push(clock.now());
      for (let n = host.read(buffer); n > 0; n = host.read(buffer)) got.push(...buffer.subarray(0, n));
    },
    onWritable(count) {
      writable.push(count);
    },
  });
  return { got, counts, times, writable };
}

// ---------------------------------------------------------------------------------------------

const clockSuite = suite("kit: virtual clock");

clockSuite("timers run in due order, ties in scheduling order, now() is the due time", () => {
  const clock = new VirtualClock();
  const log: string[] = [];
  clock.setTimer(() => log.push(`b@${clock.now()}`), 20);
  clock.setTimer(() => log.push(`a@${clock.now()}`), 10);
  clock.setTimer(() => log.push(`c1@${clock.now()}`), 30);
  clock.setTimer(() => log.push(`c2@${clock.now()}`), 30);
  clock.advance(25);
  assert.equal(log, ["a@10", "b@20"]);
  assert.is(clock.now(), 25);
  assert.is(clock.pending(), 2);
  clock.advance(5);
  assert.equal(log, ["a@10", "b@20", "c1@30", "c2@30"]);
});

clockSuite("timers scheduled while advancing run in the same call when due inside the window", () => {
  const clock = new VirtualClock();
  const log: string[] = [];
  clock.setTimer(() => {
    log.push(`outer@${clock.now()}`);
    clock.setTimer(() => log.push(`zero@${clock.now()}`), 0);
    clock.setTimer(() => log.push(`inner@${clock.now()}`), 5);
    clock.setTimer(() => log.push(`late@${clock.now()}`), 50);
  }, 10);
  clock.advance(20);
  assert.equal(log, ["outer@10", "zero@10", "inner@15"]);
  assert.is(clock.pending(), 1);
  assert.is(clock.nextDueAt(), 60);
});

clockSuite("clearTimer cancels; a deadline re-arms, disarms and refuses use after close", () => {
  const clock = new VirtualClock();
  let fired = 0;
  const handle = clock.setTimer(() => fired++, 5);
  clock.clearTimer(handle);
  clock.clearTimer(handle);
  const deadline = clock.deadline(() => fired += 10);
  deadline.arm(100);
  clock.advance(60);
  deadline.arm(100); // replaces the first arming: due at 160, not 100
  clock.advance(60);
  assert.is(fired, 0);
  clock.advance(40);
  assert.is(fired, 10);
  deadline.arm(10);
  deadline.disarm();
  deadline.disarm();
  clock.advance(50);
  assert.is(fired, 10);
  assert.is(clock.pending(), 0);
  deadline.close();
  assert.throws(() => deadline.arm(1), /closed/);
});

clockSuite("runUntil stops at the timer that makes the predicate true and never jumps to the limit", () => {
  const clock = new VirtualClock();
  let count = 0;
  for (let i = 1; i <= 5; i++) clock.setTimer(() => count++, i * 10);
  assert.ok(clock.runUntil(() => count === 3, 1000));
  assert.is(clock.now(), 30);
  assert.not.ok(clock.runUntil(() => count === 99, 15));
  assert.is(clock.now(), 40, "ran the timer at 40, stopped before 50 (beyond 30 + 15)");
  assert.not.ok(clock.runUntil(() => false, 1000));
  assert.is(clock.now(), 50, "stays at the last timer when none is left");
});

clockSuite("runUntilIdle drains everything; a periodic timer makes it throw", () => {
  const clock = new VirtualClock();
  let ticks = 0;
  clock.setTimer(() => clock.setTimer(() => ticks++, 500), 500);
  clock.runUntilIdle();
  assert.is(ticks, 1);
  assert.is(clock.now(), 1000);
  const tick = () => clock.setTimer(tick, 1000);
  tick();
  assert.throws(() => clock.runUntilIdle(5000), /still pending after 5000 ms/);
});

clockSuite("runUntilAsync lets Promise continuations schedule the next step in virtual time", async () => {
  const clock = new VirtualClock();
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(resolve, ms));
  const steps: number[] = [];
  let finished = false;
  void (async () => {
    for (let i = 0; i < 3; i++) {
      await sleep(100);
      steps.push(clock.now());
    }
    finished = true;
  })();
  assert.not.ok(clock.runUntil(() => finished, 10_000), "a synchronous run cannot see awaited steps");
  assert.ok(await clock.runUntilAsync(() => finished, 10_000));
  assert.equal(steps, [100, 200, 300]);
  assert.is(clock.now(), 300);
  await clock.advanceAsync(50);
  assert.is(clock.now(), 350);
});

clockSuite("bad delays and re-entrant driving are refused clearly", () => {
  const clock = new VirtualClock();
  assert.throws(() => clock.setTimer(() => {}, -1), /-1 ms is not a delay/);
  assert.throws(() => clock.setTimer(() => {}, NaN), /NaN ms is not a delay/);
  assert.throws(() => clock.advance(Infinity), /not a delay/);
  clock.setTimer(() => clock.advance(1), 1);
  assert.throws(() => clock.advance(5), /from inside a timer callback/);
  const loop = () => clock.setTimer(loop, 0);
  loop();
  assert.throws(() => clock.advance(1), /zero-delay loop/);
});

clockSuite("the real clock runs 0 ms timers on the next turn, honours deadlines, and cancels all", async () => {
  const clock = new RealClock();
  const log: string[] = [];
  clock.setTimer(() => log.push("immediate"), 0);
  const deadline = clock.deadline(() => log.push(`deadline after ${Math.round(clock.now() - start)} ms`));
  const start = clock.now();
  deadline.arm(5);
  clock.setTimer(() => log.push("never"), 10);
  assert.is(clock.pending(), 3);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.is(log[0], "immediate");
  assert.match(log[1], /^deadline after \d+ ms$/);
  assert.is(log.length, 3);
  clock.setTimer(() => log.push("cancelled"), 5);
  clock.cancelAll();
  assert.is(clock.pending(), 0);
  await new Promise((resolve) => setTimeout(resolve, 15));
  assert.is(log.length, 3);
  assert.not.ok(log.includes("cancelled"));
});

clockSuite.run();

// ---------------------------------------------------------------------------------------------

const uart = suite("kit: mock UART");

uart("N bytes at 115200 take N x 10/115200 s; the first arrives after one byte time", () => {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200, fragment: { min: 1, max: 1 } });
  const reader = readingHost(host, clock);
  const payload = Uint8Array.from({ length: 100 }, (_, i) => (i * 31) & 0xff);
  modem.write(payload);
  clock.runUntilIdle();
  assert.equal(reader.got, Array.from(payload));
  assert.is(reader.times.length, 100, "one notification per byte");
  near(reader.times[0], BYTE_115200, "first byte");
  near(reader.times[99], 100 * BYTE_115200, "last byte");
  near(stats.rxFirstAt, 0, "first modem byte on the wire");
  near(stats.rxLastAt, wireTimeMs(100, 115200), "last modem byte");

  const arrivals: number[] = [];
  modem.onData = (bytes) => {
    for (let i = 0; i < bytes.length; i++) arrivals.push(clock.now());
  };
  const start = clock.now();
  host.write(latin1Bytes("AT+CSQ\r"));
  clock.runUntilIdle();
  assert.is(arrivals.length, 7);
  arrivals.forEach((at, i) => near(at - start, (i + 1) * BYTE_115200, `host byte ${i + 1}`));
  assert.is(stats.txBytes, 7);
  near(stats.txLastAt! - stats.txFirstAt!, wireTimeMs(7, 115200), "host burst");
});

uart("write() refuses (output full) when the data exceeds the free TX space, and sends nothing of it", () => {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200 });
  const received: number[] = [];
  modem.onData = (bytes) => received.push(...bytes);
  readingHost(host, clock);
  assert.is(host.write(new Uint8Array(129)), false);
  assert.is(host.write(new Uint8Array(128).fill(0x41)), true);
  assert.is(host.writable, 1, "the first byte already left the FIFO for the wire");
  assert.is(host.write(latin1Bytes("XY")), false);
  const z = new ArrayBuffer(1);
  new Uint8Array(z)[0] = 0x5a;
  host.write(z);
  assert.is(host.writable, 0);
  assert.is(stats.txFullRefusals, 2);
  clock.runUntilIdle();
  assert.is(text(received), "A".repeat(128) + "Z", "nothing of the refused writes went out");
  assert.throws(() => host.write("AT" as unknown as Uint8Array), /Uint8Array or an ArrayBuffer/);
});

uart("onWritable: the initial free space after attach, then free space once the FIFO drains below 10 bytes", () => {
  const clock = new VirtualClock();
  const { host } = createUartPair({ scheduler: clock, baud: 115200 });
  const reader = readingHost(host, clock);
  assert.equal(reader.writable, [], "signalled asynchronously");
  clock.advance(0);
  assert.equal(reader.writable, [128]);
  const calls: Array<[number, number]> = [];
  host.attach({ onReadable() {}, onWritable: (count) => calls.push([count, clock.now()]) });
  clock.advance(0);
  calls.length = 0;
  host.write(new Uint8Array(128));
  clock.runUntilIdle();
  // Byte k (1-based) leaves the FIFO when it starts, at (k-1) byte times: 9 are left once 119 started.
  assert.is(calls.length, 1);
  assert.is(calls[0][0], 119);
  near(calls[0][1], 118 * BYTE_115200, "onWritable time");
});

uart("a writer that refills on every onWritable streams 2000 bytes in order at line rate", () => {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200 });
  const payload = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7 + 3) & 0xff);
  const received: number[] = [];
  modem.onData = (bytes) => received.push(...bytes);
  let sent = 0;
  const reports: number[] = [];
  host.attach({
    onReadable() {},
    onWritable(count) {
      reports.push(count);
      assert.is(count, host.writable, "the count is the free space at delivery");
      const n = Math.min(count, payload.length - sent);
      if (n > 0) host.write(payload.subarray(sent, sent + n));
      sent += n;
    },
  });
  clock.runUntilIdle();
  assert.equal(received, Array.from(payload));
  assert.is(stats.txFullRefusals, 0);
  assert.is(reports[0], 128);
  assert.ok(reports.slice(1).every((free) => free >= 119), `later reports ${reports.slice(1, 6)}`);
  const ideal = wireTimeMs(2000, 115200);
  assert.ok(stats.txLastAt! - stats.txFirstAt! < ideal * 1.01, `took ${stats.txLastAt! - stats.txFirstAt!} ms for an ideal ${ideal} ms`);
});

uart("a host that does not read loses what overflows the 128-byte RX FIFO, counts it, and is re-signalled", () => {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200, fragment: { min: 50, max: 50 } });
  const counts: number[] = [];
  host.attach({ onReadable: (count) => counts.push(count), onWritable() {} });
  const payload = Uint8Array.from({ length: 200 }, (_, i) => i);
  modem.write(payload);
  clock.runUntilIdle();
  assert.is(stats.rxLost, 72);
  assert.is(stats.rxFifoPeak, 128);
  assert.equal(counts, [50, 100, 128, 128], "one notification per 50 arrived bytes, the last at idle");
  const buffer = new Uint8Array(200);
  assert.is(host.read(buffer), 128);
  assert.equal(Array.from(buffer.subarray(0, 128)), Array.from(payload.subarray(0, 128)), "the oldest bytes stay, the newest are lost");
  assert.is(host.read(buffer), 0);
  modem.write("OK");
  clock.runUntilIdle();
  assert.equal(counts.slice(4), [2], "new bytes signal again");
});

uart("fragments: fixed, seeded random and scripted notification sizes are honoured, also at an infinite rate", () => {
  for (const baud of [115200, Infinity]) {
    const clock = new VirtualClock();
    const { host, modem } = createUartPair({ scheduler: clock, baud, fragment: { min: 3, max: 3 } });
    const reader = readingHost(host, clock);
    modem.write("0123456789");
    clock.runUntilIdle();
    assert.equal(reader.counts, [3, 3, 3, 1], `fixed at ${baud}`);
    assert.is(text(reader.got), "0123456789");
    if (baud === Infinity) assert.is(clock.now(), 0, "no wire time");
  }
  const sizes = (seed: number) => {
    const clock = new VirtualClock();
    const { host, modem } = createUartPair({ scheduler: clock, baud: Infinity, fragment: { min: 2, max: 9, seed } });
    const reader = readingHost(host, clock);
    modem.write("x".repeat(500));
    clock.runUntilIdle();
    assert.is(reader.got.length, 500);
    return reader.counts;
  };
  const a = sizes(7);
  assert.equal(sizes(7), a, "the same seed gives the same split");
  assert.not.equal(sizes(8), a);
  assert.ok(a.slice(0, -1).every((n) => n >= 2 && n <= 9), `sizes ${a}`);
  assert.ok(new Set(a).size > 3, "sizes vary");

  const clock = new VirtualClock();
  const offered: number[] = [];
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200, fragment: (available) => (offered.push(available), 4) });
  const reader = readingHost(host, clock);
  modem.write("\r\nOK\r\n");
  clock.runUntilIdle();
  assert.equal(reader.counts, [4, 2]);
  assert.equal(offered, [6, 2], "the policy sees the bytes not yet on the wire");
  assert.throws(() => createUartPair({ scheduler: clock, fragment: { min: 5, max: 2 } }), /fragment.max \(2\) is below fragment.min \(5\)/);
  const bad = createUartPair({ scheduler: clock, fragment: () => 0 });
  assert.throws(() => bad.modem.write("x"), /fragment policy returned 0/);
});

uart("RTS/CTS: the modem pauses instead of overflowing; the host pauses while CTS is off", () => {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200, flowControl: "rtscts" });
  host.attach({ onReadable() {}, onWritable() {} });
  const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  modem.write(payload);
  clock.runUntilIdle();
  assert.is(stats.rxLost, 0);
  assert.is(host.readable, 120, "stopped at the RTS threshold");
  assert.is(modem.pendingToHost, 180);
  const got: number[] = [];
  const buffer = new Uint8Array(64);
  while (got.length < 300) {
    const n = host.read(buffer);
    got.push(...buffer.subarray(0, n));
    clock.advance(20);
  }
  assert.equal(got, Array.from(payload));

  const received: number[] = [];
  modem.onData = (bytes) => received.push(...bytes);
  modem.setCts(false);
  host.write(latin1Bytes("AT\r"));
  clock.advance(100);
  assert.is(received.length, 0, "held back by CTS");
  modem.setCts(true);
  clock.runUntilIdle();
  assert.is(text(received), "AT\r");
  const plain = createUartPair({ scheduler: clock });
  assert.throws(() => plain.modem.setCts(false), /flow control is off/);
});

uart("a held modem buffers up to modemRxBuffer and loses the rest; with RTS/CTS it stops the host instead", () => {
  const clock = new VirtualClock();
  const lossy = createUartPair({ scheduler: clock, baud: 115200, modemRxBuffer: 16 });
  const received: number[] = [];
  lossy.modem.onData = (bytes) => received.push(...bytes);
  lossy.modem.hold(true);
  lossy.host.write(latin1Bytes("0123456789abcdefXYZW"));
  clock.runUntilIdle();
  assert.is(received.length, 0);
  assert.is(lossy.stats.modemRxLost, 4);
  lossy.modem.hold(false);
  assert.is(text(received), "0123456789abcdef");

  const paced = createUartPair({ scheduler: clock, baud: 115200, modemRxBuffer: 16, flowControl: "rtscts" });
  const got: number[] = [];
  paced.modem.onData = (bytes) => got.push(...bytes);
  paced.modem.hold(true);
  paced.host.write(latin1Bytes("0123456789abcdefXYZW"));
  clock.runUntilIdle();
  assert.is(paced.stats.modemRxLost, 0);
  assert.is(paced.host.writable, 128 - 4, "the rest waits in the TX FIFO");
  paced.modem.hold(false);
  clock.runUntilIdle();
  assert.is(text(got), "0123456789abcdefXYZW");

  const deaf = createUartPair({ scheduler: clock, baud: Infinity });
  deaf.host.write(latin1Bytes("AT\r"));
  clock.runUntilIdle();
  assert.is(deaf.stats.modemRxLost, 3, "nobody listening: lost and counted");
});

uart("onceDrained fires when everything written has reached the host", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200 });
  readingHost(host, clock);
  const log: number[] = [];
  modem.onceDrained(() => log.push(clock.now()));
  modem.write("0123456789");
  modem.onceDrained(() => log.push(clock.now()));
  clock.runUntilIdle();
  assert.is(log[0], 0, "nothing pending: next turn");
  near(log[1], 10 * BYTE_115200, "after the tenth byte");
});

uart("a recorded transcript renders as readable session text that parses back to the same bytes", () => {
  const clock = new VirtualClock();
  const pair: UartPair = createUartPair({ scheduler: clock, baud: 115200, record: true });
  readingHost(pair.host, clock);
  pair.modem.onData = () => {};
  pair.host.write(latin1Bytes("AT+CSQ"));
  pair.host.write(latin1Bytes("\r"));
  clock.advance(5);
  pair.modem.write("\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
  clock.runUntilIdle();
  assert.equal(pair.transcript.map((e) => e.dir), ["tx", "tx", "rx"]);
  const rendered = renderTranscript(pair.transcript, { times: true });
  assert.is(rendered, "# t=0.000 ms\n> AT+CSQ\\r\n# t=5.000 ms\n< \\r\\n+CSQ: 27,99\\r\\n\\r\\nOK\\r\\n\n");
  const parsed = parseSession(rendered);
  assert.is(text(parsed.host), "AT+CSQ\r");
  assert.is(text(parsed.modem), "\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
});

uart("bad options and bad data are refused with clear errors", () => {
  const clock = new VirtualClock();
  assert.throws(() => createUartPair({ scheduler: clock, baud: 0 }), /baud must be a positive number/);
  assert.throws(() => createUartPair({ scheduler: clock, txFifo: 0 }), /txFifo must be a whole number/);
  assert.throws(() => createUartPair({ scheduler: clock, rtsThreshold: 200 }), /rtsThreshold \(200\) exceeds rxFifo/);
  assert.throws(() => createUartPair({} as never), /scheduler/);
  const { host, modem } = createUartPair({ scheduler: clock });
  assert.throws(() => modem.write("€"), /U\+20AC at index 0 is not one byte/);
  assert.throws(() => host.read(new Uint8Array(0)), /no room/);
  assert.throws(() => host.attach({} as never), /onReadable\(count\) and onWritable\(count\)/);
});

uart.run();

// ---------------------------------------------------------------------------------------------

const scripted = suite("kit: scripted modem");

/** Writes `data` in pieces of `piece` bytes, one piece per `gapMs`, respecting the free space. */
function writeInPieces(host: HostSerial, clock: VirtualClock, data: string, piece: number, gapMs: number): void {
  const bytes = latin1Bytes(data);
  for (let i = 0; i < bytes.length; i += piece) {
    const part = bytes.subarray(i, i + piece);
    assert.ok(host.writable >= part.length);
    host.write(part);
    clock.advance(gapMs);
  }
}

scripted("a correct exchange passes: replies, URCs, waits and delays arrive in order and on time", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200, fragment: { min: 1, max: 64 } });
  const reader = readingHost(host, clock);
  const script = new ScriptedModem(modem, [
    { expect: "AT+CSQ\r", reply: "\r\n+CSQ: 27,99\r\n\r\nOK\r\n" },
    { expect: "AT+SMTPSEND\r", reply: ["\r\nOK\r\n", { bytes: "\r\n+SMTPFT: 1,1360\r\n", delayMs: 2000 }] },
    { wait: 500 },
    { send: "\r\n+SMTPSEND: 1\r\n" },
  ], { scheduler: clock });
  assert.not.ok(script.done);
  host.write(latin1Bytes("AT+CSQ\r"));
  clock.runUntilIdle();
  assert.is(text(reader.got), "\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
  host.write(latin1Bytes("AT+SMTPSEND\r"));
  const sentAt = clock.now();
  clock.runUntil(() => text(reader.got).endsWith("+SMTPFT: 1,1360\r\n"), 10_000);
  assert.ok(clock.now() - sentAt > 2000 && clock.now() - sentAt < 2010, `URC after ${clock.now() - sentAt} ms`);
  clock.runUntilIdle();
  assert.ok(text(reader.got).endsWith("\r\n+SMTPFT: 1,1360\r\n\r\n+SMTPSEND: 1\r\n"));
  assert.ok(clock.now() - sentAt > 2500 && clock.now() - sentAt < 2510, `final URC after ${clock.now() - sentAt} ms`);
  assert.ok(script.done);
  assert.equal(script.errors, []);
  script.assertDone();
});

scripted("a wrong byte is recorded clearly, stops the script, and keeps collecting what followed", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200 });
  const reader = readingHost(host, clock);
  const script = new ScriptedModem(modem, [
    { expect: "AT\r", reply: "\r\nOK\r\n" },
    { expect: "AT+CSQ\r", reply: "\r\nOK\r\n" },
  ]);
  host.write(latin1Bytes("AT\r"));
  clock.runUntilIdle();
  host.write(latin1Bytes("AT+CSX\r"));
  clock.runUntilIdle();
  host.write(latin1Bytes("AT+CSQ\r"));
  clock.runUntilIdle();
  assert.is(text(reader.got), "\r\nOK\r\n", "no reply after the mismatch");
  assert.is(script.errors.length, 1);
  const error = script.errors[0];
  assert.match(error, 'step 2 of 2 (expect "AT+CSQ\\r"): mismatch at byte 6, expected "Q" but received "X"');
  assert.match(error, 'expected: "AT+CSQ\\r"');
  assert.match(error, 'received: "AT+CSX\\rAT+CSQ\\r"');
  assert.not.ok(script.done);
  assert.throws(() => script.assertDone(), /1 error\(s\)\nstep 2 of 2/);
});

scripted("expectations match host writes split into 1-byte pieces at any timing", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200 });
  const reader = readingHost(host, clock);
  const script = new ScriptedModem(modem, [
    { expect: 'AT+SMTPSUB="Test"\r', reply: "\r\nOK\r\n" },
    { expect: "AT+SMTPBODY=19\r", reply: "\r\nDOWNLOAD\r\n" },
    { expect: "This is a new Email", reply: "\r\nOK\r\n" },
  ]);
  writeInPieces(host, clock, 'AT+SMTPSUB="Test"\r', 1, 0.5);
  writeInPieces(host, clock, "AT+SMTPBODY=19\r", 1, 3);
  writeInPieces(host, clock, "This is a new Email", 1, 0);
  clock.runUntilIdle();
  script.assertDone();
  assert.is(text(reader.got), "\r\nOK\r\n\r\nDOWNLOAD\r\n\r\nOK\r\n");
});

scripted("reply fragments reach the host as separate notifications", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200, fragment: { min: 64, max: 64 } });
  const reader = readingHost(host, clock);
  const script = new ScriptedModem(modem, [{ send: { bytes: "\r\nOK\r\n", fragments: [1, 3] } }]);
  clock.runUntilIdle();
  script.assertDone();
  assert.equal(reader.counts, [1, 3, 2]);
  assert.is(text(reader.got), "\r\nOK\r\n");
});

scripted("bytes after the last step are an error; an unfinished script says where it stopped", () => {
  const clock = new VirtualClock();
  const extra = createUartPair({ scheduler: clock, baud: Infinity });
  const done = new ScriptedModem(extra.modem, [{ expect: "AT\r", reply: "\r\nOK\r\n" }]);
  extra.host.write(latin1Bytes("AT\rATI\r"));
  clock.runUntilIdle();
  assert.match(done.errors[0], 'after the last step (1 of 1): the host sent more\n  received: "ATI\\r"');

  const partial = createUartPair({ scheduler: clock, baud: Infinity });
  const waiting = new ScriptedModem(partial.modem, [
    { expect: "AT\r", reply: "\r\nOK\r\n" },
    { expect: "AT+CPIN?\r", reply: "\r\n+CPIN: READY\r\n\r\nOK\r\n" },
    { send: "\r\nSMS Ready\r\n" },
  ]);
  partial.host.write(latin1Bytes("AT\rAT+CP"));
  clock.runUntilIdle();
  assert.throws(() => waiting.assertDone(), (e: Error) =>
    e.message.includes('waiting at step 2 of 3 (expect "AT+CPIN?\\r"): the host sent 5 of its 9 bytes ("AT+CP")') &&
    e.message.includes('steps left:\n  3. send "\\r\\nSMS Ready\\r\\n"'));
  waiting.append([{ expect: "AT+CSQ\r" }]);
  partial.host.write(latin1Bytes("IN?\rAT+CSQ\r"));
  clock.runUntilIdle();
  waiting.assertDone();
});

scripted("echo sends the host's bytes back before the reply, as in ATE1", () => {
  const clock = new VirtualClock();
  const { host, modem } = createUartPair({ scheduler: clock, baud: 115200 });
  const reader = readingHost(host, clock);
  const script = new ScriptedModem(modem, [
    { expect: "ATE0\r", reply: "\r\nOK\r\n" },
    { expect: "AT\r", reply: "\r\nOK\r\n" },
  ], { echo: true });
  host.write(latin1Bytes("ATE0\r"));
  clock.runUntilIdle();
  script.echo = false;
  host.write(latin1Bytes("AT\r"));
  clock.runUntilIdle();
  script.assertDone();
  assert.is(text(reader.got), "ATE0\r\r\nOK\r\n\r\nOK\r\n");
});

scripted("malformed scripts are refused naming the step", () => {
  const clock = new VirtualClock();
  const { modem } = createUartPair({ scheduler: clock });
  assert.throws(() => new ScriptedModem(modem, [{ expect: "AT\r" }, { wait: -5 }]), /script step 2: wait must be a finite number/);
  assert.throws(() => new ScriptedModem(modem, [{ expect: "AT\r", send: "x" } as never]), /script step 1: expected exactly one of/);
  assert.throws(() => new ScriptedModem(modem, [{ send: { bytes: "OK", fragments: [5] } }]), /fragments add up to more than the 2 bytes/);
  assert.throws(() => new ScriptedModem(modem, [{ expect: "" }]), /"expect" is empty/);
});

scripted.run();

// ---------------------------------------------------------------------------------------------

const transcript = suite("kit: transcripts and recorded sessions");

transcript("the session format: escapes, blocks, comments, waits and precise errors", () => {
  const session = parseSession([
    "# header",
    "> AT+SMTPBODY=19\\r",
    "< \\r\\nDOWNLOAD\\r\\n",
    "> This is a new ",
    "# a comment does not split a block",
    "> Email",
    "< \\r\\nOK\\r\\n",
    "",
    "< \\r\\n+SMTPSEND: 1\\r\\n",
    "= wait 250",
    "< \\x00\\xff\\\\\\t end\\x20",
  ].join("\n"), "t");
  assert.equal(session.blocks.map((b) => b.kind), ["host", "modem", "host", "modem", "modem", "wait", "modem"]);
  assert.is(text(session.host), "AT+SMTPBODY=19\rThis is a new Email");
  assert.is(text(session.modem), "\r\nDOWNLOAD\r\n\r\nOK\r\n\r\n+SMTPSEND: 1\r\n\x00\xff\\\t end ");
  assert.is(session.blocks[5].kind === "wait" && session.blocks[5].ms, 250);
  assert.is(session.blocks[2].line, 4);
  assert.equal(sessionToScript(session).map((s) => Object.keys(s)[0]), ["expect", "expect", "wait", "send"]);
  const steps = sessionToScript(session);
  assert.is((steps[1] as { reply: unknown[] }).reply.length, 2, "both modem blocks after a host block are its replies");
  assert.is(text(parseEscaped("é", "t")), "\xc3\xa9", "other characters stand for their UTF-8 bytes");

  assert.throws(() => parseSession("> AT\\q", "bad.txt"), /bad.txt:1: unknown escape "\\q"/);
  assert.throws(() => parseSession("> ok\n< \\x4", "bad.txt"), /bad.txt:2: "\\x" must be followed by two hex digits/);
  assert.throws(() => parseSession(">AT", "bad.txt"), /bad.txt:1: ">" must be followed by a space/);
  assert.throws(() => parseSession("AT", "bad.txt"), /bad.txt:1: a line starts with/);
  assert.throws(() => parseSession("= pause 5", "bad.txt"), /unknown directive/);
});

transcript("rendering and parsing round-trip every byte value and block boundary", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(Array.from(parseEscaped(escapeBytes(all), "t")), Array.from(all));
  const long = latin1Bytes("line one\r\n\r\nline two \r\n" + "x".repeat(250) + " ");
  const blocks = [
    { kind: "host" as const, bytes: latin1Bytes("AT+SMTPFT=100\r"), line: 0 },
    { kind: "modem" as const, bytes: latin1Bytes("\r\n+SMTPFT: 2,100\r\n"), line: 0 },
    { kind: "host" as const, bytes: all, line: 0 },
    { kind: "host" as const, bytes: long, line: 0 },
    { kind: "wait" as const, ms: 1500, line: 0 },
    { kind: "modem" as const, bytes: latin1Bytes("\r\nOK\r\n"), line: 0 },
    { kind: "modem" as const, bytes: new Uint8Array(0), line: 0 },
  ];
  const rendered = renderSession(blocks);
  assert.ok(rendered.split("\n").every((l) => l.length <= 102), "lines wrap");
  assert.not.match(rendered, / \n/, "no line ends in a space");
  const parsed = parseSession(rendered);
  assert.equal(parsed.blocks.map((b) => b.kind), blocks.map((b) => b.kind));
  parsed.blocks.forEach((b, i) => {
    const want = blocks[i];
    if (b.kind === "wait" || want.kind === "wait") assert.equal(b, { ...want, line: b.line });
    else assert.equal(Array.from(b.bytes), Array.from(want.bytes), `block ${i}`);
  });
  assert.is(renderSession(parsed.blocks), rendered);
});

/**
 * A plain host for replaying a session: it sends each host block once everything the modem
 * says before it has arrived, in pieces of at most `piece` bytes as the TX FIFO allows.
 */
function replay(session: Session, options: { baud: number; fragment: { min: number; max: number; seed: number }; piece: number }) {
  const clock = new VirtualClock();
  const { host, modem, stats } = createUartPair({ scheduler: clock, baud: options.baud, fragment: options.fragment });
  const script = new ScriptedModem(modem, sessionToScript(session));
  const received: number[] = [];
  const buffer = new Uint8Array(128);
  let block = 0;
  let sent = 0;
  let modemBefore = 0;
  const pump = () => {
    while (block < session.blocks.length) {
      const current = session.blocks[block];
      if (current.kind === "wait") block++;
      else if (current.kind === "modem") {
        if (received.length < modemBefore + current.bytes.length) return;
        modemBefore += current.bytes.length;
        block++;
      } else {
        const n = Math.min(options.piece, host.writable, current.bytes.length - sent);
        if (n === 0) return;
        host.write(current.bytes.subarray(sent, sent + n));
        sent += n;
        if (sent === current.bytes.length) {
          block++;
          sent = 0;
        }
      }
    }
  };
  host.attach({
    onReadable() {
      for (let n = host.read(buffer); n > 0; n = host.read(buffer)) received.push(...buffer.subarray(0, n));
      pump();
    },
    onWritable: pump,
  });
  clock.runUntilIdle();
  script.assertDone();
  assert.equal(received, Array.from(session.modem), `${session.name}: the host got exactly the modem's bytes`);
  assert.is(stats.rxLost, 0);
  assert.is(stats.txBytes, session.host.length);
}

transcript("every recorded session replays against the scripted modem at several splits and rates", () => {
  const names = listSessions();
  assert.ok(names.length >= 2, `sessions: ${names}`);
  for (const name of names) {
    const session = readSession(name);
    replay(session, { baud: 115200, fragment: { min: 1, max: 1, seed: 1 }, piece: 1 });
    replay(session, { baud: 115200, fragment: { min: 1, max: 40, seed: 9 }, piece: 128 });
    replay(session, { baud: Infinity, fragment: { min: 1, max: 7, seed: 3 }, piece: 5 });
  }
  assert.throws(() => readSession("no-such-session"), /cannot read session "no-such-session".*the kit has: .*sim7000-retrieve/);
});

/** The `count` bytes after the first `marker` line in the stream (the data phase of a length-prefixed reply). */
function dataAfter(stream: string, marker: RegExp): { count: number; data: string; after: string } {
  const match = marker.exec(stream);
  assert.ok(match, `no ${marker} in the session`);
  const count = Number(match[1]);
  const start = match.index + match[0].length;
  return { count, data: stream.slice(start, start + count), after: stream.slice(start + count) };
}

transcript("the send session keeps the spec's framing and announces exact data lengths", () => {
  const session = readSession("sim7000-send-attachment");
  const host = text(session.host);
  const modem = text(session.modem);
  assert.ok(modem.startsWith("ATE0\r\r\nOK\r\n"), "echo only before ATE0 takes effect");
  assert.not.match(modem.slice(4), /AT\+/, "no echo after ATE0");
  const body = dataAfter(host, /AT\+SMTPBODY=(\d+)\r/);
  assert.is(body.data, "This is a new Email");
  assert.ok(body.after.startsWith("AT+SMTPFILE="));
  const chunk = dataAfter(host, /AT\+SMTPFT=(\d+)\r/);
  assert.is(chunk.count, 100);
  assert.match(chunk.data, /\r\n10:36:57 OK\r\n/);
  assert.ok(chunk.after.startsWith("AT+SMTPFT=0\r"));
  assert.match(modem, /\r\nOK\r\n\r\n\+SMTPFT: 1,1360\r\n\r\n\+SMTPFT: 2,100\r\n\r\nOK\r\n\r\n\+SMTPFT: 1,1360\r\n\r\nOK\r\n\r\n\+SMTPSEND: 1\r\n$/);
});

transcript("the retrieve session's POP3READ data matches its counts and holds look-alike lines", () => {
  const session = readSession("sim7000-retrieve");
  const modem = text(session.modem);
  const first = dataAfter(modem, /\r\n\+POP3READ: 1,(\d+)\r\n/);
  assert.is(first.count, 1460);
  assert.ok(first.data.endsWith("\r\nOK\r\n"), "the first chunk ends in a body line OK");
  assert.ok(first.after.startsWith("\r\nOK\r\n"));
  const second = dataAfter(modem, /\r\n\+POP3READ: 2,(\d+)\r\n/);
  assert.ok(second.after.startsWith("\r\nOK\r\n"));
  for (const line of ["ERROR", "+POP3READ: 3,10", "+CME ERROR: 3", ".."]) {
    assert.ok(second.data.includes(`\r\n${line}\r\n`) || second.data.startsWith(`${line}\r\n`), `line ${line}`);
  }
  assert.ok(second.data.endsWith("\r\n.\r\n"), "ends with the dotline");
  const mail = (first.data + second.data).slice(0, -3).replace(/^\.\./gm, ".");
  const listed = /\+POP3LIST: 1,1,(\d+)/.exec(modem);
  assert.is(mail.length, Number(listed![1]), "LIST size is the mail without dot-stuffing and dotline");
});

transcript.run();
