// Byte-driven receive framer with explicit modes:
//   LINE   - bytes up to LF form a line (CRs stripped, empty lines skipped unless asked for)
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
  /** Lines longer than the line buffer: discarded up to their LF, counted here. */
  overlongLines = 0;
  /** During onLine: the line began before the last markBoundary() (it predates a command). */
  lineIsOld = false;
  private partialIsOld = false;
  private readonly lineBuf: Uint8Array;
  private lineLength = 0;
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
        this.partialIsOld = false;
        continue;
      }
      if (this.prompt === null) {
        // No prompt armed: the line's bytes in a tight loop, with the line length kept local.
        let n = this.lineLength;
        let c = 0;
        while (i < end && n < capacity) {
          c = buf[i++];
          if (c === LF) break;
          lineBuf[n++] = c;
        }
        this.lineLength = n;
        if (c === LF) {
          this.dispatchLine();
          this.partialIsOld = false;
        } else if (n === capacity && i < end) {
          this.overflow(buf[i++]);
        }
        continue;
      }
      const c = buf[i++];
      if (c === LF) {
        this.dispatchLine();
        this.partialIsOld = false;
        continue;
      }
      if (this.lineLength === capacity) {
        this.overflow(c);
        continue;
      }
      lineBuf[this.lineLength++] = c;
      const prompt = this.prompt;
      if (this.lineLength >= prompt.length && this.endsWithPrompt(prompt)) {
        this.lineLength = 0;
        this.partialIsOld = false;
        this.prompt = null;
        this.sink.onPrompt();
      }
    }
  }

  /** The line buffer is full and `c`, the next byte, is not its LF: drop the line up to its LF. */
  private overflow(c: number): void {
    if (c === LF) {
      this.dispatchLine();
      this.partialIsOld = false;
      return;
    }
    this.discarding = true;
    this.lineLength = 0;
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
