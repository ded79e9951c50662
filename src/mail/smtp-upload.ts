// The SIM7000's SMTP transfer (spec 3.2.9, 3.2.13, example 5.4): AT+SMTPSEND and every AT+SMTPFT
// chunk, and the upload loop. The attachment streams through one fixed chunk buffer: each
// chunk is read from the source, base64-encoded in place and written, with no allocation per
// chunk (one reused command, one Promise for the whole attachment). The chunk sits behind the
// transmitter's staging area in one buffer, so each write is one native copyWithin.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, STAGING, stagingViews, Verdict } from "../transport/command.ts";
import type { AtEngine } from "../transport/engine.ts";
import { steps, type Step } from "../transport/step.ts";
import { Base64Encoder, base64ExpandInPlace } from "./codec/base64.ts";
import { MailError, SmtpError } from "./errors.ts";
import type { ByteSource } from "./message.ts";

/** Both end with `+SMTPFT: 1,<max>` (send more) or `+SMTPSEND: <code>`, before or after OK. */
export const SMTP_STEPS = steps({
  send: { request: "AT+SMTPSEND", lines: ["+SMTPSEND:", "+SMTPFT:"], ends: "result", timeoutMs: 10_000, server: true, session: true },
  chunk: { request: "AT+SMTPFT=<length>", lines: ["+SMTPSEND:", "+SMTPFT:"], ends: "result", timeoutMs: 130_000, session: true },
});
const SEND_RESULT = 0;

/** AT+SMTPSEND and AT+SMTPFT=<n>: both end with `+SMTPFT: 1,<max>` (send more) or `+SMTPSEND: <code>`. */
export class TransferCommand extends AtCommand {
  /** Result: code of +SMTPSEND (0 = none yet) and the next allowed chunk (0 = none). */
  sendCode = 0;
  nextMax = 0;
  /** Bytes asked for with AT+SMTPFT=<n>, and confirmed by +SMTPFT: 2,<cnf>. */
  requested = 0;
  confirmed = 0;
  /** Staging area (STAGING bytes), then the chunk: `chunk` is a view of the part after it. */
  private area: Uint8Array | null = null;
  /** Views of the chunk's whole STAGING-byte blocks, made once: a full write of one needs no copy. */
  private blocks: Uint8Array[] = [];
  private chunkPos = 0;
  /** The request's one value (the chunk length), reused: nothing is allocated per chunk. */
  private readonly args: [number] = [0];

  /** `step`: SMTP_STEPS.send or .chunk; `timeoutMs` the step's, with the server's for a send. */
  constructor(step: Step, timeoutMs: number) {
    super(24);
    this.awaitsResult = true;
    this.timeoutMs = timeoutMs;
    this.responses = step.table;
    this.session = step.session;
  }

  /** The request: AT+SMTPSEND, or AT+SMTPFT=<length> with `length` bytes asked for. */
  request(step: Step, length: number): void {
    if (step.arity === 0) {
      step.write(this.text, []);
      this.owedIfPromptLost = 0;
      return;
    }
    this.args[0] = length;
    this.requested = length;
    this.owedIfPromptLost = length;
    step.write(this.text, this.args);
  }

  override prepare(): void {
    super.prepare();
    this.sendCode = 0;
    this.nextMax = 0;
    this.confirmed = 0;
    this.chunkPos = 0;
  }

  override onMatch(id: number, line: Line): Verdict {
    if (id === SEND_RESULT) {
      this.sendCode = line.int();
      return Verdict.Result;
    }
    const state = line.int();
    const value = line.int();
    if (state === 2) {
      if (!(value >= 0 && value <= this.requested)) {
        this.error = new MailError("smtp", "modem-protocol", `the modem confirmed ${value} attachment bytes for a request of ${this.requested}`);
        return Verdict.Fail;
      }
      this.confirmed = value;
      this.sendLength = value;
      return value > 0 ? Verdict.Send : Verdict.Continue;
    }
    if (state === 1) {
      this.nextMax = value;
      return Verdict.Result;
    }
    return Verdict.Continue;
  }

  /** Set by the upload: called once the chunk's payload is out (the next chunk is prepared then). */
  payloadSent: (() => void) | null = null;

  override onPayloadSent(): void {
    this.payloadSent?.();
  }

  /** Makes the chunk buffer (for an upload): `capacity` bytes behind the staging area. */
  chunkBuffer(capacity: number): Uint8Array {
    const area = new Uint8Array(STAGING + capacity);
    this.area = area;
    this.payloadViews = stagingViews(area);
    this.blocks = [];
    for (let at = STAGING; at + STAGING <= area.length; at += STAGING) this.blocks.push(area.subarray(at, at + STAGING));
    return area.subarray(STAGING);
  }

  /** A full block at a block boundary goes out from where it is; anything else is staged. */
  override payloadInPlace(length: number): Uint8Array | null {
    const position = this.chunkPos;
    if (length !== STAGING || position % STAGING !== 0 || position / STAGING >= this.blocks.length) return null;
    this.chunkPos = position + STAGING;
    return this.blocks[position / STAGING];
  }

  /** `out` is a view of the front of `area` (payloadViews): one copyWithin. */
  override fillPayload(_out: Uint8Array, offset: number, length: number): void {
    const from = STAGING + this.chunkPos;
    this.area!.copyWithin(offset, from, from + length);
    this.chunkPos += length;
  }
}

/**
 * The AT+SMTPFT loop as a callback state machine: one Promise for the whole attachment,
 * one reused command and one chunk buffer for every chunk.
 */
export class AttachmentUpload {
  private readonly engine: AtEngine;
  private readonly cmd: TransferCommand;
  private readonly chunk: Uint8Array;
  private readonly encoder = new Base64Encoder();
  private source: ByteSource | null = null;
  private hostBase64 = false;
  private sourceDone = false;
  private finished = false;
  /** Prepared bytes at the front of `chunk` not yet confirmed by the modem. */
  private pending = 0;
  private requested = 0;
  /** The last chunk's confirmed bytes are already off the front of `chunk` (prepareNext ran). */
  private accounted = false;
  /** The chunk size the modem offered last: the next chunk is prepared to it ahead of its offer. */
  private lastLimit = 0;
  /** A source failure while preparing ahead: the upload fails with it when the chunk ends. */
  private prepareError: Error | null = null;
  private sentRaw = 0;
  /** Raw bytes of the chunk prepared ahead (not yet sent: progress leaves them out). */
  private aheadRaw = 0;
  private progress: ((sent: number, total: number) => void) | undefined;
  private resolve: ((code: number) => void) | null = null;
  private reject: ((error: Error) => void) | null = null;

  constructor(engine: AtEngine, chunkCapacity: number) {
    this.engine = engine;
    this.cmd = new TransferCommand(SMTP_STEPS.chunk, SMTP_STEPS.chunk.timeoutMs);
    this.chunk = this.cmd.chunkBuffer(chunkCapacity);
    this.cmd.onEnd = (error) => this.chunkEnded(error);
    this.cmd.payloadSent = () => this.prepareNext();
  }

  /** Runs the loop from the first `+SMTPFT: 1,<max>`; resolves with the +SMTPSEND code. */
  run(source: ByteSource, hostBase64: boolean, firstMax: number, progress?: (sent: number, total: number) => void): Promise<number> {
    this.source = source;
    this.hostBase64 = hostBase64;
    this.sourceDone = false;
    this.finished = false;
    this.pending = 0;
    this.accounted = false;
    this.prepareError = null;
    this.sentRaw = 0;
    this.aheadRaw = 0;
    this.progress = progress;
    this.encoder.reset();
    source.rewind();
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.next(firstMax);
    });
  }

  private next(max: number): void {
    try {
      const limit = max < this.chunk.length ? max : this.chunk.length;
      this.lastLimit = limit;
      this.aheadRaw = 0;
      const n = this.finished ? 0 : this.fill(limit);
      if (n === 0) this.finished = true;
      this.requested = n;
      this.cmd.request(SMTP_STEPS.chunk, n);
      this.engine.submit(this.cmd);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Makes up to `limit` bytes ready at the front of the chunk; returns how many are ready. */
  private fill(limit: number): number {
    if (this.pending > 0 || this.sourceDone) return this.pending < limit ? this.pending : limit;
    const source = this.source!;
    const chunk = this.chunk;
    if (!this.hostBase64) {
      const n = source.read(chunk, 0, limit);
      this.sentRaw += n;
      if (n === 0) this.sourceDone = true;
      this.pending = n;
      return n;
    }
    const rawRoom = this.encoder.rawBytesFor(limit);
    const rawOffset = limit - rawRoom;
    let raw = 0;
    while (raw < rawRoom) {
      const n = source.read(chunk, rawOffset + raw, rawRoom - raw);
      if (n === 0) {
        this.sourceDone = true;
        break;
      }
      raw += n;
    }
    this.sentRaw += raw;
    let encoded = base64ExpandInPlace(chunk, rawOffset, raw, this.encoder);
    if (this.sourceDone) encoded += this.encoder.finish(chunk, encoded);
    this.pending = encoded;
    return encoded;
  }

  private chunkEnded(error: Error | null): void {
    const cmd = this.cmd;
    if (error !== null) {
      const detail = error instanceof MailError ? "" : `: ${error.message}`;
      this.fail(cmd.sendCode > 1 ? new SmtpError(cmd.sendCode) : error instanceof SmtpError ? error : new MailError("smtp", "transfer", `attachment transfer failed${detail}`, { cause: error }));
      return;
    }
    if (this.prepareError !== null) {
      this.fail(this.prepareError);
      return;
    }
    if (this.requested > 0) {
      if (!this.accounted) this.takeConfirmed();
      this.progress?.(this.sentRaw - (this.hostBase64 ? this.aheadRaw : this.pending), this.source!.size);
    }
    this.accounted = false;
    if (cmd.sendCode !== 0) {
      this.settle(cmd.sendCode);
      return;
    }
    if (cmd.nextMax > 0) {
      this.next(cmd.nextMax);
      return;
    }
    this.fail(new MailError("smtp", "modem-protocol", "the modem ended an attachment chunk without +SMTPFT or +SMTPSEND"));
  }

  /** The modem took the confirmed bytes: off the front of the chunk; the rest waits for the next one. */
  private takeConfirmed(): void {
    const sent = this.cmd.confirmed < this.requested ? this.cmd.confirmed : this.requested;
    if (sent < this.pending) this.chunk.copyWithin(0, sent, this.pending);
    this.pending -= sent;
    this.accounted = true;
  }

  /**
   * The chunk's payload is out and the modem's answer is a round trip away: encode the next
   * chunk now (to the size offered last; a smaller offer leaves the rest for the one after).
   */
  private prepareNext(): void {
    if (this.resolve === null || this.requested === 0) return;
    try {
      this.takeConfirmed();
      if (this.pending === 0 && !this.sourceDone) {
        const before = this.sentRaw;
        this.fill(this.lastLimit);
        this.aheadRaw = this.sentRaw - before;
      }
    } catch (error) {
      this.prepareError = error as Error;
    }
  }

  private settle(code: number): void {
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    this.source = null;
    resolve?.(code);
  }

  private fail(error: Error): void {
    const reject = this.reject;
    this.resolve = this.reject = null;
    this.source = null;
    reject?.(error);
  }
}
