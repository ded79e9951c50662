// Hostile parameters: every entry is refused before a byte reaches the modem, or safely encoded.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import {
  AtEngine, ClassicSmtpClient, MailParameterError, Pop3Client, SmtpClient,
  type MailMessage,
} from "../../../src/index.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";
import { CountingSerial } from "../../kit/mail-io.ts";

function setup() {
  const clock = new VirtualClock();
  const serial = new CountingSerial();
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false });
  return { clock, serial, engine };
}

const base = (): MailMessage => ({
  from: { address: "alarm@simmail.test", name: "Pump house" },
  to: [{ address: "ops@simmail.test", name: "Ops" }],
  subject: "Alarm",
  body: "Level high",
});

const smtp = { server: { host: "smtp.simmail.test", port: 25, user: "alarm", password: "secret" } };

type Case = [string, (m: MailMessage, s: typeof smtp) => void, string];

const REFUSED: Case[] = [
  ["quote in sender address", (m) => (m.from.address = 'a"@b.c'), "sender address"],
  ["CR in sender name", (m) => (m.from.name = "x\rAT+SMTPSEND"), "sender name"],
  ["LF in recipient name", (m) => (m.to[0].name = "x\nAT+CFUN=0"), "To recipient 1 name"],
  ["NUL in recipient address", (m) => (m.to[0].address = "ops\0@simmail.test"), "To recipient 1 address"],
  ["quote in recipient name", (m) => (m.to[0].name = 'Ops",AT'), "To recipient 1 name"],
  ["not an address", (m) => (m.to[0].address = "ops at simmail"), "To recipient 1 address"],
  ["address with angle brackets", (m) => (m.to[0].address = "<ops@simmail.test>"), "To recipient 1 address"],
  ["overlong address", (m) => (m.to[0].address = `${"a".repeat(80)}@simmail.test`), "To recipient 1 address"],
  ["overlong name", (m) => (m.from.name = "n".repeat(200)), "sender name"],
  ["CRLF header injection in subject", (m) => (m.subject = "Hi\r\nBcc: evil@x.y"), "subject"],
  ["LF header injection in subject", (m) => (m.subject = "Hi\nX-Evil: 1"), "subject"],
  ["NUL in body", (m) => (m.body = "a\0b"), "body"],
  ["lone surrogate in subject", (m) => (m.subject = "bad \ud800 text"), "subject"],
  ["lone surrogate in body", (m) => (m.body = "bad \udc00"), "body"],
  ["body too long", (m) => (m.body = "x".repeat(6000)), "body"],
  ["no recipients", (m) => (m.to = []), "recipients"],
  ["too many To recipients", (m) => (m.to = Array.from({ length: 9 }, (_, i) => ({ address: `r${i}@simmail.test` }))), "To recipients"],
  ["quote in server", (_m, s) => (s.server.host = 'smtp"x'), "SMTP server"],
  ["CR in server", (_m, s) => (s.server.host = "smtp\r"), "SMTP server"],
  ["quote in user", (_m, s) => (s.server.user = 'al"arm'), "SMTP user"],
  ["CRLF in password", (_m, s) => (s.server.password = "pw\r\nAT+SMTPSEND"), "SMTP password"],
  ["NUL in password", (_m, s) => (s.server.password = "pw\0"), "SMTP password"],
  ["bad port", (_m, s) => (s.server.port = 70000), "SMTP port"],
  ["quote in attachment name", (m) => (m.attachment = { name: 'a".txt', source: { size: 0, read: () => 0, rewind() {} } }), "attachment name"],
  ["CR in attachment name", (m) => (m.attachment = { name: "a\r.txt", source: { size: 0, read: () => 0, rewind() {} } }), "attachment name"],
];

const hostile = suite("mail: hostile parameters");

for (const [title, mutate, field] of REFUSED) {
  hostile(`refused: ${title}`, async () => {
    const { serial, engine } = setup();
    const client = new SmtpClient(engine);
    const message = base();
    const settings = structuredClone(smtp);
    mutate(message, settings);
    let error: unknown = null;
    try {
      await client.send(settings, message);
    } catch (e) {
      error = e;
    }
    assert.instance(error, MailParameterError, `${title}: ${String(error)}`);
    assert.is((error as MailParameterError).field, field);
    assert.ok((error as Error).message.startsWith(field), (error as Error).message);
    assert.is(serial.written, 0, "nothing reached the modem");
  });
}

hostile("non-ASCII names are sent as RFC 2047 encoded words, never raw", async () => {
  // Every command answered OK as it goes out, until AT+SMTPFROM has been written: the name's
  // form is read from the wire, not assumed.
  const clock = new VirtualClock();
  const serial = new FeedSerial({ record: true });
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false });
  serial.engine = engine;
  const client = new SmtpClient(engine);
  const message = base();
  message.from.name = "José «Pompe»";
  const run = client.send(smtp, message).catch(() => {});
  let answered = 0;
  for (let step = 0; step < 50 && !/AT\+SMTPFROM=[^\r]*\r/.test(serial.sent()); step++) {
    const lines = serial.sent().split("\r").length - 1;
    if (lines > answered) {
      answered = lines;
      serial.feed("\r\nOK\r\n");
    }
    engine.onWritable(128); // the FIFO drained
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
  }
  engine.close();
  await run;
  const wire = serial.sent();
  const from = /AT\+SMTPFROM=([^\r]*)\r/.exec(wire);
  assert.ok(from, `AT+SMTPFROM was written:\n${wire}`);
  const encoded = `"=?UTF-8?B?${Buffer.from("José «Pompe»", "utf8").toString("base64")}?="`;
  assert.is(from![1], `"alarm@simmail.test",${encoded}`, "the name as one UTF-8 B encoded word");
  assert.ok(/^[\x20-\x7e\r]*$/.test(wire), JSON.stringify(wire));
});

hostile("classic dialect refuses bodies with line breaks and binary attachments", async () => {
  const { serial, engine } = setup();
  const client = new ClassicSmtpClient(engine);
  const message = base();
  message.body = "line 1\r\nline 2";
  let error: unknown = null;
  try {
    await client.send(smtp, message);
  } catch (e) {
    error = e;
  }
  assert.instance(error, MailParameterError);
  assert.is(serial.written, 0);
  // An attachment is a file in the modem's file system: given as bytes, it is refused too.
  const withBytes = { ...base(), attachment: { name: "log.txt", source: { size: 1, read: () => 0, rewind() {} } } };
  const refused = await client.send(smtp, withBytes).then(() => null, (e: unknown) => e);
  assert.instance(refused, MailParameterError);
  assert.is((refused as MailParameterError).field, "attachment");
  assert.is(serial.written, 0);
});

hostile("POP3 account fields are checked before login", async () => {
  for (const [field, server] of [
    ["POP3 user", { host: "pop.simmail.test", user: 'a"b', password: "x" }],
    ["POP3 password", { host: "pop.simmail.test", user: "ab", password: "x\r\nAT" }],
    ["POP3 server", { host: "pop simmail", user: "ab", password: "x" }],
  ] as const) {
    const { serial, engine, clock } = setup();
    const client = new Pop3Client(engine, clock);
    let error: unknown = null;
    try {
      await client.login({ server });
    } catch (e) {
      error = e;
    }
    assert.instance(error, MailParameterError, String(error));
    assert.is((error as MailParameterError).field, field);
    assert.is(serial.written, 0);
  }
});

hostile.run();
