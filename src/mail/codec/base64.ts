// RFC 2045 base64, streaming with carried state and no allocation per call: the alphabet both
// ways and the encoder here, the decoder in ./base64-decode.ts.
//
// Encoder output policy: lines of `lineLength` characters (76 by default), every line — the
// last, shorter one included — ends with CRLF, and an empty input gives no output at all.
// So the total for n input bytes is c + 2·⌈c/lineLength⌉ with c = 4·⌈n/3⌉ (encodedLength).
// With lineLength 0 the output is one unbroken run of c characters.

/** ASCII codes of the base64 alphabet. */
export const ALPHABET = new Uint8Array(64);
/** Byte → sextet value, or one of the markers below. */
export const SEXTETS = new Int8Array(256);
export const INVALID = -1;
export const WHITESPACE = -2;
export const PAD = -3;
export const PAD_CHAR = 61; // "="
/**
 * Any 12 bits → their two base64 characters (first one in the high byte): 4096 entries, 8 KiB,
 * built once when the module loads (preloaded, it could live in flash). It halves the
 * encoder's lookups; the RAM it costs is in BENCHMARKS.md's core buffers.
 */
const PAIRS = new Uint16Array(4096);
const CR = 13;
const LF = 10;
/** CR LF as one big-endian 16-bit store. */
const CRLF = (CR << 8) | LF;

{
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  SEXTETS.fill(INVALID);
  for (let i = 0; i < 64; i++) {
    ALPHABET[i] = letters.charCodeAt(i);
    SEXTETS[ALPHABET[i]] = i;
  }
  for (let i = 0; i < 4096; i++) PAIRS[i] = (ALPHABET[i >> 6] << 8) | ALPHABET[i & 63];
  for (const c of [9, 10, 11, 12, 13, 32]) SEXTETS[c] = WHITESPACE;
  SEXTETS[PAD_CHAR] = PAD;
}

export function checkRange(what: string, buf: Uint8Array, offset: number, length: number): void {
  if (!(offset >= 0 && length >= 0 && offset + length <= buf.length)) {
    throw new RangeError(`${what}: range ${offset}+${length} is outside a ${buf.length}-byte buffer`);
  }
}

export class Base64Encoder {
  readonly lineLength: number;
  private carried = 0;
  private carry0 = 0;
  private carry1 = 0;
  /** Characters on the current output line. */
  private column = 0;
  /** DataViews over the last source [0] and output [1] buffers, remade only when a buffer changes. */
  private readonly viewed: Array<Uint8Array | null> = [null, null];
  private readonly views: DataView[] = [];

  /** `lineLength`: a positive multiple of 4 (RFC 2045 allows at most 76), or 0 for no line breaks. */
  constructor(lineLength = 76) {
    if (!Number.isInteger(lineLength) || lineLength < 0 || lineLength % 4 !== 0) {
      throw new RangeError(`Base64Encoder line length must be 0 or a positive multiple of 4, got ${lineLength}`);
    }
    this.lineLength = lineLength;
  }

  /** Exact output, line breaks and final CRLF included, for `n` bytes encoded from a fresh state. */
  static encodedLength(n: number, lineLength = 76): number {
    const chars = 4 * Math.ceil(n / 3);
    return lineLength === 0 ? chars : chars + 2 * Math.ceil(chars / lineLength);
  }

  /** Input bytes (0-2) held over until a group of three is complete. */
  get carriedBytes(): number {
    return this.carried;
  }

  /** Exact bytes the next encode() of `length` bytes writes, given what is carried. */
  encodeLength(length: number): number {
    const chars = 4 * Math.floor((this.carried + length) / 3);
    return this.lineLength === 0 ? chars : chars + 2 * Math.floor((this.column + chars) / this.lineLength);
  }

  /** Exact bytes finish() would write now: 0, 2 (CRLF), 4 or 6 (last group, CRLF). */
  finishLength(): number {
    const breaks = this.lineLength === 0 ? 0 : 2;
    if (this.carried > 0) return 4 + breaks;
    return this.column > 0 ? breaks : 0;
  }

  /**
   * The most raw bytes that can be encoded now such that encode() plus a finish() right after
   * fit in `outCapacity` bytes (so the caller may finish whenever its source runs dry).
   */
  rawBytesFor(outCapacity: number): number {
    if (!Number.isInteger(outCapacity) || outCapacity < 0) {
      throw new RangeError(`Base64Encoder.rawBytesFor: capacity must be a non-negative integer, got ${outCapacity}`);
    }
    const lineLength = this.lineLength;
    let groups = lineLength === 0
      ? Math.floor(outCapacity / 4)
      : Math.floor((outCapacity * lineLength) / (4 * (lineLength + 2))) + 1;
    while (groups > 0 && this.remainingLength(groups) > outCapacity) groups--;
    while (this.remainingLength(groups + 1) <= outCapacity) groups++;
    const raw = 3 * groups - this.carried;
    return raw > 0 ? raw : 0;
  }

  /** Encodes `src[offset..offset+length)` into `out` at `outOffset`; returns bytes written. */
  encode(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    checkRange("Base64Encoder.encode source", src, offset, length);
    const needed = this.encodeLength(length);
    if (!(outOffset >= 0 && outOffset + needed <= out.length)) {
      throw new RangeError(`Base64Encoder.encode: ${needed} output bytes do not fit at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    const end = offset + length;
    let i = offset;
    let at = outOffset;
    if (this.carried === 1 && i < end) {
      this.carry1 = src[i++];
      this.carried = 2;
    }
    if (this.carried === 2 && i < end) {
      at = this.writeGroup(this.carry0, this.carry1, src[i++], out, at);
      this.carried = 0;
    }
    if (this.carried > 0) return at - outOffset;
    // Line by line, four groups (12 bytes) at a time: three big-endian 32-bit loads cover
    // them exactly, and each group's two 12-bit halves are two character pairs of PAIRS,
    // written as one 32-bit store, through DataViews made once per buffer. Under XS that costs
    // about 17 units a raw byte, against 27 for four alphabet lookups a group. A block's
    // bytes are all read before its output is written: safe for in-place use.
    const lineLength = this.lineLength;
    const srcView = this.viewOf(src, 0);
    const outView = this.viewOf(out, 1);
    const P = PAIRS;
    // A lone group is loaded as 32 bits (one byte more, ignored): not the last group of `src`.
    const loadable = src.length - 4;
    let column = this.column;
    for (;;) {
      if (column === 0 && lineLength === 76) {
        // Whole lines of the usual length with the least bookkeeping: 57 bytes, four blocks
        // and three groups (two loads and a byte), CRLF. Unrolled on purpose: as a loop of four
        // blocks the 64 KiB send of paths.xs.test.ts measured 40.3 units a byte, past issue 17's
        // goal of 40, against 39.4 unrolled.
        const lastLine = end - 57;
        while (i <= lastLine) {
          {
            const x = srcView.getUint32(i);
            const y = srcView.getUint32(i + 4);
            const z = srcView.getUint32(i + 8);
            outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
            outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
            outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | (z >>> 24)]);
            outView.setUint32(at + 12, (P[(z >>> 12) & 4095] << 16) | P[z & 4095]);
            i += 12;
            at += 16;
          }
          {
            const x = srcView.getUint32(i);
            const y = srcView.getUint32(i + 4);
            const z = srcView.getUint32(i + 8);
            outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
            outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
            outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | (z >>> 24)]);
            outView.setUint32(at + 12, (P[(z >>> 12) & 4095] << 16) | P[z & 4095]);
            i += 12;
            at += 16;
          }
          {
            const x = srcView.getUint32(i);
            const y = srcView.getUint32(i + 4);
            const z = srcView.getUint32(i + 8);
            outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
            outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
            outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | (z >>> 24)]);
            outView.setUint32(at + 12, (P[(z >>> 12) & 4095] << 16) | P[z & 4095]);
            i += 12;
            at += 16;
          }
          {
            const x = srcView.getUint32(i);
            const y = srcView.getUint32(i + 4);
            const z = srcView.getUint32(i + 8);
            outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
            outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
            outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | (z >>> 24)]);
            outView.setUint32(at + 12, (P[(z >>> 12) & 4095] << 16) | P[z & 4095]);
            i += 12;
            at += 16;
          }
          const x = srcView.getUint32(i);
          const y = srcView.getUint32(i + 4);
          const z = src[i + 8];
          outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
          outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
          outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | z]);
          outView.setUint16(at + 12, CRLF);
          i += 9;
          at += 14;
        }
      }
      if (end - i < 3) break;
      let groups = ((end - i) / 3) | 0;
      if (lineLength !== 0) {
        const room = (lineLength - column) >> 2;
        if (room < groups) groups = room;
      }
      const stop = i + groups * 3;
      const blocks = stop - 12;
      while (i <= blocks) {
        const x = srcView.getUint32(i);
        const y = srcView.getUint32(i + 4);
        const z = srcView.getUint32(i + 8);
        outView.setUint32(at, (P[x >>> 20] << 16) | P[(x >>> 8) & 4095]);
        outView.setUint32(at + 4, (P[((x & 255) << 4) | (y >>> 28)] << 16) | P[(y >>> 16) & 4095]);
        outView.setUint32(at + 8, (P[(y >>> 4) & 4095] << 16) | P[((y & 15) << 8) | (z >>> 24)]);
        outView.setUint32(at + 12, (P[(z >>> 12) & 4095] << 16) | P[z & 4095]);
        i += 12;
        at += 16;
      }
      const fast = stop - 3 < loadable ? stop - 3 : loadable;
      while (i <= fast) {
        const n = srcView.getUint32(i);
        outView.setUint32(at, (P[n >>> 20] << 16) | P[(n >>> 8) & 4095]);
        i += 3;
        at += 4;
      }
      const A = ALPHABET;
      while (i < stop) {
        const n = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
        out[at] = A[n >>> 18];
        out[at + 1] = A[(n >>> 12) & 63];
        out[at + 2] = A[(n >>> 6) & 63];
        out[at + 3] = A[n & 63];
        i += 3;
        at += 4;
      }
      if (lineLength !== 0) {
        column += groups * 4;
        if (column === lineLength) {
          out[at++] = CR;
          out[at++] = LF;
          column = 0;
        }
      }
    }
    this.column = column;
    if (i < end) {
      this.carry0 = src[i++];
      this.carried = 1;
      if (i < end) {
        this.carry1 = src[i];
        this.carried = 2;
      }
    }
    return at - outOffset;
  }

  /** Writes the padded last group and the final CRLF (see the policy above), then resets. */
  finish(out: Uint8Array, outOffset: number): number {
    const needed = this.finishLength();
    if (!(outOffset >= 0 && outOffset + needed <= out.length)) {
      throw new RangeError(`Base64Encoder.finish: ${needed} output bytes do not fit at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    let at = outOffset;
    if (this.carried > 0) {
      const b0 = this.carry0;
      const b1 = this.carried === 2 ? this.carry1 : 0;
      out[at++] = ALPHABET[b0 >> 2];
      out[at++] = ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
      out[at++] = this.carried === 2 ? ALPHABET[(b1 & 15) << 2] : PAD_CHAR;
      out[at++] = PAD_CHAR;
      this.column += 4;
    }
    if (this.lineLength !== 0 && this.column > 0) {
      out[at++] = CR;
      out[at++] = LF;
    }
    this.reset();
    return at - outOffset;
  }

  reset(): void {
    this.carried = 0;
    this.carry0 = 0;
    this.carry1 = 0;
    this.column = 0;
  }

  /** A DataView over `buf` (slot 0 source, 1 output): made once per buffer, not per call. */
  private viewOf(buf: Uint8Array, slot: number): DataView {
    if (this.viewed[slot] !== buf) {
      this.viewed[slot] = buf;
      this.views[slot] = this.viewed[1 - slot] === buf ? this.views[1 - slot] : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.views[slot];
  }

  /** Output if the stream ended after `groups` more complete groups (carry included). */
  private remainingLength(groups: number): number {
    const chars = 4 * groups;
    return this.lineLength === 0 ? chars : chars + 2 * Math.ceil((this.column + chars) / this.lineLength);
  }

  private writeGroup(b0: number, b1: number, b2: number, out: Uint8Array, at: number): number {
    out[at] = ALPHABET[b0 >> 2];
    out[at + 1] = ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
    out[at + 2] = ALPHABET[((b1 & 15) << 2) | (b2 >> 6)];
    out[at + 3] = ALPHABET[b2 & 63];
    at += 4;
    this.column += 4;
    if (this.column === this.lineLength) {
      out[at++] = CR;
      out[at++] = LF;
      this.column = 0;
    }
    return at;
  }
}

/**
 * Encodes `rawLength` bytes held in `buf` at `rawOffset` into base64 written to `buf` from
 * index 0; returns the encoded length. Output never overtakes input: every group's bytes are
 * read before its output is written, and the raw bytes are first moved toward the end of
 * `buf` when they sit too near the front for that (place them at the end, as
 * `rawBytesFor(capacity)` sizes them, and nothing moves). The encoder's carried bytes and
 * line position continue across calls; call `encoder.finish(buf, written)` at the end.
 * Throws a RangeError, before changing anything, when `buf` cannot hold the result.
 */
export function base64ExpandInPlace(buf: Uint8Array, rawOffset: number, rawLength: number, encoder: Base64Encoder): number {
  checkRange("base64ExpandInPlace raw data", buf, rawOffset, rawLength);
  const outLength = encoder.encodeLength(rawLength);
  if (outLength === 0) return encoder.encode(buf, rawOffset, rawLength, buf, 0);
  // Output grows faster than input, so the write position is nearest the read position when
  // the last complete group is written; that point decides the lowest safe raw offset.
  const readAtLastGroup = rawLength - ((encoder.carriedBytes + rawLength) % 3);
  const safeOffset = outLength - readAtLastGroup;
  let start = rawOffset;
  if (start < safeOffset) {
    if (safeOffset + rawLength > buf.length) {
      throw new RangeError(`base64ExpandInPlace: ${rawLength} raw bytes expand to ${outLength}, which needs a buffer of ${safeOffset + rawLength} bytes to work in place; it has ${buf.length}`);
    }
    buf.copyWithin(safeOffset, rawOffset, rawOffset + rawLength);
    start = safeOffset;
  }
  return encoder.encode(buf, start, rawLength, buf, 0);
}

/** Base64 of a small byte range as one unbroken string (for encoded words, AUTH strings). */
export function base64OfBytes(bytes: Uint8Array, offset: number, length: number): string {
  checkRange("base64OfBytes", bytes, offset, length);
  let text = "";
  const end = offset + length;
  for (let i = offset; i < end; i += 3) {
    const b0 = bytes[i];
    const b1 = i + 1 < end ? bytes[i + 1] : 0;
    const b2 = i + 2 < end ? bytes[i + 2] : 0;
    text += String.fromCharCode(
      ALPHABET[b0 >> 2],
      ALPHABET[((b0 & 3) << 4) | (b1 >> 4)],
      i + 1 < end ? ALPHABET[((b1 & 15) << 2) | (b2 >> 6)] : PAD_CHAR,
      i + 2 < end ? ALPHABET[b2 & 63] : PAD_CHAR,
    );
  }
  return text;
}
