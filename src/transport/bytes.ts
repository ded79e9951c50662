// Byte-level helpers shared by the framer, the match tables and the command builders.

/** ASCII/Latin-1 text to bytes. For compile-once tables and tests, not for hot paths. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Latin-1 decoding of a byte range; allocates a string, so only for values somebody asked for. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/**
 * The one rule for control characters in text from a mail or the modem: C0 but tab and line
 * feed (ESC, CR, BS ...), DEL and C1 are what a terminal acts on instead of showing. Traces
 * show them as "?" (withoutControls), the CLI as U+FFFD (src/host/cli-text.ts).
 */
export function isControl(codePoint: number): boolean {
  return (codePoint < 0x20 && codePoint !== 9 && codePoint !== 10) || (codePoint >= 0x7f && codePoint <= 0x9f);
}

/** isControl() as a RegExp character class body, for replacing them in a string. */
export const CONTROL_CHARACTERS = "\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f";

/** `text` with every control character (isControl) replaced by `replacement`. */
export function replaceControls(text: string, replacement: string): string {
  // A fresh RegExp per call: a module-level one would be frozen in a Moddable preload.
  return text.replace(new RegExp(`[${CONTROL_CHARACTERS}]`, "g"), replacement);
}

/** Text from a mail or the modem as it may be traced: control characters shown as "?". */
export function withoutControls(text: string): string {
  return replaceControls(text, "?");
}

export function bytesEqual(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array): boolean {
  if (aLen !== b.length) return false;
  for (let i = 0; i < aLen; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

export function bytesStartWith(a: Uint8Array, aOff: number, aLen: number, prefix: Uint8Array): boolean {
  if (aLen < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[aOff + i] !== prefix[i]) return false;
  return true;
}

const CHAR_0 = 48;
const CHAR_MINUS = 45;
const CHAR_COMMA = 44;
const CHAR_SPACE = 32;
const CHAR_QUOTE = 34;
const CHAR_OPEN = 40;
const CHAR_CLOSE = 41;

/**
 * A received line, read field by field from offsets. One instance is reused for every line;
 * it is valid only during the call that hands it over.
 */
export class Line {
  buf: Uint8Array;
  length = 0;
  /** Cursor for the field readers. */
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  set(length: number): void {
    this.length = length;
    this.pos = 0;
  }

  equals(pattern: Uint8Array): boolean {
    return bytesEqual(this.buf, 0, this.length, pattern);
  }

  startsWith(pattern: Uint8Array): boolean {
    return bytesStartWith(this.buf, 0, this.length, pattern);
  }

  /** Moves the cursor past `prefix` (e.g. the `+SMTPFT: ` of a match) and returns this. */
  after(prefix: Uint8Array): this {
    this.pos = prefix.length;
    return this;
  }

  atEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.length;
  }

  /** Next decimal integer field, then past one comma. NaN when the field is not a (safe) integer. */
  int(): number {
    // Locals, and each byte read once: two or three of these a chunk on both hot paths.
    const buf = this.buf;
    const length = this.length;
    let i = this.pos;
    while (i < length && buf[i] === CHAR_SPACE) i++;
    const fieldStart = i;
    let negative = false;
    if (i < length && buf[i] === CHAR_MINUS) {
      negative = true;
      i++;
    }
    const digitsStart = i;
    let value = 0;
    for (; i < length; i++) {
      const digit = buf[i] - CHAR_0;
      if (!(digit >= 0 && digit <= 9)) break;
      value = value * 10 + digit;
    }
    // No digits, or more than a double holds exactly (a garbled length must not pass as one).
    if (i === digitsStart || value > Number.MAX_SAFE_INTEGER) {
      this.pos = fieldStart;
      return NaN;
    }
    while (i < length && buf[i] === CHAR_SPACE) i++;
    if (i < length) {
      if (buf[i] !== CHAR_COMMA) {
        this.pos = i;
        return NaN;
      }
      i++;
    }
    this.pos = i;
    return negative ? -value : value;
  }

  /**
   * Next field as a string, then past its separator: quoted (quotes removed), a parenthesised
   * range such as `(0-2)` or `(0,1)` kept whole, or bare up to the next comma (trailing
   * spaces dropped). With `spaces`, a space also ends a bare field: the application note's
   * `+POP3: 2 2134` beside its `+POP3: 1, 1050`. The one reader of reply fields: steps and
   * the hot-path kinds all read theirs with it (numbers with `int()`).
   */
  str(spaces = false): string {
    this.skipSpaces();
    const buf = this.buf;
    let start = this.pos;
    let end: number;
    if (start < this.length && buf[start] === CHAR_QUOTE) {
      start++;
      end = start;
      while (end < this.length && buf[end] !== CHAR_QUOTE) end++;
      this.pos = end < this.length ? end + 1 : end;
    } else if (start < this.length && buf[start] === CHAR_OPEN) {
      end = start;
      while (end < this.length && buf[end] !== CHAR_CLOSE) end++;
      if (end < this.length) end++;
      this.pos = end;
    } else {
      end = start;
      while (end < this.length && buf[end] !== CHAR_COMMA && !(spaces && buf[end] === CHAR_SPACE)) end++;
      this.pos = end;
      while (end > start && buf[end - 1] === CHAR_SPACE) end--;
    }
    this.skipSpaces();
    if (this.pos < this.length && buf[this.pos] === CHAR_COMMA) this.pos++;
    return latin1(buf, start, end);
  }

  /** The rest of the line from the cursor. */
  rest(): string {
    return latin1(this.buf, this.pos, this.length);
  }

  text(): string {
    return latin1(this.buf, 0, this.length);
  }

  private skipSpaces(): void {
    while (this.pos < this.length && this.buf[this.pos] === CHAR_SPACE) this.pos++;
  }
}
