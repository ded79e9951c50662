import { suite } from "uvu";
import * as assert from "uvu/assert";
import nodemailer from "nodemailer";
import { simpleParser } from "mailparser";
import { BodyReader, MessageReader, parseContentType, type BodyReaderOptions } from "../../../src/mail/codec/index.ts";
import { chunksAt, feedings, latin1Bytes, utf8Bytes } from "./support.ts";

const test = suite("codec/body-reader");

interface Read {
  text: string;
  found: boolean;
  truncated: boolean;
}

function readBody(contentType: string, encoding: string, body: Uint8Array, chunks: Array<[number, number]>, options?: BodyReaderOptions): Read {
  const reader = new BodyReader(options);
  reader.begin(parseContentType(contentType), encoding);
  for (const [s, e] of chunks) reader.push(body, s, e - s);
  reader.end();
  return { text: reader.toString(), found: reader.found, truncated: reader.truncated };
}

function readMessage(mail: Uint8Array, chunks: Array<[number, number]>, options?: BodyReaderOptions): { reader: MessageReader; read: Read } {
  const reader = new MessageReader({ body: options });
  for (const [s, e] of chunks) reader.write(mail, s, e - s);
  reader.end();
  return { reader, read: { text: reader.body.toString(), found: reader.body.found, truncated: reader.body.truncated } };
}

/** The same result for the whole input, byte by byte, and every two-way split. */
function everySplit(input: Uint8Array, readWith: (chunks: Array<[number, number]>) => Read): Read {
  const expected = readWith([[0, input.length]]);
  for (const { name, chunks } of feedings(input.length)) assert.equal(readWith(chunks), expected, name);
  return expected;
}

test("7bit, quoted-printable and base64 single-part bodies in every split", () => {
  const plain = latin1Bytes("ARM zone 3\r\n-- \r\nsig\r\n");
  assert.equal(everySplit(plain, (c) => readBody("text/plain", "7bit", plain, c)), { text: "ARM zone 3\r\n-- \r\nsig\r\n", found: true, truncated: false });
  const qp = latin1Bytes("Gr=C3=BC=C3=9Fe, T=\r\n=C3=BCr offen =F0=9F=98=80\r\n");
  assert.equal(everySplit(qp, (c) => readBody("text/plain; charset=utf-8", "quoted-printable", qp, c)), { text: "Grüße, Tür offen 😀\r\n", found: true, truncated: false });
  const b64 = latin1Bytes(`${Buffer.from("Alarm: Wasser im Keller ✓\r\nZeile 2").toString("base64").replace(/(.{20})/g, "$1\r\n")}\r\n`);
  assert.equal(everySplit(b64, (c) => readBody("text/plain; charset=UTF-8", "BASE64", b64, c)), { text: "Alarm: Wasser im Keller ✓\r\nZeile 2", found: true, truncated: false });
});

test("charsets: ISO-8859-1, US-ASCII read as UTF-8, unknown read as Latin-1", () => {
  const latin = latin1Bytes("T\u00fcr =E4");
  assert.is(readBody("text/plain; charset=ISO-8859-1", "quoted-printable", latin, [[0, latin.length]]).text, "Tür ä");
  const utf = utf8Bytes("Tür");
  assert.is(readBody("text/plain", "8bit", utf, [[0, utf.length]]).text, "Tür");
  const reader = new BodyReader();
  reader.begin(parseContentType("text/plain; charset=koi8-r"), "8bit");
  reader.push(latin, 0, latin.length);
  reader.end();
  assert.is(reader.toString(), "T\u00fcr =E4");
  assert.is(reader.charset, "koi8-r");
  assert.not.ok(reader.charsetKnown);
});

test("delimiter lines as the part walker (and mailparser) read them: a line that only starts with the delimiter is text", async () => {
  // The body reader finds its parts with the part walker: "--b" followed by other text is no
  // delimiter of boundary "b"; "--b  " (padding) and "--b--" are.
  const mail = latin1Bytes([
    "Content-Type: multipart/mixed; boundary=b", "", "preamble",
    "--b  ", "Content-Type: text/plain", "", "ARM zone 3", "--bogus line", "--b-- is not the end", "still text",
    "--b--", "epilogue", "",
  ].join("\r\n"));
  const read = everySplit(mail, (chunks) => readMessage(mail, chunks).read);
  assert.equal(read, { text: "ARM zone 3\r\n--bogus line\r\n--b-- is not the end\r\nstill text", found: true, truncated: false });
  const parsed = await simpleParser(Buffer.from(mail));
  assert.is(parsed.text?.replace(/\n/g, "\r\n"), read.text, "mailparser reads the same text");
});

test("text is bounded: truncated and flagged, surrogate pairs kept whole", () => {
  const body = utf8Bytes("abc😀def");
  const read = readBody("text/plain; charset=utf-8", "8bit", body, [[0, body.length]], { maxChars: 4 });
  assert.equal(read, { text: "abc", found: true, truncated: true });
  const long = latin1Bytes("x".repeat(5000));
  const reader = new BodyReader();
  reader.begin(parseContentType("text/plain"), "7bit");
  reader.push(long, 0, long.length);
  assert.ok(reader.done, "stops once full");
  assert.is(reader.toString().length, 2048);
  assert.ok(reader.truncated);
});

test("non-text bodies give no text", () => {
  const html = latin1Bytes("<b>x</b>");
  assert.equal(readBody("text/html", "7bit", html, [[0, html.length]]), { text: "", found: false, truncated: false });
  assert.equal(readBody("multipart/mixed", "7bit", html, [[0, html.length]]), { text: "", found: false, truncated: false });
});

const MULTIPART = [
  "From: Alarm <alarm@example.com>",
  "Subject: =?UTF-8?Q?Alarm?=",
  "Content-Type: multipart/mixed; boundary=\"=_outer\"",
  "",
  "This is the preamble.",
  "--=_outer-not-a-delimiter? (it is: lines that start with the delimiter count)",
  "--=_outer",
  "Content-Type: multipart/alternative; boundary=inner",
  "",
  "--inner",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "",
  "ARM =C3=BCberall",
  "-- ",
  "--inne",
  "--=_oute",
  "Gr=C3=BC=",
  "=C3=9Fe",
  "--inner",
  "Content-Type: text/html",
  "",
  "<p>ARM</p>",
  "--inner--",
  "",
  "--=_outer",
  "Content-Type: text/plain; name=log.txt",
  "Content-Disposition: attachment; filename=log.txt",
  "",
  "not the text",
  "--=_outer--",
  "epilogue",
  "",
].join("\r\n");

test("multipart: nested parts, quoted-printable text part, every split of the whole message", () => {
  const mail = latin1Bytes(MULTIPART);
  // The space of "-- " is trailing whitespace in quoted-printable: transport padding, dropped.
  const expected: Read = { text: "\r\nARM überall\r\n--\r\n--inne\r\n--=_oute\r\nGrüße", found: true, truncated: false };
  for (const { name, chunks } of feedings(mail.length)) {
    const { reader, read } = readMessage(mail, chunks);
    assert.equal(read, expected, name);
    assert.is(reader.headers.get("subject"), "Alarm");
    assert.ok(reader.done);
  }
  const { reader } = readMessage(mail, [[0, mail.length]]);
  assert.is(reader.body.firstLine(), "ARM überall");
});

test("multipart: attachments and html are skipped; a base64 text part after them is found", () => {
  const text = "Befehl: STATUS\r\nZweite Zeile ✓";
  const mail = latin1Bytes([
    "Content-Type: multipart/mixed; boundary=b1",
    "",
    "--b1",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: base64",
    "",
    "AAECAwQFBgcICQ==",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Disposition: attachment",
    "",
    "attached text",
    "--b1",
    "Content-Type: TEXT/PLAIN; charset=\"utf-8\"",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from(text).toString("base64"),
    "--b1--",
    "",
  ].join("\n"));
  const read = everySplit(mail, (c) => readMessage(mail, c).read);
  assert.equal(read, { text, found: true, truncated: false });
});

test("multipart: no closing delimiter, end() completes the text; no text part at all", () => {
  const open = latin1Bytes("Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n\r\nplain default part\r\n--");
  assert.equal(everySplit(open, (c) => readMessage(open, c).read), { text: "plain default part\r\n--", found: true, truncated: false });
  const none = latin1Bytes("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: image/png\r\n\r\nPNG\r\n--x--\r\n");
  assert.equal(everySplit(none, (c) => readMessage(none, c).read), { text: "", found: false, truncated: false });
});

test("a message without a body, and a reader reused for a second message", () => {
  const reader = new MessageReader();
  const headersOnly = latin1Bytes("Subject: only headers");
  reader.write(headersOnly, 0, headersOnly.length);
  reader.end();
  assert.is(reader.headers.get("Subject"), "only headers");
  assert.equal([reader.body.toString(), reader.body.found], ["", true]);
  reader.reset();
  const next = latin1Bytes("Subject: two\r\n\r\nSTOP\r\n");
  reader.write(next, 0, next.length);
  reader.end();
  assert.equal([reader.headers.get("subject"), reader.body.firstLine()], ["two", "STOP"]);
  assert.throws(() => new MessageReader({ headers: { fields: ["Subject"] } }), /must include Content-Type/);
});

async function composed(options: Record<string, unknown>): Promise<Uint8Array> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const info = await transport.sendMail({ from: "alarm@example.com", to: "ops@example.org", subject: "Alarm ✓", ...options });
  return new Uint8Array(info.message as Buffer);
}

test("messages composed by nodemailer: text found in every structure, in 1460-byte chunks and at odd splits", async () => {
  const text = "STATUS\nZeile 2: Tür offen, Größe ∑ 😀\n" + "Lange Zeile mit Umlauten äöü ".repeat(20) + "\n-- \nSignatur";
  const expected = text.replace(/\n/g, "\r\n");
  // Quoted-printable text gets CRLF line breaks; a single-part body keeps the CRLF nodemailer
  // ends the message with; base64 carries the text's own LFs.
  const structures: Array<[Record<string, unknown>, string]> = [
    [{ text }, `${expected}\r\n`],
    [{ text, html: "<p>html</p>" }, expected],
    [{ text, html: "<p>html</p>", attachments: [{ filename: "data.bin", content: Buffer.alloc(5000, 7) }] }, expected],
    [{ text, textEncoding: "base64" }, text],
    [{ text, attachments: [{ filename: "a.txt", content: "attached text" }] }, expected],
  ];
  for (const [options, wanted] of structures) {
    const mail = await composed(options);
    for (const size of [1460, 1, 7, 333]) {
      const cuts: number[] = [];
      for (let at = size; at < mail.length; at += size) cuts.push(at);
      const { reader, read } = readMessage(mail, chunksAt(mail.length, cuts), { maxChars: 4000 });
      assert.equal(read, { text: wanted, found: true, truncated: false }, `${Object.keys(options).join("+")} in ${size}-byte chunks`);
      assert.is(reader.headers.get("Subject"), "Alarm ✓");
      assert.is(reader.body.firstLine(), "STATUS");
    }
  }
});

test.run();
