// The settings schema (src/app/settings-schema.ts) through mc/config: every key at the bounds
// of its range and one past them, every choice, a value its text rule refuses, generated from
// the schema itself; then hand-written cases that pin the rules that matter to where they come
// from (the spec, the modem's limits), so a wrong rule fails here and not on a device.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { INPUT_FIELDS, SETTINGS, type Setting } from "../../src/app/settings-schema.ts";
import { readValue } from "../../src/app/settings-values.ts";
import { readSettings, SettingsError } from "../../src/device/settings.ts";
import { edges, type RefusedEdge } from "../kit/setting-edges.ts";
import { COMMANDS, manifest, mcConfig, preset } from "./mc-config.ts";

/** Keys another key must switch on before they can be judged (test-side: a new such key fails below until listed). */
const CONTEXT: Record<string, Record<string, unknown>> = {
  smtpTlsVersion: { smtpSecurity: "tls" },
  smtpSni: { smtpSecurity: "tls" },
  pop3TlsVersion: { ...COMMANDS, pop3Security: "tls" },
  pop3Sni: { ...COMMANDS, pop3Security: "tls" },
  smtpUser: { smtpPassword: "pw" },
  pop3Host: COMMANDS,
  // Required on a UART only: "none" (-1) is judged with a device path instead.
  modemReceive: { modemDevice: "/dev/ttyS1" },
  modemTransmit: { modemDevice: "/dev/ttyS1" },
};

function refusal(config: Record<string, unknown>): string | null {
  try {
    readSettings(config);
    return null;
  } catch (error) {
    assert.instance(error, SettingsError);
    return (error as Error).message;
  }
}

function checkRefused(label: string, key: string, edge: RefusedEdge, message: string | null): void {
  const what = `${label}=${JSON.stringify(edge.value)} (${edge.note})`;
  assert.ok(message !== null, `${what} was accepted`);
  assert.ok(message.startsWith(`config.${key}: `), `${what}: "${message}" names another key`);
  if (edge.range !== undefined) {
    const { min, max, source } = edge.range;
    for (const part of [String(min), String(max), source]) assert.ok(message.includes(part), `${what}: "${message}" does not state ${part}`);
  }
}

const generated = suite("settings schema: every key at its bounds and one past them, in mc/config");

generated("every key of the table, by its own rule", () => {
  let cases = 0;
  for (const rule of SETTINGS) {
    const { accepted, refused } = edges(rule);
    const base = mcConfig("esp32", CONTEXT[rule.key] ?? {});
    for (const edge of accepted) {
      const message = refusal({ ...base, [rule.key]: edge.value });
      assert.is(message, null, `${rule.key}=${JSON.stringify(edge.value)} (${edge.note}) refused: ${message}`);
      cases++;
    }
    for (const edge of refused) {
      checkRefused(rule.key, rule.key, edge, refusal({ ...base, [rule.key]: edge.value }));
      cases++;
    }
  }
  assert.ok(cases > 200, `${cases} cases`);
});

generated("numbers in their JSON form too (the manifest's), not only as text", () => {
  for (const rule of SETTINGS.filter((s) => s.type === "integer")) {
    const { min, max } = rule.range!;
    assert.is(refusal(mcConfig("esp32", { [rule.key]: max })), null, `${rule.key}=${max}`);
    assert.ok(refusal(mcConfig("esp32", { [rule.key]: min - (rule.step ?? 1) })) !== null, `${rule.key}=${min - 1}`);
  }
});

generated("every field of an input entry, by its own rule", () => {
  for (const rule of INPUT_FIELDS) {
    const { accepted, refused } = edges(rule);
    const entry = (value: string) => mcConfig("esp32", { inputs: JSON.stringify([{ name: "Door", pin: 32, [rule.key]: rule.type === "text" || rule.type === "choice" ? value : JSON.parse(value) }]) });
    for (const edge of accepted) {
      const message = refusal(entry(edge.value));
      assert.is(message, null, `inputs[0].${rule.key}=${edge.value} (${edge.note}) refused: ${message}`);
    }
    for (const edge of refused) {
      if (!isJson(edge.value) && rule.type !== "text" && rule.type !== "choice") continue; // "1.5x" is no JSON value
      checkRefused(`inputs[0].${rule.key}`, `inputs[0].${rule.key}`, edge, refusal(entry(edge.value)));
    }
  }
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

generated("every default passes its own rule; every key of the manifest and presets is in the table and documented", () => {
  const check = (rule: Setting) => {
    if (rule.default !== undefined && rule.default !== null) readValue(rule, rule.default);
  };
  SETTINGS.forEach(check);
  INPUT_FIELDS.forEach(check);
  const keys = new Set(SETTINGS.map((s) => s.key));
  const shipped = { ...manifest.config, ...manifest.platforms.lin.config, ...preset("lilygo-t-sim7000g"), ...preset("generic-esp32") };
  for (const key of Object.keys(shipped)) assert.ok(keys.has(key), `${key} (shipped) is not in the schema`);
  const guide = readFileSync(join(import.meta.dirname, "..", "..", "docs", "DEVICE.md"), "utf8");
  for (const key of keys) assert.ok(guide.includes(`\`${key}\``), `${key} is not in docs/DEVICE.md`);
});

generated.run();

// ---------------------------------------------------------------------------------------------

const pinned = suite("settings schema: the ranges, written out from the spec and the modem's limits");

/** [key, accepted values, refused values, what the refusal must say]: independent of the table. */
const EXPECTED: Array<[string, unknown[], unknown[], RegExp]> = [
  // The bug of issue 14: readSettings took pdpContext 5 and smtpTimeoutSeconds 300, and every mail was refused by the modem layer.
  ["pdpContext", [1, 2, 3], [0, 4, 5, 16], /^config\.pdpContext: must be a whole number from 1 to 3 \(AT\+SAPBR profiles 1-3 within AT\+EMAILCID 0-3, src\/modem\/limits\.ts\), not \d+$/],
  ["smtpTimeoutSeconds", [10, 30, 120], [5, 9, 121, 300, 600], /^config\.smtpTimeoutSeconds: must be a whole number from 10 to 120 \(AT\+EMAILTO, spec 3\.2\.2\), not \d+$/],
  ["smtpPort", [1, 25, 587, 65_535], [0, 65_536], /from 1 to 65535 \(AT\+SMTPSRV port, spec 3\.2\.3\)/],
  ["pop3Port", [1, 110, 65_535], [0, 65_536], /from 1 to 65535 \(AT\+POP3SRV port, spec 3\.2\.13\)/],
  // AT+CNTP takes -47..48 quarter hours: UTC-12:00 (-720) was accepted before and failed every bring-up.
  ["timezoneOffsetMinutes", [-705, -60, 0, 330, 720], [-720, 735, 50, -710], /^config\.timezoneOffsetMinutes: must be a multiple of 15 from -705 to 720 \(AT\+CNTP time zone -47 to 48 quarter hours/],
  ["modemBaud", [300, 115_200, 4_000_000], [299, 4_000_001], /from 300 to 4000000 \(the span of the SIM7000's AT\+IPR rates/],
  // The ledger keeps nonces 600 s: a wider window was accepted before and stopped the app at start.
  ["commandWindowSeconds", [30, 600], [29, 601, 1200], /from 30 to 600 \(.*the 600 s the command ledger remembers nonces/],
  ["commandMailsPerPoll", [1, 100], [0, 101], /from 1 to 100/],
  ["deviceId", ["a", "x".repeat(64), "pump-house_1.b"], ["x".repeat(65), "pump house", "a|b"], /^config\.deviceId: must be (1 to 64 characters long|1-64 of A-Z a-z 0-9 \. _ -)/],
  ["mailTo", ["a@example.com", "a@x.org,b@x.org,c@x.org,d@x.org,e@x.org", `${"a".repeat(52)}@example.com`], ["a@x.org,b@x.org,c@x.org,d@x.org,e@x.org,f@x.org", `${"a".repeat(53)}@example.com`, "ops", "a@b,c"], /^config\.mailTo: (must name 1 to 5 addresses \(AT\+SMTPRCPT index 0-4|address 1 must be at most 64|".*" is not an email address)/],
  ["smtpHost", ["mail.example.net", "a".repeat(64)], ["a".repeat(65), "mail example", 'a"b'], /^config\.smtpHost: (must be 1 to 64 characters long \(AT\+SMTPSRV=\?|".*" is not a host name|must not contain a double quote)/],
  ["smtpPassword", ["p".repeat(64)], ["p".repeat(65), 'pa"ss', "pa\r\nss"], /^config\.smtpPassword: (must be 0 to 64 characters long \(AT\+SMTPAUTH=\?|must not contain)/],
];

pinned("each range, its bounds and the source it names", () => {
  for (const [key, good, bad, message] of EXPECTED) {
    for (const value of good) {
      const refused = refusal(mcConfig("esp32", { [key]: value }));
      assert.is(refused, null, `${key}=${JSON.stringify(value)} refused: ${refused}`);
    }
    for (const value of bad) {
      const refused = refusal(mcConfig("esp32", { [key]: value }));
      assert.ok(refused !== null, `${key}=${JSON.stringify(value)} was accepted`);
      assert.match(refused, message, `${key}=${JSON.stringify(value)}`);
    }
  }
});

pinned("the security keys are judged together, by the mail layer's planner", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ smtpSni: "smtp.example.com" }, /^config\.smtpSni: is set but security is "none" \(src\/mail\/security\.ts\)$/],
    [{ smtpSecurity: "tls", smtpSni: "a".repeat(65) }, /^config\.smtpSni: must be up to 64 printable ASCII/],
    [{ smtpTlsVersion: "tls1.2" }, /^config\.smtpTlsVersion: is set but security is "none"/],
    [{ modemDialect: "classic", smtpSecurity: "starttls" }, /^config\.smtpSecurity: "starttls" needs AT\+EMAILSSL, which this modem firmware lacks/],
    [{ smtpUser: "alarm", smtpPassword: "pw", requireSecureCredentials: "true" }, /^config\.requireSecureCredentials: is true, but security is "none" \(smtpSecurity\): the SMTP password would never be sent/],
    [{ ...COMMANDS, requireSecureCredentials: "true", smtpSecurity: "tls", pop3Security: "none" }, /^config\.requireSecureCredentials: is true, but security is "none" \(pop3Security\)/],
    [{ smtpSecurity: "tls", smtpTlsVersion: "tls1.0", smtpUser: "a", smtpPassword: "p", requireSecureCredentials: "true" }, /^config\.requireSecureCredentials: is true, but TLS version "tls1\.0" is broken/],
  ];
  for (const [override, expected] of cases) assert.match(refusal(mcConfig("esp32", override)) ?? "accepted", expected, JSON.stringify(override));
  assert.is(refusal(mcConfig("esp32", { smtpSecurity: "tls", smtpSni: "a".repeat(64), smtpTlsVersion: "tls1.2", smtpUser: "a", smtpPassword: "p", requireSecureCredentials: "true" })), null);
});

pinned("a key out of range is refused even where another key leaves it unused (pop3Port without pop3Host)", () => {
  assert.match(refusal(mcConfig("esp32", { pop3Port: "0" })) ?? "accepted", /^config\.pop3Port: must be a whole number from 1 to 65535/);
  assert.match(refusal(mcConfig("lin", { modemUart: "3" })) ?? "accepted", /^config\.modemUart: must be a whole number from 1 to 2/);
});

pinned.run();
