// Commands out of signing order, through the alarm mailer: an ARM signed at T+120 and then a
// DISARM signed at T, both valid and in one poll. The DISARM would leave the device disarmed
// against the newer order: it is refused as out of order (logged, deleted), the ARM stands.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { alarmConfig, setupAlarm } from "../../kit/alarm-harness.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import { nodeCrypto } from "../../../src/host/crypto.ts";

const HMAC_SECRET = "order test hmac secret 0123456789";
const OPS = "ops@simmail.test";

const test = suite("hostile order: an older DISARM does not undo a newer ARM");

let servers: MailServers;
test.before(async () => {
  servers = await startMailServers({ users: [{ name: "alarm", password: "alarm-pw", address: "alarm@simmail.test" }, { name: "ops", password: "ops-pw", address: OPS }] });
});
test.after(() => servers.stop());

test("ARM signed at T+120 obeyed, then DISARM signed at T refused out of order; the device stays armed", async () => {
  const defaults = alarmConfig(servers, "ops");
  const trace: string[] = [];
  const { app, steps, until } = setupAlarm(servers, "ops", {
    trace: (text) => trace.push(text),
    config: {
      smtp: { ...defaults.smtp, user: "alarm", password: "alarm-pw", to: [{ address: OPS }] },
      pop3: { ...defaults.pop3!, user: "alarm", password: "alarm-pw", allowlist: [OPS], secret: HMAC_SECRET },
    },
  });
  const sign = (command: string, at: number) => signCommandSubject(nodeCrypto, secretFromText(HMAC_SECRET), defaults.deviceId, command, at);
  const now = Math.floor(Date.now() / 1000);
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${sign("DISARM", now - 60)}\r\nMessage-ID: <first@x>\r\n\r\nfirst, to be disarmed\r\n`);
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${sign("ARM", now + 120)}\r\nMessage-ID: <arm@x>\r\n\r\narm\r\n`);
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${sign("DISARM", now)}\r\nMessage-ID: <old@x>\r\n\r\nan older disarm\r\n`);
  void app.start();
  assert.ok(await until(() => steps.includes("poll-done")), `polled (${app.lastError})`);
  assert.is(app.commandsObeyed, 2, trace.join("\n"));
  assert.is(app.status().armed, true, "the newer ARM stands");
  assert.equal(trace.filter((line) => /^command (mail refused:|[A-Z]+ from)/.test(line)), ["command DISARM from ops@simmail.test", "command ARM from ops@simmail.test", "command mail refused: out-of-order"]);
  assert.is((await servers.messages("alarm")).length, 0, "every mail deleted");
  let stopped = false;
  const stopping = app.stop().then(() => (stopped = true));
  await until(() => stopped);
  await stopping;
});

test.run();
