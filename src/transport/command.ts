// One AT command as the engine runs it: its line, the table of lines that belong to it, and
// handlers that return a Verdict. Ordinary commands are step-table entries run by the generic
// StepCommand (step.ts); the hot-path kinds (SMTPFT, POP3READ, SMTPBODY's payload) subclass
// this and are resubmitted, one instance per kind, so nothing is allocated per chunk. The
// engine's bookkeeping of a submission (generation, queued, OK seen, its promise) is the
// engine's own: nothing of it is kept here.

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
  /** The command's result line (`awaitsResult`): done once its OK has come too, before or after. */
  Result: 7,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Something that can own the framer's next line or data phase. */
export interface LineOwner {
  receiveLength: number;
  onLine(line: Line): Verdict;
  onData(buf: Uint8Array, offset: number, length: number): void;
}

/** Bytes the transmitter writes at most at once: the ESP32 UART's TX FIFO. */
export const STAGING = 128;

/** Views of length 1, 2, 4 ... STAGING over the front of `buffer`, made once: every write is one of them. */
export function stagingViews(buffer: Uint8Array): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let n = 1; n <= STAGING; n *= 2) views.push(buffer.subarray(0, n));
  return views;
}

/** The default `onEnd`: a command nobody waits on beyond its promise. */
function ignoreEnd(_error: Error | null): void {}

export class AtCommand implements LineOwner {
  /** The command line, built before submitting. */
  readonly text: CommandBuffer;
  /** Lines that belong to this command (besides OK/ERROR). */
  responses: MatchTable | null = null;
  /** Longest silence allowed while the command is in flight. */
  timeoutMs = 1000;
  /**
   * false: OK ends the command. true: OK is only the acceptance; the command ends when a
   * handler also returned `Verdict.Result` (`+SMTPSEND: <code>`, `+POP3IN: <code>` ...).
   */
  awaitsResult = false;
  /** Bytes announcing that the modem waits for the payload (e.g. "DOWNLOAD"), or null. */
  prompt: Uint8Array | null = null;
  /** Every line goes to `onLine` (multi-line text output ending with OK). */
  rawLines = false;
  /** The command belongs to an SMTP/POP3 session (`StepSpec.session`). */
  session = false;

  /**
   * Bytes the modem counts on once the line is out even if the prompt or confirmation that
   * asks for them is lost (AT+SMTPBODY=<n>, AT+SMTPFT=<n>): the engine writes that much filler
   * when the command times out before its payload began. Set with the request.
   */
  owedIfPromptLost = 0;

  /** Set by a handler before it returns Receive / Send. */
  receiveLength = 0;
  sendLength = 0;
  /** Set by a handler before it returns Fail. */
  error: Error | null = null;

  constructor(capacity = 96) {
    this.text = new CommandBuffer(capacity);
  }

  /** Clears per-submission state; the engine calls it on submit. */
  prepare(): void {
    this.receiveLength = 0;
    this.sendLength = 0;
    this.error = null;
  }

  /** A line of `responses` matched (cursor after the pattern). */
  onMatch(_id: number, _line: Line): Verdict {
    return Verdict.Continue;
  }

  /** Raw lines (`rawLines`) and lines taken with TakeLine. */
  onLine(_line: Line): Verdict {
    return Verdict.NotMine;
  }

  onError(line: Line): Verdict {
    this.error = new AtCommandError(this.text.describe(), line.text(), this.session);
    return Verdict.Fail;
  }

  /** The armed prompt was seen; usually sets `sendLength` and returns Send. */
  onPrompt(): Verdict {
    return Verdict.Continue;
  }

  onData(_buf: Uint8Array, _offset: number, _length: number): void {}

  /**
   * Staging views (stagingViews) over the front of the buffer that holds this command's
   * payload: `fillPayload` then gets the longest and can move the bytes with one native
   * copyWithin instead of byte by byte. Null: the transmitter's own staging buffer.
   */
  payloadViews: readonly Uint8Array[] | null = null;

  /** Must write exactly `length` payload bytes into `out` at `offset`. */
  fillPayload(_out: Uint8Array, _offset: number, _length: number): void {}

  /**
   * The next `length` payload bytes as a fixed view of the command's own buffer, written as
   * they are (no copy), when it has one for them; null: they are staged by fillPayload.
   */
  payloadInPlace(_length: number): Uint8Array | null {
    return null;
  }

  /**
   * The UART took the last payload byte: the command's reply is some time off (the modem's
   * round trip), time to prepare what comes next. Must not throw.
   */
  onPayloadSent(): void {}

  /**
   * The command ended (error null on success). Called once per submission. A field, not a
   * method, because owners set it on their instance: in a preloaded firmware the class's
   * prototype is frozen in flash, and assigning over a frozen inherited method throws.
   */
  onEnd: (error: Error | null) => void = ignoreEnd;
}
