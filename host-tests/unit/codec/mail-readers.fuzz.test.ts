// Property-based tests of the mail readers on hostile input: broken encoded words, bad base64
// and quoted-printable, invalid UTF-8, NUL, bare CR/LF, lines far longer than the buffers.
// Every input gives a defined result (a documented value or a specific error, never a
// TypeError/RangeError from inside), the same whatever the chunking, with fixed memory:
// no buffer replaced or grown, nothing allocated per chunk, output bounded and truncation
// flagged.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import {
  Base64Decoder, DEFAULT_HEADER_FIELDS, DotUnstuffer, HeaderReader, MAX_DEPTH, MessageReader, QuotedPrintableDecoder,
  Utf8Decoder, decodeHeaderValue, parseAddress, parseAddressList, parseContentType,
} from "../../../src/mail/codec/index.ts";
import { checkAddress, checkBody, checkHost, checkSubject, checkText } from "../../../src/mail/message.ts";
import { MailParameterError } from "../../../src/mail/errors.ts";
import { FuzzReport, fragmentation, latin1, piecesOf, soup } from "../../kit/fuzz.ts";
import { concatBytes, latin1Bytes } from "../../kit/bytes.ts";
import { allocationsDuring } from "../../kit/allocations.ts";

const report = new FuzzReport("mail-readers");
const test = suite("fuzz: mail readers");

const whatwg = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Chunk copies made up front, so that feeding allocates nothing of the test's own. */
function chunks(bytes: Uint8Array, split: readonly number[] | "bytewise"): Uint8Array[] {
  return piecesOf(bytes.length, split).map(([start, end]) => bytes.slice(start, end));
}

// ---- header reader ------------------------------------------------------------------

const NAMES = [
  "From", "from", "FROM", "To", "Cc", "Subject", "subject ", "Subject\t", "Date", "Message-ID", "Content-Type",
  "content-transfer-encoding", "X-Mailer", "Received", "Subject-Extra", "Fromm", "", " ", "Content-Type".repeat(3),
];
const VALUE_TOKENS = [
  "=?UTF-8?B?QWxhcm0g4pyT?=", "=?utf-8?q?gro=C3=9Fe?=", "=?UTF-8?B?broken", "=?x-unknown?B?QUJD?=", "=?UTF-8?Q?=E2=9C?=",
  "=?ISO-8859-1?Q?caf=E9?=", "=?UTF-8?B?////?=", "=??=", "=?UTF-8?X?abc?=", "?=", "=?", "\"Name\" <a@b.example>",
  "<x@y>", "a@b, c@d", "group: e@f;", "\xc3\xa9", "\xe2\x9c", "\xff\xfe", "\0", ":", ";", " ", "\t", "\r",
  "text/plain; charset=utf-8", "multipart/mixed; boundary=\"=b=\"", "base64",
];

const headerLine = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...NAMES), soup(VALUE_TOKENS, 12)).map(([name, value]) => concatBytes([latin1Bytes(`${name}:`), value])) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(" ", "\t", "  "), soup(VALUE_TOKENS, 8)).map(([ws, value]) => concatBytes([latin1Bytes(ws), value])) },
  { weight: 1, arbitrary: soup(VALUE_TOKENS, 8) },
  // far longer than any field buffer
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("Subject: ", "To: ", "X-Junk: ", " "), fc.integer({ min: 500, max: 3000 }), fc.integer({ min: 32, max: 255 })).map(([p, n, b]) => concatBytes([latin1Bytes(p), new Uint8Array(n).fill(b)])) },
);
const lineEnd = fc.constantFrom("\r\n", "\r\n", "\n", "\r\r\n");
const headerBlock = fc
  .record({
    lines: fc.array(fc.tuple(headerLine, lineEnd), { maxLength: 14 }),
    blank: fc.constantFrom("\r\n", "\n", ""),
    body: soup(["\r\n", "Subject: no", "\n\n"], 6),
  })
  .map(({ lines, blank, body }) => concatBytes([...lines.flatMap(([l, e]) => [l, latin1Bytes(e)]), latin1Bytes(blank), body]));

interface FieldModel {
  present: boolean;
  bytes: number[];
}

/** The header as the reader documents it, computed line by line over the whole input. */
function headerModel(input: Uint8Array, fields: readonly string[], nameCapacity: number) {
  const model = new Map<string, FieldModel>(fields.map((f) => [f.toLowerCase(), { present: false, bytes: [] }]));
  const noCr = Array.from(input).filter((b) => b !== 13);
  let bodyOffset = -1;
  let current: FieldModel | null = null;
  let lineStart = 0;
  for (let i = 0; i <= noCr.length; i++) {
    if (i < noCr.length && noCr[i] !== 10) continue;
    const line = noCr.slice(lineStart, i);
    const complete = i < noCr.length;
    lineStart = i + 1;
    if (line.length === 0) {
      if (complete) {
        // Where the body starts in the original input: just after this LF.
        let seen = 0;
        for (let k = 0; k < input.length; k++) {
          if (input[k] === 13) continue;
          if (seen === i) {
            bodyOffset = k + 1;
            break;
          }
          seen++;
        }
      }
      break;
    }
    if (line[0] === 32 || line[0] === 9) {
      if (current !== null) current.bytes.push(...line);
      continue;
    }
    current = null;
    const colon = line.indexOf(58);
    if (colon < 0) continue;
    if (colon > nameCapacity) continue; // the name overflowed the name buffer
    let name = "";
    for (const b of line.slice(0, colon)) name += String.fromCharCode(b >= 65 && b <= 90 ? b + 32 : b);
    name = name.replace(/[ \t]+$/, "");
    const field = model.get(name);
    if (field === undefined || field.present) continue;
    field.present = true;
    field.bytes.push(...line.slice(colon + 1));
    current = field;
  }
  return { model, bodyOffset };
}

function bytesAsHeaderText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

test("header reader: any header bytes in any chunking equal the line model; values bounded and truncation flagged", () => {
  report.check(
    "header-reader-model",
    5000,
    fc.record({ input: headerBlock, split: fragmentation, maxFieldBytes: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 41, max: 600 })) }),
    ({ input, split, maxFieldBytes }) => {
      const reader = new HeaderReader({ maxFieldBytes });
      const inner = reader as unknown as { values: Uint8Array[]; nameBuffer: Uint8Array };
      const buffers = inner.values.slice();
      const pieces = chunks(input, split);
      let fed = 0;
      let bodyAt = -1;
      const allocated = allocationsDuring(() => {
        for (const piece of pieces) {
          const used = reader.push(piece, 0, piece.length);
          assert.ok(used >= 0 && used <= piece.length);
          if (reader.done) {
            bodyAt = fed + used;
            break;
          }
          fed += piece.length;
        }
      });
      assert.is(allocated, 0, "nothing allocated while reading");
      assert.ok(inner.values.every((v, i) => v === buffers[i] && v.length === maxFieldBytes), "field buffers never replaced");
      if (!reader.done) reader.end();
      const { model, bodyOffset } = headerModel(input, DEFAULT_HEADER_FIELDS, inner.nameBuffer.length);
      assert.is(bodyAt, bodyOffset, "the body starts after the first blank line");
      for (const field of DEFAULT_HEADER_FIELDS) {
        const expected = model.get(field.toLowerCase())!;
        assert.is(reader.has(field), expected.present, field);
        const truncated = expected.bytes.length > maxFieldBytes;
        assert.is(reader.isTruncated(field), truncated, `${field} truncated`);
        const raw = reader.raw(field);
        if (!expected.present) {
          assert.is(raw, null);
          continue;
        }
        assert.ok(raw !== null && raw.length <= maxFieldBytes, `${field}: ${raw?.length} chars`);
        if (!truncated) assert.is(raw, bytesAsHeaderText(Uint8Array.from(expected.bytes)).trim(), field);
        const decoded = reader.get(field)!;
        assert.type(decoded, "string");
        assert.ok(decoded.length <= raw.length, "decoding never lengthens a value");
      }
      // The parsed views never throw either.
      reader.address("From");
      reader.addresses("To");
      const contentType = reader.contentType();
      assert.type(contentType.mimeType, "string");
      assert.type(reader.transferEncoding(), "string");
      report.count("inputBytes", input.length);
      report.count("truncatedFields", DEFAULT_HEADER_FIELDS.filter((f) => reader.isTruncated(f)).length);
    },
  );
});

// ---- whole messages ---------------------------------------------------------------------

const CONTENT_TYPES = [
  "text/plain; charset=utf-8", "text/plain; charset=\"ISO-8859-1\"", "text/plain; charset=koi8-r", "text/plain",
  "TEXT/PLAIN; CHARSET=US-ASCII", "text/html", "multipart/mixed; boundary=\"B\"", "multipart/alternative; boundary=B2",
  "multipart/mixed", `multipart/mixed; boundary=${"x".repeat(150)}`, "multipart/mixed; boundary=\"\"", "multipart/",
  "; charset=utf-8", "text/plain; charset=utf-8; format=flowed; delsp=yes", "\xff\xfe/\0",
];
const ENCODINGS = ["7bit", "8bit", "binary", "base64", "BASE64", "quoted-printable", "x-uuencode", "", "\0"];
const BODY_TOKENS = [
  "--B", "--B--", "--B2", "--B2--", "--Bx", "\r\n", "\n", "\r", "\r\n\r\n", "Content-Type: text/plain; charset=utf-8\r\n",
  "Content-Type: multipart/alternative; boundary=B2\r\n", "Content-Type: text/html\r\n", "Content-Transfer-Encoding: base64\r\n",
  "Content-Transfer-Encoding: quoted-printable\r\n", "Content-Disposition: attachment\r\n", "=C3=A9", "=", "=\r\n", "=4", "=ZZ",
  "=\n", "   \r\n", "\t\r\n", "4pyT", "QWxh", "====", "=3D", "\xc3", "\xe2\x9c", "\xf0\x9f\x98", "\xed\xa0\x80", "\xff", "\0",
  "Hello, world", ".", "..",
];

const message = fc
  .record({
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: null }),
    encoding: fc.option(fc.constantFrom(...ENCODINGS), { nil: null }),
    extra: fc.array(headerLine, { maxLength: 3 }),
    body: soup(BODY_TOKENS, 50),
  })
  .map(({ contentType, encoding, extra, body }) => {
    const head = [
      ...(contentType === null ? [] : [latin1Bytes(`Content-Type: ${contentType}\r\n`)]),
      ...(encoding === null ? [] : [latin1Bytes(`Content-Transfer-Encoding: ${encoding}\r\n`)]),
      ...extra.flatMap((l) => [l, latin1Bytes("\r\n")]),
      latin1Bytes("\r\n"),
    ];
    return concatBytes([...head, body]);
  });

interface Outcome {
  text: string;
  truncated: boolean;
  found: boolean;
  charset: string;
  charsetKnown: boolean;
  invalidBase64: number;
  done: boolean;
  subject: string | null;
  allocations: number;
}

function readMessage(reader: MessageReader, input: Uint8Array, split: readonly number[] | "bytewise"): Outcome {
  const pieces = chunks(input, split);
  const textBuffer = reader.body.text as unknown as { units: Uint16Array };
  const units = textBuffer.units;
  reader.reset();
  const allocations = allocationsDuring(() => {
    for (const piece of pieces) reader.write(piece, 0, piece.length);
    reader.end();
  });
  assert.ok(textBuffer.units === units, "text buffer never replaced");
  const body = reader.body;
  return {
    text: body.toString(), truncated: body.truncated, found: body.found, charset: body.charset,
    charsetKnown: body.charsetKnown, invalidBase64: body.invalidBase64, done: reader.done,
    subject: reader.headers.get("Subject"), allocations,
  };
}

test("message reader: any message in any chunking gives one defined outcome, bounded text, nothing allocated per chunk", () => {
  report.check(
    "message-reader",
    4000,
    fc.record({
      input: message,
      split: fragmentation,
      maxChars: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 9, max: 400 })),
      partHeaderBytes: fc.integer({ min: 1, max: 300 }),
    }),
    ({ input, split, maxChars, partHeaderBytes }) => {
      const reader = new MessageReader({ body: { maxChars, partHeaderBytes } });
      const whole = readMessage(reader, input, []);
      const cut = readMessage(reader, input, split);
      const bytewise = readMessage(reader, input, "bytewise");
      // Allocation (strings and the odd per-part decode) may happen per message or per part,
      // never per chunk: feeding byte by byte allocates exactly as much as in one piece.
      assert.is(bytewise.allocations, whole.allocations, "allocations do not depend on the chunking");
      assert.equal({ ...cut, allocations: 0 }, { ...whole, allocations: 0 });
      assert.equal({ ...bytewise, allocations: 0 }, { ...whole, allocations: 0 });
      assert.ok(whole.done, "end() leaves the reader done");
      assert.ok(whole.text.length <= maxChars, `${whole.text.length} chars > ${maxChars}`);
      if (whole.truncated) assert.ok(whole.text.length >= maxChars - 1, "truncated only when full (a surrogate pair may not fit)");
      if (!whole.found) assert.is(whole.text, "", "no text part, no text");
      report.count("inputBytes", input.length);
      report.count(whole.found ? "textFound" : "noText");
      if (whole.truncated) report.count("truncated");
      if (whole.invalidBase64 > 0) report.count("withInvalidBase64");
    },
  );
});

// Found by "message-reader": once the text was full the reader stopped inside a decoded block,
// so the invalid base64 characters it had counted depended on how the mail was cut.
test("regression: invalid base64 counted up to the same character whatever the chunking", () => {
  const input = latin1Bytes("Content-Transfer-Encoding: base64\r\n\r\n=C3=A9,");
  for (const split of [[], "bytewise"] as const) {
    const outcome = readMessage(new MessageReader({ body: { maxChars: 0 } }), input, split);
    assert.is(outcome.invalidBase64, 1, `the leading "=" only (${split === "bytewise" ? "byte by byte" : "whole"})`);
    assert.ok(outcome.truncated);
    assert.is(outcome.text, "");
  }
});

/** The first code points of `text` that fit in `max` UTF-16 units (a pair is never split). */
function fitted(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = 0;
  for (const ch of text) {
    if (end + ch.length > max) break;
    end += ch.length;
  }
  return { text: text.slice(0, end), truncated: true };
}

test("text/plain: any bytes equal WHATWG UTF-8 decoding (or Latin-1), cut to the buffer and flagged", () => {
  report.check(
    "plain-text-oracle",
    4000,
    fc.record({
      body: soup(["\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf", "\xff", "\0", "\r", "\n", "\r\n", "abc"], 40),
      latin1: fc.boolean(),
      split: fragmentation,
      maxChars: fc.integer({ min: 0, max: 300 }),
    }),
    ({ body, latin1: isLatin1, split, maxChars }) => {
      const head = latin1Bytes(`Content-Type: text/plain; charset=${isLatin1 ? "iso-8859-1" : "utf-8"}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`);
      const reader = new MessageReader({ body: { maxChars } });
      const outcome = readMessage(reader, concatBytes([head, body]), split);
      const expected = fitted(isLatin1 ? latin1(body) : whatwg.decode(body), maxChars);
      assert.is(outcome.text, expected.text);
      assert.is(outcome.truncated, expected.truncated);
      report.count("bodyBytes", body.length);
    },
  );
});

const NOT_BASE64 = "!#$%*~\0\xff\x80";

test("base64 text: any bytes, wrapped anyhow, with junk characters: decoded exactly, junk counted", () => {
  report.check(
    "base64-body",
    3000,
    fc.record({
      bytes: fc.uint8Array({ maxLength: 300 }),
      junk: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...NOT_BASE64)), { maxLength: 10 }),
      wrap: fc.integer({ min: 0, max: 100 }),
      padded: fc.boolean(),
      split: fragmentation,
    }),
    ({ bytes, junk, wrap, padded, split }) => {
      let encoded = Buffer.from(bytes).toString("base64");
      if (!padded) encoded = encoded.replace(/=+$/, "");
      if (wrap > 0) encoded = encoded.replace(new RegExp(`(.{${wrap}})`, "g"), "$1\r\n");
      const positions = junk.map(([at, ch]) => [Math.floor(at * encoded.length), ch] as const).sort((a, b) => b[0] - a[0]);
      for (const [at, ch] of positions) encoded = encoded.slice(0, at) + ch + encoded.slice(at);
      const head = "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n";
      const reader = new MessageReader({ body: { maxChars: 400 } });
      const outcome = readMessage(reader, latin1Bytes(head + encoded), split);
      assert.is(outcome.text, latin1(bytes));
      assert.is(outcome.invalidBase64, junk.length);
    },
  );
});

/** Quoted-printable of any bytes: every byte outside "!".."~" (and "=") as =XX, soft breaks. */
function quotedPrintable(bytes: Uint8Array, lineLength: number, lowerHex: boolean): string {
  let out = "";
  let column = 0;
  for (const b of bytes) {
    const hex = b.toString(16).padStart(2, "0");
    const piece = b >= 33 && b <= 126 && b !== 61 ? String.fromCharCode(b) : `=${lowerHex ? hex : hex.toUpperCase()}`;
    if (column + piece.length > lineLength) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.length;
  }
  return out;
}

test("quoted-printable text: any bytes encoded anyhow decode exactly", () => {
  report.check(
    "quoted-printable-body",
    3000,
    fc.record({ bytes: fc.uint8Array({ maxLength: 300 }), lineLength: fc.integer({ min: 3, max: 76 }), lowerHex: fc.boolean(), split: fragmentation }),
    ({ bytes, lineLength, lowerHex, split }) => {
      const head = "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
      const reader = new MessageReader({ body: { maxChars: 400 } });
      const outcome = readMessage(reader, latin1Bytes(head + quotedPrintable(bytes, lineLength, lowerHex)), split);
      assert.is(outcome.text, latin1(bytes));
    },
  );
});

// ---- multipart structures --------------------------------------------------------------

type Leaf = { leaf: true; mime: string; attachment: boolean; latin1: boolean; encoding: "7bit" | "base64" | "quoted-printable"; bytes: Uint8Array };
type Multipart = { leaf: false; subtype: string; boundary: string; preamble: string; epilogue: string; parts: Part[] };
type Part = Leaf | Multipart;

/** Text without "-" so that no content line can pass for a delimiter. */
const safeText = fc
  .array(fc.oneof(fc.constantFrom("\r\n", " ", "=", ".", "Hi", "OK"), fc.string({ unit: fc.integer({ min: 32, max: 126 }).filter((c) => c !== 45).map((c) => String.fromCharCode(c)), maxLength: 20 })), { maxLength: 12 })
  .map((parts) => parts.join(""));

const leaf: fc.Arbitrary<Leaf> = fc.record({
  leaf: fc.constant(true as const),
  mime: fc.constantFrom("text/plain", "text/plain", "text/html", "application/octet-stream"),
  attachment: fc.boolean(),
  latin1: fc.boolean(),
  encoding: fc.constantFrom("7bit" as const, "base64" as const, "quoted-printable" as const),
  bytes: fc.uint8Array({ maxLength: 200 }),
  text: safeText,
}).map(({ text, ...rest }) => (rest.encoding === "7bit" ? { ...rest, bytes: latin1Bytes(text) } : rest));

const multipart = fc.letrec<{ part: Part; multi: Multipart }>((tie) => ({
  part: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("multi")),
  multi: fc.record({
    leaf: fc.constant(false as const),
    subtype: fc.constantFrom("mixed", "alternative", "related"),
    boundary: fc.string({ unit: fc.constantFrom(..."abcXYZ019'()+_,./:=? "), minLength: 1, maxLength: 60 }).map((b) => b.replace(/ +$/, "") || "b"),
    preamble: safeText,
    epilogue: safeText,
    parts: fc.array(tie("part"), { minLength: 1, maxLength: 3 }),
  }),
})).multi;

/** Renders a part; boundaries get their depth and sibling path so none is a prefix of another. */
function renderPart(part: Part, path: string): string {
  if (part.leaf) {
    const charset = part.latin1 ? "iso-8859-1" : "utf-8";
    let content: string;
    if (part.encoding === "base64") content = Buffer.from(part.bytes).toString("base64").replace(/(.{76})/g, "$1\r\n");
    else if (part.encoding === "quoted-printable") content = quotedPrintable(part.bytes, 76, false).replace(/-/g, "=2D");
    else content = latin1(part.bytes);
    return `Content-Type: ${part.mime}; charset=${charset}\r\nContent-Transfer-Encoding: ${part.encoding}\r\n` +
      (part.attachment ? "Content-Disposition: attachment; filename=x\r\n" : "") + `\r\n${content}`;
  }
  const boundary = `=_${path}_${part.boundary}`;
  let body = `${part.preamble}\r\n`;
  part.parts.forEach((child, i) => {
    body += `--${boundary}\r\n${renderPart(child, `${path}.${i}`)}\r\n`;
  });
  body += `--${boundary}--\r\n${part.epilogue}`;
  return `Content-Type: multipart/${part.subtype}; boundary="${boundary}"\r\n\r\n${body}`;
}

/** The part the reader documents it takes: depth first, inside at most MAX_DEPTH multiparts. */
function firstText(part: Part, level = 0): Leaf | null {
  if (part.leaf) return part.mime === "text/plain" && !part.attachment ? part : null;
  if (level === MAX_DEPTH) return null; // nested too deep: skipped whole
  for (const child of part.parts) {
    const found = firstText(child, level + 1);
    if (found !== null) return found;
  }
  return null;
}

function depthOf(part: Part): number {
  return part.leaf ? 0 : 1 + Math.max(...part.parts.map(depthOf));
}

test("multipart: any nesting of parts and encodings gives exactly the first plain-text part (none deeper than MAX_DEPTH)", () => {
  report.check(
    "multipart-oracle",
    3000,
    fc.record({ tree: multipart.filter((t) => depthOf(t) <= MAX_DEPTH + 2), split: fragmentation, maxChars: fc.oneof(fc.constant(4000), fc.integer({ min: 0, max: 120 })) }),
    ({ tree, split, maxChars }) => {
      const input = latin1Bytes(`From: a@b.example\r\nSubject: fuzz\r\n${renderPart(tree, "L")}`);
      const outcome = readMessage(new MessageReader({ body: { maxChars } }), input, split);
      const text = firstText(tree);
      assert.is(outcome.found, text !== null, "a text part is found exactly when there is one");
      if (text === null) {
        assert.is(outcome.text, "");
        report.count("noTextPart");
        return;
      }
      const expected = fitted(text.latin1 ? latin1(text.bytes) : whatwg.decode(text.bytes), maxChars);
      assert.is(outcome.text, expected.text);
      assert.is(outcome.truncated, expected.truncated);
      assert.is(outcome.charset, text.latin1 ? "iso-8859-1" : "utf-8");
      assert.is(outcome.subject, "fuzz");
      report.count(`textPartDepth${depthOf(tree)}`);
    },
  );
});

// ---- the streaming decoders on their own ---------------------------------------------

const QP_TOKENS = ["=", "=4", "=41", "=4g", "=ZZ", "=\r\n", "= \r\n", "=\n", "=\r", "   ", "\t", " \r\n", "\r\n", "\n", "\r", "\0", "\xff"];
const B64_TOKENS = ["QUJD", "QQ==", "QQ=", "Q", "=", "====", "\r\n", " ", "-", "_", "\0", "\xff", "A===B"];

test("streaming decoders: any input, any chunking: same output as in one piece, within the documented bounds", () => {
  report.check(
    "decoders-chunking",
    5000,
    fc.record({ qp: soup(QP_TOKENS, 60), b64: soup(B64_TOKENS, 60), utf8: soup(["\xc3", "\xa9", "\xe2\x9c", "\xf0\x9f", "\x98\x80", "\xed\xa0\x80"], 40), dots: soup([".", "..", ".\r\n", "\r\n.\r\n", "\r\n", "\n.\n", "\r", "+OK x\r\n"], 40), split: fragmentation, statusLine: fc.boolean() }),
    ({ qp, b64, utf8, dots, split, statusLine }) => {
      // quoted-printable: output never longer than input (held whitespace included)
      const qpOut = (pieces: Uint8Array[]) => {
        const decoder = new QuotedPrintableDecoder();
        const out: number[] = [];
        const scratch = new Uint8Array(QuotedPrintableDecoder.maxDecodedLength(qp.length) + 2);
        for (const p of pieces) {
          const n = decoder.decode(p, 0, p.length, scratch, 0);
          assert.ok(n <= QuotedPrintableDecoder.maxDecodedLength(p.length));
          out.push(...scratch.subarray(0, n));
        }
        out.push(...scratch.subarray(0, decoder.finish(scratch, 0)));
        return out;
      };
      const qpWhole = qpOut([qp]);
      assert.equal(qpOut(chunks(qp, split)), qpWhole);
      assert.ok(qpWhole.length <= qp.length, "quoted-printable never expands");

      const b64Out = (pieces: Uint8Array[]) => {
        const decoder = new Base64Decoder();
        const out: number[] = [];
        const scratch = new Uint8Array(Base64Decoder.maxDecodedLength(b64.length) + 2);
        for (const p of pieces) out.push(...scratch.subarray(0, decoder.decode(p, 0, p.length, scratch, 0)));
        out.push(...scratch.subarray(0, decoder.finish(scratch, 0)));
        return { out, invalid: decoder.invalid };
      };
      const b64Whole = b64Out([b64]);
      assert.equal(b64Out(chunks(b64, split)), b64Whole);
      const alphabet = Array.from(b64).filter((b) => /[A-Za-z0-9+/]/.test(String.fromCharCode(b))).length;
      assert.ok(b64Whole.out.length <= Math.floor((alphabet * 3) / 4), "3 bytes per 4 characters at most");

      const utf8Out = (pieces: Uint8Array[]) => {
        const decoder = new Utf8Decoder(utf8.length);
        for (const p of pieces) decoder.write(p, 0, p.length);
        decoder.end();
        return decoder.toString();
      };
      assert.is(utf8Out(chunks(utf8, split)), whatwg.decode(utf8));

      const unstuff = (pieces: Uint8Array[]) => {
        const unstuffer = new DotUnstuffer({ skipStatusLine: statusLine });
        const out: number[] = [];
        for (const p of pieces) {
          // in place, as the POP3 reader does it
          const n = unstuffer.push(p, 0, p.length, p, 0);
          assert.ok(n <= p.length);
          out.push(...p.subarray(0, n));
        }
        return { out, done: unstuffer.done, trailing: unstuffer.trailing };
      };
      const dotsWhole = unstuff([dots.slice()]);
      assert.equal(unstuff(chunks(dots, split)), dotsWhole);
      report.count("bytes", qp.length + b64.length + utf8.length + dots.length);
    },
  );
});

// ---- header values and envelope checks -------------------------------------------------

const headerText = fc.array(
  fc.oneof(
    fc.constantFrom(...VALUE_TOKENS.map((t) => t.replace(/\r/g, ""))),
    fc.string({ maxLength: 10 }),
    fc.string({ unit: "binary", maxLength: 6 }), // lone surrogates and all
  ),
  { maxLength: 20 },
).map((parts) => parts.join(""));

test("header value helpers: any text gives a string result, never a throw", () => {
  report.check(
    "header-value-helpers",
    5000,
    headerText,
    (value) => {
      const decoded = decodeHeaderValue(value);
      assert.type(decoded, "string");
      assert.ok(decoded.length <= value.length, "decoding never lengthens a value");
      for (const a of parseAddressList(value)) {
        assert.type(a.address, "string");
        assert.type(a.name, "string");
      }
      assert.type(parseAddress(value).address, "string");
      const contentType = parseContentType(value);
      assert.type(contentType.mimeType, "string");
      assert.type(contentType.boundary, "string");
      assert.type(contentType.charset, "string");
    },
  );
});

test("envelope checks: any value is returned unchanged or refused with a MailParameterError", () => {
  const anyValue = fc.oneof(
    { weight: 4, arbitrary: headerText },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.anything() },
  );
  report.check(
    "envelope-checks",
    5000,
    anyValue,
    (value) => {
      // Each check with what an accepted value can never hold.
      const checks: Array<[() => unknown, RegExp]> = [
        [() => checkText("smtp", "user", value, 64), /["\r\n\0]|[^\x20-\x7e]/],
        [() => checkText("smtp", "name", value, 64, true), /["\r\n\0]/],
        [() => checkAddress("smtp", "to", value, 64), /["\r\n\0\s<>]/],
        [() => checkHost("pop3", "host", value, 64), /["\r\n\0\s]/],
        [() => checkSubject("smtp", value), /[\r\n\0]/],
        [() => checkBody("smtp", value), /\0/],
      ];
      for (const [check, forbidden] of checks) {
        let result: unknown;
        try {
          result = check();
        } catch (error) {
          assert.instance(error, MailParameterError, `refused with a MailParameterError, got ${String(error)}`);
          assert.ok((error as Error).message.length > 0);
          continue;
        }
        assert.is(result, value, "accepted values are returned unchanged");
        assert.not.ok(forbidden.test(result as string), `accepted ${JSON.stringify(result)}`);
      }
    },
  );
  report.print();
});

test.run();
