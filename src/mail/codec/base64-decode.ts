// RFC 2045 base64 decoding, streaming with carried state and no allocation per call (the
// alphabet, shared with the encoder, is in ./base64.ts).

import { checkRange, INVALID, PAD, PAD_CHAR, SEXTETS } from "./base64.ts";

/**
 * Streaming base64 → bytes. Whitespace and line breaks are skipped, padding may be missing
 * (finish() flushes a short last group), characters outside the alphabet are counted in
 * `invalid` and skipped; nothing throws on bad data.
 */
export class Base64Decoder {
  /** Characters skipped as invalid: outside the alphabet, a misplaced "=", a lone last character. */
  invalid = 0;
  private bits = 0;
  /** Sextets in `bits` (0-3). */
  private count = 0;
  /** A padded group just ended: further "=" are its remaining padding. */
  private padding = false;

  /** Upper bound of what decode() writes for `length` input bytes, carried state included. */
  static maxDecodedLength(length: number): number {
    return Math.floor(((length + 3) * 3) / 4);
  }

  decode(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    checkRange("Base64Decoder.decode source", src, offset, length);
    const bound = Base64Decoder.maxDecodedLength(length);
    if (!(outOffset >= 0 && outOffset + bound <= out.length)) {
      throw new RangeError(`Base64Decoder.decode: needs room for ${bound} bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    const end = offset + length;
    let at = outOffset;
    let bits = this.bits;
    let count = this.count;
    for (let i = offset; i < end; i++) {
      const value = SEXTETS[src[i]];
      if (value >= 0) {
        this.padding = false;
        bits = (bits << 6) | value;
        if (++count === 4) {
          out[at++] = (bits >> 16) & 0xff;
          out[at++] = (bits >> 8) & 0xff;
          out[at++] = bits & 0xff;
          bits = 0;
          count = 0;
        }
      } else if (value === PAD) {
        if (count >= 2) {
          at = writeGroup(bits, count, out, at);
          this.padding = true;
        } else if (count === 1) {
          this.invalid++; // one sextet is not a byte
          this.padding = true;
        } else if (!this.padding) {
          this.invalid++;
        }
        bits = 0;
        count = 0;
      } else if (value === INVALID) {
        this.invalid++;
      }
    }
    this.bits = bits;
    this.count = count;
    return at - outOffset;
  }

  /** End of input: writes the 1-2 bytes of an unpadded last group (needs room for 2). */
  finish(out: Uint8Array, outOffset: number): number {
    if (!(outOffset >= 0 && outOffset + 2 <= out.length)) {
      throw new RangeError(`Base64Decoder.finish: needs room for 2 bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    let at = outOffset;
    if (this.count >= 2) at = writeGroup(this.bits, this.count, out, at);
    else if (this.count === 1) this.invalid++;
    this.bits = 0;
    this.count = 0;
    this.padding = false;
    return at - outOffset;
  }

  reset(): void {
    this.invalid = 0;
    this.bits = 0;
    this.count = 0;
    this.padding = false;
  }
}

/** The bytes of a group: 2 sextets → 1 byte, 3 sextets → 2 bytes, 4 → 3. */
function writeGroup(bits: number, count: number, out: Uint8Array, at: number): number {
  if (count === 4) {
    out[at++] = (bits >> 16) & 0xff;
    out[at++] = (bits >> 8) & 0xff;
    out[at++] = bits & 0xff;
  } else if (count === 2) {
    out[at++] = (bits >> 4) & 0xff;
  } else {
    out[at++] = (bits >> 10) & 0xff;
    out[at++] = (bits >> 2) & 0xff;
  }
  return at;
}

/**
 * Strict base64 of a whole short text (an RFC 2047 "B" word) into `out` at `at`: the alphabet
 * only, "=" padding at the end only; returns the new end, or -1 when the text is not base64.
 * (Base64Decoder is the lenient, streaming one: it skips what is not base64 and counts it.)
 */
export function decodeBase64Text(text: string, out: Uint8Array, at: number): number {
  let bits = 0;
  let count = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === PAD_CHAR) {
      padding++;
      continue;
    }
    const value = c < 256 ? SEXTETS[c] : INVALID;
    if (value < 0 || padding > 0) return -1;
    bits = (bits << 6) | value;
    if (++count === 4) {
      at = writeGroup(bits, 4, out, at);
      bits = 0;
      count = 0;
    }
  }
  if (count === 1 || padding > 2) return -1;
  return count >= 2 ? writeGroup(bits, count, out, at) : at;
}
