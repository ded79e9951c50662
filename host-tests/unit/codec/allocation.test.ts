// A mebibyte through the readers, the base64 encoder and the dot-unstuffer, counting every
// typed array and ArrayBuffer made meanwhile: no Uint8Array at all, and nothing per chunk.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  Base64Encoder, DotUnstuffer, MessageReader, base64ExpandInPlace,
} from "../../../src/mail/codec/index.ts";
import { latin1Bytes, pseudoRandomBytes, wrappedBase64 } from "./support.ts";
import { countingAllocations, noAllocations, type AllocationCounts } from "../../kit/allocations.ts";

const test = suite("codec/allocation");

const MIB = 1024 * 1024;

/** A multipart mail: a 1 MiB base64 attachment first, then the quoted-printable text part. */
function bigMail(): Uint8Array {
  return latin1Bytes([
    "From: =?UTF-8?Q?Alarmanlage_K=C3=BCche?= <alarm@example.com>",
    "Subject: =?UTF-8?B?QWxhcm0g4pyT?=",
    " =?UTF-8?Q?_gro=C3=9Fe_Datei?=",
    "Content-Type: multipart/mixed; boundary=\"==big==\"",
    "",
    "--==big==",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: base64",
    "",
    wrappedBase64(pseudoRandomBytes(MIB, 0x2545f491)).replace(/\r\n$/, ""),
    "--==big==",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "STATUS =C3=BCberall",
    "--==big==--",
    "",
  ].join("\r\n"));
}

/** A single-part mail whose base64 text body is 1 MiB of UTF-8, all of it kept. */
function bigTextMail(): { mail: Uint8Array; text: string } {
  const text = "Zeile mit Umlauten äöü und 😀\r\n".repeat(Math.ceil(MIB / 36)).slice(0, 600_000);
  const head = "Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  return { mail: latin1Bytes(head + wrappedBase64(new Uint8Array(Buffer.from(text, "utf8")))), text };
}

function feed(reader: MessageReader, mail: Uint8Array, chunk: Uint8Array): void {
  for (let at = 0; at < mail.length; at += chunk.length) {
    const n = Math.min(chunk.length, mail.length - at);
    for (let i = 0; i < n; i++) chunk[i] = mail[at + i]; // as the POP3 reader's fixed block would hold it
    reader.write(chunk, 0, n);
  }
  reader.end();
}

test("the counter sees constructions made inside the codec modules", () => {
  const counts = countingAllocations(() => {
    new MessageReader();
    new Uint8Array(1);
  });
  assert.ok(counts.Uint8Array >= 2, `counted ${counts.Uint8Array}`);
  assert.ok(counts.Uint16Array >= 1);
});

test("header and body readers: no Uint8Array, the same allocations whatever the chunk size", () => {
  const mail = bigMail();
  assert.ok(mail.length > MIB);
  const results: AllocationCounts[] = [];
  for (const size of [1460, 97]) {
    const reader = new MessageReader();
    const chunk = new Uint8Array(size);
    const counts = countingAllocations(() => feed(reader, mail, chunk));
    assert.is(counts.Uint8Array, 0, `${size}-byte chunks`);
    assert.is(counts.ArrayBuffer, 0);
    results.push(counts);
    assert.is(reader.body.toString(), "STATUS überall");
    assert.is(reader.headers.get("Subject"), "Alarm ✓ große Datei");
  }
  assert.equal(results[0], results[1], "nothing depends on the number of chunks");
  // Content-Type and Content-Transfer-Encoding values read once for the message and each part.
  assert.ok(results[0].Uint16Array > 0 && results[0].Uint16Array <= 8, `a few small strings per part only (${results[0].Uint16Array})`);
});

test("a 1 MiB base64 text body decoded whole: no allocation per chunk", () => {
  const { mail, text } = bigTextMail();
  assert.ok(mail.length > MIB / 2);
  const results: AllocationCounts[] = [];
  for (const size of [1460, 61]) {
    const reader = new MessageReader({ body: { maxChars: 700_000 } });
    const chunk = new Uint8Array(size);
    const counts = countingAllocations(() => feed(reader, mail, chunk));
    assert.is(counts.Uint8Array, 0);
    results.push(counts);
    assert.not.ok(reader.body.truncated);
    assert.ok(reader.body.toString() === text, "the whole text");
  }
  assert.equal(results[0], results[1]);
});

test("base64 in-place expansion of 1 MiB and dot-unstuffing of 1 MiB allocate nothing", () => {
  const data = pseudoRandomBytes(MIB, 0x2545f491);
  const chunk = new Uint8Array(1460);
  const encoder = new Base64Encoder();
  const collected = new Uint8Array(Base64Encoder.encodedLength(MIB));
  let produced = 0;
  const encodeCounts = countingAllocations(() => {
    let sent = 0;
    for (;;) {
      const room = encoder.rawBytesFor(chunk.length);
      const rawOffset = chunk.length - room;
      const raw = Math.min(room, data.length - sent);
      for (let i = 0; i < raw; i++) chunk[rawOffset + i] = data[sent + i];
      sent += raw;
      let n = base64ExpandInPlace(chunk, rawOffset, raw, encoder);
      if (sent === data.length) n += encoder.finish(chunk, n);
      for (let i = 0; i < n; i++) collected[produced + i] = chunk[i];
      produced += n;
      if (sent === data.length) break;
    }
  });
  assert.equal(encodeCounts, noAllocations());
  assert.is(produced, collected.length);
  assert.ok(Buffer.from(collected).toString("latin1") === wrappedBase64(data), "same as Node's base64");

  const stuffed = latin1Bytes(`${"..line\r\n".repeat(MIB / 8)}.\r\n`);
  const unstuffer = new DotUnstuffer();
  let out = 0;
  const unstuffCounts = countingAllocations(() => {
    for (let at = 0; at < stuffed.length; at += 1460) {
      const n = Math.min(1460, stuffed.length - at);
      out += unstuffer.push(stuffed, at, n, stuffed, at);
    }
  });
  assert.equal(unstuffCounts, noAllocations());
  assert.ok(unstuffer.done);
  assert.is(out, (MIB / 8) * 7);
});

test.run();
