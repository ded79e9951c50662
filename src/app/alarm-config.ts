// What the alarm mailer is told (AlarmConfig), its defaults and its start-up check, both taken
// from the settings schema (./settings-schema.ts): a config built in code (tests, the demo, the
// soak) meets the same limits as one read from mc/config (src/device/settings.ts). And the
// session settings the config gives the mail layer.

import type { BringUpOptions, Dialect } from "../modem/modem.ts";
import type { Address } from "../mail/message.ts";
import type { Pop3Settings } from "../mail/pop3.ts";
import type { Security, SecuritySettings, TlsVersion } from "../mail/security.ts";
import type { SmtpSettings } from "../mail/smtp.ts";
import type { InputDefinition } from "./inputs.ts";
import type { SenderPolicyOptions } from "./sender-policy.ts";
import { numberDefault } from "./settings-schema.ts";
import { checkNumber } from "./settings-values.ts";

export interface AlarmConfig {
  /** Bound into command tokens and shown in mails: 1-64 of A-Z a-z 0-9 . _ - */
  deviceId: string;
  /** Shown in subjects, e.g. "Pump house". */
  siteName: string;
  /** The bring-up settings the modem layer defines (skipTime: the clock is already right, e.g. the simulator's;
   *  bootWindowMs: how long a booting modem may stay silent, modemBootSeconds); the dialect left out, the probe
   *  tells it (`probeEmail`). */
  /** `baud`: the UART's speed (the serial is opened at it): it sizes the POP3 reads. Default 115,200. */
  modem: { dialect?: Dialect; bootWindowMs?: number; baud?: number } & Pick<BringUpOptions, "apn" | "apnUser" | "apnPassword" | "cid" | "ntpServer" | "timezoneQuarters" | "skipTime">;
  smtp: {
    host: string;
    port?: number;
    user?: string;
    password?: string;
    from: Address;
    to: Address[];
    cc?: Address[];
    timeoutSeconds?: number;
    /** Transport security (AT+EMAILSSL; needs a firmware that has it). Default "none". */
    security?: Security;
    tlsVersion?: TlsVersion;
    sni?: string;
  };
  /** Remote commands; null: none are read. */
  pop3: {
    host: string;
    port?: number;
    user: string;
    password: string;
    pollIntervalMs?: number;
    /** Mails read per poll (default 10); more are read by the next poll, right after any sending. */
    maxMailsPerPoll?: number;
    /** A command mail larger than this (its POP3 LIST size) is deleted unread; a read past it is stopped. Default 64 KiB. */
    maxMailBytes?: number;
    allowlist: string[];
    secret: string;
    windowSeconds?: number;
    security?: Security;
    tlsVersion?: TlsVersion;
    sni?: string;
  } | null;
  /**
   * Refuse to send the SMTP or POP3 password unless that session uses TLS (a mail that cannot
   * go out stays in the outbox). Default false: a plain SIM7000 firmware has no TLS.
   */
  requireSecureCredentials?: boolean;
  inputs: Array<Omit<InputDefinition, "port">>;
  sender?: Omit<SenderPolicyOptions, "random">;
  /** Longest wait between bring-up attempts. Default 5 min. */
  maxBringUpBackoffMs?: number;
}

/** The defaults AlarmApp applies to what a config leaves out: the schema's. */
export const ALARM_DEFAULTS = {
  cid: numberDefault("pdpContext"),
  smtpPort: numberDefault("smtpPort"),
  pop3Port: numberDefault("pop3Port"),
  timeoutSeconds: numberDefault("smtpTimeoutSeconds"),
  pollIntervalMs: numberDefault("commandPollSeconds") * 1000,
  maxMailsPerPoll: numberDefault("commandMailsPerPoll"),
  maxMailBytes: numberDefault("commandMailMaxBytes"),
  maxBringUpBackoffMs: numberDefault("maxBringUpBackoffMs"),
  bootWindowMs: numberDefault("modemBootSeconds") * 1000,
  baud: numberDefault("modemBaud"),
} as const;

/**
 * Refuses (SettingsError, naming the field and its key) a number the modem or a component could
 * never take, so the app never starts to retry a mail that cannot go out. The policy guards of
 * the schema (poll interval, retry delays ...) are the device's and the CLI's business: tests
 * run the app faster than a person would set it.
 */
export function checkAlarmConfig(config: AlarmConfig): void {
  checkNumber("AlarmConfig.modem.cid", "pdpContext", config.modem.cid);
  checkNumber("AlarmConfig.modem.baud", "modemBaud", config.modem.baud);
  checkNumber("AlarmConfig.modem.timezoneQuarters", "timezoneOffsetMinutes", config.modem.timezoneQuarters, 15);
  checkNumber("AlarmConfig.smtp.port", "smtpPort", config.smtp.port);
  checkNumber("AlarmConfig.smtp.timeoutSeconds", "smtpTimeoutSeconds", config.smtp.timeoutSeconds);
  const pop3 = config.pop3;
  if (pop3 === null) return;
  checkNumber("AlarmConfig.pop3.port", "pop3Port", pop3.port);
  checkNumber("AlarmConfig.pop3.maxMailsPerPoll", "commandMailsPerPoll", pop3.maxMailsPerPoll);
  checkNumber("AlarmConfig.pop3.maxMailBytes", "commandMailMaxBytes", pop3.maxMailBytes);
  checkNumber("AlarmConfig.pop3.windowSeconds", "commandWindowSeconds", pop3.windowSeconds);
}

/** The SMTP session every mail uses. */
export function smtpSettings(config: AlarmConfig): SmtpSettings {
  const smtp = config.smtp;
  const server = { host: smtp.host, port: smtp.port ?? ALARM_DEFAULTS.smtpPort, ...(smtp.user !== undefined ? { user: smtp.user, password: smtp.password ?? "" } : {}) };
  return { server, cid: config.modem.cid ?? ALARM_DEFAULTS.cid, timeoutSeconds: smtp.timeoutSeconds ?? ALARM_DEFAULTS.timeoutSeconds, ...security(config, smtp) };
}

/** The POP3 session of the command poll. */
export function pop3Settings(config: AlarmConfig, pop3: NonNullable<AlarmConfig["pop3"]>): Pop3Settings {
  const server = { host: pop3.host, port: pop3.port ?? ALARM_DEFAULTS.pop3Port, user: pop3.user, password: pop3.password };
  return { server, cid: config.modem.cid ?? ALARM_DEFAULTS.cid, ...security(config, pop3) };
}

/** The security settings of one server, only those given (the mail layer's defaults hold otherwise). */
function security(config: AlarmConfig, server: { security?: Security; tlsVersion?: TlsVersion; sni?: string }): SecuritySettings {
  const settings: SecuritySettings = {};
  if (server.security !== undefined) settings.security = server.security;
  if (server.tlsVersion !== undefined) settings.tlsVersion = server.tlsVersion;
  if (server.sni !== undefined) settings.sni = server.sni;
  if (config.requireSecureCredentials !== undefined) settings.requireSecureCredentials = config.requireSecureCredentials;
  return settings;
}
