// The streaming MIME part walker: the same parts whatever the chunking (every split of whole
// messages), delimiter lines as mailparser reads them, the depth limit, and mails nodemailer
// composes read part for part as mailparser reads them; nothing allocated per chunk.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import nodemailer from "nodemailer";
import { simpleParser } from "mailparser";
import { MAX_PART_DEPTH, PartWalker, type MimePart, type PartWalkerOptions } from "../../../src/mail/codec/part-walker.ts";
import { countingAllocations } from "../../kit/allocations.ts";
import { chunksAt, feedings, latin1Bytes, pseudoRandomBytes, wrappedBase64 } from "./support.ts";

const test = suite("codec/part-walker");

interface Leaf {
  index: number;
  depth: number;
  mimeType: string;
  charset: string;
  transferEncoding: string;
  disposition: string;
  filename: string;
  unopened: string;
  problems: string[];
  attachment: boolean;
  /** Decoded content as Latin-1 (one character per byte); null when not asked for. */
  content: string | null;
  size: number;
  invalidBase64: number;
}

interface Walk {
  leaves: Leaf[];
  complete: boolean;
}

/** Walks `mail` fed in `chunks`; `wanted` decides which parts' content is asked for. */
function walk(mail: Uint8Array, chunks: Array<[number, number]>, options?: PartWalkerOptions, wanted: (part: MimePart) => boolean = () => true): Walk {
  const leaves: Leaf[] = [];
  let data: number[] | null = null;
  let open = false;
  const walker = new PartWalker({
    partBegin(part) {
      assert.not.ok(open, "partBegin only after the last part's partEnd");
      open = true;
      data = wanted(part) ? [] : null;
      return data !== null;
    },
    partData(src, offset, length) {
      assert.ok(data !== null, "data only for a part that asked for it");
      assert.ok(length > 0, "no empty pieces");
      for (let i = 0; i < length; i++) data!.push(src[offset + i]);
    },
    partEnd(part) {
      assert.ok(open, "partEnd after partBegin");
      open = false;
      leaves.push({
        index: part.index, depth: part.depth, mimeType: part.mimeType, charset: part.charset, transferEncoding: part.transferEncoding,
        disposition: part.disposition, filename: part.filename, unopened: part.unopened, problems: [...part.problems],
        attachment: part.isAttachment, content: data === null ? null : String.fromCharCode(...data), size: part.size, invalidBase64: part.invalidBase64,
      });
    },
  }, options);
  for (const [start, end] of chunks) walker.write(mail, start, end - start);
  walker.end();
  assert.not.ok(open, "every part ended");
  return { leaves, complete: walker.complete };
}

const whole = (mail: Uint8Array, options?: PartWalkerOptions) => walk(mail, [[0, mail.length]], options);
/** Only the fields a test looks at: type, name, content. */
const brief = (w: Walk) => w.leaves.map((l) => [l.mimeType, l.filename, l.content]);

/** The same walk for the whole input, byte by byte and every two-way split. */
function everySplit(mail: Uint8Array, options?: PartWalkerOptions): Walk {
  const expected = whole(mail, options);
  for (const { name, chunks } of feedings(mail.length)) assert.equal(walk(mail, chunks, options), expected, name);
  return expected;
}

const ATTACHMENT = pseudoRandomBytes(300, 0x51);

const NESTED = [
  "From: Alarm <alarm@example.com>",
  "Subject: nested",
  "MIME-Version: 1.0",
  "Content-Type: multipart/mixed; boundary=\"=_outer\"",
  "",
  "Preamble, ignored.",
  "--=_outer-but-longer: not a delimiter, preamble too",
  "--=_outer \t ",
  "Content-Type: multipart/alternative; boundary=inner",
  "",
  "--inner",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Gr=C3=BC=C3=9Fe, ein weicher Umbruch=",
  " und --inner am Zeilenanfang? Nein: mitten im Text.",
  "--inner-x",
  "--=_outerx",
  "-- ",
  "--inner",
  "Content-Type: text/html; charset=iso-8859-1",
  "",
  "<p>Gr\u00fc\u00dfe</p>",
  "--inner--",
  "epilogue of the alternative, ignored",
  "--=_outer",
  "Content-Type: application/octet-stream; name=\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe.bin?=\"",
  "Content-Transfer-Encoding: base64",
  "Content-Disposition: attachment;",
  " filename*0*=utf-8''%C3%9Cbersicht%20;",
  " filename*1=\"M\u00e4rz.bin\"",
  "",
  wrappedBase64(ATTACHMENT).replace(/\r\n$/, ""),
  "--=_outer",
  "",
  "a part without headers: text/plain us-ascii",
  "--=_outer--",
  "epilogue, ignored",
  "",
].join("\r\n");

test("a nested multipart in every split: parts, names, decoded content; delimiter rules as mailparser's", () => {
  const mail = latin1Bytes(NESTED);
  const result = everySplit(mail);
  assert.ok(result.complete);
  assert.equal(result.leaves.map((l) => [l.index, l.depth, l.mimeType, l.charset, l.disposition, l.filename, l.attachment]), [
    [1, 2, "text/plain", "utf-8", "", "", false],
    [2, 2, "text/html", "iso-8859-1", "", "", false],
    [3, 1, "application/octet-stream", "", "attachment", "Übersicht März.bin", true],
    [4, 1, "text/plain", "us-ascii", "", "", false],
  ]);
  assert.is(Buffer.from(result.leaves[0].content!, "latin1").toString("utf8"),
    "Grüße, ein weicher Umbruch und --inner am Zeilenanfang? Nein: mitten im Text.\r\n--inner-x\r\n--=_outerx\r\n--");
  assert.is(result.leaves[1].content, "<p>Gr\u00fc\u00dfe</p>");
  assert.ok(Buffer.from(result.leaves[2].content!, "latin1").equals(Buffer.from(ATTACHMENT)), "the attachment decoded");
  assert.is(result.leaves[2].size, ATTACHMENT.length);
  assert.is(result.leaves[3].content, "a part without headers: text/plain us-ascii");
});

test("the same parts as mailparser reads them from that mail", async () => {
  const mail = latin1Bytes(NESTED);
  const parsed = await simpleParser(Buffer.from(mail));
  const result = whole(mail);
  assert.is(parsed.attachments.length, 1);
  assert.is(result.leaves[2].filename, parsed.attachments[0].filename);
  assert.ok(Buffer.from(result.leaves[2].content!, "latin1").equals(parsed.attachments[0].content));
  // mailparser joins the text parts of the mixed message; ours are the first and the last.
  const texts = [0, 3].map((i) => Buffer.from(result.leaves[i].content!, "latin1").toString("utf8"));
  assert.is(parsed.text, `${texts[0]}\n${texts[1]}`.replace(/\r\n/g, "\n"));
});

test("delimiter lines: padding, the closing dashes, bare LF line ends, the line break belongs to the delimiter", () => {
  const mail = (lines: string[], eol = "\r\n") => latin1Bytes(["Content-Type: multipart/mixed; boundary=b", "", ...lines].join(eol));
  assert.equal(brief(everySplit(mail(["--b", "", "one", "--b  ", "", "two", "--b--  \t", "after"]))), [["text/plain", "", "one"], ["text/plain", "", "two"]]);
  assert.equal(brief(everySplit(mail(["--b", "", "one", "--b", "", "two", "--b--"], "\n"))), [["text/plain", "", "one"], ["text/plain", "", "two"]], "LF line ends");
  assert.equal(brief(everySplit(mail(["--b", "", "line\r", "--b-", "--bb", "--b -", "--b---x", "--b--"]))), [["text/plain", "", "line\r\r\n--b-\r\n--bb\r\n--b -\r\n--b---x"]],
    "a lone CR is content; a delimiter with anything but padding after it is a content line");
  assert.equal(brief(everySplit(mail(["--b", "", "", "", "--b--"]))), [["text/plain", "", "\r\n"]], "blank lines: all but the delimiter's own break are content");
  const padded = mail(["--b", "", "x", `--b${" ".repeat(40)}`, "", "y", "--b--"]);
  assert.equal(brief(whole(padded)), [["text/plain", "", `x\r\n--b${" ".repeat(40)}\r\n\r\ny`]], "more padding than held is no delimiter");
});

test("the end of the message: a closing delimiter without a line end closes; a mail cut short is not complete", () => {
  const mail = (body: string) => latin1Bytes(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${body}`);
  const closed = everySplit(mail("--b\r\n\r\nlast\r\n--b--"));
  assert.equal([brief(closed), closed.complete], [[["text/plain", "", "last"]], true]);
  const cut = everySplit(mail("--b\r\n\r\nlast\r\n--b"));
  assert.equal([brief(cut), cut.complete], [[["text/plain", "", "last\r\n--b"]], false], "an opening delimiter with no line end is content");
  const headersOnly = everySplit(mail("--b\r\nContent-Type: text/html"));
  assert.equal([brief(headersOnly), headersOnly.complete], [[["text/html", "", ""]], false]);
  const single = everySplit(latin1Bytes("Subject: one part\r\n\r\nbody\r\n"));
  assert.equal([brief(single), single.complete], [[["text/plain", "", "body\r\n"]], true], "a single part keeps its last line break");
  assert.equal(brief(everySplit(latin1Bytes("Subject: no body"))), [["text/plain", "", ""]]);
});

test("an outer delimiter ends the inner multipart; headers cut by a delimiter give an empty part", () => {
  const mail = latin1Bytes([
    "Content-Type: multipart/mixed; boundary=outer", "",
    "--outer", "Content-Type: multipart/alternative; boundary=inner", "",
    "--inner", "", "inner text, never closed",
    "--outer", "Content-Type: text/plain; name=after.txt",
    "--outer", "", "last",
    "--outer--", "",
  ].join("\r\n"));
  assert.equal(brief(everySplit(mail)), [["text/plain", "", "inner text, never closed"], ["text/plain", "after.txt", ""], ["text/plain", "", "last"]]);
});

test("depth: multiparts nested deeper than maxDepth, or without a boundary, come whole as unopened parts", () => {
  const nest = (levels: number) => {
    let body = "Content-Type: text/plain\r\n\r\ndeep";
    for (let k = levels - 1; k >= 0; k--) body = `Content-Type: multipart/mixed; boundary=b${k}\r\n\r\n--b${k}\r\n${body}\r\n--b${k}--`;
    return latin1Bytes(body);
  };
  const fits = whole(nest(MAX_PART_DEPTH));
  assert.equal(fits.leaves.map((l) => [l.depth, l.content, l.unopened]), [[MAX_PART_DEPTH, "deep", ""]]);
  const deeper = everySplit(nest(3), { maxDepth: 2 });
  assert.equal(deeper.leaves.map((l) => [l.depth, l.mimeType, l.unopened, l.attachment]), [[2, "multipart/mixed", "a multipart nested deeper than 2 levels", true]]);
  assert.is(deeper.leaves[0].content, "--b2\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b2--", "its content is the inner multipart as written");
  const noBoundary = whole(latin1Bytes("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ny"));
  assert.equal(noBoundary.leaves.map((l) => [l.unopened, l.content]), [["a multipart without a boundary", "--x\r\n\r\ny"]]);
  assert.throws(() => new PartWalker({ partBegin: () => true, partData() {}, partEnd() {} }, { maxDepth: 31 }), /maxDepth must be an integer from 0 to 30/);
});

test("part headers: problems described (unknown charset of a name, bad base64, unknown encoding, a field cut)", () => {
  const mail = latin1Bytes([
    "Content-Type: multipart/mixed; boundary=b", "",
    "--b", "Content-Type: application/pdf", "Content-Disposition: attachment; filename*=koi8-r''%F0%D2.pdf", "Content-Transfer-Encoding: base64", "",
    "QUJD!!RA==",
    "--b", "Content-Type: text/plain", "Content-Transfer-Encoding: x-uuencode", "", "begin 644 x",
    "--b", `Content-Disposition: attachment; filename="${"n".repeat(300)}.txt"`, "", "z",
    "--b--",
  ].join("\r\n"));
  const result = everySplit(mail, { partHeaderBytes: 128 });
  // The cut value is read as far as it goes.
  assert.equal(result.leaves.map((l) => [l.filename.replace(/^n{100,}$/, "n…"), l.content, l.invalidBase64, l.problems]), [
    ["%F0%D2.pdf", "ABCD", 2, ["the filename parameter is in the charset \"koi8-r\", which simmail does not know: kept as written"]],
    ["", "begin 644 x", 0, ["its transfer encoding \"x-uuencode\" is not one simmail knows: the content is as written"]],
    ["n…", "z", 0, ["its Content-Disposition is longer than 128 bytes and was cut"]],
  ]);
});

test("a handler that takes no content gets none, and the parts still follow each other", () => {
  const mail = latin1Bytes(NESTED);
  const result = walk(mail, [[0, mail.length]], undefined, (part) => part.isAttachment);
  assert.equal(result.leaves.map((l) => [l.index, l.content === null]), [[1, true], [2, true], [3, false], [4, true]]);
  assert.is(result.leaves[0].size, 0, "nothing decoded for a part nobody wanted");
});

async function composed(options: Record<string, unknown>): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const info = await transport.sendMail({ from: "alarm@example.com", to: "ops@example.org", subject: "parts", ...options });
  return info.message as Buffer;
}

test("property: mails nodemailer composes, any chunking: attachments and text as mailparser reads them", async () => {
  const name = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", ".", "-", "ä", "ß", "€", "–", "😀", "ü", "(", "'", "%", "*", ";", "\""), minLength: 1, maxLength: 60 })
    .filter((n) => n.trim() !== "" && !/^\.|\.$/.test(n.trim()));
  const attachment = fc.record({
    filename: name,
    // Not empty: for an empty quoted-printable body mailparser keeps the delimiter's line break (2 bytes).
    content: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
    contentType: fc.constantFrom("application/octet-stream", "image/png", "text/plain", "application/pdf"),
    encoding: fc.constantFrom("base64", "quoted-printable", undefined),
  });
  const textEncoding = fc.constantFrom("quoted-printable", "base64", undefined);
  await fc.assert(fc.asyncProperty(
    fc.string({ maxLength: 400 }), fc.option(fc.constant("<p>html</p>")), fc.array(attachment, { maxLength: 3 }), textEncoding, fc.integer({ min: 1, max: 700 }),
    async (text, html, attachments, encoding, chunk) => {
      const mail = await composed({
        text, ...(html === null ? {} : { html }), ...(encoding === undefined ? {} : { textEncoding: encoding }),
        attachments: attachments.map((a) => ({ filename: a.filename, content: Buffer.from(a.content), contentType: a.contentType, ...(a.encoding === undefined ? {} : { contentTransferEncoding: a.encoding }) })),
      });
      const cuts: number[] = [];
      for (let at = chunk; at < mail.length; at += chunk) cuts.push(at);
      const result = walk(new Uint8Array(mail), chunksAt(mail.length, cuts));
      const parsed = await simpleParser(mail);
      const saved = result.leaves.filter((l) => l.attachment);
      assert.equal(saved.map((l) => l.filename), parsed.attachments.map((a) => a.filename ?? ""));
      saved.forEach((l, i) => assert.ok(Buffer.from(l.content!, "latin1").equals(parsed.attachments[i].content), `attachment ${i} identical`));
      const plain = result.leaves.find((l) => !l.attachment && l.mimeType === "text/plain");
      if (plain !== undefined) assert.is(Buffer.from(plain.content!, "latin1").toString("utf8").replace(/\r\n/g, "\n"), parsed.text ?? "");
      else assert.ok(html !== null || (parsed.text ?? "") === "", "no plain text part: mailparser's text can only come from the html");
    },
  ), { numRuns: 100, seed: 0x19 });
});

test("a mebibyte attachment: no buffer allocated, the same allocations for any chunk size", () => {
  const mail = latin1Bytes([
    "Content-Type: multipart/mixed; boundary=\"==big==\"", "",
    "--==big==", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", "",
    wrappedBase64(pseudoRandomBytes(1024 * 1024, 7)).replace(/\r\n$/, ""),
    "--==big==", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "", "Gr=C3=BC=C3=9Fe",
    "--==big==--", "",
  ].join("\r\n"));
  let bytes = 0;
  const results = [];
  for (const size of [1460, 97]) {
    const walker = new PartWalker({ partBegin: () => true, partData: (_s, _o, length) => void (bytes += length), partEnd() {} });
    walker.reset();
    const chunk = new Uint8Array(size);
    bytes = 0;
    const counts = countingAllocations(() => {
      for (let at = 0; at < mail.length; at += size) {
        const n = Math.min(size, mail.length - at);
        chunk.set(mail.subarray(at, at + n));
        walker.write(chunk, 0, n);
      }
      walker.end();
    });
    assert.is(bytes, 1024 * 1024 + Buffer.byteLength("Grüße"));
    assert.is(counts.Uint8Array, 0, `${size}-byte chunks`);
    assert.is(counts.ArrayBuffer, 0);
    results.push(counts);
  }
  assert.equal(results[0], results[1], "nothing depends on the number of chunks");
});

test.run();
