// UTF-8 without TextEncoder/TextDecoder: lengths, encoding into caller buffers, and a streaming
// decoder that survives any split and never throws (WHATWG rules: each maximal invalid
// subpart becomes one U+FFFD, like TextDecoder and Node's Buffer).

import { TextBuffer } from "./text-buffer.ts";

const REPLACEMENT = 0xfffd;

/** Where decoders put text: a bounded TextBuffer, or a writer that passes it on. */
export interface CodePointSink {
  /** Takes one code point; false when it did not fit (and nothing more will). */
  appendCodePoint(codePoint: number): boolean;
  /** Set once a code point did not fit. */
  readonly truncated: boolean;
  /** Drops the text held (a writer: what it has not passed on yet). */
  clear(): void;
}

/** The code point at `index`, with a lone surrogate read as U+FFFD. Step by 2 when ≥ 0x10000. */
export function readCodePoint(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit < 0xd800 || unit > 0xdfff) return unit;
  if (unit <= 0xdbff && index + 1 < text.length) {
    const low = text.charCodeAt(index + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
  }
  return REPLACEMENT;
}

/** Bytes of one code point in UTF-8 (1 to 4). */
export function utf8SequenceLength(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** Writes one code point as UTF-8 at `offset` (room is the caller's job); returns bytes written. */
export function encodeCodePoint(codePoint: number, out: Uint8Array, offset: number): number {
  if (codePoint < 0x80) {
    out[offset] = codePoint;
    return 1;
  }
  if (codePoint < 0x800) {
    out[offset] = 0xc0 | (codePoint >> 6);
    out[offset + 1] = 0x80 | (codePoint & 0x3f);
    return 2;
  }
  if (codePoint < 0x10000) {
    out[offset] = 0xe0 | (codePoint >> 12);
    out[offset + 1] = 0x80 | ((codePoint >> 6) & 0x3f);
    out[offset + 2] = 0x80 | (codePoint & 0x3f);
    return 3;
  }
  out[offset] = 0xf0 | (codePoint >> 18);
  out[offset + 1] = 0x80 | ((codePoint >> 12) & 0x3f);
  out[offset + 2] = 0x80 | ((codePoint >> 6) & 0x3f);
  out[offset + 3] = 0x80 | (codePoint & 0x3f);
  return 4;
}

/** Bytes `text` takes in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const codePoint = readCodePoint(text, i);
    if (codePoint >= 0x10000) i++;
    length += utf8SequenceLength(codePoint);
  }
  return length;
}

/**
 * Writes `text` as UTF-8 into `out` from `offset`; returns the bytes written. Lone surrogates
 * become U+FFFD. Throws a RangeError, before writing anything, when `out` has too little room.
 */
export function encodeUtf8Into(text: string, out: Uint8Array, offset: number): number {
  const needed = utf8Length(text);
  if (offset < 0 || offset + needed > out.length) {
    throw new RangeError(`encodeUtf8Into: ${needed} bytes of UTF-8 do not fit at offset ${offset} of a ${out.length}-byte buffer`);
  }
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    const codePoint = readCodePoint(text, i);
    if (codePoint >= 0x10000) i++;
    at += encodeCodePoint(codePoint, out, at);
  }
  return at - offset;
}

/** True when every code unit is below 0x80 (so UTF-8 bytes = characters). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Streaming UTF-8 → text into a bounded TextBuffer (or another code point sink). A sequence
 * split across writes is carried in three numbers, never in a buffer. Invalid input becomes
 * U+FFFD (counted in `replaced`); nothing throws.
 */
export class Utf8Decoder<Sink extends CodePointSink = TextBuffer> {
  readonly text: Sink;
  /** U+FFFD written for invalid input since the last reset() or restart(). */
  replaced = 0;
  private needed = 0;
  private seen = 0;
  private codePoint = 0;
  private lower = 0x80;
  private upper = 0xbf;

  /** Appends to `target`, or to a new TextBuffer of that many code units. */
  constructor(target: Sink | number = 2048) {
    this.text = (typeof target === "number" ? new TextBuffer(target) : target) as Sink;
  }

  /** Decodes bytes and appends the text; returns false once the text buffer is truncated. */
  write(src: Uint8Array, offset: number, length: number): boolean {
    const text = this.text;
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      const byte = src[i];
      if (this.needed === 0) {
        if (byte < 0x80) {
          if (!text.appendCodePoint(byte)) return false;
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          this.needed = 1;
          this.codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          if (byte === 0xe0) this.lower = 0xa0; // overlong
          if (byte === 0xed) this.upper = 0x9f; // surrogates
          this.needed = 2;
          this.codePoint = byte & 0x0f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          if (byte === 0xf0) this.lower = 0x90; // overlong
          if (byte === 0xf4) this.upper = 0x8f; // above U+10FFFF
          this.needed = 3;
          this.codePoint = byte & 0x07;
        } else {
          this.replaced++;
          if (!text.appendCodePoint(REPLACEMENT)) return false;
        }
        continue;
      }
      if (byte < this.lower || byte > this.upper) {
        // The sequence so far is one invalid subpart; this byte starts afresh.
        this.clearSequence();
        this.replaced++;
        if (!text.appendCodePoint(REPLACEMENT)) return false;
        i--;
        continue;
      }
      this.lower = 0x80;
      this.upper = 0xbf;
      this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
      if (++this.seen === this.needed) {
        const codePoint = this.codePoint;
        this.clearSequence();
        if (!text.appendCodePoint(codePoint)) return false;
      }
    }
    return !text.truncated;
  }

  /** End of input: an unfinished sequence becomes U+FFFD. */
  end(): void {
    if (this.needed !== 0) {
      this.clearSequence();
      this.replaced++;
      this.text.appendCodePoint(REPLACEMENT);
    }
  }

  /** Forgets a partial sequence and the count, and clears the text. */
  reset(): void {
    this.restart();
    this.text.clear();
  }

  /** Forgets a partial sequence and the count, keeping what the sink holds (a new text after it). */
  restart(): void {
    this.clearSequence();
    this.replaced = 0;
  }

  toString(): string {
    return this.text.toString();
  }

  private clearSequence(): void {
    this.needed = 0;
    this.seen = 0;
    this.codePoint = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/** Decodes a small byte range to a string (allocates; for values somebody asked for). */
export function decodeUtf8(bytes: Uint8Array, offset: number, length: number): string {
  // Every byte yields at most one code unit (4-byte sequences yield 2), so `length` is enough.
  const decoder = new Utf8Decoder(length);
  decoder.write(bytes, offset, length);
  decoder.end();
  return decoder.toString();
}

/** True when the range is well-formed UTF-8 (used to tell raw UTF-8 headers from Latin-1). */
export function isValidUtf8(bytes: Uint8Array, offset: number, length: number): boolean {
  const end = offset + length;
  let i = offset;
  while (i < end) {
    const byte = bytes[i];
    if (byte < 0x80) {
      i++;
      continue;
    }
    let needed: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (byte >= 0xc2 && byte <= 0xdf) needed = 1;
    else if (byte >= 0xe0 && byte <= 0xef) {
      needed = 2;
      if (byte === 0xe0) lower = 0xa0;
      if (byte === 0xed) upper = 0x9f;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      needed = 3;
      if (byte === 0xf0) lower = 0x90;
      if (byte === 0xf4) upper = 0x8f;
    } else return false;
    if (i + needed >= end) return false;
    for (let k = 1; k <= needed; k++) {
      const next = bytes[i + k];
      if (next < lower || next > upper) return false;
      lower = 0x80;
      upper = 0xbf;
    }
    i += needed + 1;
  }
  return true;
}
