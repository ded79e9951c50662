// Secrets in received lines: the simulated modem keeps echo on whatever ATE0 says and sends each
// command's echo after its reply (as modems do after a wake), so the echo of AT+POP3SRV or
// AT+SMTPAUTH, password inside, reaches the engine when no command it could be the echo of is in
// flight. The alarm mailer, its AT trace on, brings the modem up, sends an alarm and polls the
// command mailbox through it: the mail goes out, the command is obeyed, and the trace holds the
// echoed lines with every configured secret masked, never the secrets themselves.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { alarmConfig, setupAlarm } from "../../kit/alarm-harness.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import { nodeCrypto } from "../../../src/host/crypto.ts";

const MAIL_PASSWORD = "S3cret-Pop3-pw";
const HMAC_SECRET = "late-echo hmac secret 0123456789";
const OPS = "ops@simmail.test";

const test = suite("hostile traces: a late echo never puts a password in the app's trace");

let servers: MailServers;
test.before(async () => {
  servers = await startMailServers({ users: [{ name: "alarm", password: MAIL_PASSWORD, address: "alarm@simmail.test" }, { name: "ops", password: "ops-pw", address: OPS }] });
});
test.after(() => servers.stop());

test("each echo a command late: the alarm is mailed, the command obeyed, the secrets masked in the echoed lines", async () => {
  const defaults = alarmConfig(servers, "ops");
  const trace: string[] = [];
  const { app, door, steps, until } = setupAlarm(servers, "ops", {
    sim: { faults: { lateEcho: true } },
    trace: (text) => trace.push(text),
    config: {
      smtp: { ...defaults.smtp, user: "alarm", password: MAIL_PASSWORD, to: [{ address: OPS }] },
      pop3: { ...defaults.pop3!, user: "alarm", password: MAIL_PASSWORD, allowlist: [OPS], secret: HMAC_SECRET },
    },
  });
  const subject = signCommandSubject(nodeCrypto, secretFromText(HMAC_SECRET), defaults.deviceId, "STATUS", Math.floor(Date.now() / 1000));
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${subject}\r\n\r\nstatus\r\n`);
  void app.start();
  assert.ok(await until(() => steps.includes("poll-done")), `polled (${app.lastError})\n${trace.slice(-20).join("\n")}`);
  door.level = 1;
  assert.ok(await until(() => app.mailsSent >= 2), `the status answer and the alarm were mailed (${app.lastError})`);
  assert.is(app.commandsObeyed, 1);
  const echoed = trace.filter((line) => /AT\+(POP3SRV|SMTPAUTH)=/.test(line));
  assert.ok(echoed.length >= 2, `the commands with passwords are in the trace:\n${echoed.join("\n")}`);
  const all = trace.join("\n");
  for (const secret of [MAIL_PASSWORD, HMAC_SECRET]) assert.not.ok(all.includes(secret), `"${secret}" in the trace:\n${echoed.join("\n")}`);
  assert.ok(echoed.some((line) => line.includes("*".repeat(MAIL_PASSWORD.length))), "the password shown masked");
  let stopped = false;
  const stopping = app.stop().then(() => (stopped = true));
  await until(() => stopped);
  await stopping;
});

test.run();
