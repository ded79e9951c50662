// The AT+POP3READ loop (spec 3.2.20): a multi-line answer (LIST, UIDL, TOP, RETR) comes by
// byte count, chunk after chunk; dot-stuffing is undone in place in the engine's read buffer and
// the bytes reach the caller's sink from there, with no copy. One reused command, one Promise
// for the whole answer.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine, UrcHandler } from "../transport/engine.ts";
import { MatchTable } from "../transport/match.ts";
import type { Deadline, TimerPort } from "../transport/ports.ts";
import { steps } from "../transport/step.ts";
import { DotUnstuffer } from "./codec/dot-unstuff.ts";
import { MailError, MailReadStoppedError, Pop3Error } from "./errors.ts";

/** Receives mail bytes in blocks; `buf` is only valid during the call. */
export interface MailSink {
  write(buf: Uint8Array, offset: number, length: number): void;
}

/**
 * Bounds on one read: more than `maxBytes`, or `interrupt()` true (asked between the modem's
 * chunks), stops it with a MailReadStoppedError. The same object serves every read.
 */
export interface ReadLimit {
  readonly maxBytes: number;
  readonly interrupt?: () => boolean;
}

/** `+POP3READ: 1|2,<cnf>`, cnf raw bytes, OK; or `+POP3OUT: <code>` when the session ended. */
const READ = steps({
  chunk: { request: "AT+POP3READ=<length>", lines: ["+POP3READ:", "+POP3OUT:"], timeoutMs: 40_000, session: true },
});
const LOGGED_OUT = 1;

/** AT+POP3READ=<n>: `+POP3READ: 1|2,<cnf>`, cnf raw bytes, OK. Reused for every chunk. */
class ReadCommand extends AtCommand {
  status = 0;
  outCode = 0;
  /** A `+POP3READ: 3,<n>` arrived while this command was in flight. */
  dataAnnounced = false;
  sink: ((buf: Uint8Array, offset: number, length: number) => void) | null = null;

  constructor(chunk: number) {
    super(24);
    READ.chunk.write(this.text, [chunk]);
    this.timeoutMs = READ.chunk.timeoutMs;
    this.responses = READ.chunk.table;
    this.session = READ.chunk.session;
  }

  override prepare(): void {
    super.prepare();
    this.status = 0;
    this.outCode = 0;
  }

  override onMatch(id: number, line: Line): Verdict {
    if (id === LOGGED_OUT) {
      this.outCode = line.int();
      this.error = new Pop3Error(this.outCode);
      return Verdict.Fail;
    }
    const status = line.int();
    const length = line.int();
    if (status === 3) {
      this.dataAnnounced = true;
      return Verdict.Continue;
    }
    this.status = status;
    this.receiveLength = length;
    return length > 0 ? Verdict.Receive : Verdict.Continue;
  }

  override onData(buf: Uint8Array, offset: number, length: number): void {
    this.sink!(buf, offset, length);
  }
}

/**
 * The AT+POP3READ loop for one multi-line answer: a callback state machine with one Promise
 * for the whole answer and one reused command.
 */
export class MultiLineReader implements UrcHandler {
  readonly table = new MatchTable([{ text: "+POP3READ: 3,", id: 0 }]);
  receiveLength = 0;
  delivered = 0;
  /** Bytes the modem handed over for this answer (before dot-unstuffing): what a limit counts. */
  received = 0;
  private readonly engine: AtEngine;
  private readonly cmd: ReadCommand;
  private readonly unstuffer = new DotUnstuffer();
  private readonly idle: Deadline;
  private readonly idleMs: number;
  private sink: MailSink | null = null;
  private limit: ReadLimit | null = null;
  private what = "";
  private waitingForData = false;
  private atStart = true;
  private resolve: (() => void) | null = null;
  private reject: ((error: Error) => void) | null = null;

  constructor(engine: AtEngine, timers: TimerPort, chunk: number) {
    this.engine = engine;
    this.cmd = new ReadCommand(chunk);
    this.cmd.sink = (buf, offset, length) => this.take(buf, offset, length);
    this.cmd.onEnd = (error) => this.chunkEnded(error);
    this.idleMs = READ.chunk.timeoutMs;
    this.idle = timers.deadline(() => this.fail(new Pop3Error(69, "", "no +POP3READ: 3 data announcement in time")));
  }

  /** Reads one answer into `sink`; `what` names it in errors; `limit` may stop it between chunks. */
  read(sink: MailSink, what = "the answer", limit: ReadLimit | null = null): Promise<number> {
    this.sink = sink;
    this.limit = limit;
    this.what = what;
    this.delivered = 0;
    this.received = 0;
    this.unstuffer.reset();
    this.atStart = true;
    this.waitingForData = false;
    this.engine.addUrcHandler(this);
    return new Promise((resolve, reject) => {
      this.resolve = () => resolve(this.delivered);
      this.reject = reject;
      this.submit();
    });
  }

  onUrc(): Verdict {
    if (this.resolve === null) return Verdict.NotMine;
    if (this.waitingForData) {
      this.waitingForData = false;
      this.idle.disarm();
      if (this.limitReached()) return Verdict.Continue;
      this.submit();
    }
    return Verdict.Continue;
  }

  onLine(): Verdict {
    return Verdict.NotMine;
  }

  onData(): void {}

  /** Releases the idle timer (on the device a timer holds its callback until cleared). */
  close(): void {
    this.idle.close();
  }

  private submit(): void {
    this.cmd.dataAnnounced = false;
    try {
      this.engine.submit(this.cmd);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /**
   * POP3READ bytes, in the engine's read buffer: dot-stuffing undone in place (those bytes are
   * not read again), the result handed to the sink from there.
   */
  private take(buf: Uint8Array, offset: number, length: number): void {
    // Firmwares differ on whether the "+OK ..." status line comes first: a mail, a scan
    // listing or a UID listing never starts with "+", so its presence tells.
    this.received += length;
    if (this.atStart && length > 0) {
      this.atStart = false;
      if (buf[offset] === 43) this.unstuffer.reset({ skipStatusLine: true });
    }
    const out = this.unstuffer.push(buf, offset, length, buf, offset);
    if (out === 0) return;
    this.delivered += out;
    this.sink!.write(buf, offset, out);
  }

  private chunkEnded(error: Error | null): void {
    if (error !== null) {
      this.fail(error);
      return;
    }
    const cmd = this.cmd;
    if (cmd.status === 2 || this.unstuffer.done) {
      if (!this.unstuffer.done) {
        this.fail(new MailError("pop3", "modem-protocol", "the modem ended the answer before the final dotline: the mail is incomplete"));
        return;
      }
      const limit = this.limit;
      if (limit !== null && this.received > limit.maxBytes) {
        this.fail(new MailReadStoppedError(this.what, "too-large", this.received, limit.maxBytes, false));
        return;
      }
      this.settle();
      return;
    }
    if (this.limitReached()) return;
    if (cmd.receiveLength > 0 || cmd.dataAnnounced) {
      this.submit();
      return;
    }
    // "+POP3READ: 1,0": nothing yet; wait for "+POP3READ: 3,<n>".
    this.waitingForData = true;
    this.idle.arm(this.idleMs);
  }

  /**
   * Between chunks: past the byte limit, or asked to give way, the read stops here. The rest of
   * the answer stays in the modem, which then takes only AT+POP3READ or AT+POP3OUT (3.2.19).
   */
  private limitReached(): boolean {
    const limit = this.limit;
    if (limit === null) return false;
    const tooLarge = this.received > limit.maxBytes;
    if (!tooLarge && limit.interrupt?.() !== true) return false;
    this.fail(new MailReadStoppedError(this.what, tooLarge ? "too-large" : "interrupted", this.received, limit.maxBytes, true));
    return true;
  }

  private settle(): void {
    this.engine.removeUrcHandler(this);
    this.idle.disarm();
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    this.sink = null;
    this.limit = null;
    resolve?.();
  }

  private fail(error: Error): void {
    this.engine.removeUrcHandler(this);
    this.idle.disarm();
    this.waitingForData = false;
    const reject = this.reject;
    this.resolve = this.reject = null;
    this.sink = null;
    this.limit = null;
    reject?.(error);
  }
}

/** Hands each line of a listing (LIST, UIDL) on as it completes: memory stays flat for any mailbox. */
export class LineVisitor implements MailSink {
  /** Lines of a listing are short (RFC 1939: a unique id is at most 70 characters). */
  static readonly MAX_LINE = 128;
  private readonly visit: (line: string) => void;
  private readonly what: string;
  private partial = "";
  private tooLong = false;
  constructor(visit: (line: string) => void, what: string) {
    this.visit = visit;
    this.what = what;
  }
  write(buf: Uint8Array, offset: number, length: number): void {
    for (let i = offset; i < offset + length; i++) {
      const c = buf[i];
      if (c === 10) {
        const line = this.partial.replace(/\r$/, "");
        this.partial = "";
        if (line.trim() !== "") this.visit(line);
      } else if (this.partial.length < LineVisitor.MAX_LINE) this.partial += String.fromCharCode(c);
      else this.tooLong = true;
    }
  }
  /** Throws if a line was cut (the server's listing is not POP3's). */
  check(): void {
    if (this.tooLong) throw new Pop3Error(0, `the ${this.what} listing had a line over ${LineVisitor.MAX_LINE} bytes`);
  }
}
