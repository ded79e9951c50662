// The classic dialect against the application note's sections 3 and 4 (server names pointing
// at the local servers), its file system, and its failure URCs.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type AddressObject } from "mailparser";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";
import { fakeServer, seededBytes } from "../../kit/sim-support.ts";

const test = suite("sim: classic dialect (application note)");

const NAMES = ["UserName", "ToAddr", "CcAddr", "un", "peek", "keep", "gone", "stop", "files", "fails"];
let servers: MailServers;

test.before(async () => {
  servers = await startMailServers({
    users: NAMES.map((name) => ({ name, password: name === "UserName" ? "password" : name === "un" ? "pwd" : `${name}-pw`, address: `${name}@simmail.test` })),
  });
});

test.after(async () => {
  await servers.stop();
});

const HOSTS = { "smtp.server.com": "127.0.0.1", "pop3.server.com": "127.0.0.1" };
/** 2010-02-02 11:04:57 at +08:00, the time of the app note's first saved mail. */
const NOTE_TIME = Date.UTC(2010, 1, 2, 3, 4, 57);

/** A classic modem whose clock stands still (a virtual clock nobody advances) unless the test moves it. */
function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({
    dialect: "classic",
    echo: false,
    hosts: HOSTS,
    scheduler: new VirtualClock(),
    clock: { startMs: NOTE_TIME, timezoneQuarters: 32 },
    ...options,
  });
}

async function run(d: SimDriver, transcript: Array<[string, string]>): Promise<void> {
  for (const [line, reply] of transcript) assert.is(await d.command(line), reply, line);
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (value === undefined) return "";
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(", ");
}

const PHOTO = seededBytes(2500, 11);

function noteMail(number: 1 | 2): string {
  const [time, subject] = number === 1 ? ["17:11:30", "First Test Email"] : ["17:16:27", "Second Test Email"];
  return [
    `Date: Tue, 9 Mar 2010 ${time} +0800`,
    'From: "FromName" <FromAddr@server.com>',
    'To: "ToName" <ToAddr@server.com>',
    `Subject: ${subject}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is a test email with an attachment.",
    "--b1",
    'Content-Type: image/jpeg; name="photo.jpg"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="photo.jpg"',
    "",
    PHOTO.toString("base64"),
    "--b1--",
    "",
  ].join("\r\n");
}

const SAVED_TEXT = [
  "Date: Tue, 9 Mar 2010 17:11:30 +0800",
  'From: "FromName" <FromAddr@server.com>',
  'To: "ToName" <ToAddr@server.com>',
  "Subject: First Test Email",
  "",
  "This is a test email with an attachment.",
  "",
].join("\r\n");

const HEADER_1 = '\r\nFrom: "FromName" <FromAddr@server.com>\r\nDate: Tue, 9 Mar 2010 17:11:30 +0800\r\nSubject: First Test Email\r\n\r\nOK\r\n';
const HEADER_2 = '\r\nFrom: "FromName" <FromAddr@server.com>\r\nDate: Tue, 9 Mar 2010 17:16:27 +0800\r\nSubject: Second Test Email\r\n\r\nOK\r\n';

test("3.1 and 3.2: write and send an email with two pictures from the file system", async () => {
  const first = seededBytes(3000, 1);
  const second = seededBytes(1200, 2);
  const d = modem();
  d.sim.fs.write("C:/Picture/20100202_100006.jpg", first);
  d.sim.fs.write("C:/Picture/20100202_100016.jpg", second);
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"UserName","password"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="UserName@simmail.test","PresentName"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"ToAddr@simmail.test","ToName"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=1,0,"CcAddr@simmail.test","CcName"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="First Email"', "\r\nOK\r\n"],
      ['AT+SMTPBODY="This is the first Email!"', "\r\nOK\r\n"],
      ["AT+FSCD=C:/Picture", "\r\n+FSCD: C:/Picture/\r\n\r\nOK\r\n"],
      ["AT+FSLS", "\r\n+FSLS: FILES:\r\n20100202_100006.jpg\r\n20100202_100016.jpg\r\n\r\nOK\r\n"],
      ['AT+SMTPFILE=1,"20100202_100006.jpg"', "\r\nOK\r\n"],
      ['AT+SMTPFILE=2,"20100202_100016.jpg"', "\r\nOK\r\n"],
    ]);
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\n+SMTP: OK\r\n\r\nOK\r\n");
    await d.expect("\r\n+SMTP: SUCCESS\r\n");
    const [raw] = await servers.waitForMessages("ToAddr", 1);
    const mail = await simpleParser(raw);
    assert.is(addressText(mail.from), '"PresentName" <UserName@simmail.test>');
    assert.is(addressText(mail.to), '"ToName" <ToAddr@simmail.test>');
    assert.is(addressText(mail.cc), '"CcName" <CcAddr@simmail.test>');
    assert.is(mail.subject, "First Email");
    assert.is(mail.text, "This is the first Email!");
    assert.equal(mail.attachments.map((a) => [a.filename, a.contentType]), [["20100202_100006.jpg", "image/jpeg"], ["20100202_100016.jpg", "image/jpeg"]]);
    assert.ok(mail.attachments[0].content.equals(first) && mail.attachments[1].content.equals(second));
    assert.match(raw.toString("latin1"), /^Date: Tue, 2 Feb 2010 11:04:57 \+0800\r\n/, "dated by the modem clock and zone");
    assert.equal((await servers.waitForMessages("CcAddr", 1))[0], raw);
  } finally {
    d.close();
  }
});

test("3.3 abort the email application with AT+SMTPSTOP", async () => {
  const d = modem({ faults: { server: { kind: "slow", delayMs: 100 } } });
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"UserName","password"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="UserName@simmail.test","PresentName"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"stop@simmail.test","ToName"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="First Email"', "\r\nOK\r\n"],
      ['AT+SMTPBODY="This is the first Email!"', "\r\nOK\r\n"],
    ]);
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\n+SMTP: OK\r\n\r\nOK\r\n", 3000);
    assert.is(await d.command("AT+SMTPSEND?"), "\r\n+SMTPSEND: 1\r\n\r\nOK\r\n", "busy");
    assert.is(await d.command("AT+SMTPSEND"), "\r\n+SMTP: ONGOING\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+SMTPSTOP"), "\r\nOK\r\n");
    assert.is(await d.command("AT+SMTPSEND?"), "\r\n+SMTPSEND: 0\r\n\r\nOK\r\n", "idle again");
    await d.quiet(1500);
    assert.equal(await servers.messages("stop"), []);
  } finally {
    d.close();
  }
});

test("4.1 and 4.2: log in, no new email, log out", async () => {
  const d = modem();
  try {
    await run(d, [
      ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","un","pwd",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3NUM", "\r\n+POP3: 0, 0\r\n\r\nOK\r\n"],
      ["AT+POP3OUT", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
    ]);
  } finally {
    d.close();
  }
});

async function peek(d: SimDriver, user: string): Promise<void> {
  const stored = await servers.messages(user);
  await run(d, [
    ['AT+CGSOCKCONT=1,"IP","3GNET","0.0.0.0",0,0', "\r\nOK\r\n"],
    [`AT+POP3SRV="pop3.server.com","${user}","${user}-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
    ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
    ["AT+POP3NUM", `\r\n+POP3: 2 ${stored[0].length + stored[1].length}\r\n\r\nOK\r\n`],
    ["AT+POP3LIST=1", `\r\n+POP3: 1, ${stored[0].length}\r\n\r\nOK\r\n`],
    ["AT+POP3HDR=1", HEADER_1],
    ["AT+POP3LIST=2", `\r\n+POP3: 2, ${stored[1].length}\r\n\r\nOK\r\n`],
    ["AT+POP3HDR=2", HEADER_2],
  ]);
}

/** The note's two mails delivered to `user`, 4.3's peek on a modem made with `options`, then `steps` on it. */
async function afterPeek(user: string, options: SimOptions, steps: (d: SimDriver) => Promise<void>): Promise<void> {
  await servers.deliver(user, noteMail(1));
  await servers.deliver(user, noteMail(2));
  const d = modem(options);
  try {
    await peek(d, user);
    await steps(d);
  } finally {
    d.close();
  }
}

test("4.3 peek at new email", async () => {
  await afterPeek("peek", {}, async (d) => {
    const stored = await servers.messages("peek");
    assert.is(await d.command("AT+POP3LIST"), `\r\n+POP3: 1, ${stored[0].length}\r\n+POP3: 2, ${stored[1].length}\r\n\r\nOK\r\n`);
    assert.is(await d.command("AT+POP3OUT"), "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n");
  });
});

test("4.4 retrieve an email without deleting it; 4.7 read it back from the file system", async () => {
  const clock = new VirtualClock();
  await afterPeek("keep", { scheduler: clock }, async (d) => {
    assert.is(await d.command("AT+FSLOCA=0"), "\r\nOK\r\n");
    assert.is(await d.command("AT+POP3GET=1"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3: SUCCESS\r\nC:/Email/100202110457/, EMAIL000.TXT\r\n");
    assert.is(await d.command("AT+POP3READ"), `\r\n${SAVED_TEXT}\r\nOK\r\n`);
    assert.ok(Buffer.from(d.sim.fs.read("C:/Email/100202110457/photo.jpg")).equals(PHOTO), "the attachment is saved beside it");
    assert.is(await d.command("AT+POP3OUT"), "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n");
    assert.is((await servers.messages("keep")).length, 2);

    // A second retrieval half an hour later lands in its own directory (4.7).
    clock.advance(29 * 60_000 + 59_000);
    await run(d, [
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3GET=1", "\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+POP3: SUCCESS\r\nC:/Email/100202113456/, EMAIL000.TXT\r\n");
    await run(d, [
      ["AT+POP3OUT", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+FSCD=C:/Email", "\r\n+FSCD: C:/Email/\r\n\r\nOK\r\n"],
      ["AT+FSLS", "\r\n+FSLS: SUBDIRECTORIES:\r\n100202110457\r\n100202113456\r\n\r\nOK\r\n"],
      ['AT+POP3READ=0,"100202110457/EMAIL000.TXT"', `\r\n${SAVED_TEXT}\r\nOK\r\n`],
      ['AT+POP3READ=0,"C:/Email/100202113456/EMAIL000.TXT"', `\r\n${SAVED_TEXT}\r\nOK\r\n`],
      ['AT+POP3READ=0,"100202110457/NOSUCH.TXT"', "\r\nERROR\r\n"],
      ["AT+FSCD=100202110457", "\r\n+FSCD: C:/Email/100202110457/\r\n\r\nOK\r\n"],
      ["AT+FSLS", "\r\n+FSLS: FILES:\r\nEMAIL000.TXT\r\nphoto.jpg\r\n\r\nOK\r\n"],
      ["AT+FSCD=..", "\r\n+FSCD: C:/Email/\r\n\r\nOK\r\n"],
      ["AT+FSCD?", "\r\n+FSCD: C:/Email/\r\n\r\nOK\r\n"],
    ]);
  });
});

test("4.5 retrieve an email and delete it", async () => {
  await afterPeek("gone", {}, async (d) => {
    await run(d, [["AT+FSLOCA=0", "\r\nOK\r\n"], ["AT+POP3GET=1", "\r\nOK\r\n"]]);
    await d.expect("\r\n+POP3: SUCCESS\r\nC:/Email/100202110457/, EMAIL000.TXT\r\n");
    await run(d, [
      ["AT+POP3READ", `\r\n${SAVED_TEXT}\r\nOK\r\n`],
      ["AT+POP3DEL=1", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3OUT", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
    ]);
    const left = await servers.messages("gone");
    assert.is(left.length, 1);
    assert.match(left[0].toString("latin1"), /Subject: Second Test Email/);
  });
});

test("4.6 abort the POP3 application while AT+POP3GET runs", async () => {
  await afterPeek("stop", {}, async (d) => {
    d.sim.setFaults({ server: { kind: "slow", delayMs: 200 } });
    assert.is(await d.command("AT+FSLOCA=0"), "\r\nOK\r\n");
    assert.is(await d.command("AT+POP3GET=1"), "\r\nOK\r\n");
    assert.is(await d.command("AT+POP3STOP"), "\r\nOK\r\n");
    await d.quiet(500);
    assert.not.ok(d.sim.fs.exists("C:/Email"), "nothing was saved");
    assert.is(await d.command("AT+POP3NUM"), "\r\nERROR\r\n", "no session any more");
  });
});

test("failure URCs: PARAM, NETWORK, AUTH, BAD RCPT, SERVER ERROR; INVALID UN/PWD; FAILURE", async () => {
  const d = modem();
  try {
    await run(d, [
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPFROM="UserName@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: PARAM ERROR\r\n\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"fails@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: NETWORK ERROR\r\n\r\nOK\r\n"],
      ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
      ["AT+SMTPAUTH=0", "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: OK\r\n\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+SMTP: AUTH REQUIRED\r\n");
    await run(d, [
      ['AT+SMTPAUTH=1,"UserName","wrong"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: OK\r\n\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+SMTP: AUTH ERROR\r\n");
    await run(d, [
      ['AT+SMTPAUTH=1,"UserName","password"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=1,0,"nobody@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: OK\r\n\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+SMTP: BAD RCPT nobody@simmail.test\r\n");
    await run(d, [
      ["AT+SMTPRCPT=1", "\r\nOK\r\n"],
      ['AT+SMTPSRV="smtp.nowhere.invalid",25', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: SERVER ERROR\r\n\r\nOK\r\n"],
      ['AT+SMTPFILE=1,"nosuch.jpg"', "\r\nERROR\r\n"],
      [`AT+POP3SRV="pop3.server.com","fails","wrong",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: INVALID UN/PWD\r\n\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","fails","fails-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3IN", "\r\nERROR\r\n"],
      ["AT+POP3LIST=9", "\r\n+POP3: SERVER ERROR\r\n\r\nOK\r\n"],
      ["AT+POP3HDR=9", "\r\n+POP3: SERVER ERROR\r\n\r\nOK\r\n"],
      ["AT+POP3DEL=9", "\r\n+POP3: SERVER ERROR\r\n\r\nOK\r\n"],
      ["AT+POP3GET=9", "\r\nOK\r\n"],
    ]);
    await d.expect("\r\n+POP3: FAILURE\r\n");
    assert.is(await d.command("AT+POP3NUM"), "\r\n+POP3: 0, 0\r\n\r\nOK\r\n", "the session survives server errors");
    assert.is(await d.command("AT+POP3READ"), "\r\nERROR\r\n", "nothing was saved");
    const mute = modem({ timeoutScale: 0.001, faults: { server: { kind: "silent" } } });
    try {
      await run(mute, [
        ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
        [`AT+POP3SRV="pop3.server.com","fails","fails-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
        ["AT+POP3IN", "\r\n+POP3: SERVER ERROR\r\n\r\nOK\r\n"],
      ]);
    } finally {
      mute.close();
    }
  } finally {
    d.close();
  }
});

test("classic network and login failures; the bearer dropping mid-send; a firmware whose sends fail", async () => {
  const d = modem({ faults: { server: { kind: "slow", delayMs: 100 } } });
  try {
    await run(d, [
      [`AT+POP3SRV="pop3.server.com","fails","fails-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: NETWORK ERROR\r\n\r\nOK\r\n"],
      ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.nowhere.invalid","fails","fails-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: NETWORK ERROR\r\n\r\nOK\r\n"],
      [`AT+SMTPSRV="smtp.server.com",${servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"UserName","password"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="UserName@simmail.test"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"fails@simmail.test"', "\r\nOK\r\n"],
      ["AT+SMTPSEND", "\r\n+SMTP: OK\r\n\r\nOK\r\n"],
    ]);
    d.sim.dropBearer(1);
    await d.expect("\r\n+SMTP: NETWORK ERROR\r\n");
    d.sim.setFaults({ emailSupport: "send-fails", server: null });
    assert.is(await d.command("AT+SMTPSEND"), "\r\n+SMTP: SERVER ERROR\r\n\r\nOK\r\n");
  } finally {
    d.close();
  }
  const strict = await fakeServer("+OK hi", (line) => (line.startsWith("USER") ? "-ERR no such user" : "+OK"));
  const login = modem();
  try {
    await run(login, [
      ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
      [`AT+POP3SRV="127.0.0.1","who","x",${strict.port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: INVALID UN\r\n\r\nOK\r\n"],
    ]);
  } finally {
    login.close();
    await strict.close();
  }
});

test("file system: a full drive, a storage card, FSMKDIR and FSDEL", async () => {
  await servers.deliver("files", noteMail(1));
  const full = modem({ fileSystem: { capacity: 1000 } });
  try {
    await run(full, [
      ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","files","files-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3GET=1", "\r\nOK\r\n"],
    ]);
    await full.expect("\r\n+POP3: FILE SYSTEM ERROR\r\n");
    assert.is(await full.command("AT+POP3NUM"), "\r\nERROR\r\n", "a file system error closes the session");
  } finally {
    full.close();
  }
  const card = modem({ fileSystem: { storageCard: true } });
  try {
    await run(card, [
      ["AT+FSLOCA?", "\r\n+FSLOCA: 0\r\n\r\nOK\r\n"],
      ["AT+FSLOCA=1", "\r\nOK\r\n"],
      ['AT+CGSOCKCONT=1,"IP","3GNET"', "\r\nOK\r\n"],
      [`AT+POP3SRV="pop3.server.com","files","files-pw",${servers.pop3Port}`, "\r\nOK\r\n"],
      ["AT+POP3IN", "\r\n+POP3: SUCCESS\r\n\r\nOK\r\n"],
      ["AT+POP3GET=1", "\r\nOK\r\n"],
    ]);
    await card.expect("\r\n+POP3: SUCCESS\r\nD:/Email/100202110457/, EMAIL000.TXT\r\n");
    await run(card, [
      ['AT+POP3READ=1,"100202110457/EMAIL000.TXT"', `\r\n${SAVED_TEXT}\r\nOK\r\n`],
      ['AT+FSMKDIR="Logs"', "\r\nOK\r\n"],
      ["AT+FSCD=Logs", "\r\n+FSCD: C:/Logs/\r\n\r\nOK\r\n"],
      ["AT+FSLS", "\r\nOK\r\n"],
      ["AT+FSCD=C:/", "\r\n+FSCD: C:/\r\n\r\nOK\r\n"],
      ["AT+FSLS=1", "\r\n+FSLS: SUBDIRECTORIES:\r\nLogs\r\n\r\nOK\r\n"],
      ['AT+FSDEL="Logs"', "\r\nOK\r\n"],
      ["AT+FSLS", "\r\nOK\r\n"],
      ["AT+FSCD=C:/Nowhere", "\r\nERROR\r\n"],
    ]);
  } finally {
    card.close();
  }
  const noCard = modem();
  try {
    assert.is(await noCard.command("AT+FSLOCA=1"), "\r\nERROR\r\n");
  } finally {
    noCard.close();
  }
});

test("sim7000-only commands are not in the classic dialect, and vice versa", async () => {
  const classic = modem();
  try {
    for (const line of ["AT+EMAILCID=0", "AT+SMTPFT=0", 'AT+SMTPCS="UTF-8"', "AT+POP3CMD=1", "AT+POP3UIDL=1", "AT+POP3RSET"]) {
      assert.is(await classic.command(line), "\r\nERROR\r\n", line);
    }
    assert.is(await classic.command("AT+SMTPSRV=?"), "\r\n+SMTPSRV: 64,(1-65535)\r\n\r\nOK\r\n");
    assert.is(await classic.command("AT+POP3SRV=?"), "\r\n+POP3SRV: 64,64,64,(1-65535)\r\n\r\nOK\r\n");
    assert.is(await classic.command("ATI"), "\r\nSIM5320E\r\n\r\nOK\r\n");
  } finally {
    classic.close();
  }
  const sim7000 = new SimDriver({ echo: false });
  try {
    for (const line of ["AT+FSCD=C:/", "AT+SMTPSTOP", "AT+POP3GET=1", 'AT+CGSOCKCONT=1,"IP","x"']) {
      assert.is(await sim7000.command(line), "\r\nERROR\r\n", line);
    }
  } finally {
    sim7000.close();
  }
});

test.run();
