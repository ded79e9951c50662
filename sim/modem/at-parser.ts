// The simulated modem's side of the AT syntax: one command line (without its CR) in, a parsed
// command out. Text is Latin-1 ("binary strings"): one character per byte, so quoted strings
// carry the host's raw bytes (UTF-8 names, say) through untouched.

export type AtParam =
  /** `raw` keeps the digits as typed (leading zeros, for names that look like numbers). */
  | { kind: "int"; value: number; raw: string }
  | { kind: "string"; value: string }
  /** Unquoted text that is not a number (e.g. the classic `AT+FSCD=C:/Picture`). */
  | { kind: "word"; value: string }
  | { kind: "empty" };

export type AtForm = "test" | "read" | "write" | "exec";

export interface AtCommand {
  /** The line as received, from the "AT" on (Latin-1). */
  line: string;
  /**
   * Upper-case command name: "" for a bare `AT`, "E" / "I" / "&F" for basic commands,
   * "+SMTPSRV" for extended ones.
   */
  name: string;
  form: AtForm;
  /** Basic commands: the number after the letter (`ATE0` → 0), or null. */
  basicValue: number | null;
  /** Write form: the parameters in order. */
  params: AtParam[];
}

export class AtSyntaxError extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "AtSyntaxError";
  constructor(message: string) {
    super(message);
  }
}

const EXTENDED_NAME = /^\+[A-Z0-9_.%!:/-]+/;
const BASIC = /^(&?[A-Z])(\d*)$/;

/**
 * Finds the command in a received line: everything before the first "AT" (either case) is
 * line noise and ignored; a line without "AT" yields null (a modem answers nothing).
 */
export function locateCommand(line: string): string | null {
  const at = line.search(/at/i);
  return at < 0 ? null : line.slice(at);
}

/** Parses one command line that starts with "AT" (any case). Throws AtSyntaxError. */
export function parseCommand(line: string): AtCommand {
  if (!/^at/i.test(line)) throw new AtSyntaxError(`"${line}" does not start with AT`);
  const body = stripSpaces(line.slice(2));
  if (body === "") return { line, name: "", form: "exec", basicValue: null, params: [] };

  if (body[0] === "+") {
    const match = EXTENDED_NAME.exec(body.toUpperCase());
    if (!match) throw new AtSyntaxError(`no command name after "+" in "${line}"`);
    const name = match[0];
    const rest = body.slice(name.length);
    if (rest === "") return { line, name, form: "exec", basicValue: null, params: [] };
    if (rest === "?") return { line, name, form: "read", basicValue: null, params: [] };
    if (rest === "=?") return { line, name, form: "test", basicValue: null, params: [] };
    if (rest[0] === "=") return { line, name, form: "write", basicValue: null, params: parseParams(rest.slice(1)) };
    throw new AtSyntaxError(`unexpected "${rest}" after ${name} (chained commands are not supported)`);
  }

  const upper = body.toUpperCase();
  const basic = BASIC.exec(upper);
  if (!basic) {
    if (/^&?[A-Z]\?$/.test(upper)) return { line, name: upper.slice(0, -1), form: "read", basicValue: null, params: [] };
    throw new AtSyntaxError(`"${body}" is not a single basic command`);
  }
  return { line, name: basic[1], form: "exec", basicValue: basic[2] === "" ? null : Number(basic[2]), params: [] };
}

/** V.250: spaces outside quoted strings are not significant. */
function stripSpaces(text: string): string {
  let out = "";
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === " " && !quoted) continue;
    out += c;
  }
  return out;
}

/** Comma-separated values; a `"` always ends a quoted string (SIMCom strings have no escapes). */
export function parseParams(text: string): AtParam[] {
  const params: AtParam[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) throw new AtSyntaxError(`unterminated string in "${text}"`);
      params.push({ kind: "string", value: text.slice(i + 1, close) });
      i = close + 1;
      if (i < text.length && text[i] !== ",") throw new AtSyntaxError(`unexpected "${text[i]}" after a string in "${text}"`);
    } else {
      let end = text.indexOf(",", i);
      if (end < 0) end = text.length;
      const raw = text.slice(i, end);
      if (raw.includes('"')) throw new AtSyntaxError(`misplaced quote in "${raw}"`);
      if (raw === "") params.push({ kind: "empty" });
      else if (/^[+-]?\d+$/.test(raw)) params.push({ kind: "int", value: Number(raw), raw });
      else params.push({ kind: "word", value: raw });
      i = end;
    }
    if (i >= text.length) return params;
    i++; // the comma
    if (i === text.length) {
      params.push({ kind: "empty" });
      return params;
    }
  }
}

/** Thrown by the accessors below: the command is answered with ERROR. */
export class AtParamError extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "AtParamError";
  constructor(message: string) {
    super(message);
  }
}

/** Checked access to a write command's parameters. */
export class Params {
  readonly list: AtParam[];
  private readonly command: string;

  constructor(command: AtCommand) {
    this.list = command.params;
    this.command = command.name;
  }

  get count(): number {
    return this.list.length;
  }

  /** Refuses more than `max` or fewer than `min` parameters. */
  expectCount(min: number, max: number): this {
    if (this.list.length < min || this.list.length > max) {
      throw new AtParamError(`${this.command}: ${this.list.length} parameter(s), expected ${min === max ? min : `${min}-${max}`}`);
    }
    return this;
  }

  has(index: number): boolean {
    return index < this.list.length && this.list[index].kind !== "empty";
  }

  int(index: number, min: number, max: number, what: string): number {
    const param = this.list[index];
    if (param === undefined || param.kind !== "int") throw new AtParamError(`${this.command}: ${what} must be a number`);
    if (!Number.isInteger(param.value) || param.value < min || param.value > max) {
      throw new AtParamError(`${this.command}: ${what} ${param.value} is outside ${min}-${max}`);
    }
    return param.value;
  }

  /** A quoted string of at most `maxLength` bytes (and at least `minLength`). */
  string(index: number, maxLength: number, what: string, minLength = 0): string {
    const param = this.list[index];
    if (param === undefined || param.kind !== "string") throw new AtParamError(`${this.command}: ${what} must be a quoted string`);
    if (param.value.length > maxLength) throw new AtParamError(`${this.command}: ${what} is ${param.value.length} bytes, at most ${maxLength}`);
    if (param.value.length < minLength) throw new AtParamError(`${this.command}: ${what} is empty`);
    return param.value;
  }

  /** A quoted or unquoted text parameter (paths of the classic file system commands). */
  text(index: number, maxLength: number, what: string): string {
    const param = this.list[index];
    if (param !== undefined && param.kind !== "empty") {
      const text = param.kind === "int" ? param.raw : param.value;
      if (text.length === 0 || text.length > maxLength) throw new AtParamError(`${this.command}: ${what} must be 1-${maxLength} bytes`);
      return text;
    }
    throw new AtParamError(`${this.command}: ${what} is missing`);
  }
}
