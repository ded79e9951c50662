// POP3 multi-line responses (RFC 1939 section 3): undo dot-stuffing and find the terminator.
//  - A line beginning with "." has that dot removed ("..x" → ".x"; RFC 1939 strips it before
//    any other octets too, so ".x" → "x").
//  - A line that is just "." (CRLF or bare LF) ends the response: `done`, nothing after it is
//    written. The line break before it belongs to the last content line and is kept.
//  - ".", CR, then anything but LF (a bare CR, invalid in POP3) loses the dot and the CR.
// Whole lines move by native search and copy (indexOf, copyWithin), not byte by byte.
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
    const inPlace = out === src;
    let state = this.state;
    let at = outOffset;
    let i = offset;
    while (i < end && state !== DONE) {
      if (state === IN_LINE || state === STATUS_LINE) {
        // The rest of the line in one native search. It may look past `end` (up to the
        // buffer's end): callers hand windows of small buffers (the engine's 128-byte read).
        const lf = src.indexOf(LF, i);
        const stop = lf >= 0 && lf < end ? lf + 1 : end;
        if (state === IN_LINE) {
          if (!inPlace) for (let k = i; k < stop; k++) out[at + k - i] = src[k];
          else if (at !== i) out.copyWithin(at, i, stop);
          at += stop - i;
        }
        if (lf >= 0 && lf < end) state = LINE_START;
        i = stop;
        continue;
      }
      const byte = src[i++];
      if (state === LINE_START) {
        if (byte === DOT) state = DOT_SEEN;
        else {
          out[at++] = byte;
          if (byte !== LF) state = IN_LINE;
        }
      } else if (state === DOT_SEEN) {
        if (byte === CR) state = DOT_CR;
        else if (byte === LF) state = DONE;
        else {
          out[at++] = byte;
          state = IN_LINE;
        }
      } else if (byte === LF) { // DOT_CR
        state = DONE;
      } else {
        out[at++] = byte;
        state = IN_LINE;
      }
    }
    this.trailing += end - i;
    this.state = state;
    return at - outOffset;
  }
}
