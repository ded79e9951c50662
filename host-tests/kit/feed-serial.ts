// The engine's end of a wire that the test drives by hand: `feed()` hands bytes over and
// signals them at once, so the test controls exactly what each read() returns.

import { ascii } from "../../src/transport/bytes.ts";
import type { SerialListener, SerialPort } from "../../src/transport/ports.ts";

export interface FeedSerialOptions {
  /** Free TX space: a larger write throws "output full", as Moddable's serial does (default: never full). */
  free?: number;
  /** Keep every written byte for `sent()` (off for long runs, whose heap must stay flat). */
  record?: boolean;
}

export class FeedSerial implements SerialPort {
  engine!: SerialListener;
  /** TX space left; tests raise it to stand for the FIFO draining. */
  free: number;
  /** Bytes written so far. */
  written = 0;
  private pending: Uint8Array = new Uint8Array(0);
  private readonly recorded: number[] | null;

  constructor(options: FeedSerialOptions = {}) {
    this.free = options.free ?? Infinity;
    this.recorded = options.record ? [] : null;
  }

  read(buffer: Uint8Array): number {
    const n = Math.min(buffer.length, this.pending.length);
    buffer.set(this.pending.subarray(0, n));
    this.pending = this.pending.subarray(n);
    return n;
  }

  write(data: Uint8Array): boolean {
    if (data.length > this.free) return false;
    this.free -= data.length;
    this.written += data.length;
    if (this.recorded !== null) for (const b of data) this.recorded.push(b);
    return true;
  }

  /** Replaces what read() returns with `bytes` (strings as Latin-1) and signals them. */
  feed(bytes: Uint8Array | string): void {
    this.pending = typeof bytes === "string" ? ascii(bytes) : bytes;
    this.engine.onReadable(this.pending.length);
  }

  /** What the host wrote, as Latin-1 text (needs `record`). */
  sent(): string {
    if (this.recorded === null) throw new Error("FeedSerial.sent() needs { record: true }");
    return String.fromCharCode(...this.recorded);
  }
}
