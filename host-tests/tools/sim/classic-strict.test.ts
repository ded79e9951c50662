// The classic dialect on a strict reading of the application note (issue #18): mail text that
// looks like results and final codes, the note's longest subject and body, failure results
// followed by ERROR (`classicFailureError`), and attachments selected by name after AT+FSCD.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";
import { seededBytes } from "../../kit/sim-support.ts";

const test = suite("sim: classic dialect, strict cases of the application note");

let servers: MailServers;

test.before(async () => {
  servers = await startMailServers({ users: ["look", "long", "errs", "pics"].map((name) => ({ name, password: `${name}-pw`, address: `${name}@simmail.test` })) });
});

test.after(async () => {
  await servers.stop();
});

/** 2010-02-02 11:04:57 at +08:00, the time of the app note's first saved mail. */
const NOTE_TIME = Date.UTC(2010, 1, 2, 3, 4, 57);

function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({
    dialect: "classic",
    echo: false,
    hosts: { "smtp.server.com": "127.0.0.1", "pop3.server.com": "127.0.0.1" },
    scheduler: new VirtualClock(),
    clock: { startMs: NOTE_TIME, timezoneQuarters: 32 },
    ...options,
  });
}

async function run(d: SimDriver, transcript: Array<[string, string]>): Promise<void> {
  for (const [line, reply] of transcript) assert.is(await d.command(line), reply, line);
}

/** Body lines a reader could take for the modem's own output. */
const LOOKALIKE_LINES = ["before", "OK", "ERROR", "+POP3: SUCCESS", "+SMTP: OK", "+POP3: SERVER ERROR", "+CME ERROR: 3", "after"];

test("a mail with body lines OK, ERROR, +POP3: SUCCESS, +SMTP: OK: POP3READ prints it after an empty line, then an empty line and OK", async () => {
  const head = ["Date: Tue, 9 Mar 2010 17:11:30 +0800", "From: ops@simmail.test", "To: look@simmail.test", "Subject: look-alikes"];
  await servers.deliver("look", [...head, "", ...LOOKALIKE_LINES, ""].join("\r\n"));
  const d = modem();
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","look","look-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3GET=1", "\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+POP3: SUCCESS\r\nC:/Email/100202110457/, EMAIL000.TXT\r\n");
    const saved = [...head, "", ...LOOKALIKE_LINES, ""].join("\r\n");
    assert.is(Buffer.from(d.sim.fs.read("C:/Email/100202110457/EMAIL000.TXT")).toString("latin1"), saved, "saved as the note's text");
    d.send("AT+POP3READ\r");
    await d.expect(`\r\n${saved}\r\nOK\r\n`);
    d.send('AT+POP3READ=0,"100202110457/EMAIL000.TXT"\r');
    await d.expect(`\r\n${saved}\r\nOK\r\n`);
    assert.is(await d.command("AT+POP3OUT"), "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n");
  } finally {
    d.close();
  }
});

test("a 512-character subject and a 5120-character body go out whole; one character more is ERROR", async () => {
  const subject = "S".repeat(511) + "!";
  const body = "b".repeat(5119) + "!";
  const d = modem();
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"long","long-pw"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="long@simmail.test"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"long@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSUB=?", "\r\n+SMTPSUB: 512\r\n\r\nOK\r\n"],
      ["AT+SMTPBODY=?", "\r\n+SMTPBODY: 5120\r\n\r\nOK\r\n"],
      [`AT+SMTPSUB="${subject}x"`, "\r\nERROR\r\n"],
      [`AT+SMTPBODY="${body}x"`, "\r\nERROR\r\n"],
      [`AT+SMTPSUB="${subject}"`, "\r\nOK\r\n"],
      [`AT+SMTPBODY="${body}"`, "\r\nOK\r\n"],
    ]);
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\n+SMTP: OK\r\n\r\nOK\r\n");
    await d.expect("\r\n+SMTP: SUCCESS\r\n");
    const mail = await simpleParser((await servers.waitForMessages("long", 1))[0]);
    assert.is(mail.subject, subject);
    assert.is((mail.text ?? "").replace(/\r?\n$/, ""), body);
  } finally {
    d.close();
  }
});

test("classicFailureError: a failure result is followed by ERROR, a success still by OK", async () => {
  const d = modem({ quirks: { classicFailureError: true } });
  try {
    await run(d, [
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPFROM="errs@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: PARAM ERROR\r\n\r\nERROR\r\n"],
      ['AT+SMTPRCPT=0,0,"errs@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: NETWORK ERROR\r\n\r\nERROR\r\n"],
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","errs","wrong",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: INVALID UN/PWD\r\n\r\nERROR\r\n"],
      [`AT+POP3SRV="pop3.server.com","errs","errs-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3NUM", "\r\n+POP3: 0, 0\r\n\r\nOK\r\n"],
      ["AT+POP3LIST=1", "\r\n+POP3: SERVER ERROR\r\n\r\nERROR\r\n"],
      ["AT+POP3OUT", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
    ]);
  } finally {
    d.close();
  }
});

test("AT+SMTPFILE selects a file of the current directory by name: a path is ERROR; AT+FSCD selects the folder first (3.2)", async () => {
  const photo = seededBytes(2000, 18);
  const d = modem();
  d.sim.fs.write("C:/Picture/20100202_100006.jpg", photo);
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"pics","pics-pw"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="pics@simmail.test"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"pics@simmail.test"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="picture"', "\r\nOK\r\n"],
      ['AT+SMTPBODY="attached"', "\r\nOK\r\n"],
      ['AT+SMTPFILE=1,"C:/Picture/20100202_100006.jpg"', "\r\nERROR\r\n"],
      ['AT+SMTPFILE=1,"Picture\\20100202_100006.jpg"', "\r\nERROR\r\n"],
      ['AT+SMTPFILE=1,"20100202_100006.jpg"', "\r\nERROR\r\n"],
      ["AT+FSCD=C:/Picture", "\r\n+FSCD: C:/Picture/\r\n\r\nOK\r\n"],
      ['AT+SMTPFILE=1,"20100202_100006.jpg"', "\r\nOK\r\n"],
      ["AT+SMTPFILE?", '\r\n+SMTPFILE: 1,"C:/Picture/20100202_100006.jpg"\r\n\r\nOK\r\n'],
    ]);
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\n+SMTP: OK\r\n\r\nOK\r\n");
    await d.expect("\r\n+SMTP: SUCCESS\r\n");
    const mail = await simpleParser((await servers.waitForMessages("pics", 1))[0]);
    assert.is(mail.attachments.length, 1);
    assert.is(mail.attachments[0].filename, "20100202_100006.jpg");
    assert.ok(mail.attachments[0].content.equals(photo), "the picture whole");
  } finally {
    d.close();
  }
});

test.run();
