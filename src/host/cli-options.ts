// The command line of `simmail`, parsed by node:util's parseArgs. A flag that sets a setting
// (--cid, --timeout, --smtp HOST:PORT ...) is read by that setting's rule in the settings schema
// (src/app/settings-schema.ts), so the CLI takes exactly what the device takes, and a value out
// of range is refused before the serial port is opened, naming the flag, the range and where the
// range comes from.

import { parseArgs } from "node:util";
import { setting } from "../app/settings-schema.ts";
import { readValue, securityProblem, SettingProblem } from "../app/settings-values.ts";
import type { Dialect } from "../modem/modem.ts";
import type { SecuritySettings, TlsVersion } from "../mail/security.ts";

/** A command line simmail cannot run, or a refusal (exit 1); `hint`: point to the command's help. */
export class UsageError extends Error {
  constructor(message: string, readonly hint = true) {
    super(message);
  }
}

export interface Options {
  command: string;
  rest: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
  /** Flags whose value came from the environment: flag -> variable. */
  fromEnvironment: Map<string, string>;
}

const TEXT = { type: "string" } as const;
const SWITCH = { type: "boolean" } as const;
const OPTIONS = {
  port: TEXT, baud: TEXT, dialect: TEXT, apn: TEXT, cid: TEXT, timeout: TEXT, smtp: TEXT, pop3: TEXT, user: TEXT,
  from: TEXT, to: TEXT, cc: TEXT, bcc: TEXT, subject: TEXT, body: TEXT, "body-file": TEXT, attach: TEXT,
  "attach-encoding": TEXT, out: TEXT, pty: TEXT, "tls-version": TEXT, sni: TEXT, device: TEXT, at: TEXT,
  "secret-file": TEXT, "boot-wait": TEXT, "field-json": TEXT, "save-parts": TEXT, "smtp-port": TEXT, "pop3-port": TEXT, "timeout-scale": TEXT,
  autobaud: SWITCH, field: SWITCH, boot: SWITCH, "no-echo": SWITCH, trace: SWITCH,
  verbose: SWITCH, raw: SWITCH, force: SWITCH, json: SWITCH, help: SWITCH, version: SWITCH, tls: SWITCH, starttls: SWITCH, "require-tls": SWITCH,
} as const;

/** Defaults for the options typed every time: flag -> environment variable. A flag given wins. */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<string, string>> = {
  port: "SIMMAIL_PORT",
  baud: "SIMMAIL_BAUD",
  dialect: "SIMMAIL_DIALECT",
  apn: "SIMMAIL_APN",
  cid: "SIMMAIL_CID",
  smtp: "SIMMAIL_SMTP",
  pop3: "SIMMAIL_POP3",
  user: "SIMMAIL_USER",
  from: "SIMMAIL_FROM",
  device: "SIMMAIL_DEVICE",
};

/**
 * Flags read by a setting's rule. `<protocol>` is `smtp` for send and `pop3` for inbox;
 * `portKey`: the flag is HOST[:PORT], the port read by that key (its default when left out).
 */
export const SETTING_FLAGS: Readonly<Record<string, { key: string; portKey?: string }>> = {
  baud: { key: "modemBaud" },
  "boot-wait": { key: "modemBootSeconds" },
  dialect: { key: "modemDialect" },
  apn: { key: "apn" },
  cid: { key: "pdpContext" },
  timeout: { key: "smtpTimeoutSeconds" },
  smtp: { key: "smtpHost", portKey: "smtpPort" },
  pop3: { key: "pop3Host", portKey: "pop3Port" },
  user: { key: "<protocol>User" },
  "tls-version": { key: "<protocol>TlsVersion" },
  sni: { key: "<protocol>Sni" },
};

/**
 * Every token of the command line: options (--name VALUE, --name=VALUE) and the command with
 * its positional arguments. A value is taken as given even if it starts with a dash. Options
 * left out take their ENVIRONMENT_DEFAULTS variable from `env` when it is set and not empty.
 */
export function parseCommandLine(argv: string[], env: Readonly<Record<string, string | undefined>> = {}): Options {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const name = token.name;
    if (name === "password") throw new UsageError("passwords are not taken on the command line: set SIMMAIL_PASSWORD");
    const option = Object.prototype.hasOwnProperty.call(OPTIONS, name) && token.rawName.startsWith("--") ? OPTIONS[name as keyof typeof OPTIONS] : null;
    if (option === null) throw new UsageError(`unknown option ${token.rawName}`);
    if (option.type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else {
      if (token.value === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, [...(values.get(name) ?? []), token.value]);
    }
  }
  const fromEnvironment = new Map<string, string>();
  for (const [flag, variable] of Object.entries(ENVIRONMENT_DEFAULTS)) {
    const value = env[variable];
    if (values.has(flag) || value === undefined || value === "") continue;
    values.set(flag, [value]);
    fromEnvironment.set(flag, variable);
  }
  return { command: positionals.shift() ?? "", rest: positionals, values, flags, fromEnvironment };
}

/** How to name `flag` in a message: `--cid`, or `SIMMAIL_CID` when the value came from there. */
export function label(o: Options, flag: string): string {
  return o.fromEnvironment.get(flag) ?? `--${flag}`;
}

/** The one value of `--name` (or `fallback`); refuses a flag given twice. */
export function one(o: Options, name: string, fallback?: string): string {
  const v = o.values.get(name);
  if (v === undefined || v.length === 0) {
    if (fallback !== undefined) return fallback;
    const variable = ENVIRONMENT_DEFAULTS[name];
    throw new UsageError(`--${name}${variable === undefined ? "" : ` (or ${variable})`} is required`);
  }
  if (v.length > 1) throw new UsageError(`--${name} given more than once`);
  return v[0];
}

function protocolOf(o: Options): "smtp" | "pop3" {
  return o.command === "inbox" ? "pop3" : "smtp";
}

function keyOf(o: Options, flag: string): string {
  return SETTING_FLAGS[flag].key.replace("<protocol>", protocolOf(o));
}

/** `text` read by the rule of `key`, refused in the name of `label` (e.g. "--cid"). */
function read<T>(label: string, key: string, text: string | undefined): T {
  try {
    return readValue(setting(key), text) as T;
  } catch (error) {
    if (error instanceof SettingProblem) throw new UsageError(`${label} ${error.message}`);
    throw error;
  }
}

/** `--flag`'s value by its setting's rule; the setting's default (null: none) when it is not given. */
export function settingFlag<T extends string | number>(o: Options, flag: string): T | null {
  const given = o.values.get(flag) === undefined ? undefined : one(o, flag);
  return read<T | null>(label(o, flag), keyOf(o, flag), given);
}

/** `--smtp` / `--pop3` HOST[:PORT], each part by its setting's rule. */
export function serverFlag(o: Options, flag: "smtp" | "pop3"): { host: string; port: number } {
  const text = one(o, flag);
  const m = /^([^:]*)(?::(.*))?$/.exec(text);
  if (m === null || m[1] === "") throw new UsageError(`${label(o, flag)} must be HOST or HOST:PORT (got "${text}")`);
  const host = read<string>(`${label(o, flag)} host`, SETTING_FLAGS[flag].key, m[1]);
  const port = read<number>(`${label(o, flag)} port`, SETTING_FLAGS[flag].portKey!, m[2]);
  return { host, port };
}

/**
 * --tls / --starttls, --tls-version, --sni, --require-tls as the mail API's security settings,
 * checked together by the mail layer's planner before anything is sent. `credentials`: the
 * session carries a password.
 */
export function securityOptions(o: Options, dialect: Dialect | null, credentials: boolean): SecuritySettings {
  if (o.flags.has("tls") && o.flags.has("starttls")) throw new UsageError("give at most one of --tls and --starttls");
  const security = o.flags.has("tls") ? "tls" : o.flags.has("starttls") ? "starttls" : "none";
  const settings: SecuritySettings = { security };
  const version = settingFlag<string>(o, "tls-version");
  if (version !== null) settings.tlsVersion = version as TlsVersion;
  const sni = settingFlag<string>(o, "sni");
  if (sni !== null) settings.sni = sni;
  if (o.flags.has("require-tls")) settings.requireSecureCredentials = true;
  const refused = securityProblem(protocolOf(o), settings, credentials, dialect === "classic" ? false : undefined);
  if (refused === null) return settings;
  if (!("suffix" in refused)) throw refused; // the password would go in clear text: exit 1, nothing sent
  const flag = refused.suffix === "TlsVersion" ? "--tls-version" : refused.suffix === "Sni" ? "--sni" : `--${security}`;
  throw new UsageError(`${flag} ${refused.problem}`);
}
