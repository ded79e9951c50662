import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import {
  TextBuffer, Utf8Decoder, decodeUtf8, encodeUtf8Into, isAscii, isValidUtf8, utf8Length,
} from "../../../src/mail/codec/index.ts";
import { feedings, latin1Bytes } from "./support.ts";

const test = suite("codec/utf8");

/** Strings of random UTF-16 code units: lone surrogates, pairs, ASCII, BMP. */
const codeUnitStrings = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xffff }),
    fc.integer({ min: 0xd800, max: 0xdfff }),
  ),
  { maxLength: 40 },
).map((units) => String.fromCharCode(...units));
const anyStrings = fc.oneof(codeUnitStrings, fc.string({ unit: "binary", maxLength: 40 }));

const whatwg = new TextDecoder("utf-8");

test("utf8Length and encodeUtf8Into agree with Buffer, lone surrogates as U+FFFD", () => {
  const cases = ["", "abc", "ä", "€", "😀", "a😀b", "\ud800", "x\udc00y", "\ud83d", "\ude00\ud83d", "\u0000\u007f\u0080\u07ff\u0800\uffff"];
  for (const text of cases) {
    const expected = Buffer.from(text, "utf8");
    assert.is(utf8Length(text), expected.length, JSON.stringify(text));
    const out = new Uint8Array(expected.length + 3).fill(0xaa);
    assert.is(encodeUtf8Into(text, out, 2), expected.length);
    assert.equal([...out.subarray(2, 2 + expected.length)], [...expected], JSON.stringify(text));
    assert.is(out[0], 0xaa);
    assert.is(out[2 + expected.length], 0xaa);
  }
});

test("property: encodeUtf8Into equals Buffer.from for random strings", () => {
  fc.assert(fc.property(anyStrings, (text) => {
    const expected = Buffer.from(text, "utf8");
    const out = new Uint8Array(utf8Length(text));
    assert.is(out.length, expected.length);
    encodeUtf8Into(text, out, 0);
    assert.equal([...out], [...expected]);
  }), { numRuns: 500 });
});

test("encodeUtf8Into refuses a buffer that is too small, before writing", () => {
  const out = new Uint8Array(4).fill(7);
  assert.throws(() => encodeUtf8Into("a😀", out, 0), (e: Error) => e instanceof RangeError && /5 bytes/.test(e.message));
  assert.equal([...out], [7, 7, 7, 7]);
  assert.throws(() => encodeUtf8Into("a", out, 4), RangeError);
});

test("isAscii", () => {
  assert.ok(isAscii(""));
  assert.ok(isAscii("plain text\r\n\u007f"));
  assert.not.ok(isAscii("caf\u00e9"));
  assert.not.ok(isAscii("\u0080"));
});

test("Utf8Decoder: invalid sequences become U+FFFD exactly as TextDecoder does", () => {
  const vectors: number[][] = [
    [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x41],
    [0xe2, 0x82], [0xe2, 0x82, 0x41], [0xf0, 0x9f, 0x98], [0x80, 0xbf], [0xff, 0xfe, 0x41],
    [0xc3], [0x41, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0x42],
  ];
  for (const bytes of vectors) {
    const input = new Uint8Array(bytes);
    const expected = whatwg.decode(input);
    for (const { name, chunks } of feedings(input.length)) {
      const decoder = new Utf8Decoder(64);
      for (const [s, e] of chunks) decoder.write(input, s, e - s);
      decoder.end();
      assert.is(decoder.toString(), expected, `${bytes.map((b) => b.toString(16))} fed ${name}`);
    }
  }
});

test("Utf8Decoder: every split of a realistic text with invalid bytes mixed in", () => {
  const input = new Uint8Array([
    ...Buffer.from("Alarm ✓ Tür offen, Größe ∑ 😀 ", "utf8"), 0xe2, 0x82, 0x41, 0xf0, 0x9f, 0xc3, 0xa4, 0xff,
    ...Buffer.from(" Ende 👍🏽", "utf8"),
  ]);
  const expected = whatwg.decode(input);
  assert.ok(expected.includes("\ufffd"));
  for (const { name, chunks } of feedings(input.length)) {
    const decoder = new Utf8Decoder(100);
    for (const [s, e] of chunks) decoder.write(input, s, e - s);
    decoder.end();
    assert.is(decoder.toString(), expected, name);
  }
});

test("property: Utf8Decoder in random splits equals TextDecoder on random bytes", () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 60 }),
    fc.array(fc.nat({ max: 60 }), { maxLength: 6 }),
    (bytes, cuts) => {
      const decoder = new Utf8Decoder(200);
      let start = 0;
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        if (cut <= start || cut > bytes.length) continue;
        decoder.write(bytes, start, cut - start);
        start = cut;
      }
      decoder.write(bytes, start, bytes.length - start);
      decoder.end();
      assert.is(decoder.toString(), whatwg.decode(bytes));
    },
  ), { numRuns: 1000 });
});

test("property: UTF-8 of random strings decodes back (lone surrogates as U+FFFD), byte by byte", () => {
  fc.assert(fc.property(anyStrings, (text) => {
    const bytes = new Uint8Array(Buffer.from(text, "utf8"));
    const decoder = new Utf8Decoder(100);
    for (let i = 0; i < bytes.length; i++) decoder.write(bytes, i, 1);
    decoder.end();
    assert.is(decoder.toString(), Buffer.from(bytes).toString("utf8"));
    assert.is(decodeUtf8(bytes, 0, bytes.length), whatwg.decode(bytes));
  }), { numRuns: 500 });
});

test("Utf8Decoder: bounded text, truncation flagged, surrogate pairs never split", () => {
  const bytes = new Uint8Array(Buffer.from("ab😀cd", "utf8"));
  const decoder = new Utf8Decoder(3);
  assert.is(decoder.write(bytes, 0, bytes.length), false);
  assert.is(decoder.toString(), "ab");
  assert.ok(decoder.text.truncated);
  const exact = new Utf8Decoder(4);
  assert.is(exact.write(bytes, 0, 6), true);
  assert.is(exact.toString(), "ab😀");
  assert.is(exact.write(bytes, 6, 2), false);
  assert.is(exact.toString(), "ab😀");
  exact.reset();
  assert.is(exact.toString(), "");
  assert.not.ok(exact.text.truncated);
});

test("Utf8Decoder appends to a shared TextBuffer and builds long strings in pieces", () => {
  const target = new TextBuffer(5000);
  const decoder = new Utf8Decoder(target);
  const text = "€uro ".repeat(900);
  const bytes = new Uint8Array(Buffer.from(text, "utf8"));
  for (let i = 0; i < bytes.length; i += 7) decoder.write(bytes, i, Math.min(7, bytes.length - i));
  decoder.end();
  assert.is(target.toString(), text);
  assert.is(target.length, text.length);
});

test("decodeUtf8 on a range, and isValidUtf8 against a fatal TextDecoder", () => {
  const bytes = latin1Bytes("xx\u00c3\u00a4yy");
  assert.is(decodeUtf8(bytes, 2, 2), "ä");
  assert.is(decodeUtf8(bytes, 0, 0), "");
  const fatal = new TextDecoder("utf-8", { fatal: true });
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 20 }), anyStrings.map((s) => new Uint8Array(Buffer.from(s, "utf8")))), (input) => {
    let valid = true;
    try {
      fatal.decode(input);
    } catch {
      valid = false;
    }
    assert.is(isValidUtf8(input, 0, input.length), valid);
  }), { numRuns: 1000 });
});

test("TextBuffer validates its capacity", () => {
  assert.throws(() => new TextBuffer(-1), RangeError);
  assert.throws(() => new TextBuffer(1.5), RangeError);
});

test.run();
