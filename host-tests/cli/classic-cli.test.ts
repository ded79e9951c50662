// The CLI against a modem of the application note's classic dialect (issue #18), as a user runs
// it: bin/simmail as a process, the simulator on a real pty in its own process. No --dialect:
// the probe tells the dialect. The note's longest subject and body, mail text that looks like
// results, attachments from a folder, failure results followed by ERROR.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { simpleParser } from "mailparser";
import { runSimmail as simmail, startSimulator, type SimProcess } from "../kit/cli-process.ts";
import { pop3Query, seededBytes } from "../kit/sim-support.ts";

type Info = SimProcess["info"] & { smtp: { address: string }; pop3: { address: string } };

const PHOTO = seededBytes(4000, 18);
const LOOKALIKE_TEXT = "before\r\nOK\r\nERROR\r\n+POP3: SUCCESS\r\n+SMTP: OK\r\n+POP3: SERVER ERROR\r\nafter\r\n";

const cli = suite("CLI: a classic-dialect modem, found by the probe");
let sim: SimProcess<Info>;
let files: string;

cli.before(async () => {
  files = mkdtempSync(join(tmpdir(), "simmail-classic-files-"));
  writeFileSync(join(files, "photo.jpg"), PHOTO);
  sim = await startSimulator<Info>("simmail-classic-cli-", ["--dialect", "classic", "--file", `C:/Picture/20100202_100006.jpg=${join(files, "photo.jpg")}`]);
  const transport = createTransport({ host: sim.info.smtp.address, port: sim.info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: "alarm-secret" } });
  await transport.sendMail({
    envelope: { from: "ops@simmail.test", to: ["carol@simmail.test"] },
    raw: `From: ops@simmail.test\r\nTo: carol@simmail.test\r\nSubject: look-alikes\r\n\r\n${LOOKALIKE_TEXT}`,
  });
  transport.close();
});

cli.after(async () => {
  await sim.stop();
  rmSync(files, { recursive: true, force: true });
});

const smtp = () => `${sim.info.smtp.host}:${sim.info.smtp.port}`;
const pop3 = () => `${sim.info.pop3.host}:${sim.info.pop3.port}`;
const sendArgs = (to: string, subject: string, body: string) => ["send", "--port", sim.port, "--apn", "internet", "--smtp", smtp(), "--user", "alarm", "--from", "alarm@simmail.test", "--to", `${to}@simmail.test`, "--subject", subject, "--body", body];

/** The mail `n` of `user` as the server holds it. */
async function stored(user: string, n: number) {
  const [answer] = await pop3Query(sim.info.pop3.port, user, `${user}-secret`, [{ command: `RETR ${n}`, multi: true }]);
  const message = answer.slice(answer.indexOf("\r\n") + 2, -3).replace(/^\.\./gm, ".");
  return simpleParser(Buffer.from(message, "latin1"));
}

cli("probe without --dialect finds the classic dialect by its test commands; --dialect still names it", async () => {
  const found = await simmail(["probe", "--port", sim.port]);
  assert.is(found.status, 0, found.stderr);
  assert.match(found.stdout, /^email:\s+classic dialect \(found by its test commands\); subject ≤ 512, body ≤ 5120/m);
  const json = JSON.parse((await simmail(["probe", "--port", sim.port, "--json"])).stdout);
  assert.equal([json.email.dialect, json.email.detected], ["classic", true]);
  const named = await simmail(["probe", "--port", sim.port, "--dialect", "classic"]);
  assert.match(named.stdout, /^email:\s+classic dialect \(as --dialect says\)/m);
});

cli("send without --dialect: a 512-character subject and a 5120-character body arrive whole and read back whole", async () => {
  const subject = `${"S".repeat(511)}!`;
  const body = `${"b".repeat(5119)}.`;
  const sent = await simmail(sendArgs("dave", subject, body), "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /sent to 1 recipient/);
  const mail = await stored("dave", 1);
  assert.is(mail.subject, subject);
  assert.is((mail.text ?? "").replace(/\r?\n$/, ""), body);

  const out = join(sim.work, "long.txt");
  const read = await simmail(["inbox", "--port", sim.port, "--apn", "internet", "--pop3", pop3(), "--user", "dave", "read", "1", "--out", out], "dave-secret");
  assert.is(read.status, 0, read.stderr);
  assert.ok(readFileSync(out, "latin1").endsWith(`\r\n\r\n${body}\r\n`), "the body line whole");
});

cli("a subject, body or attachment over the note's limits is refused before any mail command is written", async () => {
  for (const [args, message] of [
    [sendArgs("dave", "s".repeat(513), "b"), /refused: subject: is 513 characters long; this modem takes at most 512 \(nothing was sent to the modem\)/],
    [sendArgs("dave", "s", "b".repeat(5121)), /refused: body: is 5121 characters long; this modem takes at most 5120 \(nothing was sent to the modem\)/],
    [[...sendArgs("dave", "s", "b"), "--attach", "C:/My Pictures/x.jpg"], /refused: attachment 1: "C:\/My Pictures\/x\.jpg": the folder must start at a drive .*AT\+FSCD takes it unquoted \(nothing was sent to the modem\)/],
  ] as Array<[string[], RegExp]>) {
    const run = await simmail([...args, "--verbose"], "alarm-secret");
    assert.is(run.status, 1, run.stderr);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /^> AT\+SMTPSRV=\?$/m, "the probe ran");
    assert.not.match(run.stderr, /^> AT\+(?:SMTP[A-Z]*|FSCD)(?:=(?!\?)|$)/m, "no mail command went to the modem");
  }
});

cli("inbox read: body lines OK, ERROR, +POP3: SUCCESS, +SMTP: OK are mail text, byte for byte", async () => {
  const out = join(sim.work, "lookalikes.txt");
  const read = await simmail(["inbox", "--port", sim.port, "--apn", "internet", "--pop3", pop3(), "--user", "carol", "read", "1", "--out", out], "carol-secret");
  assert.is(read.status, 0, read.stderr);
  const text = readFileSync(out, "latin1");
  assert.ok(text.endsWith(`Subject: look-alikes\r\n\r\n${LOOKALIKE_TEXT}`), JSON.stringify(text));
  const shown = await simmail(["inbox", "--port", sim.port, "--apn", "internet", "--pop3", pop3(), "--user", "carol", "read", "1"], "carol-secret");
  assert.is(shown.status, 0, shown.stderr);
  assert.is(shown.stdout, LOOKALIKE_TEXT.replace(/\r\n/g, "\n"));
});

cli("send --attach C:/Picture/<name>: AT+FSCD selects the folder, AT+SMTPFILE the name; the picture arrives whole", async () => {
  const sent = await simmail([...sendArgs("bob", "picture", "attached"), "--attach", "C:/Picture/20100202_100006.jpg", "--verbose"], "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.match(sent.stderr, /^> AT\+FSCD=C:\/Picture\n< \+FSCD: C:\/Picture\/\n(?:< OK\n)?> AT\+SMTPFILE=1,"20100202_100006\.jpg"$/m);
  const mail = await stored("bob", 1);
  assert.is(mail.attachments.length, 1);
  assert.is(mail.attachments[0].filename, "20100202_100006.jpg");
  assert.ok(mail.attachments[0].content.equals(PHOTO), "the picture whole");

  const missing = await simmail([...sendArgs("bob", "s", "b"), "--attach", "C:/Nope/x.jpg"], "alarm-secret");
  assert.is(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /the modem has no folder C:\/Nope \(AT\+FSCD answered ERROR\)/);
});

cli.run();

const strict = suite("CLI: a classic modem whose failure results are followed by ERROR");
let failing: SimProcess<Info>;

strict.before(async () => {
  failing = await startSimulator<Info>("simmail-classic-error-", ["--dialect", "classic", "--classic-failure-error"]);
});

strict.after(() => failing.stop());

strict("the result line is the message, not the ERROR after it: +SMTP: NETWORK ERROR, +POP3: INVALID UN/PWD", async () => {
  // No --apn: the socket context was never set, so the send fails before a session.
  const send = await simmail(["send", "--port", failing.port, "--smtp", `${failing.info.smtp.host}:${failing.info.smtp.port}`, "--user", "alarm",
    "--from", "alarm@simmail.test", "--to", "bob@simmail.test", "--subject", "s", "--body", "b"], "alarm-secret");
  assert.is(send.status, 2, send.stderr);
  assert.match(send.stderr, /NETWORK ERROR/);
  assert.not.match(send.stderr, /refused AT\+SMTPSEND/);
  const login = await simmail(["inbox", "--port", failing.port, "--apn", "internet", "--pop3", `${failing.info.pop3.host}:${failing.info.pop3.port}`, "--user", "bob", "list"], "wrong");
  assert.is(login.status, 2, login.stderr);
  assert.match(login.stderr, /INVALID UN\/PWD/);
  assert.not.match(login.stderr, /refused AT\+POP3IN/);
});

strict.run();
