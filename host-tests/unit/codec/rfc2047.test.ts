import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import libmime from "libmime";
import { MAX_ENCODED_WORD, decodeHeaderValue, encodeHeaderWord } from "../../../src/mail/codec/index.ts";

const test = suite("codec/rfc2047");

test("RFC 2047 section 8 examples (ISO-8859-2 is not supported, so kept as written)", () => {
  const cases: Array<[string, string]> = [
    ["(=?ISO-8859-1?Q?a?=)", "(a)"],
    ["(=?ISO-8859-1?Q?a?= b)", "(a b)"],
    ["(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"],
    ["(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"],
    ["(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"],
    ["(=?ISO-8859-1?Q?a_b?=)", "(a b)"],
    ["(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a =?ISO-8859-2?Q?_b?=)"],
    ["=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>"],
    ["=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", "Keld Jørn Simonsen <keld@dkuug.dk>"],
    ["=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", "André Pirard <PIRARD@vm1.ulg.ac.be>"],
    [
      "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
      "If you can read this yo\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
    ],
  ];
  for (const [encoded, decoded] of cases) assert.is(decodeHeaderValue(encoded), decoded, encoded);
});

test("UTF-8 in B and Q, any case, language suffix, split sequences across adjacent words", () => {
  assert.is(decodeHeaderValue("=?UTF-8?B?QWxhcm0g4pyT?="), "Alarm ✓");
  assert.is(decodeHeaderValue("=?utf-8?q?Gr=C3=BC=c3=9fe?="), "Grüße");
  assert.is(decodeHeaderValue("=?UTF-8*de?Q?T=C3=BCr?="), "Tür");
  assert.is(decodeHeaderValue("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A4?="), "ä");
  assert.is(decodeHeaderValue("=?UTF-8?B?8J+Y?=\r\n =?UTF-8?B?gA==?= ok"), "😀 ok");
  assert.is(decodeHeaderValue("=?UTF-8?B?w6Q?="), "ä", "missing padding tolerated");
  assert.is(decodeHeaderValue("a =?UTF-8?Q?b?= c"), "a b c", "space next to plain text kept");
  assert.is(decodeHeaderValue("=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?="), "aé", "adjacent words of two charsets");
});

test("US-ASCII words with 8-bit bytes give U+FFFD", () => {
  assert.is(decodeHeaderValue("=?US-ASCII?Q?a=E9b?="), "a\ufffdb");
});

test("broken or unknown words are kept as they are, never throwing", () => {
  const kept = [
    "=?UTF-8?B?!!!!?=", "=?UTF-8?Q?=ZZ?=", "=?UTF-8?Q?=4?=", "=?UTF-8?X?abc?=", "=?UTF-8?B?abc", "=?KOI8-R?B?5MXO?=",
    "=?UTF-8?B?QUJD=QUJD?=", "=?UTF-8?B?Q?=", "=??B?QUJD?=", "plain = text ?=", "",
  ];
  for (const text of kept) assert.is(decodeHeaderValue(text), text, text);
  assert.is(decodeHeaderValue("=?UTF-8?B?!!?= =?UTF-8?Q?ok?="), "=?UTF-8?B?!!?= ok", "space after a broken word kept");
  assert.is(decodeHeaderValue("=?UTF-8?Q?ok?= =?UTF-8?B?!!?="), "ok =?UTF-8?B?!!?=");
});

test("invalid UTF-8 in a word decodes with U+FFFD", () => {
  assert.is(decodeHeaderValue("=?UTF-8?Q?a=FFb?="), "a\ufffdb");
});

test("encodeHeaderWord: words ≤ 75 characters, whole characters per word", () => {
  assert.is(encodeHeaderWord(""), "");
  assert.is(encodeHeaderWord("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
  const long = "Alarm im Keller 😀 Tür offen, Größe ∑ ".repeat(6);
  const encoded = encodeHeaderWord(long);
  const words = encoded.split(" ");
  assert.ok(words.length > 1);
  for (const word of words) {
    assert.ok(word.length <= MAX_ENCODED_WORD, `${word.length} characters`);
    assert.not.ok(decodeHeaderValue(word).includes("\ufffd"), "no UTF-8 sequence split");
  }
  assert.is(decodeHeaderValue(encoded), long);
  assert.is(libmime.decodeWords(encoded), long);
});

test("property: encodeHeaderWord round-trips (lone surrogates as U+FFFD) through both decoders", () => {
  const texts = fc.oneof(
    fc.string({ unit: "binary", maxLength: 120 }),
    fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 }).map((u) => String.fromCharCode(...u)),
  );
  fc.assert(fc.property(texts, (text) => {
    const expected = Buffer.from(text, "utf8").toString("utf8");
    const encoded = encodeHeaderWord(text);
    for (const word of encoded === "" ? [] : encoded.split(" ")) {
      assert.ok(word.length <= MAX_ENCODED_WORD);
      assert.ok(/^=\?UTF-8\?B\?[A-Za-z0-9+/]+=*\?=$/.test(word), word);
    }
    assert.is(decodeHeaderValue(encoded), expected);
    assert.is(libmime.decodeWords(encoded), expected);
  }), { numRuns: 500 });
});

test("property: words made by libmime decode to the same text", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), fc.constantFrom("Q", "B") as fc.Arbitrary<"Q" | "B">, (text, kind) => {
    const encoded = libmime.encodeWord(text, kind, 52);
    assert.is(decodeHeaderValue(encoded), libmime.decodeWords(encoded), encoded);
  }), { numRuns: 300 });
});

test.run();
