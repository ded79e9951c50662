import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import libqp from "libqp";
import { MAX_HELD_WHITESPACE, QuotedPrintableDecoder } from "../../../src/mail/codec/index.ts";
import { asLatin1, feedings, latin1Bytes } from "./support.ts";

const test = suite("codec/quoted-printable");

function decodeChunks(input: Uint8Array, chunks: Array<[number, number]>): string {
  const decoder = new QuotedPrintableDecoder();
  const out = new Uint8Array(input.length + QuotedPrintableDecoder.maxDecodedLength(0) * (chunks.length + 1));
  let at = 0;
  for (const [s, e] of chunks) at += decoder.decode(input, s, e - s, out, at);
  at += decoder.finish(out, at);
  return asLatin1(out.subarray(0, at));
}

function decodeAll(text: string): string {
  const input = latin1Bytes(text);
  const expected = decodeChunks(input, [[0, input.length]]);
  for (const { name, chunks } of feedings(input.length)) {
    assert.is(decodeChunks(input, chunks), expected, `${JSON.stringify(text)} fed ${name}`);
  }
  return expected;
}

/**
 * The decoding rules written as a plain, non-streaming scan over the whole text. Whitespace
 * runs are kept shorter than the decoder's bound by the generators that use it.
 */
function reference(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^=([0-9A-Fa-f]{2})/.exec(rest))) {
      out += String.fromCharCode(parseInt(m[1], 16));
    } else if ((m = /^=[ \t]*(?:\r\n|\n|\r?$)/.exec(rest))) {
      // soft line break (also at the very end)
    } else if ((m = /^=[ \t]*\r/.exec(rest))) {
      out += "=\r"; // "=", padding dropped before the CR, then a bare CR: literal
    } else if ((m = /^[ \t]+(?=\r|\n|$)/.exec(rest))) {
      // trailing whitespace: transport padding
    } else {
      m = /^[\s\S]/.exec(rest)!;
      out += m[0];
    }
    i += m[0].length;
  }
  return out;
}

test("escapes of either case, soft breaks, CRLF kept", () => {
  assert.is(decodeAll("caf=C3=A9 and caf=c3=a9"), "caf\u00c3\u00a9 and caf\u00c3\u00a9");
  assert.is(decodeAll("a=3Db=\r\nc\r\nd"), "a=bc\r\nd");
  assert.is(decodeAll("soft=\nbare LF"), "softbare LF");
  assert.is(decodeAll("padded=  \t\r\nline"), "paddedline");
  assert.is(decodeAll("line one\r\nline two\r\n"), "line one\r\nline two\r\n");
  assert.is(decodeAll("=20\r\n"), " \r\n");
});

test("invalid escapes pass through literally", () => {
  assert.is(decodeAll("=G1"), "=G1");
  assert.is(decodeAll("=4G"), "=4G");
  assert.is(decodeAll("=4"), "=4");
  assert.is(decodeAll("100 = 2 x 50"), "100 = 2 x 50");
  assert.is(decodeAll("=\rX"), "=\rX");
  assert.is(decodeAll("a==41"), "a=A");
  assert.is(decodeAll("=="), "=");
});

test("trailing whitespace is transport padding; a final = is a soft break", () => {
  assert.is(decodeAll("abc  \r\ndef\t \nghi "), "abc\r\ndef\nghi");
  assert.is(decodeAll("kept  inside"), "kept  inside");
  assert.is(decodeAll("end="), "end");
  assert.is(decodeAll("end= \t"), "end");
});

test("whitespace runs longer than the held bound are passed on in part", () => {
  const long = " ".repeat(MAX_HELD_WHITESPACE + 5);
  assert.is(decodeAll(`a${long}b`), `a${long}b`);
  assert.is(decodeAll(`a${long}\r\n`), `a${" ".repeat(MAX_HELD_WHITESPACE)}\r\n`);
  assert.is(decodeAll(`a=${long}b`), `a=${long}b`);
});

test("property: random QP-ish text in every split equals the reference rules", () => {
  const token = fc.constantFrom("=", "A", "b", "3", "d", "F", "G", " ", "\t", "\r", "\n", "\r\n", "=\r\n", "=41", "=e9", "x", "\u00e9");
  fc.assert(fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
    const text = tokens.join("");
    fc.pre(!/[ \t]{60}/.test(text));
    assert.is(decodeAll(text), reference(text), JSON.stringify(text));
  }), { numRuns: 300 });
});

test("property: libqp-encoded random bytes decode back, in random chunks", () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 300 }),
    fc.integer({ min: 10, max: 76 }),
    fc.array(fc.nat({ max: 1000 }), { maxLength: 5 }),
    (data, lineLength, cuts) => {
      const encoded = latin1Bytes(libqp.wrap(libqp.encode(Buffer.from(data)), lineLength));
      const sorted = [...new Set(cuts.filter((c) => c <= encoded.length))].sort((a, b) => a - b);
      const chunks: Array<[number, number]> = [];
      let start = 0;
      for (const cut of sorted) {
        chunks.push([start, cut]);
        start = cut;
      }
      chunks.push([start, encoded.length]);
      assert.is(decodeChunks(encoded, chunks), asLatin1(data));
    },
  ), { numRuns: 500 });
});

test("checks ranges and output room", () => {
  const decoder = new QuotedPrintableDecoder();
  const input = latin1Bytes("abc");
  assert.throws(() => decoder.decode(input, 1, 3, new Uint8Array(100), 0), /outside/);
  assert.throws(() => decoder.decode(input, 0, 3, new Uint8Array(10), 0), /room for 69/);
  assert.throws(() => decoder.finish(new Uint8Array(1), 0), RangeError);
});

test.run();
