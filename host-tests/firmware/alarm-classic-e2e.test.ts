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

let servers: MailServers;

const classic = suite("app: the alarm mailer on the classic dialect");

classic.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "ops", "gus"]) });
});
classic.after(async () => {
  await servers.stop();
});

function setup(user: string) {
  const base = alarmConfig(servers, user);
  const lines: string[] = [];
  const rig = setupAlarm(servers, user, {
    sim: { dialect: "classic" },
    config: { modem: { ...base.modem, dialect: "classic" } },
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

classic.run();
