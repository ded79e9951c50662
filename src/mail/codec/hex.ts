// Uppercase hex, as AT+SMTPSUB and AT+SMTPBODY take UTF-8 text when AT+SMTPCS selects it.

import { encodeCodePoint, readCodePoint, utf8Length } from "./utf8.ts";

/** ASCII codes of "0123456789ABCDEF". */
const HEX_DIGITS = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70]);

/** Writes 2 × `length` hex digits for `src[offset..]` at `out[outOffset..]`; returns 2 × length. */
export function hexEncodeInto(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
  if (offset < 0 || length < 0 || offset + length > src.length) {
    throw new RangeError(`hexEncodeInto: source range ${offset}+${length} is outside a ${src.length}-byte buffer`);
  }
  if (outOffset < 0 || outOffset + 2 * length > out.length) {
    throw new RangeError(`hexEncodeInto: ${2 * length} hex digits do not fit at offset ${outOffset} of a ${out.length}-byte buffer`);
  }
  let at = outOffset;
  for (let i = offset; i < offset + length; i++) {
    const byte = src[i];
    out[at++] = HEX_DIGITS[byte >> 4];
    out[at++] = HEX_DIGITS[byte & 15];
  }
  return at - outOffset;
}

/** Uppercase hex of the UTF-8 of `text` (lone surrogates as U+FFFD). For short texts (a subject). */
export function hexOfUtf8(text: string): string {
  const bytes = new Uint8Array(4);
  let hex = "";
  for (let i = 0; i < text.length; i++) {
    const codePoint = readCodePoint(text, i);
    if (codePoint >= 0x10000) i++;
    const n = encodeCodePoint(codePoint, bytes, 0);
    for (let k = 0; k < n; k++) {
      hex += String.fromCharCode(HEX_DIGITS[bytes[k] >> 4], HEX_DIGITS[bytes[k] & 15]);
    }
  }
  return hex;
}

/**
 * A text's UTF-8 as uppercase hex, read out in pieces of any size (a body longer than the
 * transmit buffer). Holds one code point's bytes between reads; reusable through reset().
 */
export class Utf8HexStream {
  private text = "";
  private index = 0;
  private readonly sequence = new Uint8Array(4);
  private sequenceLength = 0;
  /** Hex digits of `sequence` already handed out. */
  private digitsOut = 0;
  private total = 0;

  constructor(text: string) {
    this.reset(text);
  }

  /** Hex digits in all: 2 × UTF-8 length. */
  get totalLength(): number {
    return this.total;
  }

  reset(text: string): void {
    this.text = text;
    this.index = 0;
    this.sequenceLength = 0;
    this.digitsOut = 0;
    this.total = 2 * utf8Length(text);
  }

  /** Writes up to `max` hex digits at `out[offset..]`; returns how many, 0 once all were read. */
  read(out: Uint8Array, offset: number, max: number): number {
    if (offset < 0 || max < 0 || offset + max > out.length) {
      throw new RangeError(`Utf8HexStream.read: ${max} bytes at offset ${offset} exceed a ${out.length}-byte buffer`);
    }
    let written = 0;
    while (written < max) {
      if (this.digitsOut === 2 * this.sequenceLength) {
        if (this.index >= this.text.length) break;
        const codePoint = readCodePoint(this.text, this.index);
        this.index += codePoint >= 0x10000 ? 2 : 1;
        this.sequenceLength = encodeCodePoint(codePoint, this.sequence, 0);
        this.digitsOut = 0;
      }
      const byte = this.sequence[this.digitsOut >> 1];
      out[offset + written++] = HEX_DIGITS[(this.digitsOut & 1) === 0 ? byte >> 4 : byte & 15];
      this.digitsOut++;
    }
    return written;
  }
}
