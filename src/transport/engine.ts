// The AT command engine: one command in flight, a bounded FIFO behind it, a timeout per
// command, URC and abort tables, back-pressured writes. Driven entirely by the serial
// callbacks and one deadline timer; no allocation per byte, line or chunk. Whether the link is
// in step with the modem (sync, boot, the quiet gap) is the link-sync machine's business
// (link-sync.ts): the engine asks it before writing a command. The command in flight, from its
// line going out to its end (phases, reply lines, its timeout), is carried by exchange.ts.
//
//   phase           event                                  next            action
//   --------------  -------------------------------------  --------------  ------------------------------
//   Idle            work queued, link Ready                Writing         write the command line
//   Idle            work queued, link out of step          Idle            the link machine sends AT
//   Writing         last command byte accepted             Awaiting        arm prompt / raw-line modes
//   Awaiting        a handler says Send                    SendingPayload  pull payload as space allows
//   SendingPayload  last payload byte accepted             Awaiting
//   Awaiting        OK (and the result, if awaited) /      Idle            end the command, start the next
//                   ERROR / Done / Fail
//   any but Idle    no line for timeoutMs                  Idle            AtTimeoutError; filler for a data phase
//                                                                          the modem may still count; the link resyncs
//   any             interrupt                              same            the queue fails; nothing new is taken
//   any             reset or power report                  Idle            ModemResetError for all work
//   any             a write throws                         Idle            SerialWriteError for all work

import { latin1, withoutControls, type Line } from "./bytes.ts";
import type { AtCommand } from "./command.ts";
import { AtAbortedError, AtCommandError, AtQueueFullError, ModemResetError, type ModemResetKind } from "./errors.ts";
import { CommandExchange } from "./exchange.ts";
import { Framer, type FramerSink } from "./framer.ts";
import { LinkSync, matchReport, Report } from "./link-sync.ts";
import type { AtTracer, EngineOptions, EngineStats } from "./engine-options.ts";
import type { Deadline, SerialListener, SerialPort } from "./ports.ts";
import { Submission, SubmissionQueue } from "./submissions.ts";
import { Transmitter } from "./transmitter.ts";
import { UrcHandlers, type UrcHandler } from "./urc.ts";

export type { AtTracer, EngineOptions, EngineStats } from "./engine-options.ts";
export type { UrcHandler } from "./urc.ts";

/** Secrets kept for redacting received lines in traces (a device has one or two passwords). */
const MAX_REDACTED = 8;

export class AtEngine implements SerialListener, FramerSink {
  readonly stats: EngineStats = {
    bytesIn: 0, bytesOut: 0, lines: 0, strayLines: 0, urcs: 0,
    timeouts: 0, resyncs: 0, resets: 0, boots: 0, overlongLines: 0, fillerBytes: 0, syncRefusals: 0,
  };
  tracer: AtTracer | null = null;
  private readonly secrets: string[] = [];
  /** Called after a reset/power-down report aborted the work in flight. */
  onModemReset: ((error: ModemResetError) => void) | null = null;

  private readonly serial: SerialPort;
  private readonly framer: Framer;
  private readonly tx: Transmitter;
  private readonly deadline: Deadline;
  private readonly link: LinkSync;
  private readonly readBuf: Uint8Array;
  private readonly queue: SubmissionQueue;
  private readonly urcs = new UrcHandlers();
  /** The command in flight (phases, reply lines, timeout). */
  private readonly exchange: CommandExchange;

  /** The record of the command in flight (swapped with the queue's head record as it starts). */
  private running = new Submission();
  /** A finished record to swap in when a queued one is failed while `running` is in flight. */
  private spare = new Submission();
  private closed = false;
  /** Set by `interrupt()`: every submission fails with it until `resume()`. */
  private refusal: Error | null = null;
  private idleWaiter: (() => void) | null = null;

  constructor(options: EngineOptions) {
    this.serial = options.serial;
    this.framer = new Framer(options.lineCapacity ?? 256, this);
    this.readBuf = new Uint8Array(options.readChunk ?? 128);
    this.queue = new SubmissionQueue(options.queueCapacity ?? 8);
    this.deadline = options.timers.deadline(() => this.exchange.timedOut());
    this.tx = new Transmitter(options.serial, options.initialWritable ?? 128, this.stats, {
      lineSent: () => this.exchange.lineSent(),
      payloadStaged: (length) => this.tracer?.data("tx", length),
      payloadSent: () => this.exchange.payloadSent(),
      writeFailed: (error) => this.abortAll(error),
    });
    this.exchange = new CommandExchange(this.framer, this.tx, this.deadline, this.stats, {
      ended: (cmd, error) => this.ended(cmd, error),
      timedOut: () => this.link.requestSync(),
    });
    this.link = new LinkSync(options, {
      sendSync: (cmd) => this.begin(cmd),
      linkReady: () => this.startNext(),
      syncGaveUp: () => this.syncGaveUp(),
    }, this.stats);
  }

  // ---- public API -------------------------------------------------------------------

  /** Queues a command; its `onEnd` runs when it ends. Throws when the queue is full. */
  submit(cmd: AtCommand): void {
    this.enqueue(cmd, null, null);
  }

  /** Queues a command and resolves when it completes (one Promise per command: not for hot loops). */
  run(cmd: AtCommand): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.enqueue(cmd, resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  }

  addUrcHandler(handler: UrcHandler): void {
    this.urcs.add(handler);
  }

  removeUrcHandler(handler: UrcHandler): void {
    this.urcs.remove(handler);
  }

  /** The next command is preceded by `AT`-until-`OK` and a quiet gap. */
  requestSync(): void {
    this.link.requestSync();
    // A quiet gap that was running is cut short: the work waiting behind it syncs now.
    this.startNext();
  }

  /**
   * The next command restarts the modem (AT+CFUN=1,1): the RDY after its OK, or in place of
   * it, is that boot rather than a reset. Expected until a RDY or a sync the modem answers.
   */
  expectBoot(): void {
    this.link.expectBoot();
  }

  /** The restart was accepted: the modem is booting, and may stay silent (or never say RDY); the next command syncs with the boot window. */
  restartAccepted(): void {
    this.link.booting();
  }

  /** Fails the command in flight and everything queued with `error`. */
  abortAll(error: Error): void {
    const cmd = this.exchange.abort();
    this.link.aborted();
    if (cmd !== null && cmd !== this.link.command) this.running.finish(error);
    while (this.queue.count > 0) {
      this.dequeue();
      this.running.finish(error);
    }
  }

  /**
   * Stops the work for `error` (a signal) without leaving the modem in the middle of an
   * exchange: the queue fails now, the command in flight runs to its end (a hot-path loop's
   * next chunk is then refused), and every later submission fails with `error` until `resume()`.
   */
  interrupt(error: Error): void {
    this.refusal = error;
    // `running` stays the record of the command in flight: the queue's records go through `spare`.
    while (this.queue.count > 0) {
      const record = this.queue.shift(this.spare);
      this.spare = record;
      record.finish(error);
    }
  }

  /** `interrupt()` was called and `resume()` not yet. */
  get interrupted(): boolean {
    return this.refusal !== null;
  }

  /** Takes commands again after `interrupt()` (to end the session the modem holds). */
  resume(): void {
    this.refusal = null;
  }

  /**
   * `length` CR filler bytes go out ahead of the next command: for a modem that may be counting
   * data bytes a run that died mid-payload never wrote (empty lines should it not be).
   */
  owe(length: number): void {
    this.stats.fillerBytes += length;
    this.tx.owe(length);
  }

  /** Resolves once no command is in flight or queued and no filler is owed. */
  whenIdle(): Promise<void> {
    if (!this.busy && this.tx.owed === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiter = resolve;
    });
  }

  close(): void {
    if (this.closed) return;
    this.abortAll(new AtAbortedError("the AT engine was closed"));
    this.closed = true;
    this.deadline.close();
    this.link.close();
  }

  get busy(): boolean {
    return !this.exchange.idle || this.queue.count > 0;
  }

  /**
   * The command in flight has a data phase (a prompt such as DOWNLOAD, payload bytes either
   * way): once its line is out, the modem may be counting bytes, so aborting it would leave
   * the modem eating the next commands as data.
   */
  get exchangingData(): boolean {
    const cmd = this.exchange.current;
    return cmd !== null && cmd !== this.link.command && this.exchange.hasDataPhase;
  }

  // ---- serial callbacks ---------------------------------------------------------------

  onReadable(_count: number): void {
    const buf = this.readBuf;
    for (;;) {
      const n = this.serial.read(buf);
      if (!n) return;
      this.stats.bytesIn += n;
      // Any byte breaks the quiet gap, not only a whole line: late LENGTH data of a timed-out
      // command can run for longer than the gap without a line end.
      this.link.heard();
      this.framer.feed(buf, 0, n);
      this.stats.overlongLines = this.framer.overlongLines;
    }
  }

  onWritable(count: number): void {
    this.tx.onWritable(count);
  }

  // ---- framer sink -------------------------------------------------------------------

  onLine(line: Line): void {
    const stats = this.stats;
    stats.lines++;
    if (this.tracer !== null) {
      // An echoed command is traced as sent: with its secrets masked.
      const cmd = this.exchange.current;
      this.tracer.line("rx", cmd !== null && cmd.text.isEcho(line) ? cmd.text.describe() : this.redacted(withoutControls(line.text())));
    }

    if (this.exchange.ownedLine(line)) return;
    if (this.link.quiet) {
      // Late output after a sync: not for anybody (its bytes restarted the gap).
      stats.strayLines++;
      return;
    }
    if (this.exchange.replyLine(line)) return;

    const report = matchReport(line);
    if (report !== null) {
      this.modemReport(report);
      return;
    }
    const handler = this.urcs.claim(line);
    if (handler === null) {
      stats.strayLines++;
      return;
    }
    stats.urcs++;
    this.exchange.apply(handler, this.urcs.verdict);
  }

  onData(buf: Uint8Array, offset: number, length: number): void {
    this.tracer?.data("rx", length);
    this.exchange.data(buf, offset, length);
  }

  onDataEnd(): void {
    this.exchange.dataEnd();
  }

  onPrompt(): void {
    this.exchange.prompt();
  }

  // ---- internals ---------------------------------------------------------------------

  /** The exchange ended `cmd`: a sync tells the link machine, work settles its submission. */
  private ended(cmd: AtCommand, error: Error | null): void {
    if (cmd === this.link.command) {
      if (error instanceof AtCommandError) this.stats.syncRefusals++;
      this.link.syncEnded(error);
      return;
    }
    // Its onEnd may submit again (a hot-path loop's next chunk): that starts at once.
    this.running.finish(error);
    this.startNext();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiter = this.idleWaiter;
    if (waiter === null || this.busy || this.tx.owed > 0) return;
    this.idleWaiter = null;
    waiter();
  }

  private startNext(): void {
    // Also reached from inside an onEnd that submitted again: one command in flight at a time.
    if (this.closed || this.queue.count === 0 || this.exchange.current !== null) return;
    if (!this.link.ready) {
      this.link.start();
      return;
    }
    this.begin(this.dequeue());
  }

  /** The link machine's every sync try failed: the command waiting for it fails. */
  private syncGaveUp(): void {
    const waiting = this.dequeue();
    this.running.finish(this.link.giveUpError(waiting.text.describe()));
    this.startNext();
  }

  private enqueue(cmd: AtCommand, resolve: (() => void) | null, reject: ((error: Error) => void) | null): void {
    if (this.closed) throw new AtAbortedError("the AT engine is closed");
    if (this.refusal !== null) throw this.refusal;
    // A reused instance (the hot paths) may be submitted again once it ended, not before.
    if (this.exchange.current === cmd || this.queue.holds(cmd)) throw new AtAbortedError(`${cmd.text.describe()} is already queued`);
    if (this.queue.full) throw new AtQueueFullError(this.queue.records.length);
    cmd.prepare();
    this.queue.push(cmd, resolve, reject);
    this.startNext();
  }

  /**
   * `secret` never appears in a traced received line, whenever it arrives (an echo that differs
   * from the command, or comes after it timed out). Secrets written in commands are added by
   * themselves; callers add the configured ones up front. The last MAX_REDACTED are kept.
   */
  redact(secret: string): void {
    if (secret === "" || this.secrets.includes(secret)) return;
    if (this.secrets.length === MAX_REDACTED) this.secrets.shift();
    this.secrets.push(secret);
  }

  private redacted(text: string): string {
    for (const secret of this.secrets) if (text.includes(secret)) text = text.split(secret).join("*".repeat(secret.length));
    return text;
  }

  private begin(cmd: AtCommand): void {
    if (this.tracer !== null) {
      const text = cmd.text;
      if (text.secretEnd > text.secretStart) this.redact(latin1(text.bytes, text.secretStart, text.secretEnd));
      this.tracer.line("tx", text.describe());
    }
    this.exchange.begin(cmd, this.running);
  }

  /** The queue's head becomes `running`; the finished record takes its place. */
  private dequeue(): AtCommand {
    this.running = this.queue.shift(this.running);
    return this.running.cmd!;
  }

  /** A reset or power report line: a boot the link expected, or the loss of all work. */
  private modemReport(kind: ModemResetKind): void {
    const meaning = this.link.report(kind);
    if (meaning === Report.Boot) return;
    const cmd = this.exchange.current;
    if (meaning === Report.OrderedBoot) {
      // The reboot can overtake the OK of the command that asked for it.
      if (cmd !== null && cmd !== this.link.command) this.exchange.complete(cmd, null);
      return;
    }
    this.stats.resets++;
    const error = new ModemResetError(kind);
    this.abortAll(error);
    this.onModemReset?.(error);
  }
}
