// Issue 14's settings bug, through the app: readSettings used to accept pdpContext 5 and
// smtpTimeoutSeconds 300; every SmtpClient.send then threw "bearer cid: 5 is outside 0-3", which
// did not count as needing a bring-up, so every alarm was retried with backoff for ever. Now the
// device refuses to start, naming the key, the range and where the range comes from; the same
// values handed to AlarmApp in code are refused before a byte reaches the modem; the top of both
// ranges, read from mc/config, gets an alarm out of the outbox; and a setting only the modem's
// probe can judge halts mail sending with its reason instead of retrying for ever.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { readSettings, SettingsError } from "../../src/device/settings.ts";
import { mcConfig } from "../device/mc-config.ts";
import { createUartPair } from "../kit/mock-uart.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import { AlarmApp } from "../../src/app/alarm.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SettableInput } from "../../src/host/platform.ts";
import { alarmConfig, setupAlarm } from "../kit/alarm-harness.ts";
import { MockFlash } from "../kit/mock-flash.ts";
import { mockPlatform } from "../kit/mock-platform.ts";

let servers: MailServers;

const test = suite("app: settings out of range never reach the modem");

test.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "eve", "fay", "gus"]) });
});
test.after(async () => {
  await servers.stop();
});

/** The lin build's mc/config pointed at the test servers, as `mcconfig ... key=value` would give it. */
function deviceConfig(user: string, overrides: Record<string, string>): Record<string, unknown> {
  return mcConfig("lin", {
    siteName: "Pump house", apn: "internet", skipNetworkTime: "true", heartbeatAt: "none", gatherMs: "200",
    smtpHost: "mail.simmail.test", smtpPort: String(servers.smtpPort), smtpUser: "alarm", smtpPassword: "alarm-secret",
    mailFrom: "alarm@simmail.test", mailTo: `${user}@simmail.test`,
    inputs: '[{"name":"door","pin":32,"alarmWhen":1}]',
    ...overrides,
  });
}

function refusal(run: () => unknown): SettingsError {
  try {
    run();
  } catch (error) {
    assert.instance(error, SettingsError);
    return error as SettingsError;
  }
  throw new assert.Assertion({ message: "accepted", generated: false, operator: "throws", expects: "a SettingsError", actual: "none" });
}

test("pdpContext 5 or smtpTimeoutSeconds 300 in mc/config: the device refuses to start, naming the key, the range and its source", () => {
  assert.is(
    refusal(() => readSettings(deviceConfig("eve", { pdpContext: "5" }))).message,
    'config.pdpContext: must be a whole number from 1 to 3 (AT+SAPBR profiles 1-3 within AT+EMAILCID 0-3, src/modem/limits.ts), not "5"',
  );
  assert.is(
    refusal(() => readSettings(deviceConfig("eve", { smtpTimeoutSeconds: "300" }))).message,
    'config.smtpTimeoutSeconds: must be a whole number from 10 to 120 (AT+EMAILTO, spec 3.2.2), not "300"',
  );
});

test("the same values in an AlarmConfig built in code: refused when the app is made, nothing written to the modem", () => {
  const base = alarmConfig(servers, "eve");
  const cases: Array<[Partial<typeof base>, string]> = [
    [{ modem: { ...base.modem, cid: 5 } }, "AlarmConfig.modem.cid (config.pdpContext): must be a whole number from 1 to 3 (AT+SAPBR profiles 1-3 within AT+EMAILCID 0-3, src/modem/limits.ts), not 5"],
    [{ smtp: { ...base.smtp, timeoutSeconds: 300 } }, "AlarmConfig.smtp.timeoutSeconds (config.smtpTimeoutSeconds): must be a whole number from 10 to 120 (AT+EMAILTO, spec 3.2.2), not 300"],
    [{ modem: { ...base.modem, timezoneQuarters: -48 } }, "AlarmConfig.modem.timezoneQuarters (config.timezoneOffsetMinutes): must be a multiple of 15 from -705 to 720 (AT+CNTP time zone -47 to 48 quarter hours, src/modem/limits.ts), not -720"],
    [{ pop3: { ...base.pop3!, windowSeconds: 1200 } }, "AlarmConfig.pop3.windowSeconds (config.commandWindowSeconds): must be a whole number from 30 to 600 (simmail's guard of 30 s, up to the 600 s the command ledger remembers nonces, src/app/command-ledger.ts), not 1200"],
  ];
  for (const [config, message] of cases) {
    const clock = new VirtualClock(1_000);
    const { host } = createUartPair({ scheduler: clock, baud: Infinity });
    const flash = new MockFlash();
    let attached = false;
    const platform = { ...mockPlatform({ host, clock, flash, crypto: nodeCrypto, inputs: { door: new SettableInput(0) } }), attachSerial: () => void (attached = true) };
    assert.is(refusal(() => new AlarmApp({ ...base, ...config }, platform)).message, message);
    assert.is(attached, false, "no engine was connected to the modem's serial line");
    assert.is(flash.writes, 0, "nothing was written to flash (not even the boot count)");
  }
});

test("pdpContext 3 and smtpTimeoutSeconds 120, the top of both ranges, from mc/config: the alarm leaves the outbox", async () => {
  const settings = readSettings(deviceConfig("fay", { pdpContext: "3", smtpTimeoutSeconds: "120" }));
  const { app, door, steps, until, transcript } = setupAlarm(servers, "fay", { config: settings.app, record: true });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `mail sent (${app.lastError})`);
  assert.is(app.outbox.depth, 0, "the alarm left the outbox");
  assert.is((await servers.waitForMessages("fay", 1)).length, 1);
  const sent = transcript.filter((t) => t.dir === "tx").map((t) => Buffer.from(t.bytes).toString("latin1")).join("");
  for (const command of ["AT+SAPBR=1,3", "AT+EMAILCID=3", "AT+EMAILTO=120"]) assert.ok(sent.includes(command), `${command} was sent`);
  await app.stop();
});

test("SMTP security tls on a firmware without AT+EMAILSSL, which only the probe finds: sending halts with the reason, is not retried, commands are still read", async () => {
  const base = alarmConfig(servers, "gus");
  const trace: string[] = [];
  const { app, door, steps, until } = setupAlarm(servers, "gus", {
    config: { smtp: { ...base.smtp, security: "tls" }, pop3: { ...base.pop3!, pollIntervalMs: 1_800_000 } },
    trace: (line) => trace.push(line),
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  door.level = 1;
  assert.ok(await until(() => app.status().sendingHalted !== ""), `sending halted (${app.lastError})`);
  assert.is(app.status().sendingHalted, 'security: "tls" needs AT+EMAILSSL, which this modem firmware lacks');
  assert.match(app.lastError, /^mail sending halted until the device restarts \(the events stay in the outbox\): security: "tls"/);
  const polls = steps.filter((step) => step === "poll-done").length;
  // Under the retry rule this was a failed mail every retry delay, for ever.
  await until(() => false, 3 * 3_600_000);
  assert.is(trace.filter((line) => /sending (failed|halted)/.test(line)).length, 1, "one attempt, no retries");
  assert.is(app.outbox.depth, 1, "the event stays in the outbox");
  assert.ok(steps.filter((step) => step === "poll-done").length >= polls + 5, "the command poll goes on");
  assert.is(app.status().pollingHalted, "");
  assert.is((await servers.messages("gus")).length, 0);
  await app.stop();
});

test.run();
