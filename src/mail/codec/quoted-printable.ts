// Streaming quoted-printable decoding (RFC 2045 section 6.7), lenient the way mail readers are:
//  - "=XX" with hex digits of either case is the byte XX;
//  - "=" followed by optional spaces/tabs and a line break (CRLF or bare LF) is a soft line
//    break and vanishes; so does a "=" (plus spaces) at the very end of the input;
//  - an "=" that starts neither is passed through literally, with what followed it;
//  - spaces and tabs at the end of a line (or of the input) are transport padding and dropped;
//  - everything else, line breaks included, passes through unchanged.
// The carry between calls is bounded: an "=" with one hex digit, or a run of at most
// MAX_HELD_WHITESPACE spaces/tabs that may turn out to be trailing; a longer run is passed on.

export const MAX_HELD_WHITESPACE = 64;

const EQUALS = 61;
const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;

const TEXT = 0;
/** Holding spaces/tabs that end the line if a line break follows. */
const WHITESPACE = 1;
/** After "=". */
const ESCAPE = 2;
/** After "=" and one hex digit. */
const ESCAPE_HEX = 3;
/** After "=" and spaces/tabs (held). */
const ESCAPE_WHITESPACE = 4;
/** After "=" (and maybe spaces) and CR. */
const ESCAPE_CR = 5;

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 65 && byte <= 70) return byte - 55;
  if (byte >= 97 && byte <= 102) return byte - 87;
  return -1;
}

export class QuotedPrintableDecoder {
  private state = TEXT;
  private readonly held = new Uint8Array(MAX_HELD_WHITESPACE);
  private heldLength = 0;
  /** The first hex digit after "=", as received. */
  private hexDigit = 0;

  /** Upper bound of what decode() writes for `length` input bytes, carried state included. */
  static maxDecodedLength(length: number): number {
    return length + MAX_HELD_WHITESPACE + 2;
  }

  /** Decodes `src[offset..offset+length)` into `out` at `outOffset`; returns bytes written. */
  decode(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`QuotedPrintableDecoder.decode: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    const bound = QuotedPrintableDecoder.maxDecodedLength(length);
    if (!(outOffset >= 0 && outOffset + bound <= out.length)) {
      throw new RangeError(`QuotedPrintableDecoder.decode: needs room for ${bound} bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    const end = offset + length;
    let at = outOffset;
    for (let i = offset; i < end; i++) {
      const byte = src[i];
      switch (this.state) {
        case TEXT:
          if (byte === EQUALS) this.state = ESCAPE;
          else if (byte === SPACE || byte === TAB) {
            this.held[0] = byte;
            this.heldLength = 1;
            this.state = WHITESPACE;
          } else out[at++] = byte;
          break;
        case WHITESPACE:
          if (byte === SPACE || byte === TAB) {
            if (this.heldLength === MAX_HELD_WHITESPACE) at = this.releaseHeld(out, at);
            this.held[this.heldLength++] = byte;
          } else {
            if (byte === CR || byte === LF) this.heldLength = 0; // trailing: dropped
            at = this.releaseHeld(out, at);
            this.state = TEXT;
            i--;
          }
          break;
        case ESCAPE:
          if (hexValue(byte) >= 0) {
            this.hexDigit = byte;
            this.state = ESCAPE_HEX;
          } else if (byte === SPACE || byte === TAB) {
            this.held[0] = byte;
            this.heldLength = 1;
            this.state = ESCAPE_WHITESPACE;
          } else if (byte === CR) this.state = ESCAPE_CR;
          else if (byte === LF) this.state = TEXT;
          else {
            out[at++] = EQUALS;
            this.state = TEXT;
            i--;
          }
          break;
        case ESCAPE_HEX: {
          const low = hexValue(byte);
          if (low >= 0) {
            out[at++] = (hexValue(this.hexDigit) << 4) | low;
          } else {
            out[at++] = EQUALS;
            out[at++] = this.hexDigit;
            i--;
          }
          this.state = TEXT;
          break;
        }
        case ESCAPE_WHITESPACE:
          if ((byte === SPACE || byte === TAB) && this.heldLength < MAX_HELD_WHITESPACE) {
            this.held[this.heldLength++] = byte;
          } else if (byte === CR) {
            this.heldLength = 0;
            this.state = ESCAPE_CR;
          } else if (byte === LF) {
            this.heldLength = 0;
            this.state = TEXT;
          } else {
            out[at++] = EQUALS;
            at = this.releaseHeld(out, at);
            this.state = TEXT;
            i--;
          }
          break;
        default: // ESCAPE_CR
          if (byte !== LF) {
            out[at++] = EQUALS;
            out[at++] = CR;
            i--;
          }
          this.state = TEXT;
          break;
      }
    }
    return at - outOffset;
  }

  /** End of input: a pending "=X" is written literally (needs room for 2); returns bytes written. */
  finish(out: Uint8Array, outOffset: number): number {
    if (!(outOffset >= 0 && outOffset + 2 <= out.length)) {
      throw new RangeError(`QuotedPrintableDecoder.finish: needs room for 2 bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    let at = outOffset;
    if (this.state === ESCAPE_HEX) {
      out[at++] = EQUALS;
      out[at++] = this.hexDigit;
    }
    this.reset();
    return at - outOffset;
  }

  reset(): void {
    this.state = TEXT;
    this.heldLength = 0;
    this.hexDigit = 0;
  }

  private releaseHeld(out: Uint8Array, at: number): number {
    for (let k = 0; k < this.heldLength; k++) out[at++] = this.held[k];
    this.heldLength = 0;
    return at;
  }
}
