// Every setting of the alarm mailer in one table: its key (as in mc/config), type, range and
// where the range comes from, default, and whether its value is secret. The device's reader
// (src/device/settings.ts), the CLI's flags (src/host/cli-options.ts) and the app (AlarmApp's
// defaults and start-up check) all take their rules from here; ./settings-values.ts reads and
// checks one value by its rule. docs/DEVICE.md explains each key to the person who sets it.

import { BRING_UP_LIMITS, DEFAULT_LIMITS, PORT_RANGE } from "../modem/limits.ts";
import type { Dialect } from "../modem/modem.ts";
import { SECURITY_MODES, TLS_VERSIONS } from "../mail/security.ts";
import { DEFAULT_WINDOW_SECONDS } from "./command-ledger.ts";
import { DEVICE_ID_MAX_LENGTH } from "./remote-command.ts";
import { detail } from "../transport/detail.ts";

/** Bounds of a number, of a text's length or of a list's size, and where they come from. */
export interface Range {
  readonly min: number;
  readonly max: number;
  /** The spec, the modem's limits, a component's, or simmail's own guard and its reason. */
  readonly source: string;
}

export type SettingType =
  /** A whole number in `range` (and a multiple of `step`). */
  | "integer"
  /** A number in `range`. */
  | "decimal"
  | "flag"
  /** Text: its length in `range`, its characters by `text`. */
  | "text"
  /** One of `choices`. */
  | "choice"
  /** Mail addresses separated by commas: how many in `range`, each as long as `itemLength` allows. */
  | "addresses"
  /** A GPIO number, or -1 / empty for "not connected". */
  | "gpio"
  /** "HH:MM", or "none". */
  | "time"
  /** A JSON array of input objects, each field ruled by INPUT_FIELDS. */
  | "inputs";

/** What a text's characters must be; each names the one function that holds the rule. */
export type TextRule =
  /** Goes between the quotes of an AT command: `quotingProblem` (src/transport/tx.ts). */
  | "at-string"
  /** A mail display name, encoded as RFC 2047 words when it needs to be: `displayName` (src/mail/envelope.ts). */
  | "display-name"
  /** Header text (subjects): any Unicode, no line break: `checkSubject` (src/mail/message.ts). */
  | "header"
  /** A server name: `hostProblem` (src/mail/message.ts). */
  | "host"
  /** A mail address: `addressProblem` (src/mail/message.ts). */
  | "address"
  /** Bound into command tokens: `deviceIdProblem` (src/app/remote-command.ts). */
  | "device-id"
  /** The HMAC secret: `secretFromText` (src/app/remote-command.ts), or the shipped placeholder. */
  | "command-secret"
  /** Checked with the other security keys by `planSecurity` (src/mail/security.ts). */
  | "security"
  /** An absolute file system path. */
  | "absolute-path"
  /** An absolute directory path, ending in "/". */
  | "absolute-directory"
  /** A plain directory name. */
  | "directory-name";

export interface Setting {
  readonly key: string;
  readonly type: SettingType;
  readonly range?: Range;
  readonly step?: number;
  readonly choices?: readonly string[];
  readonly text?: TextRule;
  /** addresses: the length of each address. */
  readonly itemLength?: Range;
  /** Taken when the key is absent or empty. undefined: the key is required; null: none. */
  readonly default: boolean | number | string | null | undefined;
  readonly secret?: true;
  /** What the key is for, in a few words (docs and tools; "" in the device build). */
  readonly about: string;
}

const limits = DEFAULT_LIMITS;
const length = (max: number, command: string): Range => ({ min: 0, max, source: `${command}=? on the SIM7000${detail(", src/modem/limits.ts")}` });
const GUARD = "simmail's guard";

/** The bearer profile must exist for AT+SAPBR and AT+CNTPCID (bring-up) and for AT+EMAILCID (mail). */
const CID: Range = {
  min: Math.max(BRING_UP_LIMITS.bearerProfiles[0], limits.cid[0]),
  max: Math.min(BRING_UP_LIMITS.bearerProfiles[1], limits.cid[1]),
  source: `AT+SAPBR profiles ${BRING_UP_LIMITS.bearerProfiles.join("-")} within AT+EMAILCID ${limits.cid.join("-")}${detail(", src/modem/limits.ts")}`,
};
const PORT = (command: string, section: string): Range => ({ min: PORT_RANGE[0], max: PORT_RANGE[1], source: `${command} port, spec ${section}` });
const GPIO: Range = { min: 0, max: 48, source: "ESP32 GPIO numbers, up to 48 on the ESP32-S3" };
const LEVEL: Range = { min: 0, max: 1, source: "a logic level" };
/** AT+SMTPRCPT's index range: how many addresses one list can hold. */
const RECIPIENTS: Range = { min: 0, max: limits.recipientIndex[1] - limits.recipientIndex[0] + 1, source: `AT+SMTPRCPT index ${limits.recipientIndex.join("-")}${detail(", src/modem/limits.ts")}` };
const RECIPIENT_LENGTH = length(limits.recipientAddress, "AT+SMTPRCPT");
const TLS_VERSION_NAMES = Object.keys(TLS_VERSIONS);

export const SETTINGS: readonly Setting[] = [
  // ---- the device
  { key: "deviceId", type: "text", text: "device-id", range: { min: 1, max: DEVICE_ID_MAX_LENGTH, source: "command tokens carry it, src/app/remote-command.ts" }, default: undefined, about: detail("names the device in mails and command tokens") },
  { key: "siteName", type: "text", text: "header", default: undefined, about: detail("shown in subjects") },
  { key: "storageDirectory", type: "text", text: "directory-name", range: { min: 1, max: 32, source: `${GUARD}${detail(": a short name under the file system root")}` }, default: "simmail", about: detail("directory for the outbox and state") },
  { key: "pinsDirectory", type: "text", text: "absolute-directory", default: "/tmp/simmail-pins/", about: detail("lin: where src/device/lin/digital.js keeps the simulated pins") },

  // ---- the modem and its wiring
  { key: "modemDialect", type: "choice", choices: ["sim7000", "classic"] satisfies Dialect[], default: "sim7000", about: detail("email command set") },
  { key: "modemBaud", type: "integer", range: { min: BRING_UP_LIMITS.baud[0], max: BRING_UP_LIMITS.baud[1], source: `the span of the SIM7000's AT+IPR rates${detail(", src/modem/limits.ts")}` }, default: 115_200, about: detail("UART speed") },
  { key: "modemBootSeconds", type: "integer", range: { min: 1, max: 120, source: `${GUARD}${detail(": a SIM7000 in autobaud mode is silent 10-15 s after power-on, a SIM7600 over 10 s after a power cut")}` }, default: 20, about: detail("how long a booting modem may stay silent before it counts as not answering") },
  { key: "modemDevice", type: "text", text: "absolute-path", default: null, about: detail("a device path instead of a UART (lin)") },
  { key: "modemUart", type: "integer", range: { min: 1, max: 2, source: "ESP32 UARTs; UART 0 is the debugger's" }, default: null, about: detail("ESP32 UART of the modem") },
  { key: "modemReceive", type: "gpio", range: GPIO, default: null, about: detail("GPIO that receives from the modem") },
  { key: "modemTransmit", type: "gpio", range: GPIO, default: null, about: detail("GPIO that transmits to the modem") },
  { key: "modemPowerKey", type: "gpio", range: GPIO, default: null, about: detail("PWRKEY GPIO") },
  { key: "modemPowerKeyActive", type: "integer", range: LEVEL, default: 0, about: detail("level that presses PWRKEY") },
  { key: "modemPowerKeyPulseMs", type: "integer", range: { min: 100, max: 10_000, source: `${GUARD}${detail(": the SIM7000 needs 1 s to switch on, 1.2 s off")}` }, default: 1_200, about: detail("how long PWRKEY is held") },
  { key: "modemDtr", type: "gpio", range: GPIO, default: null, about: detail("DTR GPIO") },
  { key: "modemDtrAwake", type: "integer", range: LEVEL, default: 0, about: detail("DTR level that keeps the modem awake") },
  { key: "statusLed", type: "gpio", range: GPIO, default: null, about: detail("status LED GPIO") },
  { key: "statusLedActive", type: "integer", range: LEVEL, default: 1, about: detail("level that lights the LED") },

  // ---- the bearer and the clock
  { key: "apn", type: "text", text: "at-string", default: null, about: detail("APN; none: the bearer must already be open") },
  { key: "apnUser", type: "text", text: "at-string", default: null, about: detail("APN user") },
  { key: "apnPassword", type: "text", text: "at-string", default: null, secret: true, about: detail("APN password") },
  { key: "pdpContext", type: "integer", range: CID, default: 1, about: detail("bearer profile (AT+SAPBR, AT+EMAILCID)") },
  { key: "ntpServer", type: "text", text: "at-string", default: "pool.ntp.org", about: detail("network time server (AT+CNTP)") },
  { key: "skipNetworkTime", type: "flag", default: false, about: detail("trust the modem clock as it is") },
  {
    key: "timezoneOffsetMinutes", type: "integer", step: 15, default: 0, about: detail("local time minus UTC"),
    range: { min: BRING_UP_LIMITS.timezoneQuarters[0] * 15, max: BRING_UP_LIMITS.timezoneQuarters[1] * 15, source: `AT+CNTP time zone ${BRING_UP_LIMITS.timezoneQuarters.join(" to ")} quarter hours${detail(", src/modem/limits.ts")}` },
  },

  // ---- outgoing mail
  { key: "smtpHost", type: "text", text: "host", range: { ...length(limits.smtpServer, "AT+SMTPSRV"), min: 1 }, default: undefined, about: detail("outgoing mail server") },
  { key: "smtpPort", type: "integer", range: PORT("AT+SMTPSRV", "3.2.3"), default: 25, about: detail("its port (the manifest ships 587)") },
  { key: "smtpUser", type: "text", text: "at-string", range: length(limits.smtpUser, "AT+SMTPAUTH"), default: null, about: detail("SMTP login; none: no login") },
  { key: "smtpPassword", type: "text", text: "at-string", range: length(limits.smtpPassword, "AT+SMTPAUTH"), default: null, secret: true, about: detail("SMTP password") },
  { key: "smtpTimeoutSeconds", type: "integer", range: { min: limits.timeout[0], max: limits.timeout[1], source: "AT+EMAILTO, spec 3.2.2" }, default: 30, about: detail("server response timeout") },
  { key: "smtpSecurity", type: "choice", choices: SECURITY_MODES, default: "none", about: detail("none, TLS from the first byte, or STARTTLS") },
  { key: "smtpTlsVersion", type: "choice", choices: TLS_VERSION_NAMES, default: null, about: detail("AT+CSSLCFG=\"sslversion\"; none: the modem's") },
  { key: "smtpSni", type: "text", text: "security", default: null, about: detail("SNI name, checked in the certificate") },
  { key: "requireSecureCredentials", type: "flag", default: false, about: detail("never send a password without TLS") },
  { key: "mailFrom", type: "text", text: "address", range: { ...length(limits.senderAddress, "AT+SMTPFROM"), min: 1 }, default: undefined, about: detail("sender address") },
  { key: "mailFromName", type: "text", text: "display-name", range: length(limits.senderName, "AT+SMTPFROM"), default: null, about: detail("sender name") },
  { key: "mailTo", type: "addresses", range: { ...RECIPIENTS, min: 1 }, itemLength: RECIPIENT_LENGTH, default: undefined, about: detail("recipients") },
  { key: "mailCc", type: "addresses", range: RECIPIENTS, itemLength: RECIPIENT_LENGTH, default: null, about: detail("copy recipients") },

  // ---- remote commands
  { key: "pop3Host", type: "text", text: "host", range: length(limits.pop3Server, "AT+POP3SRV"), default: null, about: detail("mailbox for remote commands; none: commands off") },
  { key: "pop3Port", type: "integer", range: PORT("AT+POP3SRV", "3.2.13"), default: 110, about: detail("its port") },
  { key: "pop3User", type: "text", text: "at-string", range: length(limits.pop3User, "AT+POP3SRV"), default: null, about: detail("POP3 login (required with a host)") },
  { key: "pop3Password", type: "text", text: "at-string", range: length(limits.pop3Password, "AT+POP3SRV"), default: null, secret: true, about: detail("POP3 password (required with a host)") },
  { key: "pop3Security", type: "choice", choices: SECURITY_MODES, default: "none", about: detail("none, TLS from the first byte, or STLS") },
  { key: "pop3TlsVersion", type: "choice", choices: TLS_VERSION_NAMES, default: null, about: detail("AT+CSSLCFG=\"sslversion\"; none: the modem's") },
  { key: "pop3Sni", type: "text", text: "security", default: null, about: detail("SNI name, checked in the certificate") },
  { key: "commandPollSeconds", type: "integer", range: { min: 30, max: 86_400, source: `${GUARD}${detail(": from twice a minute to once a day")}` }, default: 300, about: detail("how often the mailbox is read") },
  { key: "commandMailsPerPoll", type: "integer", range: { min: 1, max: 100, source: `${GUARD}${detail(": a poll reads at least one mail, and gives way to alarms")}` }, default: 10, about: detail("mails read per poll") },
  { key: "commandMailMaxBytes", type: "integer", range: { min: 4_096, max: 1_048_576, source: `${GUARD}${detail(": a command mail's headers and a short note fit in 4 KiB; 1 MiB of headers holds the UART 11 s at 921,600 baud, far longer on a cellular link, while an alarm may wait")}` }, default: 65_536, about: detail("a command mail larger than this (POP3 LIST) is deleted unread") },
  { key: "commandAllowlist", type: "addresses", default: null, about: detail("senders whose commands count (required with a host)") },
  { key: "commandSecret", type: "text", text: "command-secret", default: null, secret: true, about: detail("the shared HMAC secret, 16 bytes or more") },
  { key: "commandWindowSeconds", type: "integer", range: { min: 30, max: DEFAULT_WINDOW_SECONDS, source: `${GUARD} of 30 s, up to the ${DEFAULT_WINDOW_SECONDS} s the command ledger remembers nonces${detail(", src/app/command-ledger.ts")}` }, default: DEFAULT_WINDOW_SECONDS, about: detail("how far a token's time may be from the device's") },

  // ---- inputs and the sender policy
  { key: "inputs", type: "inputs", default: null, about: detail("the alarm inputs") },
  { key: "maxEventsPerMail", type: "integer", range: { min: 1, max: 500, source: `${GUARD}${detail(": one mail's body stays small")}` }, default: 20, about: detail("events per alarm mail") },
  { key: "gatherMs", type: "integer", range: { min: 0, max: 600_000, source: `${GUARD}${detail(": up to 10 minutes")}` }, default: 2_000, about: detail("how long a burst's first event waits for more") },
  { key: "retryBaseMs", type: "integer", range: { min: 1_000, max: 3_600_000, source: `${GUARD}${detail(": 1 s to 1 h")}` }, default: 30_000, about: detail("first retry delay") },
  { key: "retryMaxMs", type: "integer", range: { min: 1_000, max: 86_400_000, source: `${GUARD}${detail(": 1 s to 1 day")}` }, default: 1_800_000, about: detail("longest retry delay") },
  { key: "retryJitter", type: "decimal", range: { min: 0, max: 1, source: "a fraction of the delay" }, default: 0.2, about: detail("retry spread") },
  { key: "mailsPerHour", type: "integer", range: { min: 1, max: 3_600, source: `${GUARD}${detail(": up to one a second")}` }, default: 10, about: detail("mail cap; beyond it one summary") },
  { key: "heartbeatHours", type: "integer", range: { min: 1, max: 24 * 31, source: `${GUARD}${detail(": hourly to monthly")}` }, default: 24, about: detail("status mail interval") },
  { key: "heartbeatAt", type: "time", default: "08:00", about: detail("local time of the status mail; none: every interval from start") },
  { key: "maxBringUpBackoffMs", type: "integer", range: { min: 5_000, max: 86_400_000, source: `${GUARD}${detail(": the first retry waits 5 s; at most a day")}` }, default: 300_000, about: detail("longest wait between bring-up attempts") },
];

/** The fields of one entry of `inputs`, by the same rules. */
export const INPUT_FIELDS: readonly Setting[] = [
  { key: "name", type: "text", text: "header", range: { min: 1, max: 64, source: `${GUARD}${detail(": it is shown in subjects")}` }, default: undefined, about: detail("the input's name in mails") },
  { key: "pin", type: "gpio", range: GPIO, default: undefined, about: detail("its GPIO") },
  { key: "pull", type: "choice", choices: ["up", "down", "none"], default: "up", about: detail("the pin's pull resistor") },
  { key: "alarmWhen", type: "integer", range: LEVEL, default: 0, about: detail("the level that means alarm") },
  { key: "debounceMs", type: "integer", range: { min: 0, max: 60_000, source: `${GUARD}${detail(": up to a minute")}` }, default: 50, about: detail("how long a level must hold") },
  { key: "test", type: "flag", default: false, about: detail("a test input (its events say TEST)") },
  { key: "alarmText", type: "text", text: "header", default: null, about: detail("event text on alarm; none: \"<name>: ALARM\"") },
  { key: "normalText", type: "text", text: "header", default: null, about: detail("event text back to normal; none: \"<name>: normal\"") },
];

const BY_KEY = new Map(SETTINGS.map((setting) => [setting.key, setting]));

/** The rule of `key`; throws for a key the table lacks (a typo in the code, not in the config). */
export function setting(key: string): Setting {
  const found = BY_KEY.get(key);
  if (found === undefined) throw new RangeError(`no setting "${key}" in src/app/settings-schema.ts`);
  return found;
}

/** The default of a numeric key. */
export function numberDefault(key: string): number {
  const value = setting(key).default;
  if (typeof value !== "number") throw new RangeError(`setting "${key}" has no numeric default`);
  return value;
}

/** Keys whose values are never shown. */
export const SECRET_KEYS: readonly string[] = SETTINGS.filter((s) => s.secret === true).map((s) => s.key);
