// The sim7000 dialect against the spec: the transcripts of sections 5.2-5.7 (server names
// pointing at the local servers) byte for byte, server-dependent values (sizes, UIDs, mail
// text) checked against what the real servers report; test, read and write forms.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type AddressObject } from "mailparser";
import { readSession } from "../../kit/transcript.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import { dotStuff, fakeServer, pop3Query, suiteMailServers } from "../../kit/sim-support.ts";

const test = suite("sim: sim7000 dialect, spec transcripts");

const USERS = ["john", "mary", "peter", "anna", "otto", "ines", "karl", "lena", "nils", "rosa"];
const rig = suiteMailServers(test, USERS, "mail.sim.com");
const modem = rig.modem;

async function run(d: SimDriver, transcript: Array<[string, string]>): Promise<void> {
  for (const [line, reply] of transcript) assert.is(await d.command(line), reply, line);
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (value === undefined) return "";
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(", ");
}

/** Spec 5.5-5.7 start: settings, log in. */
async function login(d: SimDriver, user: string): Promise<void> {
  await run(d, [
    ["AT+EMAILCID=0", "\r\nOK\r\n"],
    ["AT+EMAILTO=30", "\r\nOK\r\n"],
    [`AT+POP3SRV="mail.sim.com","${user}","${user}-pw",${rig.servers.pop3Port}`, "\r\nOK\r\n"],
    ["AT+POP3IN", "\r\nOK\r\n"],
  ]);
  await d.expect("\r\n+POP3IN: 1\r\n");
}

/** AT+POP3READ=<chunk> until status 2; checks every reply's framing; returns the data. */
async function readAll(d: SimDriver, expected: string, chunk = 1460): Promise<void> {
  let offset = 0;
  for (;;) {
    const rest = expected.length - offset;
    const n = Math.min(chunk, rest);
    const status = n === rest ? 2 : 1;
    d.send(`AT+POP3READ=${chunk}\r`);
    await d.expect(`\r\n+POP3READ: ${status},${n}\r\n${expected.slice(offset, offset + n)}\r\nOK\r\n`);
    offset += n;
    if (status === 2) return;
  }
}

const MAIL_A = [
  "From: Alarm Panel <alarm@example.net>",
  "To: mary <mary@simmail.test>",
  "Subject: Daily status report",
  "Date: Wed, 26 Dec 2018 10:36:49 +0800",
  "",
  ...Array.from({ length: 120 }, (_, i) => `10:${String(i % 60).padStart(2, "0")}:${String(i).padStart(2, "0")} zone ${i % 8} temperature ${19 + (i % 5)}.${i % 10} C`),
  ".hidden line that starts with a dot",
  "..two leading dots",
  ".",
  "OK",
  "+POP3READ: 3,10",
  "End of report.",
  "",
].join("\r\n");

const MAIL_B = "From: bob@example.net\r\nSubject: second\r\n\r\nshort one\r\n";

test("5.2 send an email", async () => {
  const d = modem();
  try {
    await run(d, [
      ["AT+EMAILCID=0", "\r\nOK\r\n"],
      ["AT+EMAILTO=30", "\r\nOK\r\n"],
      [`AT+SMTPSRV="mail.sim.com",${rig.servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"john","john-pw"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="john@simmail.test","john"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"john@simmail.test","john"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=1,0,"john@simmail.test","john"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=2,0,"john@simmail.test","john"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="Test"', "\r\nOK\r\n"],
    ]);
    d.send("AT+SMTPBODY=19\r");
    await d.expect("\r\nDOWNLOAD\r\n");
    d.send("This is a new Email");
    await d.expect("\r\nOK\r\n");
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\nOK\r\n");
    await d.expect("\r\n+SMTPSEND: 1\r\n");
    const [raw] = await rig.servers.waitForMessages("john", 1);
    const mail = await simpleParser(raw);
    assert.is(addressText(mail.from), '"john" <john@simmail.test>');
    assert.is(addressText(mail.to), '"john" <john@simmail.test>');
    assert.is(addressText(mail.cc), '"john" <john@simmail.test>');
    assert.is(mail.bcc, undefined);
    assert.is(mail.subject, "Test");
    assert.is(mail.text, "This is a new Email\n");
    assert.match(raw.toString("latin1"), /^Date: Sun, 6 Jan 1980 00:00:00 \+0000\r\n/, "dated by the modem clock");
    const envelope = rig.servers.envelopes.at(-1)!;
    // The modem sends RCPT TO for To, Cc and Bcc alike; smtp-server folds repeated addresses.
    assert.equal([...new Set(envelope.to)], ["john@simmail.test"]);
    assert.is(envelope.authUser, "john");
  } finally {
    d.close();
  }
});

test("5.3 the kit's recorded send-with-attachment session replays byte for byte", async () => {
  const session = readSession("sim7000-send-attachment");
  const d = new SimDriver({ hosts: { "mail.sim.com": "127.0.0.1" } });
  const adapt = (text: string) => text
    .replace('"mail.sim.com",25', `"mail.sim.com",${rig.servers.smtpPort}`)
    .replace('"john","123456"', '"otto","otto-pw"')
    .replace(/john@sim\.com/g, "otto@simmail.test");
  try {
    let attachment = "";
    let previous = "";
    for (const block of session.blocks) {
      if (block.kind === "wait") continue;
      const text = Buffer.from(block.bytes).toString("latin1");
      if (block.kind === "host") {
        const sent = adapt(text);
        if (previous.startsWith("AT+SMTPFT=100")) attachment = sent;
        d.send(sent);
        previous = sent;
      } else {
        await d.expect(text);
      }
    }
    const [raw] = await rig.servers.waitForMessages("otto", 1);
    const mail = await simpleParser(raw);
    assert.is(mail.subject, "Test");
    assert.is(mail.attachments.length, 1);
    assert.is(mail.attachments[0].filename, "test.txt");
    assert.is(mail.attachments[0].contentType, "text/plain");
    assert.is(mail.attachments[0].content.toString("latin1"), attachment);
    assert.match(raw.toString("latin1"), /Content-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment; filename="test.txt"\r\n\r\nAlarm log, panel 7\r\n/);
  } finally {
    d.close();
  }
});

test("5.4 send a UTF-8 email: subject and body in hex", async () => {
  const d = modem();
  try {
    await run(d, [
      ["AT+EMAILCID=0", "\r\nOK\r\n"],
      ["AT+EMAILTO=30", "\r\nOK\r\n"],
      ['AT+SMTPCS="UTF-8"', "\r\nOK\r\n"],
      [`AT+SMTPSRV="mail.sim.com",${rig.servers.smtpPort}`, "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"ines","ines-pw"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="ines@simmail.test","ines"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"ines@simmail.test","ines"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="54455354"', "\r\nOK\r\n"],
    ]);
    d.send("AT+SMTPBODY=40\r");
    await d.expect("\r\nDOWNLOAD\r\n");
    d.send("38546869732069732061206E657720456D61696C");
    await d.expect("\r\nOK\r\n");
    d.send("AT+SMTPSEND\r");
    await d.expect("\r\nOK\r\n\r\n+SMTPSEND: 1\r\n");
    const [raw] = await rig.servers.waitForMessages("ines", 1);
    const mail = await simpleParser(raw);
    assert.is(mail.subject, "TEST");
    assert.is(mail.text, "8This is a new Email");
    assert.match(raw.toString("latin1"), /Content-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n/);
  } finally {
    d.close();
  }
});

test("5.5 retrieve an email: sizes from the server, POP3READ data is the dot-stuffed RETR answer", async () => {
  await rig.servers.deliver("mary", MAIL_A);
  await rig.servers.deliver("mary", MAIL_B);
  const stored = await rig.servers.messages("mary");
  const total = stored.reduce((sum, m) => sum + m.length, 0);
  const d = modem();
  try {
    await login(d, "mary");
    assert.is(await d.command("AT+POP3NUM"), "\r\nOK\r\n");
    await d.expect(`\r\n+POP3NUM: 1,2,${total}\r\n`);
    assert.is(await d.command("AT+POP3LIST=1"), "\r\nOK\r\n");
    await d.expect(`\r\n+POP3LIST: 1,1,${stored[0].length}\r\n`);
    assert.is(await d.command("AT+POP3CMD=4,1"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    const [retr] = await pop3Query(rig.servers.pop3Port, "mary", "mary-pw", [{ command: "RETR 1", multi: true }]);
    const expected = `${dotStuff(stored[0]).toString("latin1")}.\r\n`;
    assert.is(retr.slice(retr.indexOf("\r\n") + 2), expected, "what Dovecot sends after its +OK line");
    assert.ok(expected.length > 2 * 1460, "the mail takes three reads, as in the spec");
    await readAll(d, expected);
    assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3OUT: 1\r\n");
  } finally {
    d.close();
  }
});

test("5.6 delete an email", async () => {
  await rig.servers.deliver("peter", MAIL_B);
  await rig.servers.deliver("peter", MAIL_A);
  const before = await rig.servers.messages("peter");
  const d = modem();
  try {
    await login(d, "peter");
    assert.is(await d.command("AT+POP3NUM"), "\r\nOK\r\n");
    await d.expect(`\r\n+POP3NUM: 1,2,${before[0].length + before[1].length}\r\n`);
    assert.is(await d.command("AT+POP3DEL=1"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3DEL: 1\r\n");
    assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3OUT: 1\r\n");
    const after = await rig.servers.messages("peter");
    assert.equal(after, [before[1]], "the server deleted mail 1 at logout");
  } finally {
    d.close();
  }
});

test("5.7 size and unique-id: the UID on the line after +POP3UIDL: 1,1,", async () => {
  await rig.servers.deliver("anna", MAIL_A);
  const [uidl, list] = await pop3Query(rig.servers.pop3Port, "anna", "anna-pw", [{ command: "UIDL 1" }, { command: "LIST 1" }]);
  const uid = uidl.trim().split(" ")[2];
  const size = list.trim().split(" ")[2];
  const d = modem();
  try {
    await login(d, "anna");
    assert.is(await d.command("AT+POP3LIST=1"), "\r\nOK\r\n");
    await d.expect(`\r\n+POP3LIST: 1,1,${size}\r\n`);
    assert.is(await d.command("AT+POP3UIDL=1"), "\r\nOK\r\n");
    await d.expect(`\r\n+POP3UIDL: 1,1,\r\n${uid}\r\n`);
    assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3OUT: 1\r\n");
  } finally {
    d.close();
  }
  const plain = modem({ quirks: { uidlOnNextLine: false } });
  try {
    await login(plain, "anna");
    assert.is(await plain.command("AT+POP3UIDL=1"), "\r\nOK\r\n");
    await plain.expect(`\r\n+POP3UIDL: 1,1,${uid}\r\n`);
  } finally {
    plain.close();
  }
});

test("test commands report the limits", async () => {
  const d = modem();
  try {
    await run(d, [
      ["AT+EMAILCID=?", "\r\n+EMAILCID: (0-3)\r\n\r\nOK\r\n"],
      ["AT+EMAILTO=?", "\r\n+EMAILTO: (10-120)\r\n\r\nOK\r\n"],
      ["AT+SMTPSRV=?", "\r\n+SMTPSRV: 64,(1-65535)\r\n\r\nOK\r\n"],
      ["AT+SMTPAUTH=?", "\r\n+SMTPAUTH: (0-1),64,64\r\n\r\nOK\r\n"],
      ["AT+SMTPFROM=?", "\r\n+SMTPFROM: 64,64\r\n\r\nOK\r\n"],
      ["AT+SMTPRCPT=?", "\r\n+SMTPRCPT: (0-2),(0-4),64,64\r\n\r\nOK\r\n"],
      ["AT+SMTPSUB=?", "\r\n+SMTPSUB: 512\r\n\r\nOK\r\n"],
      ["AT+SMTPBODY=?", "\r\n+SMTPBODY: 5120\r\n\r\nOK\r\n"],
      ["AT+SMTPFILE=?", "\r\n+SMTPFILE: (0-2),64,(0-1)\r\n\r\nOK\r\n"],
      ["AT+SMTPSEND=?", "\r\nOK\r\n"],
      ["AT+SMTPFT=?", "\r\nOK\r\n"],
      ["AT+SMTPCS=?", "\r\n+SMTPCS: 16\r\n\r\nOK\r\n"],
      ["AT+POP3SRV=?", "\r\n+POP3SRV: 64,64,64,(1-65535)\r\n\r\nOK\r\n"],
      ["AT+POP3IN=?", "\r\nOK\r\n"],
      ["AT+POP3NUM=?", "\r\nOK\r\n"],
      ["AT+POP3LIST=?", "\r\n+POP3LIST: (1-65535)\r\n\r\nOK\r\n"],
      ["AT+POP3UIDL=?", "\r\n+POP3UIDL: (1-65535)\r\n\r\nOK\r\n"],
      ["AT+POP3CMD=?", "\r\n+POP3CMD: (1-4),(1-65535),(0-65535)\r\n\r\nOK\r\n"],
      ["AT+POP3READ=?", "\r\n+POP3READ: (1-1460)\r\n\r\nOK\r\n"],
      ["AT+POP3DEL=?", "\r\n+POP3DEL: (1-65535)\r\n\r\nOK\r\n"],
      ["AT+POP3RSET=?", "\r\nOK\r\n"],
      ["AT+POP3OUT=?", "\r\nOK\r\n"],
    ]);
  } finally {
    d.close();
  }
  const small = modem({ limits: { subject: 200, body: 2048, recipientsPerType: 8, pop3Read: 1024 } });
  try {
    await run(small, [
      ["AT+SMTPSUB=?", "\r\n+SMTPSUB: 200\r\n\r\nOK\r\n"],
      ["AT+SMTPBODY=?", "\r\n+SMTPBODY: 2048\r\n\r\nOK\r\n"],
      ["AT+SMTPRCPT=?", "\r\n+SMTPRCPT: (0-2),(0-7),64,64\r\n\r\nOK\r\n"],
      ["AT+POP3READ=?", "\r\n+POP3READ: (1-1024)\r\n\r\nOK\r\n"],
    ]);
  } finally {
    small.close();
  }
});

test("read commands show the settings, with their defaults first", async () => {
  const d = modem();
  try {
    await run(d, [
      ["AT+EMAILCID?", "\r\n+EMAILCID: 0\r\n\r\nOK\r\n"],
      ["AT+EMAILTO?", "\r\n+EMAILTO: 30\r\n\r\nOK\r\n"],
      ["AT+SMTPSRV?", '\r\n+SMTPSRV: "",25\r\n\r\nOK\r\n'],
      ["AT+SMTPAUTH?", '\r\n+SMTPAUTH: 0,"",""\r\n\r\nOK\r\n'],
      ["AT+SMTPFILE?", '\r\n+SMTPFILE: 0,"",0\r\n\r\nOK\r\n'],
      ["AT+SMTPCS?", '\r\n+SMTPCS: "ASCII"\r\n\r\nOK\r\n'],
      ["AT+SMTPRCPT?", "\r\nOK\r\n"],
      ["AT+POP3SRV?", '\r\n+POP3SRV: "","","",110\r\n\r\nOK\r\n'],
      ["AT+EMAILCID=1", "\r\nOK\r\n"],
      ["AT+EMAILTO=45", "\r\nOK\r\n"],
      ['AT+SMTPSRV="smtp.example.com"', "\r\nOK\r\n"],
      ['AT+SMTPAUTH=1,"user","secret"', "\r\nOK\r\n"],
      ['AT+SMTPFROM="a@example.com"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=2,1,"c@example.com","C"', "\r\nOK\r\n"],
      ['AT+SMTPRCPT=0,0,"b@example.com"', "\r\nOK\r\n"],
      ['AT+SMTPSUB="Hello, world"', "\r\nOK\r\n"],
      ['AT+SMTPFILE=2,"photo.jpg",1', "\r\nOK\r\n"],
      ['AT+POP3SRV="pop.example.com","u","p"', "\r\nOK\r\n"],
      ["AT+EMAILCID?", "\r\n+EMAILCID: 1\r\n\r\nOK\r\n"],
      ["AT+EMAILTO?", "\r\n+EMAILTO: 45\r\n\r\nOK\r\n"],
      ["AT+SMTPSRV?", '\r\n+SMTPSRV: "smtp.example.com",25\r\n\r\nOK\r\n'],
      ["AT+SMTPAUTH?", '\r\n+SMTPAUTH: 1,"user","secret"\r\n\r\nOK\r\n'],
      ["AT+SMTPFROM?", '\r\n+SMTPFROM: "a@example.com",""\r\n\r\nOK\r\n'],
      ["AT+SMTPRCPT?", '\r\n+SMTPRCPT: 0,0,"b@example.com",""\r\n+SMTPRCPT: 2,1,"c@example.com","C"\r\n\r\nOK\r\n'],
      ["AT+SMTPSUB?", '\r\n+SMTPSUB: "Hello, world"\r\n\r\nOK\r\n'],
      ["AT+SMTPFILE?", '\r\n+SMTPFILE: 2,"photo.jpg",1\r\n\r\nOK\r\n'],
      ["AT+POP3SRV?", '\r\n+POP3SRV: "pop.example.com","u","p",110\r\n\r\nOK\r\n'],
      // Deleting recipients: one item, then all of a type.
      ['AT+SMTPRCPT=2,0,"d@example.com"', "\r\nOK\r\n"],
      ["AT+SMTPRCPT=2,1", "\r\nOK\r\n"],
      ["AT+SMTPRCPT?", '\r\n+SMTPRCPT: 0,0,"b@example.com",""\r\n+SMTPRCPT: 2,0,"d@example.com",""\r\n\r\nOK\r\n'],
      ["AT+SMTPRCPT=2", "\r\nOK\r\n"],
      ["AT+SMTPRCPT?", '\r\n+SMTPRCPT: 0,0,"b@example.com",""\r\n\r\nOK\r\n'],
    ]);
  } finally {
    d.close();
  }
});

test("write commands refuse what the spec rules out", async () => {
  const d = modem();
  try {
    const refused = [
      "AT+EMAILCID=4",
      "AT+EMAILTO=9",
      'AT+SMTPSRV=""',
      `AT+SMTPSRV="${"s".repeat(65)}"`,
      'AT+SMTPSRV="mail.sim.com",0',
      'AT+SMTPSRV="mail.sim.com",65536',
      'AT+SMTPAUTH=0,"user","pw"',
      'AT+SMTPAUTH=1,"user"',
      "AT+SMTPAUTH=2",
      'AT+SMTPRCPT=3,0,"a@b"',
      'AT+SMTPRCPT=0,5,"a@b"',
      `AT+SMTPSUB="${"x".repeat(513)}"`,
      "AT+SMTPBODY=5121",
      'AT+SMTPFILE=1,"a.txt",1',
      'AT+SMTPFILE=2,"a.bin",0',
      "AT+SMTPFILE=1",
      'AT+SMTPFILE=0,"a.txt",0',
      "AT+SMTPFT=10",
      'AT+POP3SRV="mail.sim.com","user"',
      "AT+POP3NUM",
      "AT+POP3READ=100",
      "AT+POP3READ=1461",
      "AT+POP3CMD=1,1",
      "AT+POP3CMD=3,1",
      "AT+POP3OUT",
      "AT+SMTPSEND",
    ];
    for (const line of refused) assert.is(await d.command(line), "\r\nERROR\r\n", line);
    // A non-ASCII charset wants hex: a plain subject is refused, a bad hex body too (after DOWNLOAD).
    assert.is(await d.command('AT+SMTPCS="UTF-8"'), "\r\nOK\r\n");
    assert.is(await d.command('AT+SMTPSUB="Test"'), "\r\nERROR\r\n");
    assert.is(await d.command('AT+SMTPSUB="546573"'), "\r\nOK\r\n");
    d.send("AT+SMTPBODY=3\r");
    await d.expect("\r\nDOWNLOAD\r\n");
    d.send("ABC");
    await d.expect("\r\nERROR\r\n");
  } finally {
    d.close();
  }
});

test("POP3CMD listings and TOP pass the server's multi-line answers through", async () => {
  await rig.servers.deliver("karl", MAIL_A);
  await rig.servers.deliver("karl", MAIL_B);
  const answers = await pop3Query(rig.servers.pop3Port, "karl", "karl-pw", [
    { command: "LIST", multi: true },
    { command: "UIDL", multi: true },
    { command: "TOP 1 3", multi: true },
  ]);
  const d = modem();
  try {
    await login(d, "karl");
    for (const [line, answer] of [["AT+POP3CMD=1", answers[0]], ["AT+POP3CMD=2", answers[1]], ["AT+POP3CMD=3,1,3", answers[2]]]) {
      assert.is(await d.command(line), "\r\nOK\r\n");
      await d.expect("\r\n+POP3CMD: 1\r\n");
      await readAll(d, answer.slice(answer.indexOf("\r\n") + 2), 100);
    }
  } finally {
    d.close();
  }
});

test("unread POP3READ data holds the line: everything but POP3READ and POP3OUT gets ERROR", async () => {
  await rig.servers.deliver("lena", MAIL_A);
  const d = modem();
  try {
    await login(d, "lena");
    assert.is(await d.command("AT+POP3CMD=4,1"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    for (const line of ["AT", "AT+CSQ", "AT+POP3NUM", 'AT+SMTPSUB="x"']) assert.is(await d.command(line), "\r\nERROR\r\n", line);
    assert.match(await d.command("AT+POP3READ=10"), /^\r\n\+POP3READ: 1,10\r\n/);
    // Logging out in the middle of an answer is allowed and ends the session normally.
    assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3OUT: 1\r\n");
    assert.is(await d.command("AT"), "\r\nOK\r\n");
  } finally {
    d.close();
  }
});

test("negative answers: no such message, RSET undoes DELE", async () => {
  await rig.servers.deliver("nils", MAIL_B);
  const d = modem();
  try {
    await login(d, "nils");
    for (const [line, result] of [
      ["AT+POP3LIST=9", "+POP3LIST: 0"],
      ["AT+POP3UIDL=9", "+POP3UIDL: 0"],
      ["AT+POP3DEL=9", "+POP3DEL: 0"],
      ["AT+POP3CMD=4,9", "+POP3CMD: 0"],
      ["AT+POP3CMD=3,9,0", "+POP3CMD: 0"],
      ["AT+POP3DEL=1", "+POP3DEL: 1"],
      ["AT+POP3RSET", "+POP3RSET: 1"],
    ]) {
      assert.is(await d.command(line), "\r\nOK\r\n", line);
      await d.expect(`\r\n${result}\r\n`);
    }
    assert.is(await d.command("AT+POP3READ=100"), "\r\nERROR\r\n", "no answer to read after +POP3CMD: 0");
    assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3OUT: 1\r\n");
    assert.is((await rig.servers.messages("nils")).length, 1, "RSET kept the mail");
  } finally {
    d.close();
  }
});

test("negative STAT and RSET answers (a scripted server), with the spec's +POP3REST spelling", async () => {
  const server = await fakeServer("+OK ready", (line) => {
    if (line.startsWith("USER") || line.startsWith("PASS")) return "+OK";
    if (line === "QUIT") return "+OK bye";
    return "-ERR not today";
  });
  for (const [quirk, negative] of [[true, "+POP3REST: 0"], [false, "+POP3RSET: 0"]] as const) {
    const d = modem({ quirks: { rsetNegativeSpelling: quirk } });
    try {
      await run(d, [[`AT+POP3SRV="127.0.0.1","u","p",${server.port}`, "\r\nOK\r\n"], ["AT+POP3IN", "\r\nOK\r\n"]]);
      await d.expect("\r\n+POP3IN: 1\r\n");
      assert.is(await d.command("AT+POP3NUM"), "\r\nOK\r\n");
      await d.expect("\r\n+POP3NUM: 0\r\n");
      assert.is(await d.command("AT+POP3RSET"), "\r\nOK\r\n");
      await d.expect(`\r\n${negative}\r\n`);
      assert.is(await d.command("AT+POP3OUT"), "\r\nOK\r\n");
      await d.expect("\r\n+POP3OUT: 1\r\n");
    } finally {
      d.close();
    }
  }
  await server.close();
});

test("options: the +OK status line in the data, an extra CRLF before OK", async () => {
  await rig.servers.deliver("rosa", MAIL_B);
  const d = modem({ pop3: { statusLine: true, readExtraCrlf: true } });
  try {
    await login(d, "rosa");
    assert.is(await d.command("AT+POP3CMD=4,1"), "\r\nOK\r\n");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    const [retr] = await pop3Query(rig.servers.pop3Port, "rosa", "rosa-pw", [{ command: "RETR 1", multi: true }]);
    d.send("AT+POP3READ=1460\r");
    await d.expect(`\r\n+POP3READ: 2,${retr.length}\r\n${retr}\r\n\r\nOK\r\n`);
  } finally {
    d.close();
  }
});

test.run();
