// Property-based tests of the receive framer: any byte stream, cut anywhere, gives the same
// events as the stream in one piece; LINE mode equals a plain reference model; LENGTH data
// and prompts come out exactly as sent; the line buffer never grows.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Framer, Line, MatchTable, ascii, type FramerSink } from "../../../src/transport/index.ts";
import { FuzzReport, fragmentation, latin1, piecesOf, soup } from "../../kit/fuzz.ts";
import { concatBytes, latin1Bytes } from "../../kit/bytes.ts";

const report = new FuzzReport("framer");
const test = suite("fuzz: framer");

const LENGTH_HEADER = ascii("+LEN: ");
const ARM = ascii("ARM");
const DOWNLOAD = ascii("DOWNLOAD");

/**
 * Records every event as text. A `+LEN: <n>` line starts an n-byte LENGTH phase (capped, as
 * the commands cap their reads); an `ARM` line arms the DOWNLOAD prompt.
 */
class Recorder implements FramerSink {
  readonly events: string[] = [];
  framer!: Framer;
  maxLine = 0;
  private data = "";
  constructor(private readonly capacity: number, private readonly switching = true) {}
  onLine(line: Line): void {
    assert.ok(line.length > 0 && line.length <= this.capacity, `line of ${line.length} bytes, capacity ${this.capacity}`);
    assert.is(line.buf[0] === 13 || line.buf[line.length - 1] === 13, false, "CRs are stripped at both ends");
    for (let i = 0; i < line.length; i++) assert.ok(line.buf[i] !== 10, "no LF inside a line");
    if (line.length > this.maxLine) this.maxLine = line.length;
    this.events.push(`line:${line.text()}`);
    if (!this.switching) return;
    if (line.startsWith(LENGTH_HEADER)) {
      line.after(LENGTH_HEADER);
      const n = line.int();
      if (n > 0) this.framer.expectLength(Math.min(n, 4096));
    } else if (line.equals(ARM)) this.framer.armPrompt(DOWNLOAD);
  }
  onData(buf: Uint8Array, offset: number, length: number): void {
    assert.ok(length > 0 && offset >= 0 && offset + length <= buf.length, "data range inside the chunk");
    for (let i = 0; i < length; i++) this.data += String.fromCharCode(buf[offset + i]);
  }
  onDataEnd(): void {
    this.events.push(`data:${this.data}`);
    this.data = "";
  }
  onPrompt(): void {
    this.events.push("prompt");
  }
}

function feedAll(stream: Uint8Array, split: readonly number[] | "bytewise", capacity: number, switching = true) {
  const recorder = new Recorder(capacity, switching);
  const framer = new Framer(capacity, recorder);
  recorder.framer = framer;
  const lineBuf = (framer as unknown as { lineBuf: Uint8Array }).lineBuf;
  for (const [start, end] of piecesOf(stream.length, split)) {
    // A fresh copy per read, with junk around it: the framer must stay inside its range.
    const piece = new Uint8Array(end - start + 4).fill(10);
    piece.set(stream.subarray(start, end), 2);
    framer.feed(piece, 2, end - start);
    const inner = framer as unknown as { lineLength: number; lineBuf: Uint8Array };
    assert.ok(inner.lineLength <= capacity, "buffered line within capacity");
    assert.ok(inner.lineBuf === lineBuf && lineBuf.length === capacity, "line buffer never replaced");
  }
  return { events: recorder.events, overlong: framer.overlongLines };
}

const TOKENS = ["OK", "ERROR", "+LEN: 5", "+LEN: 0", "+LEN: 17", "+LEN: -3", "+LEN: x", "ARM", "DOWNLOAD", "DOWN", "> ", "RDY", "+SMTPFT: 1,1360", "+POP3READ: 1,20", "\r\nOK\r\n"];

test("any bytes, any fragmentation: the same events as in one piece; lines bounded", () => {
  report.check(
    "fragmentation-invariance",
    5000,
    fc.record({ stream: soup(TOKENS, 60), split: fragmentation, capacity: fc.integer({ min: 1, max: 64 }) }),
    ({ stream, split, capacity }) => {
      const whole = feedAll(stream, [], capacity);
      const cut = feedAll(stream, split, capacity);
      assert.equal(cut.events, whole.events);
      assert.is(cut.overlong, whole.overlong);
    },
  );
});

/** LINE mode as the framer documents it, over the whole stream with strings. */
function referenceLines(stream: Uint8Array, capacity: number): { lines: string[]; overlong: number } {
  const lines: string[] = [];
  let overlong = 0;
  let raw = "";
  let discarding = false;
  let previous = -1;
  for (const byte of stream) {
    // A lone CR after text ends the line too (an echo straight into its result: "AT\rOK").
    if (previous === 13 && byte !== 10 && byte !== 13 && !discarding && /[^\r]/.test(raw)) {
      lines.push(raw.replace(/^\r+/, "").replace(/\r+$/, ""));
      raw = "";
    }
    previous = byte;
    if (byte === 10) {
      if (!discarding) {
        const line = raw.replace(/^\r+/, "").replace(/\r+$/, "");
        if (line !== "") lines.push(line);
      }
      raw = "";
      discarding = false;
    } else if (!discarding) {
      if (raw.length === capacity) {
        discarding = true;
        overlong++;
      } else raw += String.fromCharCode(byte);
    }
  }
  return { lines, overlong };
}

test("LINE mode equals the reference model: CRs stripped, empty lines skipped, a lone CR after text ends a line, overlong lines dropped and counted", () => {
  const lineSoup = soup(["OK", "ERROR", "RDY", "+CME ERROR: 10", "+LEN: 5", "ARM", "\r\n", "\r", "\n"], 60);
  report.check(
    "line-mode-model",
    5000,
    fc.record({ stream: lineSoup, split: fragmentation, capacity: fc.integer({ min: 1, max: 48 }) }),
    ({ stream, split, capacity }) => {
      // This recorder never switches the framer out of LINE mode.
      const { events, overlong } = feedAll(stream, split, capacity, false);
      const expected = referenceLines(stream, capacity);
      assert.equal(events, expected.lines.map((l) => `line:${l}`));
      assert.is(overlong, expected.overlong);
    },
  );
});

type Segment =
  | { kind: "line"; text: string }
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "prompt" };

const lineText = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((b) => String.fromCharCode(...b.map((c) => (c === 10 || c === 13 ? 46 : c))))
  .filter((t) => !t.startsWith("+LEN: ") && t !== "ARM");
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 3, arbitrary: lineText.map((text) => ({ kind: "line" as const, text })) },
  // data of any bytes, OK/ERROR/RDY/+LEN look-alikes and bare line ends included
  { weight: 2, arbitrary: soup(TOKENS, 12).filter((b) => b.length > 0).map((bytes) => ({ kind: "data" as const, bytes })) },
  { weight: 1, arbitrary: fc.constant({ kind: "prompt" as const }) },
);

test("LENGTH data and prompts come out exactly as the modem framed them, in any fragmentation", () => {
  report.check(
    "length-and-prompt-phases",
    5000,
    fc.record({ segments: fc.array(segment, { maxLength: 12 }), split: fragmentation }),
    ({ segments, split }) => {
      const parts: Uint8Array[] = [];
      const expected: string[] = [];
      for (const s of segments) {
        if (s.kind === "line") {
          parts.push(latin1Bytes(`\r\n${s.text}\r\n`));
          expected.push(`line:${s.text}`);
        } else if (s.kind === "data") {
          parts.push(latin1Bytes(`\r\n+LEN: ${s.bytes.length}\r\n`), s.bytes);
          expected.push(`line:+LEN: ${s.bytes.length}`, `data:${String.fromCharCode(...s.bytes)}`);
        } else {
          parts.push(latin1Bytes("\r\nARM\r\n\r\nDOWNLOAD"));
          expected.push("line:ARM", "prompt");
        }
      }
      const { events } = feedAll(concatBytes(parts), split, 64);
      assert.equal(events, expected);
    },
  );
});

test("reset() in the middle of any phase returns to LINE mode with nothing buffered", () => {
  report.check(
    "reset-anywhere",
    3000,
    fc.record({ before: soup(TOKENS, 30), after: lineText }),
    ({ before, after }) => {
      const recorder = new Recorder(32);
      const framer = new Framer(32, recorder);
      recorder.framer = framer;
      framer.feed(before, 0, before.length);
      framer.reset();
      recorder.events.length = 0;
      const tail = latin1Bytes(`\r\n${after}\r\n`);
      framer.feed(tail, 0, tail.length);
      // The line's CR counts against the capacity too.
      assert.equal(recorder.events, after.length + 1 <= 32 ? [`line:${after}`] : []);
      assert.not.ok(framer.inLengthMode);
    },
  );
});

const patternText = fc.oneof(
  fc.constantFrom("OK", "ERROR", "+CME ERROR:", "+SMTPFT:", "+SMTPFT: 1", "+POP3READ: ", "+POP3READ: 3,", "RDY", "+"),
  fc.string({ unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 6 }),
);

test("match tables and field readers: any line finds the first entry a plain scan finds; fields never read outside the line", () => {
  report.check(
    "match-and-fields",
    3000,
    fc.record({
      specs: fc.array(fc.record({ text: patternText, exact: fc.boolean() }), { minLength: 1, maxLength: 8 }),
      line: fc.oneof(patternText.chain((p) => soup(["", ",", " ", "1", "-", "\"", "x", "9".repeat(17), "1".repeat(400)], 6).map((tail) => concatBytes([latin1Bytes(p), tail]))), soup(TOKENS, 6)),
      junk: fc.uint8Array({ minLength: 0, maxLength: 8 }),
    }),
    ({ specs, line: bytes, junk }) => {
      const table = new MatchTable(specs.map((spec, id) => ({ ...spec, id: id * 10 })));
      // The line sits in a larger buffer with junk after it, as in the framer's line buffer.
      const line = new Line(concatBytes([bytes, junk]));
      line.set(bytes.length);
      const text = latin1(bytes);
      const expected = specs.findIndex((spec) => (spec.exact ? text === spec.text : text.startsWith(spec.text)));
      assert.is(table.match(line), expected < 0 ? -1 : expected * 10);
      if (expected >= 0) assert.is(line.pos, specs[expected].text.length, "cursor after the pattern");
      // Field readers: numbers or NaN, strings from inside the line, the cursor within it.
      for (let i = 0; i < 8 && !line.atEnd(); i++) {
        const before = line.pos;
        const value = i % 2 === 0 ? line.int() : line.str();
        if (typeof value === "number") assert.ok(Number.isNaN(value) || Number.isSafeInteger(value), `int() gave ${value}`);
        else assert.ok(text.includes(value), "a string field is a piece of the line");
        assert.ok(line.pos >= before && line.pos <= line.length, "cursor within the line");
      }
      assert.is(line.rest(), text.slice(line.pos));
    },
  );
  report.print();
});

// Found by "match-and-fields": 17 nines read as 100000000000000020, a length no modem sent.
test("regression: an integer field too long to be exact is not a number", () => {
  const line = new Line(latin1Bytes("+SMTPFT: 1,99999999999999999,9007199254740991"));
  line.set(line.buf.length);
  line.after(ascii("+SMTPFT: "));
  assert.is(line.int(), 1);
  assert.ok(Number.isNaN(line.int()));
  assert.is(line.str(), "99999999999999999", "the cursor stayed at the field");
  assert.is(line.int(), Number.MAX_SAFE_INTEGER);
});

test.run();
