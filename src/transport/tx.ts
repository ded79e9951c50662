// Builds one AT command line into a fixed buffer. Quoted parameters are checked so that no
// value can end the string early or start another command.

import type { Line } from "./bytes.ts";
import { AtParameterError } from "./errors.ts";
import { detail } from "./detail.ts";

const QUOTE = 34;
const CR = 13;

export class CommandBuffer {
  readonly bytes: Uint8Array;
  length = 0;
  /** Byte range holding a secret (password); traces mask it. */
  secretStart = 0;
  secretEnd = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  reset(): this {
    this.length = 0;
    this.secretStart = 0;
    this.secretEnd = 0;
    return this;
  }

  /** Appends ASCII text written by the firmware itself (command names, separators). */
  raw(text: string): this {
    this.room(text.length, "command");
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
    return this;
  }

  /** Appends bytes (a compiled command prefix). */
  bytesOf(src: Uint8Array): this {
    this.room(src.length, "command");
    this.bytes.set(src, this.length);
    this.length += src.length;
    return this;
  }

  int(value: number, field = "number"): this {
    if (!Number.isInteger(value)) throw new AtParameterError(field, `${value} is not a whole number`);
    if (value < 0) {
      this.room(1, field);
      this.bytes[this.length++] = 45;
      value = -value;
    }
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    this.room(digits, field);
    for (let i = digits - 1; i >= 0; i--) {
      this.bytes[this.length + i] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
    this.length += digits;
    return this;
  }

  /**
   * Appends `"value"`. Only printable ASCII without `"` is allowed: SIMCom strings have no
   * escapes, so a quote, CR, LF or NUL would end the parameter or the command.
   */
  quoted(value: string, field: string, secret = false): this {
    checkQuotable(value, field);
    this.room(value.length + 2, field);
    this.bytes[this.length++] = QUOTE;
    if (secret) this.secretStart = this.length;
    for (let i = 0; i < value.length; i++) this.bytes[this.length++] = value.charCodeAt(i);
    if (secret) this.secretEnd = this.length;
    this.bytes[this.length++] = QUOTE;
    return this;
  }

  /** Ends the command line with CR, as V.250 asks. */
  end(): this {
    this.room(1, "command");
    this.bytes[this.length++] = CR;
    return this;
  }

  /** The command as text without the CR, secrets masked: for errors and traces. */
  describe(): string {
    let s = "";
    for (let i = 0; i < this.length; i++) {
      const c = this.bytes[i];
      if (c === CR) continue;
      s += i >= this.secretStart && i < this.secretEnd ? "*" : String.fromCharCode(c);
    }
    return s;
  }

  /** With echo on (ATE1, the power-on default) the modem repeats the command line: is `line` that? */
  isEcho(line: Line): boolean {
    let n = this.length;
    if (n > 0 && this.bytes[n - 1] === CR) n--;
    if (line.length !== n) return false;
    const buf = line.buf;
    // Some firmwares echo in lower case: letters compare without case.
    for (let i = 0; i < n; i++) if (!sameLetter(buf[i], this.bytes[i])) return false;
    return true;
  }

  private room(n: number, field: string): void {
    if (this.length + n > this.bytes.length) {
      throw new AtParameterError(field, `the command would be longer than ${this.bytes.length} bytes`);
    }
  }
}

/**
 * The one quoting rule: why `value` cannot go between the quotes of an AT string parameter, or
 * null when it can. SIMCom strings have no escapes, so a quote, CR, LF or NUL would end the
 * parameter or the command. `unicode`: text the mail layer encodes before quoting it (display
 * names): non-ASCII is allowed there, but must be valid UTF-16.
 */
export function quotingProblem(value: string, unicode = false): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) return 'must not contain a double quote (")';
    if (c === 13 || c === 10) return "must not contain a line break (CR or LF)";
    if (c === 0) return "must not contain a NUL character";
    if (c < 32 || c === 127) return `must not contain control character 0x${c.toString(16).padStart(2, "0")}`;
    if (c > 126 && !unicode) return "must be plain ASCII";
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c < 0xdc00 && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) return "contains a lone UTF-16 surrogate (invalid Unicode)";
      i++;
    }
  }
  return null;
}

/** Throws an AtParameterError naming `field` when `value` cannot be sent inside quotes. */
export function checkQuotable(value: string, field: string): void {
  if (typeof value !== "string") throw new AtParameterError(field, "must be text");
  const problem = quotingProblem(value);
  if (problem === null) return;
  throw new AtParameterError(field, problem === "must be plain ASCII" ? `${problem}${detail(" (non-ASCII text is sent hex-encoded by the mail layer)")}` : problem);
}

/** Equal bytes, or the same ASCII letter in either case. */
function sameLetter(a: number, b: number): boolean {
  if (a === b) return true;
  const lower = a | 0x20;
  return lower === (b | 0x20) && lower >= 0x61 && lower <= 0x7a;
}
