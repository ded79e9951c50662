// Property-based tests of the AT command engine.
//  1. Chaos: commands of every kind (OK-final, async result, info lines, raw lines, LENGTH
//     data, PROMPT + payload, trailing line) against any byte soup in any fragmentation,
//     with time jumps and back-pressure: nothing throws out of the engine, every command
//     ends exactly once with a typed error or success, no internal buffer or queue grows past
//     its bound, and once idle the next command works.
//  2. A serial modem (one command at a time, in order, as a SIM7000 is) answering each command
//     with its own tag after a drawn latency, often past the timeout: late replies, echoes,
//     URC noise, data phases with reply look-alikes, prompts, modem resets. A command that
//     succeeds has its own reply, never another's, and the engine always recovers.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import v8 from "node:v8";
import vm from "node:vm";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { createUartPair, type ModemSerial } from "../../kit/mock-uart.ts";
import {
  AtAbortedError, AtCommand, AtEngine, AtError, AtQueueFullError, AtTimeoutError, MatchTable, Verdict, ascii,
  type Line, type UrcHandler,
} from "../../../src/transport/index.ts";
import { FuzzReport, fragmentation, piecesOf, soup } from "../../kit/fuzz.ts";
import { concatBytes, latin1Bytes } from "../../kit/bytes.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";

const report = new FuzzReport("engine");
const test = suite("fuzz: AT engine");

/** A failure the fuzz commands report themselves (a malformed reply line). */
class FuzzReplyError extends Error {}

const TAG_PREFIX = ascii("+TAG: ");
const TAG = 0;
const LENGTH = 1;
const TAKE = 2;

/** The command kinds the mail layer uses, in one configurable class. */
const Kind = { Plain: 0, Result: 1, Info: 2, Raw: 3, Data: 4, Prompt: 5, Trailing: 6 } as const;
const KINDS = 7;

class FuzzCommand extends AtCommand {
  ends = 0;
  endError: Error | null = null;
  /** Tags seen in `+TAG: <n>` lines; data bytes received; payload bytes handed out. */
  tags: number[] = [];
  data: number[] = [];
  payloadGiven = 0;
  constructor(readonly id: number, readonly kind: number, timeoutMs: number, readonly payload: Uint8Array) {
    super(40);
    this.timeoutMs = timeoutMs;
    this.text.raw(`AT+F${"PRIDXSTR"[kind]}=`).int(id);
    if (kind === Kind.Prompt) this.text.raw(",").int(payload.length);
    this.text.end();
    this.awaitsResult = kind === Kind.Result || kind === Kind.Trailing;
    this.rawLines = kind === Kind.Raw;
    if (kind === Kind.Prompt) this.prompt = ascii("DOWNLOAD");
    if (kind !== Kind.Plain && kind !== Kind.Raw) {
      this.responses = new MatchTable([
        { text: "+TAG: ", id: TAG },
        { text: "+LEN: ", id: LENGTH },
        { text: "+TAKE", exact: true, id: TAKE },
      ]);
    }
  }
  override onMatch(id: number, line: Line): Verdict {
    if (id === TAG) {
      const tag = line.int();
      if (Number.isNaN(tag)) {
        this.error = new FuzzReplyError(`${this.text.describe()}: bad tag line "${line.text()}"`);
        return Verdict.Fail;
      }
      this.tags.push(tag);
      return this.kind === Kind.Result ? Verdict.Result : Verdict.Continue;
    }
    if (id === LENGTH && this.kind === Kind.Data) {
      const tag = line.int();
      const n = line.int();
      if (Number.isNaN(tag) || Number.isNaN(n)) {
        this.error = new FuzzReplyError(`${this.text.describe()}: bad length line "${line.text()}"`);
        return Verdict.Fail;
      }
      this.tags.push(tag);
      this.receiveLength = n;
      return n > 0 ? Verdict.Receive : Verdict.Continue;
    }
    if (id === TAKE && this.kind === Kind.Trailing) return Verdict.TakeLine;
    return Verdict.NotMine;
  }
  override onLine(line: Line): Verdict {
    if (this.kind === Kind.Trailing) {
      this.tags.push(line.int());
      return Verdict.Result;
    }
    // Raw lines: every one is this command's text output.
    if (line.startsWith(TAG_PREFIX)) this.tags.push(line.after(TAG_PREFIX).int());
    return Verdict.Continue;
  }
  override onData(buf: Uint8Array, offset: number, length: number): void {
    for (let i = 0; i < length; i++) this.data.push(buf[offset + i]);
  }
  override onPrompt(): Verdict {
    this.sendLength = this.payload.length;
    return Verdict.Send;
  }
  override fillPayload(out: Uint8Array, offset: number, length: number): void {
    assert.ok(this.payloadGiven + length <= this.payload.length, "the engine never asks for more payload than announced");
    out.set(this.payload.subarray(this.payloadGiven, this.payloadGiven + length), offset);
    this.payloadGiven += length;
  }
  override onEnd = (error: Error | null): void => {
    this.ends++;
    this.endError = error;
  };
}

/** A URC handler of the kind the modem layer installs (+APP PDP: DEACTIVE, +POP3READ: 3,...). */
class CountingUrc implements UrcHandler {
  readonly table = new MatchTable([{ text: "+URC", id: 0 }, { text: "+POP3READ: 3,", id: 1 }]);
  receiveLength = 0;
  seen = 0;
  onUrc(): Verdict {
    this.seen++;
    return Verdict.Continue;
  }
  onLine(): Verdict {
    return Verdict.NotMine;
  }
  onData(): void {}
}

interface EngineInternals {
  queue: { records: unknown[]; count: number };
  readBuf: Uint8Array;
  tx: { staging: Uint8Array; stagingViews: Uint8Array[] };
  urcs: { handlers: unknown[] };
  /** The command in flight (src/transport/exchange.ts). */
  exchange: { phase: number; current: AtCommand | null };
  framer: { lineLength: number; lineBuf: Uint8Array; remaining: number };
}

/** Checks the fixed bounds of everything the engine holds; `shape` is taken at construction. */
function checkBounds(engine: AtEngine, shape: ReturnType<typeof shapeOf>, clock: VirtualClock): void {
  const inner = engine as unknown as EngineInternals;
  assert.ok(inner.queue.count >= 0 && inner.queue.count <= shape.queue.length, `queue holds ${inner.queue.count}`);
  assert.ok(inner.queue.records === shape.queue && inner.queue.records.length === shape.queueLength, "queue never replaced or grown");
  assert.ok(inner.readBuf === shape.readBuf && inner.tx.staging === shape.staging, "read and staging buffers never replaced");
  assert.is(inner.tx.stagingViews.length, shape.views);
  assert.is(inner.urcs.handlers.length, shape.urcs);
  const framer = inner.framer;
  assert.ok(framer.lineBuf === shape.lineBuf && framer.lineBuf.length === shape.lineCapacity, "line buffer never replaced");
  assert.ok(framer.lineLength >= 0 && framer.lineLength <= shape.lineCapacity, `line buffer holds ${framer.lineLength}`);
  assert.ok(clock.pending() <= shape.timers, `${clock.pending()} timers pending (engine's deadline plus the harness's)`);
  if (!engine.busy) assert.is(inner.exchange.current, null, "idle means no command in flight");
}

function shapeOf(engine: AtEngine, lineCapacity: number, timers: number) {
  const inner = engine as unknown as EngineInternals;
  return {
    queue: inner.queue.records, queueLength: inner.queue.records.length, readBuf: inner.readBuf, staging: inner.tx.staging,
    views: inner.tx.stagingViews.length, urcs: inner.urcs.handlers.length, lineBuf: inner.framer.lineBuf, lineCapacity, timers,
  };
}

/** What one case exercised, summed per property in the report. */
function tallyRun(engine: AtEngine, submitted: readonly FuzzCommand[]): void {
  const stats = engine.stats;
  report.count("commands", submitted.length);
  report.count("succeeded", submitted.filter((c) => c.endError === null).length);
  for (const c of submitted) if (c.endError !== null) report.count(`failed:${(c.endError as AtError).code ?? "reply"}`);
  report.count("bytesIn", stats.bytesIn);
  report.count("timeouts", stats.timeouts);
  report.count("resyncs", stats.resyncs);
  report.count("resets", stats.resets);
  report.count("strayLines", stats.strayLines);
  report.count("overlongLines", stats.overlongLines);
}

const CHAOS_TOKENS = [
  "OK", "ERROR", "+CME ERROR: 3", "+CMS ERROR:", "+TAG: 1", "+TAG: x", "+LEN: 1,5", "+LEN: 2,40", "+LEN: 3,99999999",
  "+LEN: 1,-4", "+LEN: ,", "+TAKE", "DOWNLOAD", "DOWN", "RDY", "+CPIN: NOT READY", "NORMAL POWER DOWN", "+URC",
  "+POP3READ: 3,10", "AT\r", "AT+FP=1\r", "AT+FD=2\r", "\r\nOK\r\n", "\r\n+TAG: 0\r\n\r\nOK\r\n",
];

const WHOLE_REPLIES = [
  "\r\nOK\r\n", "\r\nOK\r\n", "\r\nERROR\r\n", "\r\n+CME ERROR: 50\r\n", "\r\nRDY\r\n", "\r\nDOWNLOAD",
  "\r\n+TAG: 0\r\n", "\r\n+TAG: 0\r\n\r\nOK\r\n", "\r\n+LEN: 0,6\r\nOK\r\n\r\n\r\nOK\r\n", "\r\n+TAKE\r\n0\r\n",
  "\r\n+URC: 1\r\n", "\r\n+POP3READ: 3,10\r\n", "AT\r\r\nOK\r\n",
];

const chaosOp = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("submit" as const), kind: fc.integer({ min: 0, max: KINDS - 1 }), timeoutMs: fc.integer({ min: 20, max: 2000 }), payload: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("feed" as const), bytes: soup(CHAOS_TOKENS, 16), split: fragmentation }) },
  // whole replies and reports, so that commands also succeed, fail and get reset mid-way
  { weight: 4, arbitrary: fc.record({ op: fc.constant("feed" as const), bytes: fc.constantFrom(...WHOLE_REPLIES).map(latin1Bytes), split: fragmentation }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3000 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("writable" as const), count: fc.integer({ min: 0, max: 128 }) }) },
  // what the modem layer does: ask for a resync, or abort everything (bring-up restarts)
  { weight: 1, arbitrary: fc.constantFrom({ op: "requestSync" as const }, { op: "abortAll" as const }) },
);

/** Plays the probe: `AT`s and the probe's command each get OK (the probe its tag first). */
function answerHonestly(serial: FeedSerial, clock: VirtualClock, probe: FuzzCommand): void {
  let seen = "";
  const write = serial.write.bind(serial);
  serial.write = (data: Uint8Array) => {
    if (!write(data)) return false;
    for (const b of data) seen += String.fromCharCode(b);
    // Command lines end with CR; the modem sends no echo.
    for (let cr = seen.indexOf("\r"); cr >= 0; cr = seen.indexOf("\r")) {
      const line = seen.slice(0, cr);
      seen = seen.slice(cr + 1);
      const reply = line === probe.text.describe() ? `\r\n+TAG: ${probe.id}\r\n\r\nOK\r\n` : "\r\nOK\r\n";
      clock.setTimer(() => serial.feed(latin1Bytes(reply)), 5);
    }
    clock.setTimer(() => {
      serial.free = 128;
      serial.engine.onWritable(128);
    }, 1);
    return true;
  };
}

test("chaos: any bytes, any split, any timing: no throw, bounded state, each command ends once, then the next works", () => {
  report.check(
    "chaos",
    4000,
    fc.record({
      ops: fc.array(chaosOp, { maxLength: 40, size: "medium" }),
      lineCapacity: fc.integer({ min: 16, max: 256 }), // the probe's reply lines fit
      queueCapacity: fc.integer({ min: 1, max: 8 }),
      initialWritable: fc.integer({ min: 1, max: 128 }),
      syncOnStart: fc.boolean(),
    }),
    ({ ops, lineCapacity, queueCapacity, initialWritable, syncOnStart }) => {
      const clock = new VirtualClock();
      const serial = new FeedSerial({ free: initialWritable });
      const engine = new AtEngine({ serial, timers: clock, lineCapacity, queueCapacity, initialWritable, syncOnStart });
      serial.engine = engine;
      const urc = new CountingUrc();
      engine.addUrcHandler(urc);
      const shape = shapeOf(engine, lineCapacity, 2); // the command deadline and the quiet-gap limit
      const submitted: FuzzCommand[] = [];
      let nextId = 0;
      for (const op of ops) {
        if (op.op === "submit") {
          const payload = new Uint8Array(op.payload).fill(0x41 + (nextId % 26));
          const command = new FuzzCommand(nextId++, op.kind, op.timeoutMs, payload);
          try {
            engine.submit(command);
            submitted.push(command);
          } catch (error) {
            assert.instance(error, AtQueueFullError, "the only refusal of submit is a full queue");
          }
        } else if (op.op === "feed") {
          for (const [start, end] of piecesOf(op.bytes.length, op.split)) serial.feed(op.bytes.slice(start, end));
        } else if (op.op === "advance") {
          clock.advance(op.ms);
        } else if (op.op === "requestSync") {
          engine.requestSync();
        } else if (op.op === "abortAll") {
          engine.abortAll(new AtAbortedError("aborted by the fuzz"));
        } else {
          serial.free = op.count;
          engine.onWritable(op.count);
        }
        checkBounds(engine, shape, clock);
        for (const c of submitted) assert.ok(c.ends <= 1, `${c.text.describe()} ended ${c.ends} times`);
      }
      // Silence from the modem: with free TX space, everything ends by timeouts.
      serial.write = ((write) => (data: Uint8Array) => {
        const accepted = write.call(serial, data);
        clock.setTimer(() => {
          serial.free = 128;
          engine.onWritable(128);
        }, 1);
        return accepted;
      })(serial.write);
      serial.free = 128;
      engine.onWritable(128);
      assert.ok(clock.runUntil(() => !engine.busy, 3_600_000), "the engine goes idle");
      tallyRun(engine, submitted);
      for (const c of submitted) {
        assert.is(c.ends, 1, `${c.text.describe()} ended once`);
        const error = c.endError;
        if (error !== null) assert.ok(error instanceof AtError || error instanceof FuzzReplyError, `typed error, got ${error?.name}: ${error?.message}`);
      }
      checkBounds(engine, shapeOf(engine, lineCapacity, 4), clock);
      // The next command works: the modem now answers every line. A line the chaos left half
      // sent is ended first (a partial "RDY" would otherwise still be a reset report).
      serial.feed(latin1Bytes("\r\n"));
      const probe = new FuzzCommand(nextId, Kind.Result, 1000, new Uint8Array(1));
      answerHonestly(serial, clock, probe);
      engine.submit(probe);
      clock.runUntil(() => probe.ends === 1, 60_000);
      assert.is(probe.ends, 1, "the probe ended");
      assert.is(probe.endError, null, `the probe succeeded (${probe.endError?.message})`);
      assert.equal(probe.tags, [probe.id]);
      engine.close();
    },
  );
});

// A line a command claims (Continue) restarts its timeout by design: the timeout is the
// longest silence. So the storm holds none of those, and only kinds OK or ERROR can end.
const STORM_TOKENS = CHAOS_TOKENS.filter((t) => !/\+(TAG|LEN|TAKE)/.test(t));
const STORM_KINDS = [Kind.Plain, Kind.Info, Kind.Data, Kind.Prompt];

test("noise storm: while the line never falls quiet, every command still ends, and the next works once it does", () => {
  report.check(
    "noise-storm",
    500,
    fc.record({
      noise: fc.array(soup(STORM_TOKENS, 6), { minLength: 1, maxLength: 8 }),
      periodMs: fc.integer({ min: 1, max: 49 }),
      kinds: fc.array(fc.constantFrom(...STORM_KINDS), { minLength: 1, maxLength: 4 }),
    }),
    ({ noise, periodMs, kinds }) => {
      const clock = new VirtualClock();
      const serial = new FeedSerial({ free: 128 });
      const engine = new AtEngine({ serial, timers: clock, quietMs: 50, syncTimeoutMs: 100, syncAttempts: 3 });
      serial.engine = engine;
      // Bytes every `periodMs`, never a 50 ms gap (a babbling modem, a floating RX line).
      let tick = 0;
      const babble = () => {
        serial.free = 128;
        engine.onWritable(128);
        serial.feed(noise[tick++ % noise.length].slice());
        handle = clock.setTimer(babble, periodMs);
      };
      let handle = clock.setTimer(babble, periodMs);
      const commands = kinds.map((kind, id) => new FuzzCommand(id, kind, 200, new Uint8Array(4)));
      for (const c of commands) engine.submit(c);
      const ended = clock.runUntil(() => commands.every((c) => c.ends === 1), 60_000);
      clock.clearTimer(handle);
      assert.ok(ended, `commands still waiting after 60 s of noise: ${commands.filter((c) => c.ends === 0).map((c) => c.text.describe())}`);
      for (const c of commands) if (c.endError !== null) assert.ok(c.endError instanceof AtError || c.endError instanceof FuzzReplyError);
      tallyRun(engine, commands);
      // The storm ends (its last line too); the next command works.
      serial.feed(latin1Bytes("\r\n"));
      assert.ok(clock.runUntil(() => !engine.busy, 60_000));
      const probe = new FuzzCommand(99, Kind.Result, 1000, new Uint8Array(1));
      answerHonestly(serial, clock, probe);
      engine.submit(probe);
      clock.runUntil(() => probe.ends === 1, 60_000);
      assert.is(probe.endError, null, `the probe succeeded (${probe.endError?.message})`);
      engine.close();
    },
  );
});

// Found by "noise-storm": the quiet gap after a sync had no end of its own, so a modem that
// never fell silent (here an OK every millisecond) kept the next command waiting forever.
test("regression: a modem that never falls quiet fails the sync tries, and the waiting command, in bounded time", () => {
  const clock = new VirtualClock();
  const serial = new FeedSerial({ free: 128 });
  const engine = new AtEngine({ serial, timers: clock, quietMs: 50, syncTimeoutMs: 100, syncAttempts: 3 });
  serial.engine = engine;
  const babble = () => {
    serial.free = 128;
    engine.onWritable(128);
    serial.feed(latin1Bytes("\r\nOK\r\n"));
    handle = clock.setTimer(babble, 1);
  };
  let handle = clock.setTimer(babble, 1);
  const command = new FuzzCommand(0, Kind.Plain, 1000, new Uint8Array(1));
  engine.submit(command);
  clock.runUntil(() => command.ends === 1, 1000);
  clock.clearTimer(handle);
  assert.instance(command.endError, AtTimeoutError);
  assert.match(command.endError!.message, /sync before AT\+FP=0, 3 tries/);
  assert.ok(clock.now() <= 3 * 100 + 10, `ended after ${clock.now()} ms`);
  assert.is(engine.stats.resyncs, 3);
});

// Found by "chaos": a line partly received before a command was sent (noise, a cut-off
// final) was completed by the reply's leading CRLF and taken as that command's reply.
test("regression: a line begun before the command was sent is not its reply; its echo still is", () => {
  const clock = new VirtualClock();
  const serial = new FeedSerial({ free: 128 });
  const engine = new AtEngine({ serial, timers: clock, lineCapacity: 14, syncOnStart: false });
  serial.engine = engine;
  serial.feed(latin1Bytes("+CME ERROR: 3"));
  const first = new FuzzCommand(0, Kind.Plain, 1000, new Uint8Array(1));
  engine.submit(first);
  serial.feed(latin1Bytes("\r\nOK\r\n"));
  assert.is(first.ends, 1);
  assert.is(first.endError, null, "OK, not the stale +CME ERROR, answered the command");
  assert.is(engine.stats.strayLines, 1, "the stale line went nowhere");

  // Echo (ATE1) that began arriving while the command was still being written.
  serial.free = 4;
  engine.onWritable(4);
  const second = new FuzzCommand(1, Kind.Info, 1000, new Uint8Array(1));
  engine.submit(second);
  serial.feed(latin1Bytes("AT+F"));
  serial.free = 128;
  engine.onWritable(128);
  serial.feed(latin1Bytes("I=1\r\r\n+TAG: 1\r\n\r\nOK\r\n"));
  assert.is(second.endError, null);
  assert.equal(second.tags, [1]);
  assert.is(engine.stats.strayLines, 1, "the echo was the command's");
});

// Found by "no-foreign-reply": the quiet gap after a resync was restarted by whole lines
// only. The late LENGTH data of a timed-out command ran longer than the gap without a line
// end, the next command went out in the middle of it, and the late final OK completed it.
test("regression: late data without line ends holds the quiet gap open", () => {
  const clock = new VirtualClock();
  const serial = new FeedSerial({ free: 128 });
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false, quietMs: 50, syncTimeoutMs: 300 });
  serial.engine = engine;
  const late = new FuzzCommand(0, Kind.Data, 100, new Uint8Array(1));
  engine.submit(late);
  clock.advance(100);
  assert.instance(late.endError, AtTimeoutError);
  const next = new FuzzCommand(1, Kind.Plain, 1000, new Uint8Array(1));
  engine.submit(next);
  const afterSync = serial.written; // "AT\r" of the resync
  // The late reply: its data begins with an OK line (taken by the sync), then 100 ms of bytes
  // without a line end, then the late command's own final OK.
  serial.feed(latin1Bytes("\r\n+LEN: 0,600\r\nOK\r\n"));
  for (let i = 0; i < 20; i++) {
    clock.advance(5);
    serial.feed(new Uint8Array(30).fill(0xbb));
  }
  serial.feed(latin1Bytes("\r\nOK\r\n"));
  assert.is(serial.written, afterSync, "nothing sent while the late reply was still arriving");
  assert.is(next.ends, 0);
  clock.advance(49);
  assert.is(serial.written, afterSync);
  clock.advance(1);
  assert.is(serial.written, afterSync + next.text.length, "sent after a quiet gap");
  assert.is(next.ends, 0, "not completed by the late OK");
  serial.feed(latin1Bytes("\r\nOK\r\n"));
  assert.is(next.endError, null);
  assert.is(next.ends, 1);
});

// ---- a serial modem ------------------------------------------------------------------

interface Plan {
  /** Delay before the answer (before DOWNLOAD for prompts). */
  latency: number;
  /** Delay between the payload's last byte and the result (prompts). */
  afterPayload: number;
  /** Bytes of the data phase (Data kind): anything, reply look-alikes included. */
  data: Uint8Array;
}

/**
 * One command at a time, in the order received, as a SIM7000 works: a command line is
 * answered after its planned latency; `AT` within `syncLatency`. A prompt command waits for
 * its payload (up to `payloadTimeoutMs`, then ERROR) and eats whatever bytes come as payload.
 */
class SerialModem {
  readonly payloads = new Map<number, boolean>();
  /** Bytes that reached the modem: all of what the engine wrote once the wire is drained. */
  received = 0;
  private input = "";
  private readonly lines: string[] = [];
  private busy = false;
  private payloadFor: { id: number; left: number; got: number[]; expected: Uint8Array; plan: Plan } | null = null;
  private payloadTimer: ReturnType<VirtualClock["setTimer"]> | null = null;
  private replyTimer: ReturnType<VirtualClock["setTimer"]> | null = null;

  constructor(
    private readonly wire: ModemSerial,
    private readonly clock: VirtualClock,
    private readonly plans: Map<number, { kind: number; plan: Plan; payload: Uint8Array }>,
    private readonly echo: boolean,
    private readonly syncLatency: number,
  ) {
    wire.onData = (bytes) => this.receive(bytes);
  }

  /** A modem restart: everything pending is lost, RDY is reported. */
  restart(): void {
    if (this.replyTimer !== null) this.clock.clearTimer(this.replyTimer);
    if (this.payloadTimer !== null) this.clock.clearTimer(this.payloadTimer);
    this.replyTimer = this.payloadTimer = null;
    this.payloadFor = null;
    this.lines.length = 0;
    this.input = "";
    this.busy = false;
    this.wire.write("\r\nRDY\r\n");
  }

  get idle(): boolean {
    return !this.busy && this.lines.length === 0 && this.payloadFor === null && this.wire.pendingToHost === 0;
  }

  private receive(bytes: Uint8Array): void {
    this.received += bytes.length;
    for (const b of bytes) {
      const payload = this.payloadFor;
      if (payload !== null) {
        payload.got.push(b);
        if (--payload.left === 0) this.payloadDone();
        continue;
      }
      if (b === 13) {
        this.lines.push(this.input);
        this.input = "";
      } else this.input += String.fromCharCode(b);
    }
    this.next();
  }

  private next(): void {
    if (this.busy || this.payloadFor !== null || this.lines.length === 0) return;
    const line = this.lines.shift()!;
    this.busy = true;
    const echo = this.echo ? `${line}\r` : "";
    if (this.echo) this.wire.write(echo);
    const match = /^AT\+F[A-Z]=(\d+)/.exec(line);
    const entry = match ? this.plans.get(Number(match[1])) : undefined;
    if (entry === undefined) {
      // AT (the engine's sync) or a line mangled by a payload mix-up.
      this.answer(line === "AT" ? "\r\nOK\r\n" : "\r\nERROR\r\n", this.syncLatency);
      return;
    }
    const id = Number(match![1]);
    const { kind, plan, payload } = entry;
    if (kind === Kind.Prompt) {
      this.replyTimer = this.clock.setTimer(() => {
        this.replyTimer = null;
        this.wire.write("\r\nDOWNLOAD");
        this.payloadFor = { id, left: payload.length, got: [], expected: payload, plan };
        this.payloadTimer = this.clock.setTimer(() => {
          this.payloadTimer = null;
          this.payloadFor = null;
          this.answer("\r\nERROR\r\n", 0);
        }, 2000);
        this.lines.length = 0; // bytes from now on are payload
      }, plan.latency);
      return;
    }
    this.answer(replyOf(kind, id, plan), plan.latency);
  }

  private payloadDone(): void {
    const payload = this.payloadFor!;
    this.payloadFor = null;
    if (this.payloadTimer !== null) this.clock.clearTimer(this.payloadTimer);
    this.payloadTimer = null;
    const exact = payload.got.length === payload.expected.length && payload.got.every((b, i) => b === payload.expected[i]);
    this.payloads.set(payload.id, exact);
    this.answer(`\r\n+TAG: ${payload.id}\r\n\r\nOK\r\n`, payload.plan.afterPayload);
  }

  private answer(reply: string | Uint8Array, latency: number): void {
    this.replyTimer = this.clock.setTimer(() => {
      this.replyTimer = null;
      this.wire.write(reply);
      this.busy = false;
      this.next();
    }, latency);
  }
}

function replyOf(kind: number, id: number, plan: Plan): string | Uint8Array {
  switch (kind) {
    case Kind.Plain:
    case Kind.Raw:
    case Kind.Info:
    case Kind.Result:
      // Plain and raw commands ignore the tag line's meaning but still see it (raw) or not.
      return `\r\n+TAG: ${id}\r\n\r\nOK\r\n`;
    case Kind.Trailing:
      return `\r\nOK\r\n\r\n+TAKE\r\n${id}\r\n`;
    default:
      return concatBytes([latin1Bytes(`\r\n+LEN: ${id},${plan.data.length}\r\n`), plan.data, latin1Bytes("\r\nOK\r\n")]);
  }
}

const DATA_TOKENS = ["OK", "ERROR", "+TAG: 0", "+TAG: 3", "+LEN: 2,4", "DOWNLOAD", "+TAKE", "+URC", "\r\nOK\r\n", "\r\n+TAG: 1\r\n", "AT\r"];

const latency = (timeoutMs: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: Math.floor(timeoutMs * 0.8) }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: timeoutMs * 3 }) },
  );

const step = fc
  .record({
    kind: fc.integer({ min: 0, max: KINDS - 1 }),
    timeoutMs: fc.integer({ min: 100, max: 800 }),
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2500 })),
    payloadLength: fc.integer({ min: 1, max: 200 }),
    data: soup(DATA_TOKENS, 10).filter((d) => d.length > 0),
    restart: fc.integer({ min: 0, max: 29 }).map((n) => n === 0),
    noise: fc.option(fc.constantFrom("\r\n+URC: 1\r\n", "\r\n+POP3READ: 3,5\r\n", "\r\n+CMTI: \"SM\",1\r\n", "\r\n\r\n"), { nil: null }),
  })
  .chain((s) => fc.record({ latency: latency(s.timeoutMs), afterPayload: latency(s.timeoutMs) }).map((l) => ({ ...s, ...l })));

test("serial modem with late replies: a command never completes with another command's reply", () => {
  report.check(
    "no-foreign-reply",
    3000,
    fc.record({
      steps: fc.array(step, { minLength: 1, maxLength: 14 }),
      echo: fc.boolean(),
      fragment: fc.record({ min: fc.integer({ min: 1, max: 8 }), max: fc.integer({ min: 8, max: 96 }), seed: fc.integer() }),
    }),
    ({ steps, echo, fragment }) => {
      const clock = new VirtualClock();
      const { host, modem, stats } = createUartPair({ scheduler: clock, baud: 115200, fragment });
      const quietMs = 50;
      const engine = new AtEngine({ serial: host, timers: clock, quietMs, syncTimeoutMs: 300 });
      engine.addUrcHandler(new CountingUrc());
      host.attach(engine);
      const plans = new Map<number, { kind: number; plan: Plan; payload: Uint8Array }>();
      // The modem answers AT well inside the quiet gap: the engine's resync relies on it.
      const peer = new SerialModem(modem, clock, plans, echo, quietMs / 3);
      const submitted: FuzzCommand[] = [];
      let at = 0;
      let stepsRun = 0;
      steps.forEach((s, id) => {
        const payload = new Uint8Array(s.payloadLength);
        for (let i = 0; i < payload.length; i++) payload[i] = (id * 31 + i * 7) & 0xff;
        plans.set(id, { kind: s.kind, plan: { latency: s.latency, afterPayload: s.afterPayload, data: s.data }, payload });
        at += s.gap;
        clock.setTimer(() => {
          stepsRun++;
          if (s.restart) peer.restart();
          if (s.noise !== null) modem.write(s.noise);
          const command = new FuzzCommand(id, s.kind, s.timeoutMs, payload);
          try {
            engine.submit(command);
            submitted.push(command);
          } catch (error) {
            assert.instance(error, AtQueueFullError);
          }
        }, at);
      });
      const settled = () =>
        stepsRun === steps.length && !engine.busy && peer.idle && host.readable === 0 && peer.received === engine.stats.bytesOut;
      assert.ok(clock.runUntil(settled, 3_600_000), "engine and modem settle");
      assert.is(stats.rxLost, 0, "the engine read every byte in time");
      tallyRun(engine, submitted);
      for (const c of submitted) {
        assert.is(c.ends, 1, `${c.text.describe()} ended once`);
        if (c.endError !== null) {
          assert.ok(c.endError instanceof AtError || c.endError instanceof FuzzReplyError, `typed error: ${c.endError.message}`);
          continue;
        }
        // Success: the reply was this command's own.
        if (c.kind !== Kind.Plain) assert.equal(c.tags, [c.id], `${c.text.describe()} took tags ${c.tags}`);
        if (c.kind === Kind.Data) assert.equal(c.data, Array.from(plans.get(c.id)!.plan.data), `${c.text.describe()} got its own data`);
        if (c.kind === Kind.Prompt) assert.is(peer.payloads.get(c.id), true, `the modem got ${c.text.describe()}'s exact payload`);
      }
      // And after whatever happened, the next command works.
      const probeId = steps.length;
      const probePlan = { latency: 5, afterPayload: 5, data: new Uint8Array(1) };
      plans.set(probeId, { kind: Kind.Result, plan: probePlan, payload: new Uint8Array(1) });
      const probe = new FuzzCommand(probeId, Kind.Result, 1000, new Uint8Array(1));
      engine.submit(probe);
      clock.runUntil(() => probe.ends === 1, 120_000);
      assert.is(probe.endError, null, `the probe succeeded (${probe.endError?.message})`);
      assert.equal(probe.tags, [probeId]);
      engine.close();
    },
  );
  report.print();
});

/** Node's collector, reachable without --expose-gc on the command line. */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

test("heap: 20,000 commands with garbage, timeouts and resyncs leave the Node heap flat", () => {
  const gc = collector();
  const clock = new VirtualClock();
  const serial = new FeedSerial({ free: 128 });
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false, quietMs: 20, syncTimeoutMs: 50 });
  serial.engine = engine;
  engine.addUrcHandler(new CountingUrc());
  const garbage = fc.sample(soup(CHAOS_TOKENS, 8), { numRuns: 64, seed: 42 });
  let answered = 0;
  const write = serial.write.bind(serial);
  serial.write = (data: Uint8Array) => {
    if (!write(data)) return false;
    serial.free = 128;
    if (data[data.length - 1] !== 13) return true;
    // Every 10th command gets no answer (a timeout, then a resync); the rest get garbage first.
    const n = answered++;
    if (n % 10 === 9) return true;
    clock.setTimer(() => {
      serial.feed(garbage[n % garbage.length]);
      serial.feed(latin1Bytes(`\r\n\r\n+TAG: ${n}\r\n\r\nOK\r\n`));
    }, 2);
    return true;
  };
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const command = new FuzzCommand(i, i % 3 === 0 ? Kind.Result : Kind.Info, 30, new Uint8Array(1));
      engine.submit(command);
      clock.runUntil(() => command.ends === 1, 10_000);
      assert.is(command.ends, 1);
    }
  };
  run(2000);
  gc();
  const before = process.memoryUsage().heapUsed;
  run(18000);
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  report.figure("heapGrowthBytesOver18000Commands", growth);
  assert.ok(engine.stats.timeouts > 1000 && engine.stats.resyncs > 1000, "timeouts and resyncs happened");
  assert.ok(growth < 1024 * 1024, `heap grew by ${growth} bytes over 18,000 commands`);
  engine.close();
});

test.run();
