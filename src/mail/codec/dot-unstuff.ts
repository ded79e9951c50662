// POP3 multi-line responses (RFC 1939 section 3): undo dot-stuffing and find the terminator.
//  - A line beginning with "." has that dot removed ("..x" → ".x"; RFC 1939 strips it before
//    any other octets too, so ".x" → "x").
//  - A line that is just "." (CRLF or bare LF) ends the response: `done`, nothing after it is
//    written. The line break before it belongs to the last content line and is kept.
//  - ".", CR, then anything but LF (a bare CR, invalid in POP3) loses the dot and the CR.
// Each output byte is written only after the input byte at that position or later was read,
// and output is never longer than input, so `out`/`outOffset` may be `src`/`offset` (in place).

const DOT = 46;
const CR = 13;
const LF = 10;

const LINE_START = 0;
const IN_LINE = 1;
/** A "." began the line. */
const DOT_SEEN = 2;
/** A "." then CR began the line. */
const DOT_CR = 3;
/** Dropping the status line ("+OK ...") up to its LF. */
const STATUS_LINE = 4;
const DONE = 5;

export interface DotUnstufferOptions {
  /** The input starts with the status line ("+OK ..."), which is to be dropped. Default false. */
  skipStatusLine?: boolean;
}

export class DotUnstuffer {
  private state = LINE_START;
  /** Bytes received after the terminator (ignored). */
  trailing = 0;

  constructor(options?: DotUnstufferOptions) {
    this.reset(options);
  }

  /** The terminating "." line has been seen. */
  get done(): boolean {
    return this.state === DONE;
  }

  reset(options?: DotUnstufferOptions): void {
    this.state = options?.skipStatusLine === true ? STATUS_LINE : LINE_START;
    this.trailing = 0;
  }

  /** Consumes all of `src[offset..offset+length)`; returns the content bytes written to `out`. */
  push(src: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): number {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`DotUnstuffer.push: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    if (!(outOffset >= 0 && outOffset + length <= out.length)) {
      throw new RangeError(`DotUnstuffer.push: needs room for ${length} bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
    }
    const end = offset + length;
    let state = this.state;
    let at = outOffset;
    let i = offset;
    for (; i < end && state !== DONE; i++) {
      const byte = src[i];
      switch (state) {
        case IN_LINE:
          out[at++] = byte;
          if (byte === LF) state = LINE_START;
          break;
        case LINE_START:
          if (byte === DOT) state = DOT_SEEN;
          else {
            out[at++] = byte;
            if (byte !== LF) state = IN_LINE;
          }
          break;
        case DOT_SEEN:
          if (byte === CR) state = DOT_CR;
          else if (byte === LF) state = DONE;
          else {
            out[at++] = byte;
            state = IN_LINE;
          }
          break;
        case DOT_CR:
          if (byte === LF) state = DONE;
          else {
            out[at++] = byte;
            state = IN_LINE;
          }
          break;
        default: // STATUS_LINE
          if (byte === LF) state = LINE_START;
          break;
      }
    }
    this.trailing += end - i;
    this.state = state;
    return at - outOffset;
  }
}
