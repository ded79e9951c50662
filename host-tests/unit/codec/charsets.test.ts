// The charsets the readers know (UTF-8, US-ASCII, ISO-8859-1, Windows-1252) against iconv-lite
// and TextDecoder, RFC 2047 words in them with the problems described, and RFC 2231 parameters
// (file names) against libmime.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import iconv from "iconv-lite";
import libmime from "libmime";
import {
  CHARSET_LATIN1, CHARSET_UNKNOWN, CHARSET_US_ASCII, CHARSET_UTF8, CHARSET_WINDOWS_1252, CharsetDecoder, charsetOf,
} from "../../../src/mail/codec/charset.ts";
import { contentParameter, dispositionType } from "../../../src/mail/codec/content-type.ts";
import { TextBuffer, decodeHeaderValue } from "../../../src/mail/codec/index.ts";

const test = suite("codec/charsets");

const ALL_BYTES = new Uint8Array(256).map((_, i) => i);

function decode(charset: number, bytes: Uint8Array, cuts: number[] = []): { text: string; replaced: number } {
  const text = new TextBuffer(bytes.length + 8);
  const decoder = new CharsetDecoder(text);
  decoder.begin(charset);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.write(bytes, start, cut - start);
    start = cut;
  }
  decoder.end();
  return { text: text.toString(), replaced: decoder.replaced };
}

test("labels: any case, aliases, an RFC 2231 language; the rest unknown", () => {
  const cases: Array<[string, number]> = [
    ["UTF-8", CHARSET_UTF8], ["utf8", CHARSET_UTF8], ["UTF-8*de", CHARSET_UTF8], [" us-ascii ", CHARSET_US_ASCII],
    ["ISO-8859-1", CHARSET_LATIN1], ["latin1", CHARSET_LATIN1], ["iso_8859-1", CHARSET_LATIN1],
    ["Windows-1252", CHARSET_WINDOWS_1252], ["cp1252", CHARSET_WINDOWS_1252], ["x-cp1252", CHARSET_WINDOWS_1252],
    ["koi8-r", CHARSET_UNKNOWN], ["iso-8859-15", CHARSET_UNKNOWN], ["", CHARSET_UNKNOWN],
  ];
  for (const [label, charset] of cases) assert.is(charsetOf(label), charset, label);
});

test("single-byte charsets: every byte as iconv-lite reads it; Windows-1252's five unassigned bytes are U+FFFD, counted", () => {
  const windows = decode(CHARSET_WINDOWS_1252, ALL_BYTES);
  assert.is(windows.text, iconv.decode(Buffer.from(ALL_BYTES), "windows-1252"));
  assert.is(windows.replaced, 5);
  const latin1 = decode(CHARSET_LATIN1, ALL_BYTES);
  assert.is(latin1.text, iconv.decode(Buffer.from(ALL_BYTES), "latin1"));
  assert.is(latin1.replaced, 0);
  assert.is(decode(CHARSET_WINDOWS_1252, Uint8Array.from([0x80, 0x93, 0x71, 0x94, 0x9c])).text, "€“q”œ");
});

test("property: UTF-8 in any split equals TextDecoder, each U+FFFD for invalid input counted", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(64)), (bytes, cuts) => {
    const expected = new TextDecoder().decode(bytes);
    const sorted = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const { text, replaced } = decode(CHARSET_UTF8, bytes, sorted);
    assert.is(text, expected);
    // Each U+FFFD stands for invalid input, unless the input held U+FFFD itself.
    if (!Buffer.from(bytes).includes(Buffer.from([0xef, 0xbf, 0xbd]))) assert.is(replaced, expected.split("\ufffd").length - 1);
  }), { numRuns: 500 });
});

test("RFC 2047: Windows-1252 and ISO-8859-1 words in Q and B form, as libmime decodes them", () => {
  assert.is(decodeHeaderValue("=?windows-1252?Q?Fran=E7ois_=80uro?="), "François €uro");
  assert.is(decodeHeaderValue(`=?Windows-1252?B?${Buffer.from([0x93, 0x42, 0x94]).toString("base64")}?=`), "“B”");
  assert.is(decodeHeaderValue("=?cp1252?q?=80?= =?iso-8859-1?q?=80?="), "€\u0080", "the two charsets differ at 0x80");
  const text = fc.string({ unit: fc.constantFrom(..."aZ09 _=?€“”‘’œŸŠžéàüß–—…™".split("")), maxLength: 30 });
  fc.assert(fc.property(text, fc.constantFrom("Q", "B"), (value, form) => {
    const bytes = iconv.encode(value, "windows-1252");
    const encoded = form === "B"
      ? `=?windows-1252?B?${bytes.toString("base64")}?=`
      : `=?windows-1252?Q?${Array.from(bytes, (b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("")}?=`;
    assert.is(decodeHeaderValue(encoded), libmime.decodeWords(encoded));
    assert.is(decodeHeaderValue(encoded), value);
  }), { numRuns: 300 });
});

test("RFC 2047 problems: each word not decoded is described; good words give none", () => {
  const problems = (value: string) => {
    const list: string[] = [];
    const text = decodeHeaderValue(value, list);
    return { text, list };
  };
  assert.equal(problems("=?UTF-8?B?R3LDvMOfZQ==?= aus =?utf-8?q?K=C3=B6ln?="), { text: "Grüße aus Köln", list: [] });
  assert.equal(problems("=?koi8-r?q?=F0=D2=C9?= x"), { text: "=?koi8-r?q?=F0=D2=C9?= x", list: ['=?koi8-r?q?=F0=D2=C9?= is in the charset "koi8-r", which simmail does not know: kept as written'] });
  assert.equal(problems("=?utf-8?q?a=ZZ?="), { text: "=?utf-8?q?a=ZZ?=", list: ["=?utf-8?q?a=ZZ?= is a broken encoded word (a bad =XX escape or character): kept as written"] });
  assert.equal(problems("=?utf-8?b?!!!?="), { text: "=?utf-8?b?!!!?=", list: ["=?utf-8?b?!!!?= is a broken encoded word (not base64): kept as written"] });
  assert.equal(problems("=?UTF-8?Q?a=FFb?= =?UTF-8?Q?c?="), { text: "a\ufffdbc", list: ["=?UTF-8?Q?a=FFb?= =?UTF-8?Q?c?= holds bytes that are not text in its charset: shown as U+FFFD"] });
  assert.equal(problems("=?windows-1252?Q?=81?="), { text: "\ufffd", list: ["=?windows-1252?Q?=81?= holds bytes that are not text in its charset: shown as U+FFFD"] });
  assert.equal(problems("ok =?UTF-8?B?QUJD"), { text: "ok =?UTF-8?B?QUJD", list: ["an encoded word that does not end (=?UTF-8?B?QUJD): kept as written"] });
  assert.equal(problems("=?UTF-8?Q?a?= =?UTF-8?Q?b c?="), { text: "a =?UTF-8?Q?b c?=", list: ["an encoded word that does not end (=?UTF-8?Q?b c?=): kept as written"] });
  const long = `=?utf-8?q?${"x".repeat(80)}=Z?=`;
  assert.match(problems(long).list[0], /^=\?utf-8\?q\?x{49}… is a broken encoded word/, "a long word is quoted cut");
  assert.equal(problems("plain = text ?= with =? marks"), { text: "plain = text ?= with =? marks", list: [] });
});

test("RFC 2231 parameters: charset and language, continuations, precedence over the plain form; as libmime reads them", () => {
  const cases: Array<[string, string]> = [
    ["attachment; filename*=utf-8''%C3%A4rger%20%E2%82%AC.txt", "ärger €.txt"],
    ["attachment; filename*=iso-8859-1'de'%E4rger.txt", "ärger.txt"],
    ["attachment; filename*=windows-1252''%80uro.txt", "€uro.txt"],
    ["attachment; filename*0*=utf-8''%C3%9Cbersicht%20; filename*1*=M%C3%A4rz; filename*2=\" 2026.pdf\"", "Übersicht März 2026.pdf"],
    ["attachment; filename*1=\"b.txt\"; filename*0=\"a-\"", "a-b.txt"],
    ["attachment; filename=\"plain.txt\"; filename*=utf-8''%C3%BC.txt", "ü.txt"],
    ["attachment; filename=\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe.pdf?=\"", "Grüße.pdf"],
    ["attachment; filename=report.txt (the report)", "report.txt"],
    ["inline; FILENAME=\"quoted \\\"name\\\".txt\"", "quoted \"name\".txt"],
  ];
  for (const [value, expected] of cases) {
    assert.is(contentParameter(value, "filename"), expected, value);
    const parsed = libmime.parseHeaderValue(value.replace(/\s*\(.*\)$/, ""));
    assert.is(libmime.decodeWords(parsed.params.filename), expected, `libmime reads ${value} so too`);
  }
  assert.is(contentParameter("application/pdf; name*=utf-8''a%20b.pdf", "name"), "a b.pdf");
  assert.is(contentParameter("attachment", "filename"), null);
  assert.is(contentParameter(null, "filename"), null);
  assert.is(dispositionType(" Attachment (saved) ; filename=x"), "attachment");
  assert.is(dispositionType(null), "");
});

test("RFC 2231 problems: unknown charset, no prefix, a bad %, a missing continuation, not UTF-8", () => {
  const read = (value: string) => {
    const problems: string[] = [];
    return { name: contentParameter(value, "filename", problems), problems };
  };
  assert.equal(read("a; filename*=koi8-r''%F0.txt"), { name: "%F0.txt", problems: ['the filename parameter is in the charset "koi8-r", which simmail does not know: kept as written'] });
  assert.equal(read("a; filename*=%C3%A4.txt"), { name: "%C3%A4.txt", problems: ["the filename parameter \"%C3%A4.txt\" has no charset'language' prefix: kept as written"] });
  assert.equal(read("a; filename*=utf-8''100%.txt"), { name: "100%.txt", problems: ["the filename parameter \"100%.txt\" has a % that is not %XX: kept as written there"] });
  assert.equal(read("a; filename*0=a; filename*2=c"), { name: "a", problems: ["the filename parameter skips continuation 1: read up to it"] });
  assert.equal(read("a; filename*=utf-8''%FF.txt"), { name: "\ufffd.txt", problems: ["the filename parameter \"%FF.txt\" is not UTF-8: shown with U+FFFD"] });
  assert.equal(read("a; filename=\"=?koi8-r?q?=F0?=.txt\""), { name: "=?koi8-r?q?=F0?=.txt", problems: ['=?koi8-r?q?=F0?= is in the charset "koi8-r", which simmail does not know: kept as written'] });
});

test.run();
