// The alarm mailer on the application note's classic dialect, through the one mail-dialect
// interface: the probe picks the dialect, which opens its own bearer (AT+CGSOCKCONT), sends
// the body inline on one line without the log attachment, and reads commands without UIDL.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SECRET, alarmConfig, setupAlarm } from "../kit/alarm-harness.ts";
import type { AlarmConfig } from "../../src/app/alarm-config.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";

let servers: MailServers;

const classic = suite("app: the alarm mailer on the classic dialect");

classic.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "ops", "gus", "hal", "ivy", "jim"]) });
});
classic.after(async () => {
  await servers.stop();
});

/** The app on a classic modem; `dialect: undefined` leaves it to the probe. */
function setup(user: string, options: { dialect?: "classic"; sim?: SimOptions; config?: Partial<AlarmConfig> } = { dialect: "classic" }) {
  const base = alarmConfig(servers, user);
  const lines: string[] = [];
  const rig = setupAlarm(servers, user, {
    sim: { dialect: "classic", ...options.sim },
    config: { modem: { ...base.modem, ...(options.dialect !== undefined ? { dialect: options.dialect } : {}) }, ...options.config },
    trace: (line) => lines.push(line),
  });
  return { ...rig, lines };
}

classic("an alarm goes out with its body on one line and no attachment; a signed DISARM is obeyed and deleted", async () => {
  const { app, door, steps, until, clock, lines } = setup("gus");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  assert.ok(lines.includes('> AT+CGSOCKCONT=1,"IP","internet","0.0.0.0",0,0'), "the classic dialect opened its socket context");
  assert.ok(lines.includes("> AT+SMTPSRV=?") && !lines.includes("> AT+SMTPFT=?"), "the probe asked the classic dialect's test commands");

  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `mail sent (${app.lastError})`);
  const mail = await simpleParser((await servers.waitForMessages("gus", 1))[0]);
  assert.is(mail.subject, "Pump house: door: ALARM");
  assert.match(mail.text ?? "", /^Pump house \(pump-house-1\) reports 1 event: \| +\| .*door: ALARM \| +\| Armed: yes\./);
  assert.is(mail.attachments.length, 0, "the log (bytes from flash) is not a modem file");
  assert.is(app.outbox.depth, 0, "the event left the outbox");

  const subject = signCommandSubject(nodeCrypto, secretFromText(SECRET), "pump-house-1", "DISARM", Math.floor(Date.now() / 1000));
  await servers.deliver("alarm", `From: ops@simmail.test\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <classic-disarm@x>\r\n\r\ncommand\r\n`);
  const polls = () => steps.filter((step) => step === "poll-done").length;
  const before = polls();
  clock.advance(60_000);
  assert.ok(await until(() => !app.armed && polls() > before), `DISARM obeyed (${app.lastError})`);
  assert.is(app.commandsObeyed, 1);
  assert.ok(lines.some((l) => l.startsWith("> AT+POP3HDR=1")) && !lines.some((l) => l.startsWith("> AT+POP3UIDL")), "headers read with POP3HDR, no UIDL asked");
  assert.is((await servers.messages("alarm")).length, 0, "the command mail was deleted");
  await app.stop();
});

classic("without a dialect configured the probe finds the classic one; a long inline body of many events goes out whole", async () => {
  const { app, door, steps, until, lines } = setup("hal", { config: { sender: { gatherMs: 120_000, heartbeatAtMinute: null, heartbeatIntervalMs: 7 * 86_400_000 } } });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  const probe = lines.filter((l) => /^> AT\+\w+=\?$/.test(l));
  assert.equal(probe, ["> AT+EMAILCID=?", "> AT+SMTPSRV=?", "> AT+POP3SRV=?"], "told apart by the test commands");
  assert.ok(lines.includes('> AT+CGSOCKCONT=1,"IP","internet","0.0.0.0",0,0'), "the classic dialect's bearer");
  const EVENTS = 40;
  for (let i = 1; i <= EVENTS; i++) {
    door.level = (i % 2) as 0 | 1;
    assert.ok(await until(() => app.outbox.depth === i, 10_000), `event ${i} logged (${app.lastError})`);
  }
  assert.ok(await until(() => steps.includes("mail-sent")), `mail sent (${app.lastError})`);
  const body = lines.find((l) => l.startsWith("> AT+SMTPBODY="))!;
  assert.ok(body.length > 1000, `a long inline body (${body.length} characters)`);
  const mail = await simpleParser((await servers.waitForMessages("hal", 1))[0]);
  assert.is(`> AT+SMTPBODY="${(mail.text ?? "").replace(/\r?\n$/, "")}"`, body, "the body arrives as the app wrote it");
  assert.match(mail.text ?? "", /reports 20 events: \| /, "a batch of 20, the sender policy's");
  assert.is((mail.text ?? "").match(/ {2}#\d+ {2}/g)?.length, 20, "every event of the batch in it");
  await app.stop();
});

classic("a command mail whose body has lines OK, ERROR, +POP3: SUCCESS, +SMTP: OK is read and obeyed; the next one too", async () => {
  const { app, steps, until, clock, lines } = setup("ivy");
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  const now = Math.floor(Date.now() / 1000);
  const disarm = signCommandSubject(nodeCrypto, secretFromText(SECRET), "pump-house-1", "DISARM", now);
  await servers.deliver("alarm", `From: ops@simmail.test\r\nTo: alarm@simmail.test\r\nSubject: ${disarm}\r\nMessage-ID: <look-alike@x>\r\n\r\nOK\r\nERROR\r\n+POP3: SUCCESS\r\n+SMTP: OK\r\n\r\nOK\r\n`);
  const arm = signCommandSubject(nodeCrypto, secretFromText(SECRET), "pump-house-1", "ARM", now + 1);
  await servers.deliver("alarm", `From: ops@simmail.test\r\nTo: alarm@simmail.test\r\nSubject: ${arm}\r\nMessage-ID: <after@x>\r\n\r\ncommand\r\n`);
  const polls = () => steps.filter((step) => step === "poll-done").length;
  const before = polls();
  clock.advance(60_000);
  assert.ok(await until(() => app.commandsObeyed === 2 && polls() > before), `both obeyed (${app.lastError})`);
  assert.ok(app.armed, "DISARM then ARM, in order");
  assert.ok(lines.includes("> AT+POP3HDR=1") && lines.includes("> AT+POP3HDR=2"), "both headers read through the text output");
  assert.is((await servers.messages("alarm")).length, 0, "both deleted");
  await app.stop();
});

classic("a failure result followed by ERROR keeps the result: the poll's login names INVALID UN/PWD", async () => {
  const base = alarmConfig(servers, "jim");
  const { app, steps, until, clock } = setup("jim", { dialect: "classic", sim: { quirks: { classicFailureError: true } }, config: { pop3: { ...base.pop3!, password: "wrong" } } });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  clock.advance(60_000);
  assert.ok(await until(() => /INVALID UN\/PWD/.test(String(app.lastError))), `the login's result (${app.lastError})`);
  assert.not.match(String(app.lastError), /refused AT\+POP3IN/);
  await app.stop();
});

classic.run();
