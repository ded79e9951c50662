// Interrupted and failed sessions leave the modem usable (issue 16): simmail run as a user runs
// it, signalled in the middle of a transfer, against the simulator in its own process on a pty
// with the field's session behaviour (simmail sim: an abandoned send holds the modem 40 s, an
// abandoned POP3 session 60 s). And the modem's clock, which dates the mail.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { runSimmail as simmail, startSimmail, startSimulator, type SimInfo, type SimProcess } from "../kit/cli-process.ts";

const test = suite("CLI: interrupted sessions and the modem clock");

let sim: SimProcess;
let info: SimInfo;
let work: string;
let port: string;
let attachment: string;

test.before(async () => {
  sim = await startSimulator("simmail-sessions-");
  ({ info, work, port } = sim);
  attachment = join(work, "big.bin");
  writeFileSync(attachment, randomBytes(2 * 1024 * 1024));
});
test.after(() => sim.stop());

const smtp = () => `${info.smtp.host}:${info.smtp.port}`;
const pop3 = () => `${info.pop3.host}:${info.pop3.port}`;
const sendArgs = (subject: string, extra: string[] = []) => ["send", "--port", port, "--apn", "internet", "--smtp", smtp(), "--user", "alarm",
  "--from", "alarm@simmail.test", "--to", "bob@simmail.test", "--subject", subject, "--body", "text", ...extra];
const inboxArgs = (...rest: string[]) => ["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", ...rest];

async function subjects(): Promise<string[]> {
  const list = await simmail(inboxArgs("list"), "bob-secret");
  assert.is(list.status, 0, list.stderr);
  return list.stdout.trim() === "no mail" ? [] : list.stdout.trim().split("\n").map((line) => line.split("\t")[4]);
}

test("the first send sets the unset modem clock from the host's, says so once, and the mail's Date header is now (not 1980)", async () => {
  const before = Date.now();
  const sent = await simmail(sendArgs("dated"), "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.is(sent.stderr.match(/has no network time/g)?.length, 1, `said once: ${sent.stderr}`);
  assert.match(sent.stderr, /its clock read 1980-01-06/);
  const out = join(work, "dated.eml");
  const read = await simmail(inboxArgs("read", "1", "--out", out), "bob-secret");
  assert.is(read.status, 0, read.stderr);
  const mail = await simpleParser(readFileSync(out));
  assert.is(mail.subject, "dated");
  const date = mail.date!.getTime();
  assert.ok(Math.abs(date - before) < 120_000, `Date ${mail.date!.toISOString()} is within 2 min of the host clock`);
  const again = await simmail(sendArgs("dated again"), "alarm-secret");
  assert.is(again.status, 0, again.stderr);
  assert.not.match(again.stderr, /network time/, "a set clock is kept without a word");
  const deleted = await simmail(inboxArgs("delete", "1"), "bob-secret");
  assert.is(deleted.status, 0, deleted.stderr);
  assert.is((await simmail(inboxArgs("delete", "1"), "bob-secret")).status, 0);
});

test("SIGINT in the middle of an attachment: exit 130 with a message, the session ended, nothing sent, and the next send works at once", async () => {
  const run = startSimmail(sendArgs("interrupted", ["--attach", attachment, "--verbose"]), "alarm-secret");
  await run.stderrLines(/^> AT\+SMTPFT=\d+$/, 20);
  run.child.kill("SIGINT");
  const result = await run.done;
  assert.is(result.status, 130, result.stderr.slice(-3000));
  assert.match(result.stderr, /simmail: interrupted \(SIGINT\): the send stopped; the modem's SMTP session was ended; nothing was sent/);
  const started = Date.now();
  const next = await simmail(sendArgs("after the interrupt"), "alarm-secret");
  assert.is(next.status, 0, next.stderr);
  assert.ok(Date.now() - started < 15_000, "at once, not after the modem gave the old mail up");
  assert.equal(await subjects(), ["after the interrupt"], "the interrupted mail never went out");
});

test("SIGTERM while inbox read --out streams a mail: exit 143, no .eml and no partial file left, and the inbox works at once", async () => {
  const sent = await simmail(sendArgs("big", ["--attach", attachment]), "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  const out = join(work, "big.eml");
  const run = startSimmail(inboxArgs("read", "2", "--out", out, "--verbose"), "bob-secret");
  await run.stderrLines(/^> AT\+POP3READ=\d+$/, 20);
  run.child.kill("SIGTERM");
  const result = await run.done;
  assert.is(result.status, 143, result.stderr.slice(-3000));
  assert.match(result.stderr, /interrupted \(SIGTERM\): the inbox session stopped; logged out of POP3/);
  assert.not.ok(existsSync(out), "no mail under the name given");
  assert.equal(readdirSync(work).filter((name) => name.includes("big.eml")), [], "no temporary file left");
  const started = Date.now();
  assert.equal(await subjects(), ["after the interrupt", "big"]);
  assert.ok(Date.now() - started < 15_000, "at once");
  const read = await simmail(inboxArgs("read", "2", "--out", out), "bob-secret");
  assert.is(read.status, 0, read.stderr);
  assert.ok(existsSync(out), "a whole read writes the file");
});

test("a modem left counting body bytes by a run that died (AT+SMTPBODY=<n>, then nothing): the next send pays them and goes out", async () => {
  writeFileSync(port, "AT+SMTPBODY=3000\r"); // as a run killed right after the line
  await new Promise((r) => setTimeout(r, 300));
  const sent = await simmail(sendArgs("after a dead body"), "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.ok((await subjects()).includes("after a dead body"));
});

test("a send a killed run left in the modem: the next send names it and how long it lasts", async () => {
  const run = startSimmail(sendArgs("killed", ["--attach", attachment, "--verbose"]), "alarm-secret");
  await run.stderrLines(/^> AT\+SMTPFT=\d+$/, 10);
  run.child.kill("SIGKILL");
  await run.done;
  const next = await simmail(sendArgs("while held"), "alarm-secret");
  assert.is(next.status, 2, next.stderr);
  assert.match(next.stderr, /the modem refused AT\+SMTPSEND: ERROR: the modem still holds the mail of an earlier send that was interrupted; a SIM7000 gives it up 30-45 s later/);
});

test("a session a killed run left in the modem is named, with how long it lasts, instead of 'does not answer'", async () => {
  const reading = startSimmail(inboxArgs("read", "2", "--verbose"), "bob-secret");
  await reading.stderrLines(/^> AT\+POP3READ=\d+$/, 5);
  reading.child.kill("SIGKILL");
  await reading.done;
  const list = await simmail(inboxArgs("list"), "bob-secret");
  assert.is(list.status, 2, list.stderr);
  assert.match(list.stderr, /answers ERROR to every command, AT too: it still holds a POP3 answer an interrupted inbox left unread; a SIM7000 ends that session about 60 s later/);
  assert.not.match(list.stderr, /does not answer/);
});

test.run();
