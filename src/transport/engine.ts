// The AT command engine: one command in flight, a bounded FIFO behind it, a timeout per
// command, URC and abort tables, back-pressured writes. Driven entirely by the serial
// callbacks and one deadline timer; no allocation per byte, line or chunk.

import { ascii, type Line } from "./bytes.ts";
import { AtCommand, Verdict, type LineOwner } from "./command.ts";
import {
  AtAbortedError,
  AtQueueFullError,
  AtTimeoutError,
  ModemResetError,
  type ModemResetKind,
  SerialWriteError,
} from "./errors.ts";
import { Framer, type FramerSink } from "./framer.ts";
import { MatchTable } from "./match.ts";
import type { Deadline, SerialListener, SerialPort, TimerPort } from "./ports.ts";

/** Unsolicited result codes: a table and what to do with its lines. */
export interface UrcHandler extends LineOwner {
  readonly table: MatchTable;
  /** A line of `table` matched (cursor after the pattern); returns a Verdict. */
  onUrc(id: number, line: Line): number;
}

export interface AtTracer {
  /** A command line sent (secrets masked) or a line received. */
  line(direction: "tx" | "rx", text: string): void;
  /** Raw payload bytes sent or received (a count, not the bytes). */
  data(direction: "tx" | "rx", length: number): void;
}

export interface EngineOptions {
  serial: SerialPort;
  timers: TimerPort;
  /** Receive line buffer; longer lines are discarded and counted. Default 256. */
  lineCapacity?: number;
  /** Bytes read per `read(buffer)` call. Default 128 (the ESP32 UART FIFO). */
  readChunk?: number;
  /** Commands waiting behind the one in flight. Default 8. */
  queueCapacity?: number;
  /** Free TX space assumed before the first onWritable. Default 128. */
  initialWritable?: number;
  /** Send `AT` until `OK` before the first command (autobauding, unknown state). Default true. */
  syncOnStart?: boolean;
  /** Per-attempt timeout of the sync `AT`, and how long the modem may go on talking after its OK. Default 500 ms. */
  syncTimeoutMs?: number;
  /** Sync attempts before giving up on the modem. Default 10. */
  syncAttempts?: number;
  /** Silence (not one byte) required after a sync before the next command. Default 50 ms. */
  quietMs?: number;
}

export interface EngineStats {
  bytesIn: number;
  bytesOut: number;
  lines: number;
  strayLines: number;
  urcs: number;
  timeouts: number;
  resyncs: number;
  resets: number;
  /** RDY lines of a modem switching on before it first answered: expected, not resets. */
  boots: number;
  overlongLines: number;
}

const OK = ascii("OK");
const ERROR_TABLE = new MatchTable([
  { text: "ERROR", exact: true, id: 0 },
  { text: "+CME ERROR:", id: 1 },
  { text: "+CMS ERROR:", id: 2 },
]);
const ABORT_KINDS: ModemResetKind[] = ["reset", "sim-not-ready", "power-down", "under-voltage"];
const ABORT_TABLE = new MatchTable([
  { text: "RDY", exact: true, id: 0 },
  { text: "+CPIN: NOT READY", exact: true, id: 1 },
  { text: "NORMAL POWER DOWN", exact: true, id: 2 },
  { text: "UNDER-VOLTAGE POWER DOWN", exact: true, id: 3 },
]);

const Phase = { Idle: 0, Writing: 1, Awaiting: 2, SendingPayload: 3, Quiet: 4 } as const;
const STAGING = 128;

class SyncCommand extends AtCommand {
  constructor() {
    super(8);
    this.text.raw("AT").end();
  }
}

export class AtEngine implements SerialListener, FramerSink {
  readonly stats: EngineStats = {
    bytesIn: 0, bytesOut: 0, lines: 0, strayLines: 0, urcs: 0,
    timeouts: 0, resyncs: 0, resets: 0, boots: 0, overlongLines: 0,
  };
  tracer: AtTracer | null = null;
  /** Called after a reset/power-down report aborted the work in flight. */
  onModemReset: ((error: ModemResetError) => void) | null = null;

  private readonly serial: SerialPort;
  private readonly framer: Framer;
  private readonly deadline: Deadline;
  /** Bounds the quiet gap: a modem that never falls silent fails the sync try. */
  private readonly quietLimit: Deadline;
  private readonly readBuf: Uint8Array;
  private readonly staging = new Uint8Array(STAGING);
  /** Views of `staging` of length 1, 2, 4 ... 128, made once: writes use only these. */
  private readonly stagingViews: Uint8Array[] = [];
  private readonly queue: (AtCommand | null)[];
  private queueHead = 0;
  private queueCount = 0;
  private readonly urcHandlers: UrcHandler[] = [];
  private readonly sync = new SyncCommand();
  private readonly syncTimeoutMs: number;
  private readonly syncAttempts: number;
  private readonly quietMs: number;

  private current: AtCommand | null = null;
  private phase: number = Phase.Idle;
  private generation = 0;
  private deadlineGeneration = 0;
  private writable: number;
  private txPos = 0;
  private payloadLeft = 0;
  private staged = 0;
  private pumping = false;
  private lineOwner: LineOwner | null = null;
  private dataOwner: LineOwner | null = null;
  private needSync: boolean;
  private syncTriesLeft = 0;
  /**
   * No answer from the modem yet since the engine started syncing or the modem powered down:
   * it may be booting, and its RDY is what we wait for, not a reset.
   */
  private awaitingBoot: boolean;
  /** A restart was ordered (expectBoot) and its RDY has not come yet. */
  private bootOrdered = false;
  private closed = false;

  constructor(options: EngineOptions) {
    this.serial = options.serial;
    this.framer = new Framer(options.lineCapacity ?? 256, this);
    this.readBuf = new Uint8Array(options.readChunk ?? 128);
    this.queue = new Array(options.queueCapacity ?? 8).fill(null);
    this.writable = options.initialWritable ?? STAGING;
    this.needSync = options.syncOnStart ?? true;
    this.awaitingBoot = this.needSync;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 500;
    this.syncAttempts = options.syncAttempts ?? 10;
    this.quietMs = options.quietMs ?? 50;
    this.sync.timeoutMs = this.syncTimeoutMs;
    for (let n = 1; n <= STAGING; n *= 2) this.stagingViews.push(this.staging.subarray(0, n));
    this.deadline = options.timers.deadline(() => this.onDeadline());
    this.quietLimit = options.timers.deadline(() => this.onQuietLimit());
  }

  // ---- public API -------------------------------------------------------------------

  /** Queues a command; its `finish` runs when it ends. Throws when the queue is full. */
  submit(cmd: AtCommand): void {
    if (this.closed) throw new AtAbortedError("the AT engine is closed");
    if (cmd.inFlight) throw new AtAbortedError(`${cmd.text.describe()} is already queued`);
    if (this.queueCount === this.queue.length) throw new AtQueueFullError(this.queue.length);
    cmd.prepare();
    cmd.inFlight = true;
    this.queue[(this.queueHead + this.queueCount) % this.queue.length] = cmd;
    this.queueCount++;
    if (this.phase === Phase.Idle) this.startNext();
  }

  /** Queues a command and resolves when it completes (one Promise per command: not for hot loops). */
  run(cmd: AtCommand): Promise<void> {
    return new Promise((resolve, reject) => {
      cmd.bindPromise(resolve, reject);
      try {
        this.submit(cmd);
      } catch (error) {
        cmd.bindPromise(() => {}, () => {});
        reject(error);
      }
    });
  }

  addUrcHandler(handler: UrcHandler): void {
    if (this.urcHandlers.indexOf(handler) < 0) this.urcHandlers.push(handler);
  }

  removeUrcHandler(handler: UrcHandler): void {
    const i = this.urcHandlers.indexOf(handler);
    if (i >= 0) this.urcHandlers.splice(i, 1);
  }

  /** The next command is preceded by `AT`-until-`OK` and a quiet gap. */
  requestSync(): void {
    this.needSync = true;
  }

  /**
   * The next command restarts the modem (AT+CFUN=1,1): the RDY after its OK, or in place of
   * it, is that boot rather than a reset. Expected until a RDY or a sync the modem answers.
   */
  expectBoot(): void {
    this.bootOrdered = true;
  }

  /** Fails the command in flight and everything queued with `error`. */
  abortAll(error: Error): void {
    this.framer.reset();
    this.framer.keepEmptyLines = false;
    this.lineOwner = null;
    this.dataOwner = null;
    this.payloadLeft = 0;
    this.staged = 0;
    const cmd = this.current;
    this.current = null;
    this.phase = Phase.Idle;
    this.deadline.disarm();
    this.quietLimit.disarm();
    if (cmd && cmd !== this.sync) cmd.finish(error);
    while (this.queueCount > 0) {
      const next = this.dequeue();
      next.finish(error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.abortAll(new AtAbortedError("the AT engine was closed"));
    this.closed = true;
    this.deadline.close();
    this.quietLimit.close();
  }

  get busy(): boolean {
    return this.phase !== Phase.Idle || this.queueCount > 0;
  }

  /**
   * The command in flight has a data phase (a prompt such as DOWNLOAD, payload bytes either
   * way): once its line is out, the modem may be counting bytes, so aborting it would leave
   * the modem eating the next commands as data.
   */
  get exchangingData(): boolean {
    const cmd = this.current;
    return cmd !== null && cmd !== this.sync && (cmd.prompt !== null || cmd.sendLength > 0 || this.dataOwner !== null || this.phase === Phase.SendingPayload);
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
      if (this.phase === Phase.Quiet) this.deadline.arm(this.quietMs);
      this.framer.feed(buf, 0, n);
      this.stats.overlongLines = this.framer.overlongLines;
    }
  }

  onWritable(count: number): void {
    this.writable = count;
    this.pump();
  }

  // ---- framer sink -------------------------------------------------------------------

  onLine(line: Line): void {
    const stats = this.stats;
    stats.lines++;
    if (this.tracer !== null) {
      // An echoed command is traced as sent: with its secrets masked.
      const cmd = this.current;
      this.tracer.line("rx", cmd !== null && this.isEcho(cmd, line) ? cmd.text.describe() : line.text());
    }

    const owner = this.lineOwner;
    if (owner !== null) {
      this.lineOwner = null;
      this.apply(owner, owner.onLine(line));
      return;
    }
    if (this.phase === Phase.Quiet) {
      // Late output after a sync: not for anybody, and the gap starts again.
      stats.strayLines++;
      this.deadline.arm(this.quietMs);
      return;
    }
    const cmd = this.current;
    if (cmd !== null && this.phase === Phase.Awaiting) {
      // A line begun before the command was sent cannot be its reply (only its echo).
      if (this.framer.lineIsOld ? this.isEcho(cmd, line) : this.dispatchToCommand(cmd, line)) return;
    }

    const abort = ABORT_TABLE.find(line);
    // The RDY of a modem that is just switching on: what the first sync waits for.
    if (abort >= 0 && ABORT_KINDS[abort] === "reset" && (this.awaitingBoot || this.bootOrdered)) {
      stats.boots++;
      if (this.bootOrdered) this.orderedBoot();
      return;
    }
    if (abort >= 0) {
      this.modemReset(ABORT_KINDS[abort]);
      return;
    }
    const handlers = this.urcHandlers;
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i];
      const id = handler.table.match(line);
      if (id < 0) continue;
      const verdict = handler.onUrc(id, line);
      if (verdict === Verdict.NotMine) continue;
      stats.urcs++;
      this.apply(handler, verdict);
      return;
    }
    stats.strayLines++;
  }

  onData(buf: Uint8Array, offset: number, length: number): void {
    this.tracer?.data("rx", length);
    this.dataOwner?.onData(buf, offset, length);
  }

  onDataEnd(): void {
    if (this.dataOwner === this.current && this.current !== null) this.deadline.arm(this.current.timeoutMs);
    this.dataOwner = null;
  }

  onPrompt(): void {
    const cmd = this.current;
    if (cmd === null || this.phase !== Phase.Awaiting) return;
    this.apply(cmd, cmd.onPrompt());
  }

  // ---- internals ---------------------------------------------------------------------

  /** True when the line was the command's. */
  private dispatchToCommand(cmd: AtCommand, line: Line): boolean {
    if (this.isEcho(cmd, line)) return true;
    if (cmd.responses !== null) {
      const id = cmd.responses.match(line);
      if (id >= 0) {
        const verdict = cmd.onMatch(id, line);
        if (verdict !== Verdict.NotMine) {
          this.apply(cmd, verdict);
          return true;
        }
      }
    }
    if (line.equals(OK)) {
      cmd.okSeen = true;
      this.apply(cmd, cmd.onOk());
      return true;
    }
    if (ERROR_TABLE.find(line) >= 0) {
      this.apply(cmd, cmd.onError(line));
      return true;
    }
    if (cmd.rawLines) {
      const verdict = cmd.onLine(line);
      if (verdict !== Verdict.NotMine) {
        this.apply(cmd, verdict);
        return true;
      }
    }
    return false;
  }

  /** With echo on (ATE1, the power-on default) the modem repeats the command line. */
  private isEcho(cmd: AtCommand, line: Line): boolean {
    const text = cmd.text;
    let n = text.length;
    if (n > 0 && text.bytes[n - 1] === 13) n--;
    if (line.length !== n) return false;
    const buf = line.buf;
    for (let i = 0; i < n; i++) if (buf[i] !== text.bytes[i]) return false;
    return true;
  }

  private apply(owner: LineOwner, verdict: number): void {
    const cmd = this.current;
    const isCurrent = owner === cmd && cmd !== null;
    switch (verdict) {
      case Verdict.NotMine:
        if (!isCurrent) this.stats.strayLines++;
        return;
      case Verdict.Continue:
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
      case Verdict.Done:
        if (isCurrent) this.complete(cmd, null);
        return;
      case Verdict.Fail:
        if (isCurrent) this.complete(cmd, cmd.error ?? new Error(`${cmd.text.describe()} failed`));
        return;
      case Verdict.Receive:
        if (owner.receiveLength > 0) {
          this.dataOwner = owner;
          this.framer.expectLength(owner.receiveLength);
        }
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
      case Verdict.Send:
        if (isCurrent && cmd.sendLength > 0) {
          this.payloadLeft = cmd.sendLength;
          this.phase = Phase.SendingPayload;
          this.deadline.arm(cmd.timeoutMs);
          this.pump();
        }
        return;
      case Verdict.TakeLine:
        this.lineOwner = owner;
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
    }
  }

  private complete(cmd: AtCommand, error: Error | null): void {
    // Any answer (OK, ERROR, a result) means the modem is up; only a timeout is no answer.
    if (!(error instanceof AtTimeoutError)) this.awaitingBoot = false;
    this.deadline.disarm();
    this.framer.armPrompt(null);
    this.framer.keepEmptyLines = false;
    if (this.lineOwner === cmd) this.lineOwner = null;
    this.current = null;
    this.phase = Phase.Idle;
    if (cmd === this.sync) {
      this.afterSync(error);
      return;
    }
    cmd.finish(error);
    if (this.phase === Phase.Idle) this.startNext();
  }

  private startNext(): void {
    if (this.closed || this.queueCount === 0) return;
    if (this.needSync) {
      if (this.syncTriesLeft === 0) this.syncTriesLeft = this.syncAttempts;
      this.stats.resyncs++;
      this.sync.prepare();
      this.sync.inFlight = true;
      this.begin(this.sync);
      return;
    }
    this.begin(this.dequeue());
  }

  private afterSync(error: Error | null): void {
    this.sync.inFlight = false;
    if (error === null) {
      // The try succeeds only once the gap is quiet (onDeadline); until then it may still fail.
      this.needSync = false;
      this.bootOrdered = false;
      this.phase = Phase.Quiet;
      this.deadlineGeneration = ++this.generation;
      this.deadline.arm(this.quietMs);
      this.quietLimit.arm(this.syncTimeoutMs);
      return;
    }
    if (error instanceof ModemResetError) return;
    if (--this.syncTriesLeft > 0) {
      this.startNext();
      return;
    }
    // The modem never answered: fail the command that was waiting, keep syncing for the next.
    const waiting = this.dequeue();
    waiting.finish(new AtTimeoutError(`AT (sync before ${waiting.text.describe()}, ${this.syncAttempts} tries)`, this.syncTimeoutMs));
    this.startNext();
  }

  private begin(cmd: AtCommand): void {
    this.current = cmd;
    cmd.generation = ++this.generation;
    this.phase = Phase.Writing;
    this.txPos = 0;
    this.deadlineGeneration = cmd.generation;
    this.deadline.arm(cmd.timeoutMs);
    this.tracer?.line("tx", cmd.text.describe());
    this.pump();
  }

  private dequeue(): AtCommand {
    const cmd = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = null;
    this.queueHead = (this.queueHead + 1) % this.queue.length;
    this.queueCount--;
    return cmd;
  }

  /** Moves command bytes, then payload bytes, into the UART as far as its free space allows. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.writable > 0) {
        const cmd = this.current;
        if (cmd === null) return;
        if (this.staged === 0) {
          const commandLeft = this.phase === Phase.Writing ? cmd.text.length - this.txPos : 0;
          const left = commandLeft > 0 ? commandLeft : this.phase === Phase.SendingPayload ? this.payloadLeft : 0;
          if (left === 0) break;
          let n = left < this.writable ? left : this.writable;
          if (n > STAGING) n = STAGING;
          let size = 1;
          while (size * 2 <= n) size *= 2;
          if (commandLeft > 0) {
            const bytes = cmd.text.bytes;
            for (let i = 0; i < size; i++) this.staging[i] = bytes[this.txPos + i];
            this.txPos += size;
          } else {
            cmd.fillPayload(this.staging, 0, size);
            this.payloadLeft -= size;
            this.tracer?.data("tx", size);
          }
          this.staged = size;
        }
        if (this.staged > this.writable) break;
        let accepted: boolean;
        try {
          accepted = this.serial.write(this.stagingViews[31 - Math.clz32(this.staged)]);
        } catch (error) {
          this.abortAll(new SerialWriteError(error));
          return;
        }
        if (!accepted) {
          // Output full: nothing was sent; try again on the next onWritable.
          this.writable = 0;
          break;
        }
        this.writable -= this.staged;
        this.stats.bytesOut += this.staged;
        this.staged = 0;
      }
      this.afterWrite();
    } finally {
      this.pumping = false;
    }
  }

  private afterWrite(): void {
    const cmd = this.current;
    if (cmd === null || this.staged > 0) return;
    if (this.phase === Phase.Writing && this.txPos === cmd.text.length) {
      this.phase = Phase.Awaiting;
      this.framer.markBoundary();
      if (cmd.prompt !== null) this.framer.armPrompt(cmd.prompt);
      this.framer.keepEmptyLines = cmd.rawLines;
    } else if (this.phase === Phase.SendingPayload && this.payloadLeft === 0) {
      this.phase = Phase.Awaiting;
    }
  }

  private onDeadline(): void {
    if (this.phase === Phase.Quiet) {
      if (this.deadlineGeneration !== this.generation) return;
      this.quietLimit.disarm();
      this.syncTriesLeft = 0;
      this.phase = Phase.Idle;
      this.startNext();
      return;
    }
    const cmd = this.current;
    if (cmd === null || cmd.generation !== this.deadlineGeneration) return; // stale timer
    this.stats.timeouts++;
    this.framer.reset();
    this.lineOwner = null;
    this.dataOwner = null;
    this.payloadLeft = 0;
    this.staged = 0;
    this.needSync = true;
    this.complete(cmd, new AtTimeoutError(cmd.text.describe(), cmd.timeoutMs));
  }

  /** The modem kept talking for a whole sync timeout after the sync's OK: that try failed. */
  private onQuietLimit(): void {
    if (this.phase !== Phase.Quiet) return;
    this.deadline.disarm();
    this.phase = Phase.Idle;
    this.needSync = true;
    this.afterSync(new AtTimeoutError("AT (the modem did not fall quiet after it)", this.syncTimeoutMs));
  }

  /** The RDY of a restart the host ordered: the command that ordered it is done, then sync. */
  private orderedBoot(): void {
    this.bootOrdered = false;
    this.needSync = true;
    const cmd = this.current;
    // The reboot can overtake the OK of the command that asked for it.
    if (cmd !== null && cmd !== this.sync) this.complete(cmd, null);
  }

  private modemReset(kind: ModemResetKind): void {
    this.stats.resets++;
    this.needSync = true;
    // Switched off: the RDY of the next power-on is expected.
    this.awaitingBoot = kind === "power-down" || kind === "under-voltage";
    this.syncTriesLeft = 0;
    const error = new ModemResetError(kind);
    if (this.current === this.sync) {
      this.sync.inFlight = false;
      this.current = null;
      this.phase = Phase.Idle;
    }
    this.abortAll(error);
    this.onModemReset?.(error);
  }
}
