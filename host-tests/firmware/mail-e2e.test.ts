// The mail API end to end: the firmware's clients → mock UART → simulated SIM7000 → real
// smtp-server and Dovecot, and back through POP3 into the streaming readers.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type AddressObject } from "mailparser";
import { CollectSink } from "../kit/mail-io.ts";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";
import { firmwareRig } from "../kit/firmware-rig.ts";
import { PatternSource } from "../kit/replay-driver.ts";
import {
  ClassicPop3Client, ClassicSmtpClient, openClassicBearer, MessageReader, Modem, Pop3Client, Pop3Error, Pop3NegativeError,
  SmtpClient, SmtpError, type MailMessage,
} from "../../src/index.ts";

const USERS = ["alarm", "alice", "bob", "carol", "dave", "erin", "fred", "gina"];
let servers: MailServers;

function rig(options: SimOptions = {}) {
  const { clock, sim, engine, run } = firmwareRig({ sim: options });
  return { clock, sim, engine, run, modem: new Modem(engine, clock) };
}

const account = (name: string) => ({ host: "mail.simmail.test", port: 0, user: name, password: `${name}-pw` });
const smtpOf = (name: string) => ({ ...account(name), port: servers.smtpPort });
const pop3Of = (name: string) => ({ ...account(name), port: servers.pop3Port });

function names(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((a) => a.value.map((v) => `${v.name} <${v.address}>`));
}

const e2e = suite("mail: end to end through the simulated SIM7000 and real servers");

e2e.before(async () => {
  servers = await startMailServers({ users: mailUsers(USERS, "-pw") });
});
e2e.after(async () => {
  await servers.stop();
});

e2e("sim7000: 2 To, 1 Cc, 1 Bcc, UTF-8 subject with quotes and emoji, UTF-8 body, 64 KiB binary attachment", async () => {
  const { run, engine, modem, clock } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const smtp = new SmtpClient(engine);
  const subject = 'Alarm "Pumpe 3" überhitzt 🔥 — «check»';
  const body = "Température élevée: 92 °C\r\nZeile 2: Grüße 👋\r\n.\r\nline after a lone dot\r\n";
  const message: MailMessage = {
    from: { address: "alarm@simmail.test", name: "Pump house" },
    to: [{ address: "alice@simmail.test", name: "Alice" }, { address: "bob@simmail.test", name: "Bob Ü" }],
    cc: [{ address: "carol@simmail.test", name: "Carol" }],
    bcc: [{ address: "dave@simmail.test", name: "Dave" }],
    subject,
    body,
    attachment: { name: "log.bin", type: "binary", source: new PatternSource(65_536, 7) },
  };
  let progress = 0;
  await run(smtp.send({ server: smtpOf("alarm"), cid: 1 }, message, { onProgress: (sent) => (progress = sent) }));
  assert.is(progress, 65_536, "progress reached the whole attachment");
  const expected = Buffer.from(Array.from({ length: 65_536 }, (_, i) => ((i * 131 + 7 * 7 + (i >> 8)) & 0xff)));
  for (const user of ["alice", "bob", "carol", "dave"]) {
    const [raw] = await servers.waitForMessages(user, 1, 10_000);
    const mail = await simpleParser(raw);
    assert.is(mail.subject, subject, `${user}: subject`);
    assert.is(mail.text?.replace(/\r\n/g, "\n"), body.replace(/\r\n/g, "\n"), `${user}: body`);
    assert.equal(names(mail.to), ["Alice <alice@simmail.test>", "Bob Ü <bob@simmail.test>"]);
    assert.equal(names(mail.cc), ["Carol <carol@simmail.test>"]);
    assert.is(mail.bcc, undefined, "Bcc appears in no header");
    assert.not.ok(raw.toString("latin1").includes("dave@simmail.test"), "Bcc address nowhere in the mail");
    assert.is(mail.attachments.length, 1);
    assert.ok(Buffer.compare(mail.attachments[0].content, expected) === 0, `${user}: attachment bytes identical`);
  }

  // Back through POP3 (Dovecot): the whole mail as delivered, then the streaming readers.
  const pop3 = new Pop3Client(engine, clock);
  await run(pop3.login({ server: pop3Of("alice") }));
  const { count } = await run(pop3.stat());
  assert.is(count, 1);
  const uid = await run(pop3.uid(1));
  assert.ok(uid.length > 0);
  const whole = new CollectSink();
  await run(pop3.retrieve(1, whole));
  const [delivered] = await servers.messages("alice");
  assert.ok(Buffer.compare(whole.bytes, delivered) === 0, "retrieved bytes equal the delivered mail");
  const reader = new MessageReader();
  await run(pop3.top(1, 200, reader));
  reader.end();
  assert.is(reader.headers.get("Subject"), subject);
  assert.is(reader.headers.address("From")?.address, "alarm@simmail.test");
  assert.is(reader.body.firstLine(), "Température élevée: 92 °C");
  assert.ok(reader.body.toString().includes("Grüße 👋"), reader.body.toString());
  await run(pop3.logout());
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}

e2e("every SMTP result code the network can cause arrives as a typed SmtpError", async () => {
  const { run, engine, modem } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const smtp = new SmtpClient(engine);
  const mail = (to: string): MailMessage => ({ from: { address: "alarm@simmail.test" }, to: [{ address: to }], subject: "code", body: "x" });
  const cases: Array<[number, Parameters<SmtpClient["send"]>[0], string]> = [
    [62, { server: { ...smtpOf("alarm"), host: "nowhere.invalid" } }, "erin@simmail.test"],
    [63, { server: { ...smtpOf("alarm"), port: 1 } }, "erin@simmail.test"],
    [67, { server: { ...smtpOf("alarm"), password: "wrong" } }, "erin@simmail.test"],
    [68, { server: smtpOf("alarm") }, "nobody@simmail.test"],
  ];
  for (const [code, settings, to] of cases) {
    const error = await run(failure(smtp.send(settings, mail(to))));
    assert.instance(error, SmtpError, `${code}: ${error.message}`);
    assert.is((error as SmtpError).resultCode, code, error.message);
    assert.ok(error.message.startsWith(`SMTP failed: ${code} `), error.message);
  }
});

e2e("POP3 failures: wrong password, closed port, negative answers", async () => {
  const { run, engine, modem, clock } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const pop3 = new Pop3Client(engine, clock);
  const bad = await run(failure(pop3.login({ server: { ...pop3Of("fred"), password: "wrong" } })));
  assert.instance(bad, Pop3Error);
  assert.ok([67, 68].includes((bad as Pop3Error).resultCode), bad.message);
  const closed = await run(failure(pop3.login({ server: { ...pop3Of("fred"), port: 1 } })));
  assert.is((closed as Pop3Error).resultCode, 63, closed.message);
  await run(pop3.login({ server: pop3Of("fred") }));
  const missing = await run(failure(pop3.list(99)));
  assert.instance(missing, Pop3NegativeError, missing.message);
  await run(pop3.logout());
});

e2e("classic dialect: refused login and bad recipient come back as typed errors", async () => {
  const { run, engine } = rig({ dialect: "classic" });
  await run(openClassicBearer(engine, "internet"));
  const smtp = new ClassicSmtpClient(engine);
  const error = await run(failure(smtp.send({ server: { ...smtpOf("alarm"), password: "wrong" } }, { from: { address: "alarm@simmail.test" }, to: [{ address: "erin@simmail.test" }], subject: "s", body: "b" })));
  assert.instance(error, SmtpError, error.message);
  assert.is((error as SmtpError).result, "AUTH ERROR", error.message);
  const pop3 = new ClassicPop3Client(engine);
  const login = await run(failure(pop3.login({ server: { ...pop3Of("erin"), password: "wrong" } })));
  assert.instance(login, Pop3Error, login.message);
});

e2e("LIST and UIDL listings stream: each entry handed on as it arrives, in order, none kept (both dialects)", async () => {
  const mails = 40;
  for (let i = 1; i <= mails; i++) {
    await servers.deliver("gina", `From: ops@simmail.test\r\nSubject: listing ${i}\r\n\r\n${"x".repeat(i * 7)}\r\n`);
  }
  const { run, engine, modem, clock } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const pop3 = new Pop3Client(engine, clock);
  await run(pop3.login({ server: pop3Of("gina") }));
  const sizes: Array<[number, number]> = [];
  assert.is(await run(pop3.listAll((info) => sizes.push([info.number, info.size]))), mails);
  assert.equal(sizes.map(([n]) => n), Array.from({ length: mails }, (_, i) => i + 1), "every mail once, in order");
  for (const n of [1, 17, mails]) assert.is(sizes[n - 1][1], await run(pop3.list(n)), `LIST ${n} agrees`);
  const uids = new Map<number, string>();
  assert.is(await run(pop3.uidlAll((n, uid) => uids.set(n, uid))), mails);
  assert.is(new Set(uids.values()).size, mails, "unique ids");
  assert.is(uids.get(5), await run(pop3.uid(5)));
  await run(pop3.logout());
  engine.close();

  const classic = rig({ dialect: "classic" });
  await classic.run(openClassicBearer(classic.engine, "internet"));
  const note = new ClassicPop3Client(classic.engine);
  await classic.run(note.login({ server: pop3Of("gina") }));
  const classicSizes: number[] = [];
  assert.is(await classic.run(note.listAll((info) => classicSizes.push(info.size))), mails);
  assert.equal(classicSizes, sizes.map(([, size]) => size), "the same sizes by AT+POP3LIST=<n>");
  assert.is(await classic.run(note.uidlAll(() => assert.unreachable("the note has no UIDL"))), 0);
  await classic.run(note.logout());
  classic.engine.close();
});

e2e.run();
