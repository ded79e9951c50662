// One AT command and how its replies are read. Hot paths (SMTPFT, POP3READ) keep one
// instance per kind and resubmit it, so nothing is allocated per chunk.

import type { Line } from "./bytes.ts";
import { AtCommandError } from "./errors.ts";
import type { MatchTable } from "./match.ts";
import { CommandBuffer } from "./tx.ts";

/** What a handler tells the engine after looking at a line. */
export const Verdict = {
  /** Not this handler's line: try the next table (abort, URC). */
  NotMine: 0,
  /** Consumed; keep waiting. */
  Continue: 1,
  /** The command completed successfully. */
  Done: 2,
  /** The command failed; `error` says why. */
  Fail: 3,
  /** The next `receiveLength` bytes are raw data for `onData` (LENGTH mode). */
  Receive: 4,
  /** Write `sendLength` payload bytes pulled from `fillPayload`. */
  Send: 5,
  /** Hand the next line to `onLine` whatever it looks like (a URC's trailing line). */
  TakeLine: 6,
} as const;

/** Something that can own the framer's next line or data phase. */
export interface LineOwner {
  receiveLength: number;
  onLine(line: Line): number;
  onData(buf: Uint8Array, offset: number, length: number): void;
}

export class AtCommand implements LineOwner {
  /** The command line, built by the caller before submitting. */
  readonly text: CommandBuffer;
  /** Lines that belong to this command (besides OK/ERROR). */
  responses: MatchTable | null = null;
  /** Longest silence allowed while the command is in flight. */
  timeoutMs = 1000;
  /**
   * true: OK ends the command. false: OK is only the acceptance and the result comes later
   * (`+SMTPSEND: <code>`, `+POP3IN: <code>` ...); see `result()`.
   */
  okIsFinal = true;
  /** Bytes announcing that the modem waits for the payload (e.g. "DOWNLOAD"), or null. */
  prompt: Uint8Array | null = null;
  /** Every line goes to `onLine` (multi-line text output ending with OK). */
  rawLines = false;

  receiveLength = 0;
  sendLength = 0;
  error: Error | null = null;
  okSeen = false;
  resultSeen = false;

  /** Set by the engine: distinguishes submissions of a reused instance. */
  generation = 0;
  inFlight = false;

  private resolveRun: (() => void) | null = null;
  private rejectRun: ((error: Error) => void) | null = null;

  constructor(capacity = 96) {
    this.text = new CommandBuffer(capacity);
  }

  /** Clears per-submission state; the engine calls it on submit. */
  prepare(): void {
    this.receiveLength = 0;
    this.sendLength = 0;
    this.error = null;
    this.okSeen = false;
    this.resultSeen = false;
  }

  /** A line of `responses` matched (cursor after the pattern). */
  onMatch(_id: number, _line: Line): number {
    return Verdict.Continue;
  }

  /** Raw lines (`rawLines`) and lines taken with TakeLine. */
  onLine(_line: Line): number {
    return Verdict.NotMine;
  }

  onOk(): number {
    return this.okIsFinal || this.resultSeen ? Verdict.Done : Verdict.Continue;
  }

  onError(line: Line): number {
    this.error = new AtCommandError(this.text.describe(), line.text());
    return Verdict.Fail;
  }

  /** The armed prompt was seen; usually sets `sendLength` and returns Send. */
  onPrompt(): number {
    return Verdict.Continue;
  }

  onData(_buf: Uint8Array, _offset: number, _length: number): void {}

  /** Must write exactly `length` payload bytes into `out` at `offset`. */
  fillPayload(_out: Uint8Array, _offset: number, _length: number): void {}

  /** The command ended (error null on success). Called once per submission. */
  onEnd(_error: Error | null): void {}

  /** For handlers of async results: done now if OK was already seen, else after OK. */
  protected result(): number {
    this.resultSeen = true;
    return this.okSeen ? Verdict.Done : Verdict.Continue;
  }

  /** Called by the engine; settles a pending `run()` promise. */
  finish(error: Error | null): void {
    this.inFlight = false;
    this.onEnd(error);
    const resolve = this.resolveRun;
    const reject = this.rejectRun;
    this.resolveRun = null;
    this.rejectRun = null;
    if (error) reject?.(error);
    else resolve?.();
  }

  /** Used by AtEngine.run. */
  bindPromise(resolve: () => void, reject: (error: Error) => void): void {
    this.resolveRun = resolve;
    this.rejectRun = reject;
  }
}
