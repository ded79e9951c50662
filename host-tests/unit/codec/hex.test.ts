import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Utf8HexStream, hexEncodeInto, hexOfUtf8 } from "../../../src/mail/codec/index.ts";
import { asLatin1 } from "./support.ts";

const test = suite("codec/hex");

const nodeHex = (text: string) => Buffer.from(text, "utf8").toString("hex").toUpperCase();
const texts = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 30 }).map((u) => String.fromCharCode(...u)),
);

test("hexEncodeInto writes uppercase pairs at the offsets given", () => {
  const src = new Uint8Array([0x00, 0x0f, 0xa5, 0xff, 0x10]);
  const out = new Uint8Array(10).fill(0x2e);
  assert.is(hexEncodeInto(src, 1, 3, out, 2), 6);
  assert.is(asLatin1(out), "..0FA5FF..");
  assert.is(hexEncodeInto(src, 0, 0, out, 10), 0);
});

test("hexEncodeInto refuses bad ranges with a RangeError", () => {
  const src = new Uint8Array(4);
  assert.throws(() => hexEncodeInto(src, 2, 3, new Uint8Array(10), 0), /source range/);
  assert.throws(() => hexEncodeInto(src, 0, 4, new Uint8Array(7), 0), /do not fit/);
});

test("property: hexEncodeInto equals Buffer's hex", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
    const out = new Uint8Array(bytes.length * 2);
    hexEncodeInto(bytes, 0, bytes.length, out, 0);
    assert.is(asLatin1(out), Buffer.from(bytes).toString("hex").toUpperCase());
  }));
});

test("hexOfUtf8: known values and lone surrogates", () => {
  assert.is(hexOfUtf8(""), "");
  assert.is(hexOfUtf8("Alarm!"), "416C61726D21");
  assert.is(hexOfUtf8("Grüße 😀"), "4772C3BCC39F6520F09F9880");
  assert.is(hexOfUtf8("\ud800x"), "EFBFBD78");
});

test("property: hexOfUtf8 equals Buffer's UTF-8 in hex", () => {
  fc.assert(fc.property(texts, (text) => assert.is(hexOfUtf8(text), nodeHex(text))), { numRuns: 500 });
});

function readAll(stream: Utf8HexStream, piece: number, bufferSize = 64): string {
  const out = new Uint8Array(bufferSize);
  let text = "";
  for (;;) {
    const n = stream.read(out, 3, Math.min(piece, bufferSize - 3));
    if (n === 0) break;
    text += asLatin1(out.subarray(3, 3 + n));
  }
  return text;
}

test("Utf8HexStream: every piece size gives the same hex; totalLength is exact", () => {
  const body = "Alarm at Türe 3 😀\r\nZeile 2: €100\r\n\ud83d";
  const expected = nodeHex(body);
  const stream = new Utf8HexStream(body);
  assert.is(stream.totalLength, expected.length);
  for (let piece = 1; piece <= 40; piece++) {
    stream.reset(body);
    assert.is(readAll(stream, piece), expected, `piece ${piece}`);
    assert.is(stream.read(new Uint8Array(8), 0, 8), 0, "0 once done");
  }
});

test("Utf8HexStream: a body larger than the buffer, reused through reset()", () => {
  const long = "Grüße aus dem Keller. ".repeat(200);
  const stream = new Utf8HexStream("");
  assert.is(stream.totalLength, 0);
  assert.is(stream.read(new Uint8Array(4), 0, 4), 0);
  stream.reset(long);
  assert.is(readAll(stream, 61, 64), nodeHex(long));
  stream.reset("x");
  assert.is(readAll(stream, 5), "78");
  assert.is(stream.read(new Uint8Array(4), 0, 0), 0);
  assert.throws(() => stream.read(new Uint8Array(4), 2, 3), RangeError);
});

test("property: Utf8HexStream equals Buffer for random texts and piece sizes", () => {
  fc.assert(fc.property(texts, fc.integer({ min: 1, max: 9 }), (text, piece) => {
    const stream = new Utf8HexStream(text);
    assert.is(stream.totalLength, nodeHex(text).length);
    assert.is(readAll(stream, piece, 16), nodeHex(text));
  }), { numRuns: 500 });
});

test.run();
