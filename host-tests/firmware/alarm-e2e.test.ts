// The alarm mailer end to end: AlarmApp on the mock flash, the mock UART, the simulated
// SIM7000 and the real mail servers, in virtual time that waits for the servers (alarm-harness.ts).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SECRET, alarmConfig, setupAlarm } from "../kit/alarm-harness.ts";

let servers: MailServers;
const setup = (user: string) => setupAlarm(servers, user);

const e2e = suite("app: the alarm mailer end to end");

e2e.before(async () => {
  servers = await startMailServers({
    users: mailUsers(["alarm", "ops", "ann", "ben", "cid", "dan", "eve"]),
  });
});
e2e.after(async () => {
  await servers.stop();
});

e2e("an input edge becomes an alarm mail with the day's log attached", async () => {
  const { app, door, steps, until } = setup("ann");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `mail sent (${app.lastError})`);
  const [raw] = await servers.waitForMessages("ann", 1);
  const mail = await simpleParser(raw);
  assert.is(mail.subject, "Pump house: door: ALARM", "the input's default text already says ALARM");
  assert.is(mail.attachments.length, 1);
  assert.match(mail.attachments[0].content.toString("utf8"), /door: ALARM/);
  assert.is(app.outbox.depth, 0, "delivered events left the outbox");
  await app.stop();
});

e2e("an input with its own texts: the alarm subject puts ALARM in front, the all-clear subject is the text alone", async () => {
  const { app, door, steps, until } = setupAlarm(servers, "eve", {
    config: { pop3: null, inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50, alarmText: "Door opened", normalText: "Door closed" }] },
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => app.mailsSent === 1), `alarm mail sent (${app.lastError})`);
  door.level = 0;
  assert.ok(await until(() => app.mailsSent === 2), `all-clear mail sent (${app.lastError})`);
  const subjects = await Promise.all((await servers.waitForMessages("eve", 2)).map(async (raw) => (await simpleParser(raw)).subject));
  assert.equal(subjects, ["Pump house: ALARM: Door opened", "Pump house: Door closed"]);
  await app.stop();
});

e2e("a modem reset and a bearer drop in the middle of a send: the mail goes out after recovery", async () => {
  const { app, door, sim, steps, until } = setup("ben");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")));
  // The modem restarts while the mail is on its way, then the network drops the bearer.
  sim.setFaults({
    triggers: [
      { command: "AT+SMTPSEND", action: "reset" },
      // Counted only once the reset has fired: the next send meets the bearer drop.
      { command: "AT+SMTPSEND", action: "drop-bearer" },
    ],
  });
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `sent after recovery (${app.lastError})`);
  const delivered = await servers.waitForMessages("ben", 1);
  assert.is(delivered.length, 1);
  assert.ok(steps.filter((s) => s === "modem-ready").length >= 3, `the modem was brought up again after each fault (${steps.join(", ")})`);
  await app.stop();
});

e2e("a signed DISARM from an allowed sender is obeyed once, deleted and answered; forged, bad, stale and replayed ones are refused", async () => {
  const { app, steps, until, clock } = setup("cid");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")));
  const now = Math.floor(Date.now() / 1000);
  const secret = secretFromText(SECRET);
  const good = signCommandSubject(nodeCrypto, secret, "pump-house-1", "DISARM", now);
  const mails = [
    ["ops@simmail.test", good],
    ["ops@simmail.test", good], // replayed
    ["mallory@evil.test", signCommandSubject(nodeCrypto, secret, "pump-house-1", "DISARM", now)], // forged sender
    ["ops@simmail.test", signCommandSubject(nodeCrypto, secretFromText("another secret of enough length"), "pump-house-1", "ARM", now)], // bad token
    ["ops@simmail.test", signCommandSubject(nodeCrypto, secret, "pump-house-1", "ARM", now - 7200)], // stale
  ];
  for (const [from, subject] of mails) {
    await servers.deliver("alarm", `From: ${from}\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@x>\r\n\r\ncommand\r\n`);
  }
  assert.ok(app.armed);
  clock.advance(0);
  assert.ok(await until(() => steps.includes("poll-done")), `polled (${app.lastError})`);
  assert.not.ok(app.armed, "DISARM obeyed");
  assert.is(app.commandsObeyed, 1, "obeyed exactly once");
  assert.is(app.commandsRefused, 4, "replayed, forged, bad and stale refused");
  assert.is((await servers.messages("alarm")).length, 0, "every command mail deleted");
  assert.ok(await until(() => steps.includes("mail-sent")), "answered with a status mail");
  const [answer] = await servers.waitForMessages("cid", 1);
  assert.match((await simpleParser(answer)).text ?? "", /Armed: no/);
  await app.stop();
});

e2e("maxMailsPerPoll below 1 is refused when the app is made (a poll that reads nothing would spin)", () => {
  for (const maxMailsPerPoll of [0, -1, 1.5]) {
    const base = alarmConfig(servers, "dan");
    assert.throws(() => setupAlarm(servers, "dan", { config: { pop3: { ...base.pop3!, maxMailsPerPoll } } }), /^AlarmConfig\.pop3\.maxMailsPerPoll \(config\.commandMailsPerPoll\): must be a whole number from 1 to 100 /);
  }
});

e2e("a DELE that fails after the verdict (the modem restarts at AT+POP3DEL) loses no command: obeyed once, the mail read again refused", async () => {
  const { app, sim, steps, until, clock } = setup("ann");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")));
  const subject = signCommandSubject(nodeCrypto, secretFromText(SECRET), "pump-house-1", "DISARM", Math.floor(Date.now() / 1000));
  await servers.deliver("alarm", `From: ops@simmail.test\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <dele-fault@x>\r\n\r\ncommand\r\n`);
  // The nonce is in the ledger once the mail is verified; the modem restarts before it deletes the mail.
  sim.setFaults({ triggers: [{ command: "AT+POP3DEL", action: "reset" }] });
  assert.ok(app.armed);
  clock.advance(0);
  assert.ok(await until(() => app.commandsRefused === 1 && steps.filter((s) => s === "poll-done").length >= 2), `the mail was read again (${app.lastError})`);
  assert.not.ok(app.armed, "DISARM obeyed although its DELE failed");
  assert.is(app.commandsObeyed, 1, "obeyed exactly once");
  assert.is((await servers.messages("alarm")).length, 0, "deleted on the second read");
  await app.stop();
});

e2e("a flood of 35 junk mails: a poll reads at most 10, an alarm raised mid-poll goes out before the rest are read, and every mail is handled", async () => {
  // Virtual time stands still while the servers answer, so a poll takes almost none of it:
  // the edge must count and the mail be due at once to fall inside the first poll.
  const base = alarmConfig(servers, "dan");
  const { app, door, steps, until } = setupAlarm(servers, "dan", {
    config: { inputs: [{ name: "door", alarmWhen: 1, debounceMs: 1 }], sender: { ...base.sender, gatherMs: 0 } },
  });
  const refusedAtPollEnd: number[] = [];
  const record = app.onProgress;
  app.onProgress = (step) => {
    record?.(step);
    if (step === "poll-done") refusedAtPollEnd.push(app.commandsRefused);
  };
  const FLOOD = 35;
  for (let i = 0; i < FLOOD; i++) {
    await servers.deliver("alarm", `From: mallory@evil.test\r\nTo: alarm@simmail.test\r\nSubject: junk ${i}\r\nMessage-ID: <flood-${i}@evil.test>\r\n\r\nbuy now\r\n`);
  }
  void app.start();
  assert.ok(await until(() => app.commandsRefused >= 2), `the first poll is under way (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `alarm mail sent (${app.lastError})`);
  const [raw] = await servers.waitForMessages("dan", 1);
  assert.is((await simpleParser(raw)).subject, "Pump house: door: ALARM");
  assert.ok(app.commandsRefused < 10, `the alarm went out before the first poll's ten mails were read (${app.commandsRefused} read)`);
  assert.is((await servers.messages("alarm")).length, FLOOD - app.commandsRefused, "the unread mails wait in the mailbox");

  assert.ok(await until(() => app.commandsRefused === FLOOD && (refusedAtPollEnd.at(-1) ?? 0) === FLOOD), `every junk mail handled (${app.lastError})`);
  const perPoll = refusedAtPollEnd.map((total, i) => total - (refusedAtPollEnd[i - 1] ?? 0));
  assert.ok(perPoll.every((n) => n <= 10), `at most 10 mails a poll: ${perPoll.join(", ")}`);
  assert.is(perPoll.slice(1).filter((n) => n > 0).length, Math.ceil((FLOOD - perPoll[0]) / 10), `the rest read in full polls of ten, one right after another: ${perPoll.join(", ")}`);
  assert.is((await servers.messages("alarm")).length, 0, "every junk mail deleted");
  assert.is(app.commandsObeyed, 0);
  await app.stop();
});

e2e.run();
