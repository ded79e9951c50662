// The mail readers the CLI uses, under XS as the device runs (frozen built-ins, the device's
// stack): a nodemailer mail through the PartWalker in 64-byte chunks, its text through the
// CharsetDecoder, its header through the HeaderReader, read exactly as under Node; and the
// heap after GC does not grow with the mails read.
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import * as codec from "../../../src/mail/codec/index.ts";
import { runInXs } from "../../kit/xs/run-xs.ts";

const core = join(import.meta.dirname, "..", "..", "..", "dist", "xs", "simmail-core.js");
const test = suite("XS: the streaming mail readers");

/** Reads `mail` with the codec `simmail` (the XS bundle's or the sources'); a JSON result. */
function readMail(simmail: typeof codec, mail: Uint8Array): unknown {
  const log: unknown[] = [];
  const text = new simmail.TextBuffer(4096);
  const decoder = new simmail.CharsetDecoder(text);
  let bytes = 0;
  let sum = 0;
  const walker = new simmail.PartWalker({
    partBegin(part) {
      log.push([part.index, part.depth, part.mimeType, part.filename, part.disposition, part.isAttachment]);
      if (!part.isAttachment) decoder.begin(simmail.charsetOf(part.charset));
      return true;
    },
    partData(src, offset, length) {
      if (!walker.part.isAttachment) decoder.write(src, offset, length);
      for (let i = 0; i < length; i++) sum = (sum * 31 + src[offset + i]) % 1000003;
      bytes += length;
    },
    partEnd(part) {
      if (!part.isAttachment) decoder.end();
      log.push(part.size);
    },
  });
  const chunk = new Uint8Array(64);
  for (let at = 0; at < mail.length; at += 64) {
    const n = Math.min(64, mail.length - at);
    chunk.set(mail.subarray(at, at + n));
    walker.write(chunk, 0, n);
  }
  walker.end();
  const headers = new simmail.HeaderReader({ fields: ["From", "Cc", "Subject"] });
  headers.write(mail, 0, mail.length);
  const problems: string[] = [];
  return { log, text: text.toString(), bytes, sum, subject: headers.get("Subject", problems), cc: headers.addresses("Cc"), problems, complete: walker.complete };
}

async function composed(): Promise<Uint8Array> {
  const raw: Buffer = await new MailComposer({
    from: { name: "Zoë", address: "zoe@example.com" }, to: "ops@example.org",
    cc: [{ name: "Bob Müller", address: "bob@example.com" }],
    subject: "placeholder",
    text: "Grüße aus Köln – eine lange Zeile, die quoted-printable weich umbrechen muss, damit sie passt.\r\nZeile 2\r\n",
    textEncoding: "quoted-printable",
    attachments: [
      { filename: "report.txt", content: "plain\r\n" },
      { filename: "Übersicht März – sehr langer Name für RFC 2231.bin", content: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff)) },
    ],
  }).compile().build();
  const subject = "Subject: =?windows-1252?Q?=93Bericht=94_=80?= =?utf-8?q?broken=ZZ?=";
  return new Uint8Array(Buffer.from(raw.toString("latin1").replace(/^Subject: .*$/m, subject), "latin1"));
}

test("a multipart mail in 64-byte chunks reads the same under XS as under Node", async () => {
  const mail = await composed();
  const expected = readMail(codec, mail);
  const { steps } = await runInXs({
    scripts: [core],
    steps: [{ name: "read", code: `const mail = new Uint8Array(${JSON.stringify(Array.from(mail))}); report((${readMail.toString()})(simmail, mail));` }],
  });
  assert.equal(steps[0].reports[0], expected);
  const read = expected as { subject: string; problems: string[]; log: unknown[] };
  assert.is(read.subject, "“Bericht” € =?utf-8?q?broken=ZZ?=");
  assert.is(read.problems.length, 1);
  assert.equal(read.log.filter((entry) => Array.isArray(entry)).map((entry) => (entry as unknown[])[3]), ["", "report.txt", "Übersicht März – sehr langer Name für RFC 2231.bin"]);
});

test("reading 200 mails leaves the XS heap where it was", async () => {
  const mail = await composed();
  const setup = `
    const mail = new Uint8Array(${JSON.stringify(Array.from(mail))});
    const chunk = new Uint8Array(64);
    let bytes = 0;
    const walker = new simmail.PartWalker({ partBegin: () => true, partData: (s, o, l) => { bytes += l; }, partEnd() {} });
    globalThis.readAll = (times) => {
      for (let k = 0; k < times; k++) {
        walker.reset();
        for (let at = 0; at < mail.length; at += 64) {
          const n = Math.min(64, mail.length - at);
          for (let i = 0; i < n; i++) chunk[i] = mail[at + i];
          walker.write(chunk, 0, n);
        }
        walker.end();
      }
    };
    readAll(5);
  `;
  const { steps } = await runInXs({
    scripts: [core],
    steps: [{ name: "setup", code: setup, gc: true }, { name: "read 200", code: "readAll(200);", gc: true }, { name: "idle", code: "", gc: true }],
  });
  const [before, after, idle] = steps.map((step) => step.heapAfterGc!);
  const drift = idle - after;
  assert.ok(after - before <= Math.max(drift, 0) + 1, `the heap grew from ${before} to ${after} slots across 200 mails (a step alone: ${drift})`);
});

test.run();
