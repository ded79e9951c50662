// Byte-driven receive framer with explicit modes:
//   LINE   - bytes up to LF form a line (CRs stripped, empty lines skipped unless asked for); a
//            lone CR (not followed by CR or LF) after text ends a line too: field firmwares
//            send an echo straight into its result (`AT\rOK\r\n`)
//   LENGTH - exactly n raw bytes go to the data sink, whatever they look like
//   PROMPT - while a prompt is armed, a partial line equal to it (e.g. "DOWNLOAD", "> ")
//            is reported at once, without waiting for a line end
// A mode switch made by a handler during a call takes effect at the very next byte of the
// same chunk.

import { Line } from "./bytes.ts";

const LF = 10;
const CR = 13;

export interface FramerSink {
  /** A complete non-empty line; `line` is reused and valid only during the call. */
  onLine(line: Line): void;
  /** Raw bytes of a LENGTH phase; valid only during the call. */
  onData(buf: Uint8Array, offset: number, length: number): void;
  /** The LENGTH phase received its last byte. */
  onDataEnd(): void;
  /** The armed prompt was seen. */
  onPrompt(): void;
}

export class Framer {
  readonly line: Line;
  /** Hand over empty lines too (multi-line text output where blank lines are content). */
  keepEmptyLines = false;
  /** A lone CR after text ends the line (off for mail text, where a bare CR is content). */
  loneCrEnds = true;
  /** Lines longer than the line buffer: discarded up to their LF, counted here. */
  overlongLines = 0;
  /** During onLine: the line began before the last markBoundary() (it predates a command). */
  lineIsOld = false;
  private partialIsOld = false;
  private readonly lineBuf: Uint8Array;
  private lineLength = 0;
  /** The line holds a byte other than CR. */
  private textSeen = false;
  /** The last byte of the line was a CR. */
  private afterCr = false;
  private discarding = false;
  private remaining = 0;
  private prompt: Uint8Array | null = null;
  private readonly sink: FramerSink;

  constructor(lineCapacity: number, sink: FramerSink) {
    this.lineBuf = new Uint8Array(lineCapacity);
    this.line = new Line(this.lineBuf);
    this.sink = sink;
  }

  /** The next `n` bytes are raw data (LENGTH mode), then back to LINE mode. */
  expectLength(n: number): void {
    this.remaining = n;
  }

  get inLengthMode(): boolean {
    return this.remaining > 0;
  }

  /** Arms (or with null, disarms) PROMPT detection. */
  armPrompt(prompt: Uint8Array | null): void {
    this.prompt = prompt;
  }

  /**
   * Whatever line is partly received now is older than the bytes that follow (a command was
   * just sent): when its LF comes, onLine sees it with `lineIsOld` set.
   */
  markBoundary(): void {
    this.partialIsOld = this.lineLength > 0;
  }

  /** Back to LINE mode with nothing buffered (after a modem reset or a timeout). */
  reset(): void {
    this.lineLength = 0;
    this.textSeen = false;
    this.afterCr = false;
    this.partialIsOld = false;
    this.discarding = false;
    this.remaining = 0;
    this.prompt = null;
  }

  feed(buf: Uint8Array, offset: number, length: number): void {
    const end = offset + length;
    const lineBuf = this.lineBuf;
    const capacity = lineBuf.length;
    let i = offset;
    while (i < end) {
      if (this.remaining > 0) {
        const n = end - i < this.remaining ? end - i : this.remaining;
        this.remaining -= n;
        this.sink.onData(buf, i, n);
        i += n;
        if (this.remaining === 0) this.sink.onDataEnd();
        continue;
      }
      if (this.discarding) {
        // An overlong line: skip to its LF in one native search.
        const lf = buf.indexOf(LF, i);
        if (lf < 0 || lf >= end) return;
        i = lf + 1;
        this.discarding = false;
        this.afterCr = false;
        this.partialIsOld = false;
        continue;
      }
      if (this.prompt === null) {
        // No prompt armed: the line's bytes in a tight loop, its state kept in locals.
        let n = this.lineLength;
        let afterCr = this.afterCr;
        let textSeen = this.textSeen;
        const loneCrEnds = this.loneCrEnds;
        let ended = false;
        while (i < end) {
          if (!afterCr) {
            // Bytes above CR can neither end nor split a line: copied in a tight loop (under
            // XS half the cost of the rules below, which take every other byte).
            const start = i;
            while (i < end && n < capacity) {
              const text = buf[i];
              if (text <= CR) break;
              lineBuf[n++] = text;
              i++;
            }
            if (i > start) textSeen = true;
            if (i === end) break;
          }
          const c = buf[i];
          if (afterCr && c !== LF && c !== CR && textSeen && loneCrEnds) {
            ended = true; // a lone CR ended the line; c is read again after it
            break;
          }
          i++;
          if (c === LF) {
            ended = true;
            break;
          }
          if (n === capacity) {
            this.overflow();
            break;
          }
          lineBuf[n++] = c;
          afterCr = c === CR;
          if (!afterCr) textSeen = true;
        }
        if (this.discarding) continue;
        this.lineLength = n;
        this.afterCr = ended ? false : afterCr;
        this.textSeen = textSeen;
        if (ended) {
          this.dispatchLine();
          this.partialIsOld = false;
        }
        continue;
      }
      const c = buf[i];
      if (this.afterCr && c !== LF && c !== CR && this.textSeen && this.loneCrEnds) {
        this.dispatchLine();
        this.partialIsOld = false;
        this.afterCr = false;
        continue; // c is read again, in the mode that line left the framer in
      }
      i++;
      this.afterCr = c === CR;
      if (c === LF) {
        this.dispatchLine();
        this.partialIsOld = false;
        continue;
      }
      if (this.lineLength === capacity) {
        this.overflow();
        continue;
      }
      lineBuf[this.lineLength++] = c;
      if (c !== CR) this.textSeen = true;
      const prompt = this.prompt;
      if (this.lineLength >= prompt.length && this.endsWithPrompt(prompt)) {
        this.lineLength = 0;
        this.textSeen = false;
        this.partialIsOld = false;
        this.prompt = null;
        this.sink.onPrompt();
      }
    }
  }

  /** The line buffer is full and the next byte (just read) is not its LF: drop the line up to its LF. */
  private overflow(): void {
    this.discarding = true;
    this.lineLength = 0;
    this.textSeen = false;
    this.afterCr = false;
    this.overlongLines++;
  }

  /** The buffered line, after any leading CRs, equals the prompt. */
  private endsWithPrompt(prompt: Uint8Array): boolean {
    const start = this.lineLength - prompt.length;
    for (let i = 0; i < start; i++) if (this.lineBuf[i] !== CR) return false;
    for (let i = 0; i < prompt.length; i++) if (this.lineBuf[start + i] !== prompt[i]) return false;
    return true;
  }

  private dispatchLine(): void {
    const lineBuf = this.lineBuf;
    let end = this.lineLength;
    this.lineLength = 0;
    this.textSeen = false;
    while (end > 0 && lineBuf[end - 1] === CR) end--;
    let start = 0;
    while (start < end && lineBuf[start] === CR) start++;
    if (start === end && !this.keepEmptyLines) return;
    if (start > 0) {
      lineBuf.copyWithin(0, start, end);
      end -= start;
    }
    this.line.set(end);
    this.lineIsOld = this.partialIsOld;
    this.sink.onLine(this.line);
    this.lineIsOld = false;
  }
}
