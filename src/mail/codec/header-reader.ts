// A streaming RFC 5322 header reader over mail bytes fed in chunks of any size. It keeps only
// the fields it was asked for, each in a fixed buffer (longer values are cut and flagged),
// unfolds continuation lines, matches names without regard to case, and stops at the blank
// line, telling where in the current chunk the body begins.

import { parseAddress, parseAddressList, type ParsedAddress } from "./address.ts";
import { parseContentType, type ContentType } from "./content-type.ts";
import { decodeHeaderValue } from "./rfc2047.ts";
import { decodeUtf8, isValidUtf8 } from "./utf8.ts";
import { detail } from "../../transport/detail.ts";

export const DEFAULT_HEADER_FIELDS: readonly string[] = [
  "From", "To", "Cc", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding",
];
export const DEFAULT_MAX_FIELD_BYTES = 512;

export interface HeaderReaderOptions {
  /** Field names to keep (any case). Default DEFAULT_HEADER_FIELDS. */
  fields?: readonly string[];
  /** Bytes kept per field value; longer values are truncated and flagged. Default 512. */
  maxFieldBytes?: number;
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
const COLON = 58;

const LINE_START = 0;
const NAME = 1;
const VALUE = 2;
const DONE = 3;

function lowerByte(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte + 32 : byte;
}

/** Bytes as text: UTF-8 when well-formed (RFC 6532), else Latin-1 (old 8-bit headers). */
function bytesToText(bytes: Uint8Array, length: number): string {
  if (isValidUtf8(bytes, 0, length)) return decodeUtf8(bytes, 0, length);
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Length without an incomplete UTF-8 sequence cut off at the end by truncation. */
function withoutCutSequence(bytes: Uint8Array, length: number): number {
  let start = length - 1;
  while (start >= 0 && length - start <= 4 && (bytes[start] & 0xc0) === 0x80) start--;
  if (start < 0 || bytes[start] < 0xc0) return length;
  const lead = bytes[start];
  const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return length - start < needed ? start : length;
}

export class HeaderReader {
  readonly fields: readonly string[];
  readonly maxFieldBytes: number;
  /** Byte offset, in the chunk that completed the header, where the body begins (-1 before). */
  bodyOffset = -1;
  private readonly names: Uint8Array[];
  private readonly values: Uint8Array[];
  private readonly lengths: number[];
  private readonly present: boolean[];
  /** Times each wanted field appeared (a second From is a forgery sign, not a value). */
  private readonly counts: number[];
  private readonly truncatedFlags: boolean[];
  private readonly nameBuffer: Uint8Array;
  private nameLength = 0;
  /** The current field name did not fit the name buffer: it cannot be a wanted one. */
  private nameOverflow = false;
  /** Index of the field whose value is being collected, -1 for an unwanted field. */
  private current = -1;
  private state = LINE_START;

  constructor(options: HeaderReaderOptions = {}) {
    const fields = options.fields ?? DEFAULT_HEADER_FIELDS;
    const maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    if (!Number.isInteger(maxFieldBytes) || maxFieldBytes < 1) {
      throw new RangeError(`HeaderReader maxFieldBytes must be a positive integer, got ${maxFieldBytes}`);
    }
    let longest = 0;
    for (const field of fields) {
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) {
        throw new RangeError(`HeaderReader: "${field}" is not a header field name${detail(" (printable ASCII, no colon or space)")}`);
      }
      if (field.length > longest) longest = field.length;
    }
    this.fields = fields.slice();
    this.maxFieldBytes = maxFieldBytes;
    this.names = fields.map((field) => {
      const bytes = new Uint8Array(field.length);
      for (let i = 0; i < field.length; i++) bytes[i] = lowerByte(field.charCodeAt(i));
      return bytes;
    });
    this.values = fields.map(() => new Uint8Array(maxFieldBytes));
    this.lengths = fields.map(() => 0);
    this.present = fields.map(() => false);
    this.counts = fields.map(() => 0);
    this.truncatedFlags = fields.map(() => false);
    // Room for the longest wanted name plus spaces before the colon ("Subject :").
    this.nameBuffer = new Uint8Array(longest + 8);
  }

  /** The blank line (or end()) was reached. */
  get done(): boolean {
    return this.state === DONE;
  }

  /** MailSink shape, for a TOP or a saved header: the bytes after the blank line are ignored. */
  write(src: Uint8Array, offset: number, length: number): void {
    this.push(src, offset, length);
  }

  /**
   * Reads header bytes; returns how many it consumed. That is all of them until the blank
   * line ends the header: then it is the count through that line's LF, and `bodyOffset`
   * (= offset + the count) is where the body begins in `src`. Once done it consumes nothing.
   */
  push(src: Uint8Array, offset: number, length: number): number {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`HeaderReader.push: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    const end = offset + length;
    let state = this.state;
    let i = offset;
    while (i < end && state !== DONE) {
      const byte = src[i++];
      if (byte === CR) continue; // line breaks are found by LF; a CR is never part of a value
      switch (state) {
        case VALUE:
          if (byte === LF) state = LINE_START;
          else if (this.current >= 0) this.appendValue(byte);
          break;
        case LINE_START:
          if (byte === LF) {
            state = DONE;
            this.bodyOffset = i;
          } else if (byte === SPACE || byte === TAB) {
            // A folded line continues the previous field; unfolding keeps the whitespace.
            if (this.current >= 0) this.appendValue(byte);
            state = VALUE;
          } else {
            this.current = -1;
            this.nameLength = 0;
            this.nameOverflow = false;
            this.appendName(byte);
            state = NAME;
          }
          break;
        default: // NAME
          if (byte === COLON) {
            this.current = this.matchName();
            state = VALUE;
          } else if (byte === LF) state = LINE_START; // no colon: not a field, ignored
          else this.appendName(byte);
          break;
      }
    }
    this.state = state;
    return i - offset;
  }

  /** End of input without a blank line (a message with no body). */
  end(): void {
    this.state = DONE;
  }

  reset(): void {
    this.state = LINE_START;
    this.bodyOffset = -1;
    this.current = -1;
    this.nameLength = 0;
    this.nameOverflow = false;
    this.lengths.fill(0);
    this.present.fill(false);
    this.counts.fill(0);
    this.truncatedFlags.fill(false);
  }

  /** Whether the field appeared (its first occurrence is the one kept). */
  has(field: string): boolean {
    return this.present[this.indexOf(field)];
  }

  /** How many times the field appeared; only the first is kept. */
  count(field: string): number {
    return this.counts[this.indexOf(field)];
  }

  /** The value was longer than maxFieldBytes and was cut. */
  isTruncated(field: string): boolean {
    return this.truncatedFlags[this.indexOf(field)];
  }

  /** The unfolded value, trimmed, without RFC 2047 decoding; null when the field is absent. */
  raw(field: string): string | null {
    const index = this.indexOf(field);
    if (!this.present[index]) return null;
    return bytesToText(this.values[index], this.usableLength(index)).trim();
  }

  /**
   * The value unfolded, trimmed and RFC 2047 decoded; null when the field is absent.
   * `problems` collects what could not be decoded (see decodeHeaderValue).
   */
  get(field: string, problems?: string[]): string | null {
    const raw = this.raw(field);
    return raw === null ? null : decodeHeaderValue(raw, problems);
  }

  /** The first mailbox of an address field; null when the field is absent or has none. */
  address(field: string, problems?: string[]): ParsedAddress | null {
    const raw = this.raw(field);
    if (raw === null) return null;
    const parsed = parseAddress(raw, problems);
    return parsed.address === "" ? null : parsed;
  }

  /** Every mailbox of an address field ([] when absent). */
  addresses(field: string, problems?: string[]): ParsedAddress[] {
    const raw = this.raw(field);
    return raw === null ? [] : parseAddressList(raw, problems);
  }

  /** The value's bytes are not UTF-8, so raw() read them as ISO-8859-1 (old 8-bit headers). */
  isLatin1(field: string): boolean {
    const index = this.indexOf(field);
    return this.present[index] && !isValidUtf8(this.values[index], 0, this.usableLength(index));
  }

  /** Content-Type, parsed; text/plain; charset=us-ascii when absent (RFC 2045). */
  contentType(): ContentType {
    return parseContentType(this.raw("Content-Type"));
  }

  /** Content-Transfer-Encoding, lowercase; "7bit" when absent. */
  transferEncoding(): string {
    const raw = this.raw("Content-Transfer-Encoding");
    return raw === null || raw === "" ? "7bit" : raw.toLowerCase();
  }

  /** The value's length, without a UTF-8 sequence that truncation cut. */
  private usableLength(index: number): number {
    const length = this.lengths[index];
    return this.truncatedFlags[index] ? withoutCutSequence(this.values[index], length) : length;
  }

  private indexOf(field: string): number {
    const wanted = field.toLowerCase();
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i].toLowerCase() === wanted) return i;
    throw new RangeError(`HeaderReader: "${field}" is not one of the fields it collects (${this.fields.join(", ")})`);
  }

  private appendName(byte: number): void {
    if (this.nameLength < this.nameBuffer.length) this.nameBuffer[this.nameLength++] = lowerByte(byte);
    else this.nameOverflow = true;
  }

  private appendValue(byte: number): void {
    const index = this.current;
    const length = this.lengths[index];
    if (length < this.maxFieldBytes) {
      this.values[index][length] = byte;
      this.lengths[index] = length + 1;
    } else {
      this.truncatedFlags[index] = true;
    }
  }

  /** The wanted field the collected name is, or -1 (unwanted, or seen before). */
  private matchName(): number {
    if (this.nameOverflow) return -1;
    let length = this.nameLength;
    while (length > 0 && (this.nameBuffer[length - 1] === SPACE || this.nameBuffer[length - 1] === TAB)) length--;
    const names = this.names;
    for (let n = 0; n < names.length; n++) {
      const name = names[n];
      if (name.length !== length) continue;
      let k = 0;
      while (k < length && name[k] === this.nameBuffer[k]) k++;
      if (k < length) continue;
      this.counts[n]++;
      if (this.present[n]) return -1;
      this.present[n] = true;
      return n;
    }
    return -1;
  }
}
