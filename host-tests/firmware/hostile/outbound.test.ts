// Hostile parameters to the SMTP API of both dialects (corpus OUTBOUND). Refused cases: the
// error names the field and the problem, and not one byte reaches the modem. Safely encoded
// cases go through the simulated SIM7000 to the real SMTP server: the exact AT line, the
// AT-injection check over every byte the host sent, and mailparser's view of the delivered
// mail (no header that the sender did not write, no recipient that was not asked for).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type AddressObject } from "mailparser";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import {
  AtEngine, ClassicSmtpClient, MailParameterError, SmtpClient,
  type MailMessage, type ServerAccount,
} from "../../../src/index.ts";
import { bufferSource, CountingSerial } from "../../kit/mail-io.ts";
import {
  BASE_MAIL, DIALECTS, OUTBOUND, SEMICOLON_LOGIN, SMTP_LOGIN, isRefused, outcomeFor,
  type Dialect, type OutboundCase, type SafelyEncoded,
} from "./corpus.ts";
import { commandLines, rig } from "./support.ts";

const ATTACHMENT_TEXT = "12:00 door ALARM\r\n";

/** A good mail with the case's input in its field; classic attachments are modem file paths. */
function build(c: OutboundCase, dialect: Dialect, smtpPort: number) {
  const login = (!isRefused(outcomeFor(c, dialect)) && (outcomeFor(c, dialect) as SafelyEncoded).login) || SMTP_LOGIN;
  const server: ServerAccount = { host: "mail.simmail.test", port: smtpPort, ...login };
  const message: MailMessage = {
    from: { ...BASE_MAIL.from },
    to: [{ ...BASE_MAIL.to }],
    subject: BASE_MAIL.subject,
    body: BASE_MAIL.body,
  };
  const attachments: string[] = [];
  const input = c.input;
  switch (c.field) {
    case "SMTP server": server.host = input; break;
    case "SMTP user": server.user = input; break;
    case "SMTP password": server.password = input; break;
    case "sender address": message.from.address = input; break;
    case "sender name": message.from.name = input; break;
    case "To address": message.to[0].address = input; break;
    case "To name": message.to[0].name = input; break;
    case "subject": message.subject = input; break;
    case "body": message.body = input; break;
    case "attachment name":
      if (dialect === "classic") attachments.push(`C:/User/${input}`);
      else message.attachment = { name: input, type: "text", source: bufferSource(Buffer.from(ATTACHMENT_TEXT, "latin1")) };
      break;
  }
  return { settings: { server }, message, attachments };
}

function send(engine: AtEngine, dialect: Dialect, built: ReturnType<typeof build>): Promise<void> {
  return dialect === "sim7000"
    ? new SmtpClient(engine).send(built.settings, built.message)
    : new ClassicSmtpClient(engine).send(built.settings, built.message, built.attachments);
}

// ---- refused before a byte is written ---------------------------------------------------------

const refusedSuite = suite("hostile outbound: refused parameters");

for (const c of OUTBOUND) {
  for (const dialect of DIALECTS) {
    const outcome = outcomeFor(c, dialect);
    if (!isRefused(outcome)) continue;
    refusedSuite(`${c.id} ${dialect}: ${c.title} → ${outcome.refused} on ${outcome.field}`, async () => {
      const clock = new VirtualClock();
      const serial = new CountingSerial();
      const engine = new AtEngine({ serial, timers: clock, syncOnStart: false });
      let error: unknown = null;
      try {
        await send(engine, dialect, build(c, dialect, 25));
      } catch (e) {
        error = e;
      }
      assert.instance(error, MailParameterError, `${c.id}: ${String(error)}`);
      const refusal = error as MailParameterError;
      assert.is(refusal.field, outcome.field);
      assert.is(refusal.protocol, "smtp");
      assert.match(refusal.message, outcome.problem);
      assert.ok(refusal.message.startsWith(`${outcome.field}: `), refusal.message);
      assert.is(serial.written, 0, "nothing reached the modem");
    });
  }
}

refusedSuite.run();

// ---- safely encoded: simulator + real SMTP server ---------------------------------------------

/** Header fields the modem writes; anything else in a delivered mail came from an injection. */
const MODEM_HEADERS = new Set(["from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding", "x-mailer"]);

function mailboxes(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((a) => a.value.map((v) => `${v.name} <${v.address}>`));
}

/** Header field names of a raw mail, as written (one entry per field). */
function headerNames(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  return text.slice(0, end < 0 ? text.length : end).split("\r\n").filter((line) => !/^[ \t]/.test(line)).map((line) => line.slice(0, line.indexOf(":")).toLowerCase());
}

for (const dialect of DIALECTS) {
  const safe = suite(`hostile outbound: safely encoded (${dialect}, simulator and real servers)`);
  let servers: MailServers;
  let delivered = 0;
  let env: ReturnType<typeof rig>;

  safe.before(async () => {
    servers = await startMailServers({
      users: [
        { name: SMTP_LOGIN.user, password: SMTP_LOGIN.password, address: "alarm@simmail.test" },
        { name: SEMICOLON_LOGIN.user, password: SEMICOLON_LOGIN.password, address: "semi@simmail.test" },
        { name: "ops", password: "ops-secret", address: "ops@simmail.test" },
      ],
    });
    env = rig(dialect);
    if (dialect === "classic") env.sim.fs.write("C:/User/log;AT+CFUN=0.txt", Buffer.from(ATTACHMENT_TEXT, "latin1"));
    await env.bringUp();
  });
  safe.after(async () => {
    env.engine.close();
    await servers.stop();
  });

  for (const c of OUTBOUND) {
    const outcome = outcomeFor(c, dialect);
    if (isRefused(outcome)) continue;
    safe(`${c.id} ${dialect}: ${c.title} → ${outcome.wire}`, async () => {
      env.sentSinceLastCall();
      await env.run(send(env.engine, dialect, build(c, dialect, servers.smtpPort)));
      const lines = commandLines(env.sentSinceLastCall(), dialect);
      assert.ok(lines.includes(outcome.wire), `${outcome.wire} not among:\n${lines.join("\n")}`);
      assert.is(lines.filter((line) => line.startsWith("AT+SMTPSEND")).length, 1, "one send");

      delivered++;
      const all = await servers.waitForMessages("ops", delivered, 10_000);
      assert.is(all.length, delivered, "exactly one mail delivered");
      assert.equal(servers.envelopes[servers.envelopes.length - 1].to, ["ops@simmail.test"], "no envelope recipient was added");
      const raw = all[delivered - 1];
      const names = headerNames(raw);
      for (const name of names) assert.ok(MODEM_HEADERS.has(name), `unexpected header "${name}" in:\n${raw.toString("latin1")}`);
      for (const once of ["from", "to", "subject"]) assert.is(names.filter((n) => n === once).length, 1, `one ${once} field`);
      const mail = await simpleParser(raw);
      assert.is(mail.bcc, undefined, "no Bcc");
      assert.not.ok(mailboxes(mail.to).some((m) => m.includes("evil")), "no injected To");
      const expected = outcome.mail ?? {};
      if (expected.subject !== undefined) assert.is(mail.subject, expected.subject);
      if (expected.from !== undefined) assert.equal(mailboxes(mail.from), expected.from);
      if (expected.to !== undefined) assert.equal(mailboxes(mail.to), expected.to);
      if (expected.text !== undefined) assert.is(mail.text?.replace(/\r\n/g, "\n"), expected.text);
      if (expected.attachment !== undefined) {
        assert.equal(mail.attachments.map((a) => a.filename), [expected.attachment]);
        assert.is(mail.attachments[0].content.toString("latin1"), ATTACHMENT_TEXT);
      }
    });
  }

  safe.run();
}
