// The engine's transmit side: a command line, then the payload the command fills in, into the
// UART as far as its free space allows. Every write is one of a few fixed power-of-two views
// of one staging buffer, or a fixed view of the command's own payload buffer (payloadInPlace),
// so nothing is allocated per write.

import { STAGING, stagingViews, type AtCommand } from "./command.ts";
import { SerialWriteError } from "./errors.ts";
import type { SerialPort } from "./ports.ts";

/** What a timed-out data phase is paid with: a CR is an empty line should the modem not be counting bytes after all. */
const FILLER = 0x0d;
const Mode = { Idle: 0, Line: 1, Payload: 2 } as const;
/**
 * Command lines up to this long go out in one write (AT+SMTPFT=1360 and AT+POP3READ=1460 are
 * 15 and 17 bytes): as power-of-two pieces each would take four or two, each piece a UART
 * write and its callbacks, per chunk.
 */
const LINE_VIEWS = 32;
type Mode = (typeof Mode)[keyof typeof Mode];

export interface TransmitterEvents {
  /** The whole command line was accepted by the UART. */
  lineSent(): void;
  /** `length` payload bytes were staged (traces count them). */
  payloadStaged(length: number): void;
  /** The last payload byte was accepted. */
  payloadSent(): void;
  /** The port threw (any failure but "output full"): the work in flight is lost. */
  writeFailed(error: SerialWriteError): void;
}

export class Transmitter {
  private readonly serial: SerialPort;
  private readonly stats: { bytesOut: number };
  private readonly events: TransmitterEvents;
  private readonly staging = new Uint8Array(STAGING);
  /** Views of `staging` of length 1, 2, 4 ... 128, made once: writes use only these and lineViews. */
  private readonly stagingViews: readonly Uint8Array[];
  /** Views of `staging` of every length 1 ... LINE_VIEWS: a hot-path command line in one write. */
  private readonly lineViews: Uint8Array[] = [];
  /** The staged bytes: one of our views, of the command's payloadViews, or its payloadInPlace. */
  private stagedView: Uint8Array;
  private writable: number;
  private cmd: AtCommand | null = null;
  private mode: Mode = Mode.Idle;
  private txPos = 0;
  private payloadLeft = 0;
  private staged = 0;
  /** `staged` holds filler, not the command's bytes. */
  private stagedFiller = false;
  /** Filler bytes still to go out ahead of any command line. */
  private fillerLeft = 0;
  private pumping = false;

  constructor(serial: SerialPort, initialWritable: number, stats: { bytesOut: number }, events: TransmitterEvents) {
    this.serial = serial;
    this.stats = stats;
    this.events = events;
    this.writable = initialWritable;
    this.stagingViews = stagingViews(this.staging);
    for (let n = 1; n <= LINE_VIEWS; n++) this.lineViews.push(this.staging.subarray(0, n));
    this.stagedView = this.stagingViews[0];
  }

  /** Starts writing `cmd`'s line. */
  sendLine(cmd: AtCommand): void {
    this.cmd = cmd;
    this.mode = Mode.Line;
    this.txPos = 0;
    this.pump();
  }

  /** Starts writing `length` payload bytes pulled from the command's `fillPayload`. */
  sendPayload(length: number): void {
    this.mode = Mode.Payload;
    this.payloadLeft = length;
    this.pump();
  }

  /** Drops whatever is staged or left of the command (it ended, timed out or was aborted); filler stays owed. */
  stop(): void {
    this.cmd = null;
    this.mode = Mode.Idle;
    this.payloadLeft = 0;
    if (this.stagedFiller) this.fillerLeft += this.staged;
    this.stagedFiller = false;
    this.staged = 0;
  }

  /** Payload bytes of the command's data phase the UART has not accepted yet. */
  get unsentPayload(): number {
    return this.mode === Mode.Payload ? this.payloadLeft + (this.stagedFiller ? 0 : this.staged) : 0;
  }

  /**
   * `length` filler bytes go out before the next command line: what a data phase that timed out
   * may still owe the modem, which would otherwise eat the next commands as data.
   */
  owe(length: number): void {
    this.fillerLeft += length;
    this.pump();
  }

  /** Filler still owed (not yet accepted by the UART). */
  get owed(): number {
    return this.fillerLeft + (this.stagedFiller ? this.staged : 0);
  }

  onWritable(count: number): void {
    this.writable = count;
    this.pump();
  }

  /** Moves command bytes, then payload bytes, into the UART as far as its free space allows. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    // One try for the whole pump (XS pays for each one entered): `writing` tells a port's throw from any other.
    let writing = false;
    try {
      while (this.writable > 0) {
        if (this.staged === 0 && this.fillerLeft > 0) {
          const size = powerOfTwoAtMost(Math.min(this.fillerLeft, this.writable, STAGING));
          this.staging.fill(FILLER, 0, size);
          this.fillerLeft -= size;
          this.staged = size;
          this.stagedFiller = true;
          this.stagedView = this.stagingViews[31 - Math.clz32(size)];
        }
        const cmd = this.cmd;
        if (cmd === null && !this.stagedFiller) break;
        if (this.staged === 0 && cmd !== null) {
          const mode = this.mode;
          const left = mode === Mode.Payload ? this.payloadLeft : mode === Mode.Line ? cmd.text.length - this.txPos : 0;
          if (left === 0) break;
          const fits = left < this.writable ? left : this.writable;
          // A short line that fits goes whole, through a view of its own length.
          const whole = mode === Mode.Line && fits === left && left <= LINE_VIEWS;
          const size = whole ? left : fits < STAGING ? powerOfTwoAtMost(fits) : STAGING;
          if (mode === Mode.Line) {
            const bytes = cmd.text.bytes;
            for (let i = 0; i < size; i++) this.staging[i] = bytes[this.txPos + i];
            this.txPos += size;
            this.stagedView = whole ? this.lineViews[size - 1] : this.stagingViews[31 - Math.clz32(size)];
          } else {
            const inPlace = cmd.payloadInPlace(size);
            if (inPlace !== null) {
              this.stagedView = inPlace;
            } else {
              const views = cmd.payloadViews ?? this.stagingViews;
              cmd.fillPayload(views[views.length - 1], 0, size);
              this.stagedView = views[31 - Math.clz32(size)];
            }
            this.payloadLeft -= size;
            this.events.payloadStaged(size);
          }
          this.staged = size;
        }
        if (this.staged > this.writable) break;
        writing = true;
        const accepted = this.serial.write(this.stagedView);
        writing = false;
        if (!accepted) {
          // Output full: nothing was sent; try again on the next onWritable.
          this.writable = 0;
          break;
        }
        this.writable -= this.staged;
        this.stats.bytesOut += this.staged;
        this.staged = 0;
        this.stagedFiller = false;
      }
      this.afterWrite();
    } catch (error) {
      if (!writing) throw error;
      this.stop();
      this.events.writeFailed(new SerialWriteError(error));
    } finally {
      this.pumping = false;
    }
  }

  private afterWrite(): void {
    if (this.stagedFiller || this.fillerLeft > 0) return;
    const cmd = this.cmd;
    if (cmd === null || this.staged > 0) return;
    if (this.mode === Mode.Line && this.txPos === cmd.text.length) {
      this.mode = Mode.Idle;
      this.events.lineSent();
    } else if (this.mode === Mode.Payload && this.payloadLeft === 0) {
      this.mode = Mode.Idle;
      this.events.payloadSent();
      cmd.onPayloadSent();
    }
  }
}

/** The largest power of two not above n (n >= 1): one of the fixed views. */
function powerOfTwoAtMost(n: number): number {
  return 1 << (31 - Math.clz32(n));
}
