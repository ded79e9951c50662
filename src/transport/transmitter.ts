// The engine's transmit side: a command line, then the payload the command fills in, into the
// UART as far as its free space allows. Every write is one of a few fixed power-of-two views
// of one staging buffer, so nothing is allocated per write.

import { STAGING, stagingViews, type AtCommand } from "./command.ts";
import { SerialWriteError } from "./errors.ts";
import type { SerialPort } from "./ports.ts";

const Mode = { Idle: 0, Line: 1, Payload: 2 } as const;
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
  /** Views of `staging` of length 1, 2, 4 ... 128, made once: writes use only these. */
  private readonly stagingViews: readonly Uint8Array[];
  /** The views the staged bytes are in: ours, or the command's payloadViews. */
  private views: readonly Uint8Array[];
  private writable: number;
  private cmd: AtCommand | null = null;
  private mode: Mode = Mode.Idle;
  private txPos = 0;
  private payloadLeft = 0;
  private staged = 0;
  private pumping = false;

  constructor(serial: SerialPort, initialWritable: number, stats: { bytesOut: number }, events: TransmitterEvents) {
    this.serial = serial;
    this.stats = stats;
    this.events = events;
    this.writable = initialWritable;
    this.stagingViews = stagingViews(this.staging);
    this.views = this.stagingViews;
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

  /** Drops whatever is staged or left (the command ended, timed out or was aborted). */
  stop(): void {
    this.cmd = null;
    this.mode = Mode.Idle;
    this.payloadLeft = 0;
    this.staged = 0;
  }

  onWritable(count: number): void {
    this.writable = count;
    this.pump();
  }

  /** Moves command bytes, then payload bytes, into the UART as far as its free space allows. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.writable > 0) {
        const cmd = this.cmd;
        if (cmd === null) return;
        if (this.staged === 0) {
          const left = this.mode === Mode.Line ? cmd.text.length - this.txPos : this.mode === Mode.Payload ? this.payloadLeft : 0;
          if (left === 0) break;
          let n = left < this.writable ? left : this.writable;
          if (n > STAGING) n = STAGING;
          // The largest power of two not above n: one of the fixed views.
          const size = 1 << (31 - Math.clz32(n));
          if (this.mode === Mode.Line) {
            const bytes = cmd.text.bytes;
            for (let i = 0; i < size; i++) this.staging[i] = bytes[this.txPos + i];
            this.txPos += size;
            this.views = this.stagingViews;
          } else {
            this.views = cmd.payloadViews ?? this.stagingViews;
            cmd.fillPayload(this.views[this.views.length - 1], 0, size);
            this.payloadLeft -= size;
            this.events.payloadStaged(size);
          }
          this.staged = size;
        }
        if (this.staged > this.writable) break;
        let accepted: boolean;
        try {
          accepted = this.serial.write(this.views[31 - Math.clz32(this.staged)]);
        } catch (error) {
          this.stop();
          this.events.writeFailed(new SerialWriteError(error));
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
