// The device's settings, read from Moddable's `mc/config` (the manifest's "config", the board
// preset's, then `mcconfig ... key=value` / `xs-dev --config.key=value`). The keys are flat
// because `mcconfig` only sets top-level keys, and a value from the command line is always a
// string, so every reader here accepts the JSON type or its text. docs/DEVICE.md lists them.
//
// Errors name the key and what was expected; they never quote the value of a secret key.

import type { AlarmConfig } from "../app/alarm.ts";
import { secretFromText } from "../app/remote-command.ts";
import type { Dialect } from "../modem/modem.ts";
import type { Address } from "../mail/message.ts";
import { TLS_VERSIONS, type Security, type TlsVersion } from "../mail/security.ts";
import type { DtrOptions, PowerKeyOptions, Pull } from "./io.ts";

/** How the modem's serial line is opened (see `openModemSerial` in ./ports.ts). */
export interface SerialLink {
  baud: number;
  /** ESP32: UART 1 or 2 and its pins. */
  port?: number;
  receive?: number;
  transmit?: number;
  /** lin (the simulator): a device path, e.g. the pty of `simmail sim --pty`. */
  device?: string;
}

export interface InputPin {
  name: string;
  pin: number;
  pull: Pull;
}

export interface DeviceSettings {
  app: AlarmConfig;
  serial: SerialLink;
  powerKey: PowerKeyOptions | null;
  dtr: DtrOptions | null;
  led: { pin: number; activeLevel: 0 | 1 } | null;
  inputPins: InputPin[];
  /** Absolute, ends in "/": the outbox and the small values live here. */
  storageDirectory: string;
}

/** The value `commandSecret` ships with; remote commands refuse to start with it. */
export const SECRET_PLACEHOLDER = "CHANGE-ME";

/** Keys whose values are never shown. */
export const SECRET_KEYS: readonly string[] = ["apnPassword", "smtpPassword", "pop3Password", "commandSecret"];

export class SettingsError extends Error {
  override readonly name: string = "SettingsError";
  constructor(key: string, message: string) {
    super(`config.${key}: ${message}`);
  }
}

type Raw = Readonly<Record<string, unknown>>;

function shown(raw: Raw, key: string): string {
  if (SECRET_KEYS.includes(key)) return "(secret)";
  const value = raw[key];
  return typeof value === "string" ? `"${value}"` : String(value);
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

function text(raw: Raw, key: string, fallback?: string): string {
  const value = raw[key];
  if (isUnset(value)) {
    if (fallback === undefined) throw new SettingsError(key, "is required");
    return fallback;
  }
  if (typeof value !== "string" && typeof value !== "number") throw new SettingsError(key, `must be text, not ${shown(raw, key)}`);
  return String(value);
}

function optionalText(raw: Raw, key: string): string | undefined {
  const value = text(raw, key, "");
  return value === "" ? undefined : value;
}

function integer(raw: Raw, key: string, min: number, max: number, fallback?: number): number {
  const value = raw[key];
  if (isUnset(value)) {
    if (fallback === undefined) throw new SettingsError(key, "is required");
    return fallback;
  }
  const number = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) throw new SettingsError(key, `must be a whole number from ${min} to ${max}, not ${shown(raw, key)}`);
  return number;
}

function optionalInteger(raw: Raw, key: string, min: number, max: number): number | undefined {
  return isUnset(raw[key]) ? undefined : integer(raw, key, min, max);
}

function decimal(raw: Raw, key: string, min: number, max: number, fallback: number): number {
  const value = raw[key];
  if (isUnset(value)) return fallback;
  const number = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) throw new SettingsError(key, `must be a number from ${min} to ${max}, not ${shown(raw, key)}`);
  return number;
}

function flag(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key];
  if (isUnset(value)) return fallback;
  if (value === true || value === 1 || value === "true" || value === "1") return true;
  if (value === false || value === 0 || value === "false" || value === "0") return false;
  throw new SettingsError(key, `must be true or false, not ${shown(raw, key)}`);
}

/** A list: a JSON array of texts, or one text with the items separated by commas. */
function list(raw: Raw, key: string): string[] {
  const value = raw[key];
  if (isUnset(value)) return [];
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : null;
  if (items === null) throw new SettingsError(key, `must be a list (an array, or items separated by commas), not ${shown(raw, key)}`);
  return items.map((item, i) => {
    if (typeof item !== "string") throw new SettingsError(key, `item ${i + 1} must be text`);
    return item.trim();
  }).filter((item) => item !== "");
}

/** A GPIO number, or null for "not connected" (-1 or empty). */
function pin(raw: Raw, key: string): number | null {
  const value = raw[key];
  if (isUnset(value) || value === -1 || value === "-1") return null;
  return integer(raw, key, 0, 48);
}

function level(raw: Raw, key: string, fallback: 0 | 1): 0 | 1 {
  return integer(raw, key, 0, 1, fallback) as 0 | 1;
}

const ADDRESS = /^[^\s@<>",]+@[^\s@<>",]+$/;

function address(key: string, value: string): string {
  if (!ADDRESS.test(value)) throw new SettingsError(key, `"${value}" is not an email address`);
  return value;
}

function addresses(raw: Raw, key: string): Address[] {
  return list(raw, key).map((item) => ({ address: address(key, item) }));
}

/** "HH:MM" as minutes of the day, or null for "none" (heartbeat every interval from start). */
function timeOfDay(raw: Raw, key: string, fallback: string): number | null {
  const value = text(raw, key, fallback);
  if (value === "none") return null;
  const match = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (match === null || Number(match[1]) > 23 || Number(match[2]) > 59) throw new SettingsError(key, `must be a time of day as HH:MM or "none", not ${shown(raw, key)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

const PULLS: readonly string[] = ["up", "down", "none"];
const INPUT_FIELDS: readonly string[] = ["name", "pin", "pull", "alarmWhen", "debounceMs", "test", "alarmText", "normalText"];

function inputs(raw: Raw): { app: AlarmConfig["inputs"]; pins: InputPin[] } {
  const key = "inputs";
  let value = raw[key];
  if (typeof value === "string") {
    if (value.trim() === "") value = [];
    else {
      try {
        value = JSON.parse(value);
      } catch {
        throw new SettingsError(key, 'must be a JSON array of inputs, e.g. [{"name":"Door","pin":32}]');
      }
    }
  }
  if (value === undefined || value === null) value = [];
  if (!Array.isArray(value)) throw new SettingsError(key, "must be an array of inputs");
  const app: AlarmConfig["inputs"] = [];
  const pins: InputPin[] = [];
  value.forEach((entry: unknown, i: number) => {
    const where = `${key}[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new SettingsError(where, "must be an object with at least name and pin");
    // The fields under their full names, so that errors say "config.inputs[0].pin".
    const item: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(entry)) {
      if (!INPUT_FIELDS.includes(field)) throw new SettingsError(where, `has an unknown field "${field}" (known: ${INPUT_FIELDS.join(", ")})`);
      item[`${where}.${field}`] = fieldValue;
    }
    const name = text(item, `${where}.name`);
    const pinNumber = pin(item, `${where}.pin`);
    if (pinNumber === null) throw new SettingsError(`${where}.pin`, "is required");
    const pull = text(item, `${where}.pull`, "up");
    if (!PULLS.includes(pull)) throw new SettingsError(`${where}.pull`, `must be "up", "down" or "none", not "${pull}"`);
    if (pins.some((p) => p.pin === pinNumber)) throw new SettingsError(`${where}.pin`, `GPIO ${pinNumber} is used by two inputs`);
    const definition: AlarmConfig["inputs"][number] = { name, alarmWhen: level(item, `${where}.alarmWhen`, 0) };
    const debounceMs = optionalInteger(item, `${where}.debounceMs`, 0, 60_000);
    if (debounceMs !== undefined) definition.debounceMs = debounceMs;
    if (flag(item, `${where}.test`, false)) definition.test = true;
    const alarmText = optionalText(item, `${where}.alarmText`);
    if (alarmText !== undefined) definition.alarmText = alarmText;
    const normalText = optionalText(item, `${where}.normalText`);
    if (normalText !== undefined) definition.normalText = normalText;
    app.push(definition);
    pins.push({ name, pin: pinNumber, pull: pull as Pull });
  });
  return { app, pins };
}

function serialLink(raw: Raw): SerialLink {
  const baud = integer(raw, "modemBaud", 1200, 4_000_000, 115_200);
  const device = optionalText(raw, "modemDevice");
  if (device !== undefined) {
    if (!device.startsWith("/")) throw new SettingsError("modemDevice", `must be an absolute device path, not "${device}"`);
    return { baud, device };
  }
  const port = integer(raw, "modemUart", 1, 2);
  const receive = pin(raw, "modemReceive");
  const transmit = pin(raw, "modemTransmit");
  if (receive === null) throw new SettingsError("modemReceive", "is required (the GPIO that receives from the modem)");
  if (transmit === null) throw new SettingsError("modemTransmit", "is required (the GPIO that transmits to the modem)");
  return { baud, port, receive, transmit };
}

/** `<prefix>Security` ("none", "tls", "starttls"), `<prefix>TlsVersion`, `<prefix>Sni`: only those set. */
function transportSecurity(raw: Raw, prefix: "smtp" | "pop3"): { security?: Security; tlsVersion?: TlsVersion; sni?: string } {
  const out: { security?: Security; tlsVersion?: TlsVersion; sni?: string } = {};
  const security = optionalText(raw, `${prefix}Security`);
  if (security !== undefined) {
    if (security !== "none" && security !== "tls" && security !== "starttls") {
      throw new SettingsError(`${prefix}Security`, `must be "none", "tls" or "starttls", not "${security}"`);
    }
    out.security = security;
  }
  const version = optionalText(raw, `${prefix}TlsVersion`);
  if (version !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(TLS_VERSIONS, version)) {
      throw new SettingsError(`${prefix}TlsVersion`, `must be one of ${Object.keys(TLS_VERSIONS).join(", ")}, not "${version}"`);
    }
    out.tlsVersion = version as TlsVersion;
  }
  const sni = optionalText(raw, `${prefix}Sni`);
  if (sni !== undefined) out.sni = sni;
  return out;
}

function commands(raw: Raw): AlarmConfig["pop3"] {
  const host = optionalText(raw, "pop3Host");
  if (host === undefined) return null;
  const secret = text(raw, "commandSecret");
  if (secret === SECRET_PLACEHOLDER) throw new SettingsError("commandSecret", "still holds the placeholder; set a secret of 16 or more characters (e.g. 32 random hex digits) or leave pop3Host empty");
  try {
    secretFromText(secret);
  } catch (error) {
    throw new SettingsError("commandSecret", (error as Error).message); // states the length, never the secret
  }
  const allowlist = list(raw, "commandAllowlist").map((item) => address("commandAllowlist", item));
  if (allowlist.length === 0) throw new SettingsError("commandAllowlist", "must name at least one sender when pop3Host is set");
  return {
    host,
    port: integer(raw, "pop3Port", 1, 65_535, 110),
    user: text(raw, "pop3User"),
    password: text(raw, "pop3Password"),
    pollIntervalMs: integer(raw, "commandPollSeconds", 30, 86_400, 300) * 1000,
    maxMailsPerPoll: integer(raw, "commandMailsPerPoll", 1, 100, 10),
    allowlist,
    secret,
    windowSeconds: integer(raw, "commandWindowSeconds", 30, 86_400, 600),
    ...transportSecurity(raw, "pop3"),
  };
}

/** Reads every setting from `mc/config` (or any object with the same keys). Throws SettingsError. */
export function readSettings(raw: Raw): DeviceSettings {
  const dialect = text(raw, "modemDialect", "sim7000");
  if (dialect !== "sim7000" && dialect !== "classic") throw new SettingsError("modemDialect", `must be "sim7000" or "classic", not "${dialect}"`);
  const timezoneOffsetMinutes = integer(raw, "timezoneOffsetMinutes", -720, 840, 0);
  if (timezoneOffsetMinutes % 15 !== 0) throw new SettingsError("timezoneOffsetMinutes", `must be a multiple of 15, not ${timezoneOffsetMinutes}`);

  const modem: AlarmConfig["modem"] = {
    dialect: dialect as Dialect,
    cid: integer(raw, "pdpContext", 1, 16, 1),
    ntpServer: text(raw, "ntpServer", "pool.ntp.org"),
    timezoneQuarters: timezoneOffsetMinutes / 15,
    skipTime: flag(raw, "skipNetworkTime", false),
  };
  const apn = optionalText(raw, "apn");
  if (apn !== undefined) {
    modem.apn = apn;
    const apnUser = optionalText(raw, "apnUser");
    const apnPassword = optionalText(raw, "apnPassword");
    if (apnUser !== undefined) modem.apnUser = apnUser;
    if (apnPassword !== undefined) modem.apnPassword = apnPassword;
  }

  const to = addresses(raw, "mailTo");
  if (to.length === 0) throw new SettingsError("mailTo", "must name at least one recipient");
  const from: Address = { address: address("mailFrom", text(raw, "mailFrom")) };
  const fromName = optionalText(raw, "mailFromName");
  if (fromName !== undefined) from.name = fromName;
  const smtp: AlarmConfig["smtp"] = {
    host: text(raw, "smtpHost"),
    port: integer(raw, "smtpPort", 1, 65_535, 587),
    from,
    to,
    timeoutSeconds: integer(raw, "smtpTimeoutSeconds", 5, 600, 30),
    ...transportSecurity(raw, "smtp"),
  };
  const cc = addresses(raw, "mailCc");
  if (cc.length > 0) smtp.cc = cc;
  const smtpUser = optionalText(raw, "smtpUser");
  if (smtpUser !== undefined) {
    smtp.user = smtpUser;
    smtp.password = text(raw, "smtpPassword");
  }

  const heartbeatAtMinute = timeOfDay(raw, "heartbeatAt", "08:00");
  const { app: appInputs, pins: inputPins } = inputs(raw);
  const deviceId = text(raw, "deviceId");
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId)) throw new SettingsError("deviceId", `must be 1-64 of A-Z a-z 0-9 . _ -, not "${deviceId}"`);

  const app: AlarmConfig = {
    deviceId,
    siteName: text(raw, "siteName"),
    modem,
    smtp,
    pop3: commands(raw),
    requireSecureCredentials: flag(raw, "requireSecureCredentials", false),
    inputs: appInputs,
    sender: {
      maxEventsPerMail: integer(raw, "maxEventsPerMail", 1, 500, 20),
      gatherMs: integer(raw, "gatherMs", 0, 600_000, 2_000),
      retryBaseMs: integer(raw, "retryBaseMs", 1_000, 3_600_000, 30_000),
      retryMaxMs: integer(raw, "retryMaxMs", 1_000, 86_400_000, 1_800_000),
      jitter: decimal(raw, "retryJitter", 0, 1, 0.2),
      mailsPerHour: integer(raw, "mailsPerHour", 1, 3_600, 10),
      heartbeatIntervalMs: integer(raw, "heartbeatHours", 1, 24 * 31, 24) * 3_600_000,
      heartbeatAtMinute,
      timezoneOffsetMinutes,
    },
    maxBringUpBackoffMs: integer(raw, "maxBringUpBackoffMs", 5_000, 86_400_000, 300_000),
  };

  const powerKeyPin = pin(raw, "modemPowerKey");
  const dtrPin = pin(raw, "modemDtr");
  const ledPin = pin(raw, "statusLed");
  const used = new Map<number, string>();
  const claim = (key: string, gpio: number | null | undefined): void => {
    if (gpio === null || gpio === undefined) return;
    const other = used.get(gpio);
    if (other !== undefined) throw new SettingsError(key, `GPIO ${gpio} is already used by ${other}`);
    used.set(gpio, key);
  };
  const serial = serialLink(raw);
  claim("modemReceive", serial.receive);
  claim("modemTransmit", serial.transmit);
  claim("modemPowerKey", powerKeyPin);
  claim("modemDtr", dtrPin);
  claim("statusLed", ledPin);
  inputPins.forEach((input, i) => claim(`inputs[${i}].pin`, input.pin));

  const storageDirectory = text(raw, "storageDirectory", "simmail");
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(storageDirectory)) throw new SettingsError("storageDirectory", `must be a plain directory name (1-32 of A-Z a-z 0-9 _ -), not "${storageDirectory}"`);
  const file = raw.file as { root?: unknown } | undefined;
  const root = typeof file?.root === "string" ? file.root : null;
  if (root === null || !root.startsWith("/") || !root.endsWith("/")) throw new SettingsError("file.root", "must be the file system root from the file module's manifest (absolute, ending in /)");

  return {
    app,
    serial,
    powerKey: powerKeyPin === null ? null : {
      pin: powerKeyPin,
      activeLevel: level(raw, "modemPowerKeyActive", 0),
      pulseMs: integer(raw, "modemPowerKeyPulseMs", 100, 10_000, 1_200),
    },
    dtr: dtrPin === null ? null : { pin: dtrPin, awakeLevel: level(raw, "modemDtrAwake", 0) },
    led: ledPin === null ? null : { pin: ledPin, activeLevel: level(raw, "statusLedActive", 1) },
    inputPins,
    storageDirectory: `${root}${storageDirectory}/`,
  };
}

/** One line per topic for the boot trace: everything but the secrets. */
export function describeSettings(settings: DeviceSettings): string[] {
  const { app, serial } = settings;
  const lines = [`device ${app.deviceId} (${app.siteName})`];
  lines.push(serial.device !== undefined
    ? `modem on ${serial.device} at ${serial.baud} baud, dialect ${app.modem.dialect}`
    : `modem on UART ${serial.port} (rx ${serial.receive}, tx ${serial.transmit}) at ${serial.baud} baud, dialect ${app.modem.dialect}`);
  const wiring: string[] = [];
  if (settings.powerKey !== null) wiring.push(`PWRKEY GPIO ${settings.powerKey.pin} (presses at ${settings.powerKey.activeLevel}, ${settings.powerKey.pulseMs} ms)`);
  if (settings.dtr !== null) wiring.push(`DTR GPIO ${settings.dtr.pin} (awake at ${settings.dtr.awakeLevel})`);
  if (settings.led !== null) wiring.push(`LED GPIO ${settings.led.pin}`);
  if (wiring.length > 0) lines.push(wiring.join(", "));
  lines.push(`APN ${app.modem.apn === undefined ? "(modem default)" : `"${app.modem.apn}"`}${app.modem.apnUser !== undefined ? ` as ${app.modem.apnUser}` : ""}`);
  const smtp = app.smtp;
  lines.push(`SMTP ${smtp.host}:${smtp.port}${smtp.user !== undefined ? ` as ${smtp.user}` : ""}, from ${smtp.from.address} to ${smtp.to.map((a) => a.address).join(", ")}, security ${smtp.security ?? "none"}`);
  const pop3 = app.pop3;
  lines.push(pop3 === null
    ? "remote commands off"
    : `remote commands: POP3 ${pop3.host}:${pop3.port} as ${pop3.user} every ${(pop3.pollIntervalMs ?? 0) / 1000} s, from ${pop3.allowlist.join(", ")}, security ${pop3.security ?? "none"}`);
  if (app.requireSecureCredentials === true) lines.push("passwords only over TLS (requireSecureCredentials)");
  lines.push(settings.inputPins.length === 0
    ? "no inputs"
    : `inputs: ${settings.inputPins.map((input, i) => `${input.name} GPIO ${input.pin} pull-${input.pull} alarm at ${app.inputs[i].alarmWhen}${app.inputs[i].test === true ? " (test)" : ""}`).join("; ")}`);
  lines.push(`storage ${settings.storageDirectory}`);
  return lines;
}
