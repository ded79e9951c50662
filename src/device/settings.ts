// The device's settings, read from Moddable's `mc/config` (the manifest's "config", the board
// preset's, then `mcconfig ... key=value` / `xs-dev --config.key=value`). The keys are flat
// because `mcconfig` only sets top-level keys, and a value from the command line is always a
// string. Every key's type, range and default is in the settings schema
// (src/app/settings-schema.ts): each is read and checked by its rule first, then the rules that
// tie keys together (a POP3 host needs a user, two pins cannot share a GPIO, the security
// planner's) are checked here. docs/DEVICE.md lists the keys.
//
// Errors name the key, what was expected and where the limit comes from; they never quote the
// value of a secret key.

import type { AlarmConfig } from "../app/alarm-config.ts";
import type { Dialect } from "../modem/modem.ts";
import type { Address } from "../mail/message.ts";
import type { Security, SecuritySettings, TlsVersion } from "../mail/security.ts";
import { SECRET_KEYS, SETTINGS } from "../app/settings-schema.ts";
import {
  readValue, SECRET_PLACEHOLDER, securityProblem, SettingProblem, SettingsError, type InputEntry, type SettingValue,
} from "../app/settings-values.ts";
import type { DtrOptions, PowerKeyOptions, Pull } from "./io.ts";
import { detail } from "../transport/detail.ts";

export { SECRET_KEYS, SettingsError };

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

type Raw = Readonly<Record<string, unknown>>;

/** Every key of the schema, read and checked by its own rule. */
class Values {
  private readonly values = new Map<string, SettingValue>();

  constructor(raw: Raw) {
    for (const rule of SETTINGS) {
      try {
        this.values.set(rule.key, readValue(rule, raw[rule.key]));
      } catch (error) {
        if (error instanceof SettingProblem) throw new SettingsError(rule.key + error.at, error.message);
        throw error;
      }
    }
  }

  number(key: string): number {
    return this.values.get(key) as number;
  }
  /** A GPIO, a time of day or a text that may be absent. */
  optional<T extends number | string>(key: string): T | null {
    return this.values.get(key) as T | null;
  }
  text(key: string): string {
    return this.values.get(key) as string;
  }
  flag(key: string): boolean {
    return this.values.get(key) as boolean;
  }
  list(key: string): string[] {
    return this.values.get(key) as string[];
  }
  inputs(): InputEntry[] {
    return this.values.get("inputs") as InputEntry[];
  }
  /** A key that another key makes required. */
  required(key: string, why = ""): string {
    const value = this.optional<string>(key);
    if (value === null) throw new SettingsError(key, `is required${why}`);
    return value;
  }
}

function addresses(values: Values, key: string): Address[] {
  return values.list(key).map((address) => ({ address }));
}

/** `<prefix>Security`, `<prefix>TlsVersion`, `<prefix>Sni`, checked together by the mail layer's planner. */
function transportSecurity(values: Values, prefix: "smtp" | "pop3", credentials: boolean, dialect: Dialect): { security: Security; tlsVersion?: TlsVersion; sni?: string } {
  const out: { security: Security; tlsVersion?: TlsVersion; sni?: string } = { security: values.text(`${prefix}Security`) as Security };
  const version = values.optional<string>(`${prefix}TlsVersion`);
  if (version !== null) out.tlsVersion = version as TlsVersion;
  const sni = values.optional<string>(`${prefix}Sni`);
  if (sni !== null) out.sni = sni;
  const settings: SecuritySettings = { ...out, requireSecureCredentials: values.flag("requireSecureCredentials") };
  const refused = securityProblem(prefix, settings, credentials, dialect === "classic" ? false : undefined);
  if (refused === null) return out;
  if ("suffix" in refused) throw new SettingsError(`${prefix}${refused.suffix}`, refused.problem);
  throw new SettingsError("requireSecureCredentials", `is true, but ${refused.reason} (${prefix}Security): the ${prefix.toUpperCase()} password would never be sent${detail(" (src/mail/security.ts)")}`);
}

function inputs(values: Values): { app: AlarmConfig["inputs"]; pins: InputPin[] } {
  const app: AlarmConfig["inputs"] = [];
  const pins: InputPin[] = [];
  values.inputs().forEach((entry, i) => {
    if ((entry.pin as number | null) === null) throw new SettingsError(`inputs[${i}].pin`, "is required (an input needs its GPIO)");
    if (pins.some((p) => p.pin === entry.pin)) throw new SettingsError(`inputs[${i}].pin`, `GPIO ${entry.pin} is used by two inputs`);
    const definition: AlarmConfig["inputs"][number] = { name: entry.name, alarmWhen: entry.alarmWhen, debounceMs: entry.debounceMs };
    if (entry.test) definition.test = true;
    if (entry.alarmText !== null) definition.alarmText = entry.alarmText;
    if (entry.normalText !== null) definition.normalText = entry.normalText;
    app.push(definition);
    pins.push({ name: entry.name, pin: entry.pin, pull: entry.pull as Pull });
  });
  return { app, pins };
}

function serialLink(values: Values): SerialLink {
  const baud = values.number("modemBaud");
  const device = values.optional<string>("modemDevice");
  if (device !== null) return { baud, device };
  const port = values.optional<number>("modemUart");
  if (port === null) throw new SettingsError("modemUart", "is required (or modemDevice)");
  const receive = values.optional<number>("modemReceive");
  const transmit = values.optional<number>("modemTransmit");
  if (receive === null) throw new SettingsError("modemReceive", "is required" + detail(" (the GPIO that receives from the modem)"));
  if (transmit === null) throw new SettingsError("modemTransmit", "is required" + detail(" (the GPIO that transmits to the modem)"));
  return { baud, port, receive, transmit };
}

function commands(values: Values, dialect: Dialect): AlarmConfig["pop3"] {
  const host = values.optional<string>("pop3Host");
  if (host === null) return null;
  const why = " when pop3Host is set";
  const secret = values.required("commandSecret", why);
  if (secret === SECRET_PLACEHOLDER) throw new SettingsError("commandSecret", "still holds the placeholder; set a secret of 16 or more characters (e.g. 32 random hex digits) or leave pop3Host empty");
  const allowlist = values.list("commandAllowlist");
  if (allowlist.length === 0) throw new SettingsError("commandAllowlist", `must name at least one sender${why}`);
  return {
    host,
    port: values.number("pop3Port"),
    user: values.required("pop3User", why),
    password: values.required("pop3Password", why),
    pollIntervalMs: values.number("commandPollSeconds") * 1000,
    maxMailsPerPoll: values.number("commandMailsPerPoll"),
    maxMailBytes: values.number("commandMailMaxBytes"),
    allowlist,
    secret,
    windowSeconds: values.number("commandWindowSeconds"),
    ...transportSecurity(values, "pop3", true, dialect),
  };
}

/** Reads every setting from `mc/config` (or any object with the same keys). Throws SettingsError. */
export function readSettings(raw: Raw): DeviceSettings {
  const values = new Values(raw);
  const dialect = values.text("modemDialect") as Dialect;
  const timezoneOffsetMinutes = values.number("timezoneOffsetMinutes");
  const modem: AlarmConfig["modem"] = {
    dialect,
    cid: values.number("pdpContext"),
    ntpServer: values.text("ntpServer"),
    timezoneQuarters: timezoneOffsetMinutes / 15,
    skipTime: values.flag("skipNetworkTime"),
    bootWindowMs: values.number("modemBootSeconds") * 1000,
    baud: values.number("modemBaud"),
  };
  const apn = values.optional<string>("apn");
  if (apn !== null) {
    modem.apn = apn;
    const apnUser = values.optional<string>("apnUser");
    const apnPassword = values.optional<string>("apnPassword");
    if (apnUser !== null) modem.apnUser = apnUser;
    if (apnPassword !== null) modem.apnPassword = apnPassword;
  }

  const from: Address = { address: values.text("mailFrom") };
  const fromName = values.optional<string>("mailFromName");
  if (fromName !== null) from.name = fromName;
  const smtpUser = values.optional<string>("smtpUser");
  const smtp: AlarmConfig["smtp"] = {
    host: values.text("smtpHost"),
    port: values.number("smtpPort"),
    from,
    to: addresses(values, "mailTo"),
    timeoutSeconds: values.number("smtpTimeoutSeconds"),
    ...transportSecurity(values, "smtp", smtpUser !== null, dialect),
  };
  const cc = addresses(values, "mailCc");
  if (cc.length > 0) smtp.cc = cc;
  if (smtpUser !== null) {
    smtp.user = smtpUser;
    smtp.password = values.required("smtpPassword", " when smtpUser is set");
  }

  const { app: appInputs, pins: inputPins } = inputs(values);
  const app: AlarmConfig = {
    deviceId: values.text("deviceId"),
    siteName: values.text("siteName"),
    modem,
    smtp,
    pop3: commands(values, dialect),
    requireSecureCredentials: values.flag("requireSecureCredentials"),
    inputs: appInputs,
    sender: {
      maxEventsPerMail: values.number("maxEventsPerMail"),
      gatherMs: values.number("gatherMs"),
      retryBaseMs: values.number("retryBaseMs"),
      retryMaxMs: values.number("retryMaxMs"),
      jitter: values.number("retryJitter"),
      mailsPerHour: values.number("mailsPerHour"),
      heartbeatIntervalMs: values.number("heartbeatHours") * 3_600_000,
      heartbeatAtMinute: values.optional<number>("heartbeatAt"),
      timezoneOffsetMinutes,
    },
    maxBringUpBackoffMs: values.number("maxBringUpBackoffMs"),
  };

  const powerKeyPin = values.optional<number>("modemPowerKey");
  const dtrPin = values.optional<number>("modemDtr");
  const ledPin = values.optional<number>("statusLed");
  const used = new Map<number, string>();
  const claim = (key: string, gpio: number | null | undefined): void => {
    if (gpio === null || gpio === undefined) return;
    const other = used.get(gpio);
    if (other !== undefined) throw new SettingsError(key, `GPIO ${gpio} is already used by ${other}`);
    used.set(gpio, key);
  };
  const serial = serialLink(values);
  claim("modemReceive", serial.receive);
  claim("modemTransmit", serial.transmit);
  claim("modemPowerKey", powerKeyPin);
  claim("modemDtr", dtrPin);
  claim("statusLed", ledPin);
  inputPins.forEach((input, i) => claim(`inputs[${i}].pin`, input.pin));

  const file = raw.file as { root?: unknown } | undefined;
  const root = typeof file?.root === "string" ? file.root : null;
  if (root === null || !root.startsWith("/") || !root.endsWith("/")) throw new SettingsError("file.root", "must be the file system root" + detail(" from the file module's manifest (absolute, ending in /)"));

  return {
    app,
    serial,
    powerKey: powerKeyPin === null ? null : {
      pin: powerKeyPin,
      activeLevel: values.number("modemPowerKeyActive") as 0 | 1,
      pulseMs: values.number("modemPowerKeyPulseMs"),
    },
    dtr: dtrPin === null ? null : { pin: dtrPin, awakeLevel: values.number("modemDtrAwake") as 0 | 1 },
    led: ledPin === null ? null : { pin: ledPin, activeLevel: values.number("statusLedActive") as 0 | 1 },
    inputPins,
    storageDirectory: `${root}${values.text("storageDirectory")}/`,
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
