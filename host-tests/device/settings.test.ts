// Device settings (src/device/settings.ts) from the repo's manifest.json and board presets,
// merged the way mcconfig merges them, and from command-line overrides (always strings).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { describeSettings, readSettings, SECRET_KEYS, SettingsError } from "../../src/device/settings.ts";
import { COMMANDS, manifest, mcConfig, preset } from "./mc-config.ts";

function settingsError(config: Record<string, unknown>): SettingsError {
  try {
    readSettings(config);
  } catch (error) {
    assert.instance(error, SettingsError);
    return error as SettingsError;
  }
  throw new assert.Assertion({ message: "readSettings accepted the config", generated: false, operator: "throws", expects: "a SettingsError", actual: "none" });
}

const defaults = suite("device settings: the shipped manifest");

defaults("the LilyGO preset gives its pin map and the app defaults", () => {
  const settings = readSettings(mcConfig("esp32"));
  assert.equal(settings.serial, { baud: 115_200, port: 2, receive: 26, transmit: 27 });
  assert.equal(settings.powerKey, { pin: 4, activeLevel: 1, pulseMs: 1200 });
  assert.equal(settings.dtr, { pin: 25, awakeLevel: 0 });
  assert.equal(settings.led, { pin: 12, activeLevel: 0 });
  assert.equal(settings.inputPins.map((p) => p.pin), [32, 33, 18]);
  assert.is(settings.storageDirectory, "/simmail/");
  const app = settings.app;
  assert.is(app.deviceId, "simmail-1");
  assert.is(app.pop3, null, "remote commands are off until a POP3 server is set");
  assert.equal(app.smtp.to, [{ address: "operator@example.com" }]);
  assert.is(app.smtp.port, 587);
  assert.equal(app.modem, { dialect: "sim7000", cid: 1, ntpServer: "pool.ntp.org", timezoneQuarters: 0, skipTime: false, bootWindowMs: 20_000, baud: 115_200 }, "the serial's speed reaches the app: it sizes the POP3 reads");
  assert.equal(app.sender, {
    maxEventsPerMail: 20, gatherMs: 2000, retryBaseMs: 30_000, retryMaxMs: 1_800_000, jitter: 0.2,
    mailsPerHour: 10, heartbeatIntervalMs: 86_400_000, heartbeatAtMinute: 480, timezoneOffsetMinutes: 0,
  });
  assert.equal(app.inputs[2], { name: "Test", alarmWhen: 0, debounceMs: 50, test: true });
});

defaults("the generic preset has no PWRKEY or DTR and uses UART 2 on 16/17", () => {
  const settings = readSettings(mcConfig("esp32", {}, "generic-esp32"));
  assert.equal(settings.serial, { baud: 115_200, port: 2, receive: 16, transmit: 17 });
  assert.is(settings.powerKey, null);
  assert.is(settings.dtr, null);
  assert.equal(settings.led, { pin: 2, activeLevel: 1 });
});

defaults("on lin the modem is a device path and storage lives under /tmp", () => {
  const settings = readSettings(mcConfig("lin"));
  assert.equal(settings.serial, { baud: 115_200, device: "/tmp/simmail-modem" });
  assert.is(settings.powerKey, null);
  assert.is(settings.storageDirectory, "/tmp/simmail/");
  assert.is(settings.inputPins.length, 3);
});

defaults("board keys appear only in presets and under platforms.lin, so a preset is never overridden", () => {
  const boardKeys = Object.keys(preset("lilygo-t-sim7000g"));
  assert.equal(Object.keys(preset("generic-esp32")).sort(), [...boardKeys].sort());
  for (const key of boardKeys) assert.not.ok(key in manifest.config, `${key} is in the manifest's root config`);
});

defaults.run();

// ---------------------------------------------------------------------------------------------

const overrides = suite("device settings: overrides and errors");

overrides("command-line values arrive as strings and are converted", () => {
  const settings = readSettings(mcConfig("esp32", {
    smtpPort: "2525",
    skipNetworkTime: "true",
    mailTo: "a@example.org, b@example.org",
    mailCc: "c@example.org",
    mailFromName: "Pump house",
    smtpUser: "alarm",
    smtpPassword: "smtp-pw",
    apn: "internet",
    timezoneOffsetMinutes: "60",
    heartbeatAt: "none",
    retryJitter: "0.5",
    modemPowerKey: "-1",
    inputs: '[{"name":"Door","pin":32,"alarmWhen":1,"debounceMs":100,"alarmText":"Door open"}]',
    ...COMMANDS,
  }));
  const { smtp, modem, pop3, sender } = settings.app;
  assert.is(smtp.port, 2525);
  assert.equal(smtp.to.map((a) => a.address), ["a@example.org", "b@example.org"]);
  assert.equal(smtp.cc, [{ address: "c@example.org" }]);
  assert.equal(smtp.from, { address: "alarm@example.com", name: "Pump house" });
  assert.is(smtp.password, "smtp-pw");
  assert.is(modem.skipTime, true);
  assert.is(modem.apn, "internet");
  assert.is(modem.timezoneQuarters, 4);
  assert.is(sender?.heartbeatAtMinute, null);
  assert.is(sender?.jitter, 0.5);
  assert.is(settings.powerKey, null);
  assert.equal(settings.app.inputs, [{ name: "Door", alarmWhen: 1, debounceMs: 100, alarmText: "Door open" }]);
  assert.equal(settings.inputPins, [{ name: "Door", pin: 32, pull: "up" }]);
  assert.equal(pop3, {
    host: "pop.example.net", port: 110, user: "alarm", password: "pop-password-42", pollIntervalMs: 300_000, maxMailsPerPoll: 10, maxMailBytes: 65_536,
    allowlist: ["ops@example.net", "boss@example.net"], secret: COMMANDS.commandSecret, windowSeconds: 600, security: "none",
  });
});

overrides("mistakes are reported with the key and what it must be", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ smtpPort: "smtp" }, /^config\.smtpPort: must be a whole number from 1 to 65535 \(AT\+SMTPSRV port, spec 3\.2\.3\), not "smtp"$/],
    [{ modemUart: "0" }, /^config\.modemUart: must be a whole number from 1 to 2/],
    [{ mailTo: "" }, /^config\.mailTo: is required$/],
    [{ mailTo: " , " }, /^config\.mailTo: must name 1 to 5 addresses \(AT\+SMTPRCPT index 0-4, src\/modem\/limits\.ts\), not 0$/],
    [{ mailTo: "operator" }, /^config\.mailTo: "operator" is not an email address/],
    [{ skipNetworkTime: "yes" }, /^config\.skipNetworkTime: must be true or false/],
    [{ ...COMMANDS, commandMailsPerPoll: "0" }, /^config\.commandMailsPerPoll: must be a whole number from 1 to 100 \(simmail's guard: .*\), not "0"$/],
    [{ heartbeatAt: "8h" }, /^config\.heartbeatAt: must be a time of day as HH:MM or "none"/],
    [{ timezoneOffsetMinutes: "50" }, /multiple of 15/],
    [{ modemDialect: "sim800" }, /^config\.modemDialect: must be "sim7000" or "classic"/],
    [{ deviceId: "pump house" }, /^config\.deviceId: must be 1-64 of/],
    [{ statusLed: "26" }, /^config\.statusLed: GPIO 26 is already used by modemReceive/],
    [{ inputs: "door on 32" }, /^config\.inputs: must be a JSON array/],
    [{ inputs: '[{"name":"Door","pin":32,"alarmwhen":1}]' }, /^config\.inputs\[0\]: has an unknown field "alarmwhen"/],
    [{ inputs: '[{"name":"Door"}]' }, /^config\.inputs\[0\]\.pin: is required/],
    [{ inputs: '[{"name":"Door","pin":"x"}]' }, /^config\.inputs\[0\]\.pin: must be a GPIO number from 0 to 48 \(ESP32 GPIO numbers, up to 48 on the ESP32-S3\) or -1 for none, not "x"$/],
    [{ inputs: '[{"name":"Door","pin":32,"alarmWhen":"high"}]' }, /^config\.inputs\[0\]\.alarmWhen: must be a whole number from 0 to 1/],
    [{ inputs: '[{"pin":32}]' }, /^config\.inputs\[0\]\.name: is required/],
    [{ inputs: '[{"name":"Door","pin":32,"pull":"high"}]' }, /^config\.inputs\[0\]\.pull: must be "up", "down" or "none"/],
    [{ inputs: '[{"name":"A","pin":32},{"name":"B","pin":32}]' }, /^config\.inputs\[1\]\.pin: GPIO 32 is used by two inputs/],
    [{ storageDirectory: "../etc" }, /^config\.storageDirectory: must be a plain directory name/],
    [{ ...COMMANDS, commandSecret: "CHANGE-ME" }, /^config\.commandSecret: still holds the placeholder/],
    [{ ...COMMANDS, commandSecret: "short" }, /^config\.commandSecret: remote commands: the secret is 5 bytes long/],
    [{ ...COMMANDS, commandAllowlist: "" }, /^config\.commandAllowlist: must name at least one sender when pop3Host is set$/],
    [{ ...COMMANDS, pop3Password: "" }, /^config\.pop3Password: is required/],
  ];
  for (const [override, expected] of cases) {
    assert.match(settingsError(mcConfig("esp32", override)).message, expected, JSON.stringify(override));
  }
  const noRoot = mcConfig("lin");
  delete noRoot.file;
  assert.match(settingsError(noRoot).message, /^config\.file\.root: must be the file system root/);
});

overrides("secrets never appear in errors or in the settings description", () => {
  const secrets = { apnPassword: "apn-secret-1", smtpPassword: "smtp-secret-2", pop3Password: "pop3-secret-3", commandSecret: "command-secret-4-long-enough" };
  assert.equal(Object.keys(secrets).sort(), [...SECRET_KEYS].sort());
  const good = { ...COMMANDS, ...secrets, apn: "internet", apnUser: "web", smtpUser: "alarm" };
  const lines = describeSettings(readSettings(mcConfig("esp32", good))).join("\n");
  assert.match(lines, /SMTP smtp\.example\.com:587 as alarm/);
  assert.match(lines, /remote commands: POP3 pop\.example\.net:110 as alarm every 300 s/);
  for (const secret of Object.values(secrets)) assert.not.ok(lines.includes(secret), "the description shows no secret");
  // A secret of the wrong type is reported without its value.
  const error = settingsError({ ...mcConfig("esp32", good), smtpPassword: { value: secrets.smtpPassword } });
  assert.is(error.message, "config.smtpPassword: must be text, not (secret)");
  const short = settingsError(mcConfig("esp32", { ...good, commandSecret: "tiny-secret" }));
  assert.not.ok(short.message.includes("tiny-secret"));
});

overrides.run();
