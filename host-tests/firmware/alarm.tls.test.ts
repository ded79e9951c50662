// The alarm mailer's TLS configuration: an alarm mail over SMTPS and a command poll over STLS
// with requireSecureCredentials on a firmware that has AT+EMAILSSL; on a plain SIM7000 the
// same switch keeps the password off the wire and the event in the outbox.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import type { SimTlsOptions } from "../../sim/modem/modem.ts";
import { alarmConfig, setupAlarm } from "../kit/alarm-harness.ts";
import { readSettings } from "../../src/device/settings.ts";

let servers: MailServers;

/** The alarm rig with the mail over SMTPS (TLS 1.2), the poll over STLS and requireSecureCredentials. */
function setup(user: string, tls: Partial<SimTlsOptions>) {
  const defaults = alarmConfig(servers, user);
  const rig = setupAlarm(servers, user, {
    sim: { tls },
    record: true,
    config: {
      smtp: { ...defaults.smtp, port: servers.smtpsPort, security: "tls", tlsVersion: "tls1.2" },
      pop3: { ...defaults.pop3!, security: "starttls" },
      requireSecureCredentials: true,
    },
  });
  const sent = () => Buffer.concat(rig.transcript.filter((t) => t.dir === "tx").map((t) => Buffer.from(t.bytes))).toString("latin1");
  return { ...rig, sent };
}

const test = suite("tls: the alarm mailer with transport security");

test.before(async () => {
  servers = await startMailServers({ tls: true, users: mailUsers(["alarm", "ops", "ann", "ben"]) });
});
test.after(async () => {
  await servers.stop();
});

test("alarm mail over SMTPS (TLS 1.2) and the command poll over STLS, passwords only over TLS", async () => {
  const { app, door, steps, until } = setup("ann", { commands: true, ca: [servers.tls!.ca] });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `mail sent (${app.lastError})`);
  const [raw] = await servers.waitForMessages("ann", 1);
  assert.is((await simpleParser(raw)).subject, "Pump house: door: ALARM");
  assert.equal(servers.envelopes.at(-1)!.tls, { protocol: "TLSv1.2", servername: "mail.simmail.test" });
  assert.ok(await until(() => steps.includes("poll-done")), `commands polled over STLS (${app.lastError})`);
  assert.is(app.outbox.depth, 0);
  await app.stop();
});

test("requireSecureCredentials on a plain SIM7000: nothing sent, the password never reaches the modem, the event waits", async () => {
  const { app, door, steps, until, sent } = setup("ben", { commands: false });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => /refusing to send the SMTP password in clear text/.test(app.lastError ?? "")), `refused (${app.lastError})`);
  assert.match(app.lastError ?? "", /no AT\+EMAILSSL/);
  assert.is(app.outbox.depth, 1, "the event stays in the outbox");
  assert.not.match(sent(), /alarm-secret/, "no command carried the password");
  assert.is((await servers.messages("ben")).length, 0);
  await app.stop();
});

test("device settings: the security keys reach the app config, bad values name their key", () => {
  const base = {
    deviceId: "d1", siteName: "Site", smtpHost: "smtp.example.com", mailFrom: "a@example.com", mailTo: "b@example.com",
    modemDevice: "/tmp/simmail-modem", file: { root: "/tmp/" },
  };
  const app = readSettings({
    ...base, smtpSecurity: "tls", smtpPort: "465", smtpTlsVersion: "tls1.2", smtpSni: "smtp.example.com", requireSecureCredentials: "true",
    pop3Host: "pop.example.com", pop3User: "u", pop3Password: "p", pop3Security: "starttls", commandSecret: "0123456789abcdef0123", commandAllowlist: "ops@example.com",
  }).app;
  assert.is(app.smtp.security, "tls");
  assert.is(app.smtp.tlsVersion, "tls1.2");
  assert.is(app.smtp.sni, "smtp.example.com");
  assert.is(app.pop3!.security, "starttls");
  assert.is(app.requireSecureCredentials, true);
  const defaults = readSettings(base).app;
  assert.is(defaults.smtp.security, "none", "none unless set");
  assert.is(defaults.requireSecureCredentials, false);
  assert.throws(() => readSettings({ ...base, smtpSecurity: "ssl" }), /^config\.smtpSecurity: must be "none", "tls" or "starttls", not "ssl"$/);
  assert.throws(() => readSettings({ ...base, smtpTlsVersion: "1.2" }), /^config\.smtpTlsVersion: must be "ssl3\.0", "tls1\.0", "tls1\.1", "tls1\.2" or "all", not "1\.2"$/);
  assert.throws(() => readSettings({ ...base, requireSecureCredentials: "yes" }), /^config\.requireSecureCredentials: must be true or false/);
});

test.run();
