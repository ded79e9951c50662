// End to end with the real servers: mails sent through the simulated modem's AT commands
// arrive as a mail client expects them, and come back through AT+POP3* byte for byte.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type AddressObject } from "mailparser";
import { createUartPair } from "../../kit/mock-uart.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import { NodeSimModem } from "../../../sim/modem/node-modem.ts";
import { dotStuff, seededBytes, suiteMailServers } from "../../kit/sim-support.ts";
import { runWithNetwork } from "../../kit/virtual-time.ts";

const test = suite("sim: sim7000 dialect end to end");

// Each test writes to its own mailboxes.
const USERS = ["alarm", "bob", "carol", "dave", "erin", "fred", "gina", "hugo", "iris", "jack", "kate", "liam", "mona", "otto"];
const rig = suiteMailServers(test, USERS, "mail.simmail.test");
const modem = rig.modem;

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((a) => a.value.map((v) => `${v.name} <${v.address}>`));
}

async function ok(d: SimDriver, line: string): Promise<void> {
  assert.is(await d.command(line), "\r\nOK\r\n", line);
}

/** Settings of one mail (charset ASCII unless hex text is given). */
async function compose(d: SimDriver, mail: { user: string; from: string; to: string[]; cc?: string[]; bcc?: string[]; subject: string; body: string; file?: string }): Promise<void> {
  await ok(d, `AT+SMTPSRV="mail.simmail.test",${rig.servers.smtpPort}`);
  await ok(d, `AT+SMTPAUTH=1,"${mail.user}","${mail.user}-pw"`);
  await ok(d, mail.from);
  for (const [type, list] of [mail.to, mail.cc ?? [], mail.bcc ?? []].entries()) {
    for (const [index, recipient] of list.entries()) await ok(d, `AT+SMTPRCPT=${type},${index},${recipient}`);
  }
  await ok(d, `AT+SMTPSUB="${mail.subject}"`);
  d.send(`AT+SMTPBODY=${Buffer.byteLength(mail.body, "latin1")}\r`);
  await d.expect("\r\nDOWNLOAD\r\n");
  d.send(mail.body);
  await d.expect("\r\nOK\r\n");
  await ok(d, mail.file ?? "AT+SMTPFILE=0");
}

/** AT+SMTPSEND and the AT+SMTPFT loop, chunks as large as the modem allows; returns their sizes. */
async function sendWithAttachment(d: SimDriver, data: Buffer): Promise<number[]> {
  d.send("AT+SMTPSEND\r");
  await d.expect("\r\nOK\r\n");
  const chunks: number[] = [];
  let offset = 0;
  for (;;) {
    const ready = await d.waitFor(/\r\n\+SMTPFT: 1,(\d+)\r\n/);
    const max = Number(/(\d+)\r\n$/.exec(ready)![1]);
    const n = Math.min(max, data.length - offset);
    if (n === 0) break;
    d.send(`AT+SMTPFT=${n}\r`);
    await d.expect(`\r\n+SMTPFT: 2,${n}\r\n`);
    d.send(data.subarray(offset, offset + n));
    await d.expect("\r\nOK\r\n");
    chunks.push(n);
    offset += n;
  }
  d.send("AT+SMTPFT=0\r");
  await d.expect("\r\nOK\r\n");
  await d.expect("\r\n+SMTPSEND: 1\r\n");
  return chunks;
}

/** Logs in, retrieves mail 1 with AT+POP3CMD=4,1 / AT+POP3READ and returns the data. */
async function retrieve(d: SimDriver, user: string, chunk = 1460): Promise<string> {
  await ok(d, `AT+POP3SRV="mail.simmail.test","${user}","${user}-pw",${rig.servers.pop3Port}`);
  await ok(d, "AT+POP3IN");
  await d.expect("\r\n+POP3IN: 1\r\n");
  await ok(d, "AT+POP3CMD=4,1");
  await d.expect("\r\n+POP3CMD: 1\r\n");
  let data = "";
  for (;;) {
    d.send(`AT+POP3READ=${chunk}\r`);
    const head = await d.waitFor(/\r\n\+POP3READ: ([12]),(\d+)\r\n/);
    const [, status, length] = /\+POP3READ: ([12]),(\d+)/.exec(head)!;
    assert.is(head, `\r\n+POP3READ: ${status},${length}\r\n`, "nothing before the POP3READ header");
    const body = await d.waitFor("\r\nOK\r\n");
    assert.is(body.length, Number(length) + 6, "exactly <cnfLength> bytes, then OK");
    data += body.slice(0, -6);
    if (status === "2") break;
    // Spec 3.2.19: after a short read, wait for "+POP3READ: 3,<n>" before reading on.
    if (Number(length) < chunk) await d.waitFor(/^\r\n\+POP3READ: 3,\d+\r\n/);
  }
  await ok(d, "AT+POP3OUT");
  await d.expect("\r\n+POP3OUT: 1\r\n");
  return data;
}

test("To, Cc and Bcc with a base64 attachment: delivered, parsed, and read back through POP3", async () => {
  const attachment = seededBytes(6000, 7);
  const d = modem();
  try {
    await compose(d, {
      user: "alarm",
      from: 'AT+SMTPFROM="alarm@simmail.test","Pump house, north"',
      to: ['"bob@simmail.test","Bob"'],
      cc: ['"carol@simmail.test","Carol"', '"erin@simmail.test"'],
      bcc: ['"dave@simmail.test","Dave"'],
      subject: "Alarm: pump 2 stopped",
      body: "Pump 2 stopped at 10:36.\r\n.\r\nA line with a single dot above; log attached.\r\n",
      file: 'AT+SMTPFILE=2,"pump-log.bin",1',
    });
    const base64 = Buffer.from(attachment.toString("base64"), "latin1");
    const chunks = await sendWithAttachment(d, base64);
    assert.equal(chunks, [1360, 1360, 1360, 1360, 1360, base64.length - 5 * 1360], "the host's base64 in chunks of <maxLength>");

    const [delivered] = await rig.servers.waitForMessages("bob", 1);
    const mail = await simpleParser(delivered);
    assert.equal(addresses(mail.from), ["Pump house, north <alarm@simmail.test>"]);
    assert.equal(addresses(mail.to), ["Bob <bob@simmail.test>"]);
    assert.equal(addresses(mail.cc), ["Carol <carol@simmail.test>", " <erin@simmail.test>"]);
    assert.is(mail.bcc, undefined);
    assert.not.match(delivered.toString("latin1"), /dave/i, "the Bcc recipient appears in no header");
    assert.is(mail.subject, "Alarm: pump 2 stopped");
    assert.is(mail.text, "Pump 2 stopped at 10:36.\n.\nA line with a single dot above; log attached.\n");
    assert.is(mail.attachments.length, 1);
    assert.is(mail.attachments[0].filename, "pump-log.bin");
    assert.is(mail.attachments[0].contentType, "application/octet-stream");
    assert.ok(mail.attachments[0].content.equals(attachment), "attachment bytes identical");
    for (const user of ["carol", "erin", "dave"]) {
      const [copy] = await rig.servers.waitForMessages(user, 1);
      assert.ok(copy.equals(delivered), `${user} got the same message`);
    }
    assert.ok(delivered.toString("latin1").split("\r\n").every((line) => line.length <= 78), "base64 refolded into short lines");

    const data = await retrieve(d, "bob");
    assert.is(data, `${dotStuff(delivered).toString("latin1")}.\r\n`);
    assert.match(data, /\r\n\.\.\r\n/, "the body's dot line arrives dot-stuffed");
    const unstuffed = data.slice(0, -3).replace(/(^|\r\n)\.\./g, "$1.");
    assert.ok(Buffer.from(unstuffed, "latin1").equals(delivered), "undoing dot-stuffing gives the delivered bytes");
  } finally {
    d.close();
  }
});

test("UTF-8: names, hex subject and a multi-line hex body", async () => {
  const subject = "Grüße aus dem Pumpenhaus ✓ — Störung behoben, alles läuft wieder normal";
  const body = "Zeile 1: Temperatur 21 °C\r\n.Punkt am Zeilenanfang\r\nЕщё строка\r\n";
  const d = modem();
  try {
    await ok(d, 'AT+SMTPCS="UTF-8"');
    await compose(d, {
      user: "fred",
      from: `AT+SMTPFROM="fred@simmail.test","${Buffer.from("Jürgen Müller", "utf8").toString("latin1")}"`,
      to: ['"gina@simmail.test","=?UTF-8?B?R2luYSDDlnN0?="'],
      subject: Buffer.from(subject, "utf8").toString("hex").toUpperCase(),
      body: Buffer.from(body, "utf8").toString("hex"),
    });
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\nOK\r\n\r\n+SMTPSEND: 1\r\n");
    const [delivered] = await rig.servers.waitForMessages("gina", 1);
    const mail = await simpleParser(delivered);
    assert.is(mail.subject, subject);
    assert.is(mail.text, body.replace(/\r\n/g, "\n"));
    assert.equal(addresses(mail.from), ["Jürgen Müller <fred@simmail.test>"]);
    assert.equal(addresses(mail.to), ["Gina Öst <gina@simmail.test>"], "an encoded-word name passes unchanged");
    const head = delivered.toString("latin1").split("\r\n\r\n")[0];
    assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(head), "headers are plain ASCII (RFC 2047)");
    assert.ok(head.split("\r\n").every((line) => line.length <= 998));
  } finally {
    d.close();
  }
});

test("attachment encoding 'modem': the host sends raw bytes, the modem encodes", async () => {
  const attachment = Buffer.concat([Buffer.from("\x00\r\n.\r\nOK\r\n+SMTPFT: 1,10\r\n", "latin1"), seededBytes(3000, 99)]);
  const d = modem({ smtp: { attachmentEncoding: "modem", ftMaxLength: 700 } });
  try {
    await compose(d, {
      user: "hugo",
      from: 'AT+SMTPFROM="hugo@simmail.test"',
      to: ['"iris@simmail.test"'],
      subject: "raw",
      body: "see attachment",
      file: 'AT+SMTPFILE=2,"raw.dat",1',
    });
    const chunks = await sendWithAttachment(d, attachment);
    assert.equal(chunks, [700, 700, 700, 700, attachment.length - 2800]);
    const [delivered] = await rig.servers.waitForMessages("iris", 1);
    const mail = await simpleParser(delivered);
    assert.ok(mail.attachments[0].content.equals(attachment));
    assert.equal(addresses(mail.from), [" <hugo@simmail.test>"]);
  } finally {
    d.close();
  }
});

test("a 7bit text attachment with dot lines survives SMTP and POP3 dot-stuffing", async () => {
  const text = "10:00 OK\r\n.\r\n..\r\n.leading dot\nbare LF line\r\nlast line without newline";
  const d = modem();
  try {
    await compose(d, {
      user: "jack",
      from: 'AT+SMTPFROM="jack@simmail.test","Jack"',
      to: ['"jack@simmail.test","Jack"'],
      subject: "text log",
      body: "log attached",
      file: 'AT+SMTPFILE=1,"log.txt",0',
    });
    await sendWithAttachment(d, Buffer.from(text, "latin1"));
    const [delivered] = await rig.servers.waitForMessages("jack", 1);
    const mail = await simpleParser(delivered);
    assert.is(mail.attachments[0].content.toString("latin1"), text.replace("\nbare", "\r\nbare"), "bare LF made CRLF, nothing else changed");
    const data = await retrieve(d, "jack", 333);
    assert.is(data, `${dotStuff(delivered).toString("latin1")}.\r\n`);
  } finally {
    d.close();
  }
});

test("a large mail through a small modem buffer: the server is paused, nothing is lost", async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `.${i} dotted` : `line ${i} ${"x".repeat(i % 50)}`));
  const raw = `Subject: big\r\n\r\n${lines.join("\r\n")}\r\n`;
  await rig.servers.deliver("kate", raw);
  const d = modem({ pop3: { bufferBytes: 2048 } });
  try {
    const data = await retrieve(d, "kate");
    assert.is(data, `${dotStuff(Buffer.from(raw, "latin1")).toString("latin1")}.\r\n`);
  } finally {
    d.close();
  }
});

test("data that is not there yet: +POP3READ: 1,0, then +POP3READ: 3,<n> when it arrives", async () => {
  await rig.servers.deliver("liam", "Subject: slow\r\n\r\n" + "0123456789\r\n".repeat(40));
  const d = modem({ pop3: { trickle: { bytes: 200, intervalMs: 100 } } });
  try {
    await ok(d, `AT+POP3SRV="mail.simmail.test","liam","liam-pw",${rig.servers.pop3Port}`);
    await ok(d, "AT+POP3IN");
    await d.expect("\r\n+POP3IN: 1\r\n");
    const [mail] = await rig.servers.messages("liam");
    const expected = `${mail.toString("latin1")}.\r\n`;
    await ok(d, "AT+POP3CMD=4,1");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    assert.is(await d.command("AT+POP3READ=1460"), "\r\n+POP3READ: 1,0\r\n\r\nOK\r\n");
    let data = "";
    for (;;) {
      const urc = await d.waitFor(/\r\n\+POP3READ: 3,\d+\r\n/);
      const announced = Number(/3,(\d+)/.exec(urc)![1]);
      assert.is(urc, `\r\n+POP3READ: 3,${announced}\r\n`);
      assert.ok(announced > 0 && announced <= 200, `at most one trickle step is announced (${announced})`);
      const reply = await d.command("AT+POP3READ=1460");
      const [, status, length] = /^\r\n\+POP3READ: ([12]),(\d+)\r\n/.exec(reply)!;
      data += reply.slice(reply.indexOf("\r\n", 2) + 2, -6);
      assert.is(reply.length, `\r\n+POP3READ: ${status},${length}\r\n`.length + Number(length) + 6);
      assert.ok(Number(length) >= announced && Number(length) < 1460, "a short read of at least what was announced");
      if (status === "2") break;
    }
    assert.is(data, expected);
  } finally {
    d.close();
  }
});

test("over the kit's mock UART on a virtual clock, driven with runWithNetwork", async () => {
  const clock = new VirtualClock();
  const { host, modem: modemSide } = createUartPair({ scheduler: clock, baud: 115200, fragment: { min: 1, max: 17, seed: 5 } });
  const sim = new NodeSimModem({ echo: false, hosts: { "mail.simmail.test": "127.0.0.1" } });
  sim.attach(modemSide);
  assert.is(sim.scheduler, clock, "the simulator adopts the UART's scheduler");
  sim.powerOn({ quiet: true });
  let received = "";
  let writable = 0;
  const outbox: number[] = [];
  const flush = () => {
    if (writable === 0 || outbox.length === 0) return;
    const n = Math.min(writable, outbox.length);
    host.write(Uint8Array.from(outbox.splice(0, n)));
    writable -= n;
  };
  host.attach({
    onReadable: () => {
      const buffer = new Uint8Array(128);
      for (let n = host.read(buffer); n > 0; n = host.read(buffer)) received += Buffer.from(buffer.subarray(0, n)).toString("latin1");
    },
    onWritable: (count) => {
      writable = count;
      flush();
    },
  });
  const type = (text: string) => {
    outbox.push(...Buffer.from(text, "latin1"));
    flush();
  };
  const until = async (pattern: RegExp, limitMs = 60_000) => {
    const found = await runWithNetwork(clock, sim, () => pattern.test(received), limitMs);
    assert.ok(found, `waited for ${pattern}; got "${received}"`);
    const match = pattern.exec(received)!;
    const out = received.slice(0, match.index + match[0].length);
    received = received.slice(match.index + match[0].length);
    return out;
  };
  try {
    type(`AT+SMTPSRV="mail.simmail.test",${rig.servers.smtpPort}\rAT+SMTPAUTH=1,"hugo","hugo-pw"\r`);
    type('AT+SMTPFROM="hugo@simmail.test"\rAT+SMTPRCPT=0,0,"mona@simmail.test"\rAT+SMTPSUB="over the wire"\r');
    assert.is(await until(/(\r\nOK\r\n){5}/), "\r\nOK\r\n".repeat(5));
    type("AT+SMTPBODY=5\r");
    await until(/DOWNLOAD\r\n/);
    type("hello");
    await until(/\r\nOK\r\n/);
    const start = clock.now();
    type("AT+SMTPSEND\r");
    assert.is(await until(/\+SMTPSEND: \d+\r\n/), "\r\nOK\r\n\r\n+SMTPSEND: 1\r\n");
    assert.ok(clock.now() - start < 100, `virtual time waited for the server instead of racing ahead (${clock.now() - start} ms)`);
    const [delivered] = await rig.servers.waitForMessages("mona", 1);
    assert.match(delivered.toString("latin1"), /\r\n\r\nhello\r\n$/);
  } finally {
    sim.close();
  }
});

test.run();
