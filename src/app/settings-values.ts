// Reading one setting by its rule in ./settings-schema.ts: a value from mc/config (the JSON type
// or, from `mcconfig key=value`, its text) or a CLI flag (always text) becomes the typed value,
// or a SettingProblem that says what the value must be, the range and where the range comes
// from. It never quotes the value of a secret. Each edge names the key its own way:
// `config.pdpContext: ...` (src/device/settings.ts), `--cid ...` (src/host/cli-options.ts).

import { displayName } from "../mail/envelope.ts";
import { InsecureCredentialsError, MailParameterError } from "../mail/errors.ts";
import { addressProblem, checkSubject, hostProblem } from "../mail/message.ts";
import { planSecurity, type SecuritySettings } from "../mail/security.ts";
import { quotingProblem } from "../transport/tx.ts";
import { deviceIdProblem, secretFromText } from "./remote-command.ts";
import { INPUT_FIELDS, setting, type Range, type Setting } from "./settings-schema.ts";
import { detail } from "../transport/detail.ts";

/** The value `commandSecret` ships with; remote commands refuse to start with it. */
export const SECRET_PLACEHOLDER = "CHANGE-ME";

/** A value its rule refuses. `at`: where inside the key (`[0].pin` of `inputs`), or "". */
export class SettingProblem extends Error {
  override readonly name: string = "SettingProblem";
  readonly at: string;
  constructor(problem: string, at = "") {
    super(problem);
    this.at = at;
  }
}

/** A setting refused at start: `config.<key>: <problem>` (or `<where> (config.<key>): ...`). */
export class SettingsError extends Error {
  override readonly name: string = "SettingsError";
  readonly key: string;
  constructor(key: string, problem: string, where?: string) {
    super(where === undefined ? `config.${key}: ${problem}` : `${where} (config.${key}): ${problem}`);
    this.key = key;
  }
}

export type SettingValue = string | number | boolean | null | string[] | InputEntry[];

/** One entry of `inputs`, every field read (absent ones at their INPUT_FIELDS default). */
export interface InputEntry {
  name: string;
  pin: number;
  pull: "up" | "down" | "none";
  alarmWhen: 0 | 1;
  debounceMs: number;
  test: boolean;
  alarmText: string | null;
  normalText: string | null;
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

function shown(rule: Setting, value: unknown): string {
  if (rule.secret === true) return "(secret)";
  return typeof value === "string" ? `"${value}"` : typeof value === "object" ? JSON.stringify(value) : String(value);
}

const within = (range: Range) => `from ${range.min} to ${range.max} (${range.source})`;

/** The mail layer's own words for a refused value (its MailParameterError without the field). */
function mailProblem(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (error) {
    if (!(error instanceof MailParameterError)) throw error;
    return error.message.slice(error.field.length + 2);
  }
}

function integer(rule: Setting, value: unknown): number {
  const range = rule.range!;
  const number = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  const step = rule.step ?? 1;
  if (!Number.isInteger(number) || number < range.min || number > range.max || number % step !== 0) {
    const what = step === 1 ? "a whole number" : `a multiple of ${step}`;
    throw new SettingProblem(`must be ${what} ${within(range)}, not ${shown(rule, value)}`);
  }
  return number;
}

function decimal(rule: Setting, value: unknown): number {
  const range = rule.range!;
  const number = typeof value === "number" ? value : typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(number >= range.min && number <= range.max)) throw new SettingProblem(`must be a number ${within(range)}, not ${shown(rule, value)}`);
  return number;
}

function flag(rule: Setting, value: unknown): boolean {
  if (value === true || value === 1 || value === "true" || value === "1") return true;
  if (value === false || value === 0 || value === "false" || value === "0") return false;
  throw new SettingProblem(`must be true or false, not ${shown(rule, value)}`);
}

const TEXT_RULES: Record<NonNullable<Setting["text"]>, (text: string, rule: Setting) => string | null> = {
  "at-string": (text) => quotingProblem(text),
  "display-name": (text, rule) => mailProblem(() => displayName(rule.key, text, rule.range?.max ?? Number.MAX_SAFE_INTEGER)),
  header: (text) => mailProblem(() => checkSubject("smtp", text)),
  host: (text) => hostProblem(text),
  address: (text) => addressProblem(text),
  "device-id": (text) => {
    const problem = deviceIdProblem(text);
    return problem === null ? null : `${problem}, not "${text}"`;
  },
  "command-secret": (text) => {
    if (text === SECRET_PLACEHOLDER) return null; // refused where it would be used (remote commands on)
    try {
      secretFromText(text);
      return null;
    } catch (error) {
      return (error as Error).message; // states the length, never the secret
    }
  },
  security: () => null, // checkSecurity, with the keys it goes with
  "absolute-path": (text) => (text.startsWith("/") ? null : `must be an absolute path, not "${text}"`),
  "absolute-directory": (text) => (text.startsWith("/") && text.endsWith("/") ? null : `must be an absolute directory path ending in "/", not "${text}"`),
  "directory-name": (text) => (/^[A-Za-z0-9_-]+$/.test(text) ? null : `must be a plain directory name (A-Z a-z 0-9 _ -), not "${text}"`),
};

function text(rule: Setting, value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number") throw new SettingProblem(`must be text, not ${shown(rule, value)}`);
  const result = String(value);
  const range = rule.range;
  if (range !== undefined && (result.length < range.min || result.length > range.max)) {
    throw new SettingProblem(`must be ${range.min} to ${range.max} characters long (${range.source}), not ${result.length}`);
  }
  const problem = rule.text === undefined ? null : TEXT_RULES[rule.text](result, rule);
  if (problem !== null) throw new SettingProblem(problem);
  return result;
}

function choice(rule: Setting, value: unknown): string {
  const choices = rule.choices!;
  if (typeof value === "string" && choices.includes(value)) return value;
  const listed = choices.map((c) => `"${c}"`);
  throw new SettingProblem(`must be ${listed.slice(0, -1).join(", ")} or ${listed[listed.length - 1]}, not ${shown(rule, value)}`);
}

/** A JSON array of texts, or one text with the items separated by commas. */
function addresses(rule: Setting, value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : null;
  if (items === null) throw new SettingProblem(`must be a list${detail(" (an array, or items separated by commas)")}, not ${shown(rule, value)}`);
  const list = items.map((item, i) => {
    if (typeof item !== "string") throw new SettingProblem(`item ${i + 1} must be text`);
    return item.trim();
  }).filter((item) => item !== "");
  const range = rule.range;
  if (range !== undefined && (list.length < range.min || list.length > range.max)) {
    throw new SettingProblem(`must name ${range.min} to ${range.max} addresses (${range.source}), not ${list.length}`);
  }
  list.forEach((address, i) => {
    const length = rule.itemLength;
    if (length !== undefined && address.length > length.max) {
      throw new SettingProblem(`address ${i + 1} must be at most ${length.max} characters long (${length.source}), not ${address.length}`);
    }
    const problem = addressProblem(address);
    if (problem !== null) throw new SettingProblem(problem);
  });
  return list;
}

/** A GPIO number, or null for "not connected" (-1). */
function gpio(rule: Setting, value: unknown): number | null {
  if (value === -1 || value === "-1") return null;
  try {
    return integer(rule, value);
  } catch {
    throw new SettingProblem(`must be a GPIO number ${within(rule.range!)} or -1 for none, not ${shown(rule, value)}`);
  }
}

/** "HH:MM" as minutes of the day, or null for "none". */
function timeOfDay(rule: Setting, value: unknown): number | null {
  if (value === "none") return null;
  const match = typeof value === "string" ? /^(\d{1,2}):(\d{2})$/.exec(value) : null;
  if (match === null || Number(match[1]) > 23 || Number(match[2]) > 59) throw new SettingProblem(`must be a time of day as HH:MM or "none", not ${shown(rule, value)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function inputs(_rule: Setting, value: unknown): InputEntry[] {
  let list = value;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch {
      throw new SettingProblem('must be a JSON array of inputs, e.g. [{"name":"Door","pin":32}]');
    }
  }
  if (!Array.isArray(list)) throw new SettingProblem("must be an array of inputs");
  const known = INPUT_FIELDS.map((field) => field.key);
  return list.map((entry: unknown, i: number) => {
    const at = `[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new SettingProblem("must be an object with at least name and pin", at);
    for (const field of Object.keys(entry)) {
      if (!known.includes(field)) throw new SettingProblem(`has an unknown field "${field}" (known: ${known.join(", ")})`, at);
    }
    const fields: Record<string, unknown> = {};
    for (const rule of INPUT_FIELDS) {
      try {
        fields[rule.key] = readValue(rule, (entry as Record<string, unknown>)[rule.key]);
      } catch (error) {
        if (error instanceof SettingProblem) throw new SettingProblem(error.message, `${at}.${rule.key}`);
        throw error;
      }
    }
    return fields as unknown as InputEntry;
  });
}

const READERS: Record<Setting["type"], (rule: Setting, value: unknown) => SettingValue> = {
  integer, decimal, flag, text, choice, addresses, gpio, time: timeOfDay, inputs,
};

/** `value` read by `rule`; unset (absent, null, ""): the rule's default. Throws SettingProblem. */
export function readValue(rule: Setting, value: unknown): SettingValue {
  if (isUnset(value)) {
    if (rule.default === undefined) throw new SettingProblem("is required");
    return rule.type === "addresses" || rule.type === "inputs" ? (rule.default === null ? [] : rule.default as SettingValue) : rule.default;
  }
  return READERS[rule.type](rule, value);
}

/**
 * The security keys of one protocol checked by the mail layer's planner, with what the dialect
 * is known to lack (`hasTls` false: the classic dialect has no AT+EMAILSSL; undefined: the
 * probe will tell). Returns the refused key's suffix ("Security", "TlsVersion", "Sni") and the
 * planner's words, or null. An InsecureCredentialsError is returned as is.
 */
export function securityProblem(protocol: "smtp" | "pop3", settings: SecuritySettings, credentials: boolean, hasTls?: false): { suffix: string; problem: string } | InsecureCredentialsError | null {
  try {
    planSecurity(protocol, settings, hasTls === false ? null : undefined, credentials);
    return null;
  } catch (error) {
    if (error instanceof InsecureCredentialsError) return error;
    if (!(error instanceof MailParameterError)) throw error;
    const suffix = error.field === "TLS version" ? "TlsVersion" : error.field === "SNI" ? "Sni" : "Security";
    return { suffix, problem: `${error.message.slice(error.field.length + 2)}${detail(" (src/mail/security.ts)")}` };
  }
}

/**
 * A number of a programmatic config (AlarmConfig) checked by the rule of `key`; `toKeyUnit`
 * converts it to the key's unit (15: quarter hours to minutes). Throws SettingsError naming both.
 */
export function checkNumber(where: string, key: string, value: number | undefined, toKeyUnit = 1): void {
  if (value === undefined) return;
  try {
    readValue(setting(key), typeof value === "number" ? value * toKeyUnit : value);
  } catch (error) {
    if (error instanceof SettingProblem) throw new SettingsError(key, error.message, where);
    throw error;
  }
}
