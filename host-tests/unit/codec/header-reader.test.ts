import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  HeaderReader, parseAddress, parseAddressList, parseContentType, type HeaderReaderOptions,
} from "../../../src/mail/codec/index.ts";
import { feedings, latin1Bytes, utf8Bytes } from "./support.ts";
import { concatBytes } from "../../kit/bytes.ts";

const test = suite("codec/header-reader");

const MAIL = [
  "Return-Path: <alarm@example.com>",
  "Received: from mx.example.com by pop.example.org; Fri, 22 Nov 2024 23:14:00 +0000",
  "from: \"Keller, Alarm\" <alarm@example.com>",
  "TO: ops@example.org,",
  "\t=?UTF-8?Q?J=C3=BCrgen?= <j@example.org>",
  "SUBJECT: =?UTF-8?B?QWxhcm0g4pyT?=",
  "  =?UTF-8?Q?_Keller_T=C3=BCr?=",
  "\t offen",
  "Date: Fri, 22 Nov 2024 23:14:00 +0100",
  "Message-ID: <1234@example.com>",
  "X-Mailer: test",
  "Content-Type: text/plain;",
  " charset=\"UTF-8\"; format=flowed",
  "content-transfer-encoding: Quoted-Printable",
  "",
  "ARM now",
  "",
].join("\r\n");

interface Outcome {
  subject: string | null;
  from: string | null;
  to: string | null;
  date: string | null;
  messageId: string | null;
  body: string;
}

/** Feeds chunks until the header ends; returns the results and the body bytes after it. */
function read(input: Uint8Array, chunks: Array<[number, number]>, options?: HeaderReaderOptions): { reader: HeaderReader; outcome: Outcome } {
  const reader = new HeaderReader(options);
  let body = "";
  for (const [s, e] of chunks) {
    if (reader.done) {
      body += Buffer.from(input.subarray(s, e)).toString("latin1");
      continue;
    }
    const used = reader.push(input, s, e - s);
    if (reader.done) {
      assert.is(reader.bodyOffset, s + used, "bodyOffset is within this chunk");
      body += Buffer.from(input.subarray(reader.bodyOffset, e)).toString("latin1");
    } else {
      assert.is(used, e - s, "all consumed before the blank line");
    }
  }
  return {
    reader,
    outcome: {
      subject: reader.get("Subject"), from: reader.get("from"), to: reader.raw("To"), date: reader.get("Date"),
      messageId: reader.get("message-id"), body,
    },
  };
}

test("collects the wanted fields, unfolds, decodes, in every split", () => {
  const input = latin1Bytes(MAIL);
  const expected: Outcome = {
    subject: "Alarm ✓ Keller Tür\t offen",
    from: "\"Keller, Alarm\" <alarm@example.com>",
    to: "ops@example.org,\t=?UTF-8?Q?J=C3=BCrgen?= <j@example.org>",
    date: "Fri, 22 Nov 2024 23:14:00 +0100",
    messageId: "<1234@example.com>",
    body: "ARM now\r\n",
  };
  for (const { name, chunks } of feedings(input.length)) {
    const { reader, outcome } = read(input, chunks);
    assert.equal(outcome, expected, name);
    assert.ok(reader.done);
  }
  const { reader } = read(input, [[0, input.length]]);
  assert.equal(reader.address("From"), { name: "Keller, Alarm", address: "alarm@example.com" });
  assert.equal(reader.addresses("To"), [
    { name: "", address: "ops@example.org" },
    { name: "Jürgen", address: "j@example.org" },
  ]);
  assert.equal(reader.addresses("Cc"), []);
  assert.is(reader.get("Cc"), null);
  assert.not.ok(reader.has("cc"));
  assert.equal(reader.contentType(), { mimeType: "text/plain", type: "text", subtype: "plain", charset: "utf-8", boundary: "" });
  assert.is(reader.transferEncoding(), "quoted-printable");
});

test("bare LF line ends, and a body offset inside a chunk", () => {
  const input = latin1Bytes("Subject: hi\n there\nFrom: a@b\n\nbody\n");
  for (const { name, chunks } of feedings(input.length)) {
    const { outcome } = read(input, chunks);
    assert.is(outcome.subject, "hi there", name);
    assert.is(outcome.body, "body\n", name);
  }
});

test("overlong values are truncated and flagged; memory stays fixed", () => {
  const longSubject = "x".repeat(100);
  const input = latin1Bytes(`Subject: ${longSubject}\r\nFrom: a@b.c\r\n\r\n`);
  for (const { name, chunks } of feedings(input.length)) {
    const { reader } = read(input, chunks, { maxFieldBytes: 32 });
    assert.is(reader.get("subject"), "x".repeat(31), name); // 32 bytes kept: the space after the colon, then 31
    assert.ok(reader.isTruncated("Subject"));
    assert.not.ok(reader.isTruncated("From"));
    assert.is(reader.get("From"), "a@b.c");
  }
});

test("a truncated value does not end in half a UTF-8 character", () => {
  const input = utf8Bytes("Subject: ääääää\r\n\r\n");
  const { reader } = read(input, [[0, input.length]], { maxFieldBytes: 6 });
  assert.is(reader.get("Subject"), "ää");
  assert.ok(reader.isTruncated("Subject"));
});

test("the first occurrence wins; obsolete space before the colon; lines without a colon ignored", () => {
  const input = latin1Bytes("From sender@x Fri Nov 22 23:14:00 2024\r\nnot a header line\r\nSubject : first\r\nSubject: second\r\n\r\n");
  const { reader } = read(input, [[0, input.length]]);
  assert.is(reader.get("Subject"), "first");
  assert.is(reader.count("Subject"), 2, "a repeated field is counted");
  assert.is(reader.get("From"), null);
  assert.is(reader.count("From"), 0);
  reader.reset();
  assert.is(reader.count("Subject"), 0, "reset clears the counts");
});

test("raw UTF-8 headers (RFC 6532) and Latin-1 bytes", () => {
  const input = concatBytes([utf8Bytes("Subject: Grüße 😀\r\n"), latin1Bytes("From: J\u00fcrgen <j@x>\r\n\r\n")]);
  const { reader } = read(input, [[0, input.length]]);
  assert.is(reader.get("Subject"), "Grüße 😀");
  assert.is(reader.get("From"), "Jürgen <j@x>");
});

test("end() without a blank line, reset() for the next message", () => {
  const reader = new HeaderReader({ fields: ["Subject"] });
  const first = latin1Bytes("Subject: one");
  reader.push(first, 0, first.length);
  assert.not.ok(reader.done);
  reader.end();
  assert.ok(reader.done);
  assert.is(reader.get("subject"), "one");
  assert.is(reader.bodyOffset, -1);
  reader.reset();
  assert.is(reader.get("subject"), null);
  const second = latin1Bytes("\r\n");
  assert.is(reader.push(second, 0, 2), 2);
  assert.ok(reader.done, "an empty header");
  assert.is(reader.bodyOffset, 2);
  assert.is(reader.push(second, 0, 2), 0, "nothing consumed once done");
});

test("clear errors for fields not collected and bad options", () => {
  const reader = new HeaderReader({ fields: ["Subject"] });
  assert.throws(() => reader.get("From"), /"From" is not one of the fields it collects \(Subject\)/);
  assert.throws(() => new HeaderReader({ fields: ["Bad Name"] }), /not a header field name/);
  assert.throws(() => new HeaderReader({ maxFieldBytes: 0 }), RangeError);
  assert.throws(() => reader.push(new Uint8Array(2), 1, 2), /outside/);
});

test("parseAddress: the usual forms, quoted-pairs, comments, encoded names", () => {
  const cases: Array<[string, string, string]> = [
    ['"Doe, John" <john@example.com>', "Doe, John", "john@example.com"],
    ["John Doe <john@example.com>", "John Doe", "john@example.com"],
    ["  john@example.com  ", "", "john@example.com"],
    ["<john@example.com>", "", "john@example.com"],
    ['"Say \\"hi\\" \\\\ there" <a@b.c>', 'Say "hi" \\ there', "a@b.c"],
    ["john@example.com (John Doe)", "John Doe", "john@example.com"],
    ["John (the boss) Doe <a@b.c>", "John Doe", "a@b.c"],
    ["=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@b.c>", "Jürgen Müller", "jm@b.c"],
    ['"=?UTF-8?B?SsO8cmdlbg==?=" <j@b.c>', "Jürgen", "j@b.c"],
    ['"john doe"@example.com', "", '"john doe"@example.com'],
    ["", "", ""],
  ];
  for (const [text, name, address] of cases) assert.equal(parseAddress(text), { name, address }, text);
});

test("parseAddressList: commas inside quotes, groups, empty entries", () => {
  assert.equal(parseAddressList('"B, A" <a@x>, c@x,, Dee <d@x>'), [
    { name: "B, A", address: "a@x" }, { name: "", address: "c@x" }, { name: "Dee", address: "d@x" },
  ]);
  assert.equal(parseAddressList("Team: a@x, B <b@x>;, c@x"), [
    { name: "", address: "a@x" }, { name: "B", address: "b@x" }, { name: "", address: "c@x" },
  ]);
  assert.equal(parseAddressList("undisclosed-recipients:;"), []);
});

test("parseContentType: parameters quoted or not, comments, defaults", () => {
  assert.equal(parseContentType('Multipart/Mixed; boundary="----=_Part_1_2.3"; charset=UTF-8'), {
    mimeType: "multipart/mixed", type: "multipart", subtype: "mixed", charset: "utf-8", boundary: "----=_Part_1_2.3",
  });
  assert.equal(parseContentType("multipart/alternative; boundary=--=_x (comment); foo=bar"), {
    mimeType: "multipart/alternative", type: "multipart", subtype: "alternative", charset: "", boundary: "--=_x",
  });
  assert.equal(parseContentType('text/plain (plain text); charset = "iso-8859-1"'), {
    mimeType: "text/plain", type: "text", subtype: "plain", charset: "iso-8859-1", boundary: "",
  });
  assert.equal(parseContentType('text/plain; name="a;b.txt"; charset=utf-8'), {
    mimeType: "text/plain", type: "text", subtype: "plain", charset: "utf-8", boundary: "",
  });
  assert.equal(parseContentType("text/html"), { mimeType: "text/html", type: "text", subtype: "html", charset: "us-ascii", boundary: "" });
  for (const missing of [null, "", "garbage", "text/"]) {
    assert.equal(parseContentType(missing), { mimeType: "text/plain", type: "text", subtype: "plain", charset: "us-ascii", boundary: "" });
  }
});

test.run();
