import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { DotUnstuffer, type DotUnstufferOptions } from "../../../src/mail/codec/index.ts";
import { asLatin1, feedings, latin1Bytes } from "./support.ts";

const test = suite("codec/dot-unstuff");

interface Result {
  text: string;
  done: boolean;
  trailing: number;
}

/** Feeds `chunks` of `input`; with `inPlace` the output goes over the input at the same offsets. */
function run(input: Uint8Array, chunks: Array<[number, number]>, inPlace: boolean, options?: DotUnstufferOptions): Result {
  const unstuffer = new DotUnstuffer(options);
  const buf = input.slice();
  const separate = new Uint8Array(input.length);
  let text = "";
  for (const [s, e] of chunks) {
    const out = inPlace ? buf : separate;
    const n = unstuffer.push(buf, s, e - s, out, s);
    assert.ok(n <= e - s, "output never longer than input");
    text += asLatin1(out.subarray(s, s + n));
  }
  return { text, done: unstuffer.done, trailing: unstuffer.trailing };
}

function unstuffEverywhere(raw: string, options?: DotUnstufferOptions): Result {
  const input = latin1Bytes(raw);
  const expected = run(input, [[0, input.length]], false, options);
  for (const { name, chunks } of feedings(input.length)) {
    for (const inPlace of [false, true]) {
      const result = run(input, chunks, inPlace, options);
      assert.equal(result, expected, `${JSON.stringify(raw)} fed ${name}${inPlace ? " in place" : ""}`);
    }
  }
  return expected;
}

test("dot-stuffed lines: '..', '.', '...x' and the final dotline", () => {
  const result = unstuffEverywhere("first\r\n..\r\n...x\r\n..\r\nlast\r\n.\r\n");
  assert.equal(result, { text: "first\r\n.\r\n..x\r\n.\r\nlast\r\n", done: true, trailing: 0 });
});

test("a line of just '.' ends the response wherever the chunks split it", () => {
  const result = unstuffEverywhere("a\r\n.\r\nafter the end");
  assert.equal(result, { text: "a\r\n", done: true, trailing: 13 });
  assert.equal(unstuffEverywhere(".\r\n"), { text: "", done: true, trailing: 0 });
});

test("dots that are not at a line start stay; '.x' loses its dot (RFC 1939)", () => {
  assert.equal(unstuffEverywhere("a.b\r\n x.\r\n.x\r\n.\r\n"), { text: "a.b\r\n x.\r\nx\r\n", done: true, trailing: 0 });
});

test("bare LF line ends are tolerated", () => {
  assert.equal(unstuffEverywhere("one\n..two\n\n.\n"), { text: "one\n.two\n\n", done: true, trailing: 0 });
});

test("skipStatusLine drops the +OK line first", () => {
  const result = unstuffEverywhere("+OK 120 octets\r\nSubject: x\r\n\r\n..body\r\n.\r\n", { skipStatusLine: true });
  assert.equal(result, { text: "Subject: x\r\n\r\n.body\r\n", done: true, trailing: 0 });
  assert.equal(unstuffEverywhere("+OK .\r\n.\r\n", { skipStatusLine: true }), { text: "", done: true, trailing: 0 });
});

test("no terminator: not done; malformed '.' + bare CR loses both", () => {
  assert.equal(unstuffEverywhere("a\r\nb\r\n"), { text: "a\r\nb\r\n", done: false, trailing: 0 });
  assert.equal(unstuffEverywhere("a\r\n.\rb\r\n.\r\n"), { text: "a\r\nb\r\n", done: true, trailing: 0 });
  assert.equal(unstuffEverywhere("a\r\n.\r.\r\n.\r\n"), { text: "a\r\n.\r\n", done: true, trailing: 0 });
});

test("reset() reuses the instance, with or without the status line", () => {
  const unstuffer = new DotUnstuffer();
  const input = latin1Bytes(".\r\n");
  unstuffer.push(input, 0, 3, new Uint8Array(3), 0);
  assert.ok(unstuffer.done);
  unstuffer.reset({ skipStatusLine: true });
  assert.not.ok(unstuffer.done);
  const next = latin1Bytes("+OK\r\nx\r\n.\r\n");
  const out = new Uint8Array(next.length);
  const n = unstuffer.push(next, 0, next.length, out, 0);
  assert.is(asLatin1(out.subarray(0, n)), "x\r\n");
  assert.ok(unstuffer.done);
});

test("checks ranges", () => {
  const unstuffer = new DotUnstuffer();
  assert.throws(() => unstuffer.push(new Uint8Array(4), 2, 3, new Uint8Array(10), 0), /outside/);
  assert.throws(() => unstuffer.push(new Uint8Array(4), 0, 4, new Uint8Array(3), 0), /room for 4/);
});

/** RFC 1939 byte-stuffing of content lines, plus the terminator. */
function stuff(lines: string[]): string {
  return lines.map((line) => (line.startsWith(".") ? `.${line}` : line) + "\r\n").join("") + ".\r\n";
}

test("property: stuffed random lines come back exactly, in random chunks, in place", () => {
  const line = fc.array(fc.constantFrom(".", ".", "a", " ", "\t", "x", "\u00ff"), { maxLength: 8 }).map((c) => c.join(""));
  fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat({ max: 200 }), { maxLength: 8 }), (lines, cuts) => {
    const raw = stuff(lines);
    const input = latin1Bytes(raw);
    const sorted = [...new Set(cuts.filter((c) => c <= input.length))].sort((a, b) => a - b);
    const chunks: Array<[number, number]> = [];
    let start = 0;
    for (const cut of sorted) {
      chunks.push([start, cut]);
      start = cut;
    }
    chunks.push([start, input.length]);
    const result = run(input, chunks, true);
    assert.equal(result, { text: lines.map((l) => `${l}\r\n`).join(""), done: true, trailing: 0 });
  }), { numRuns: 500 });
});

test.run();
