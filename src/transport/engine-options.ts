// The engine's options, statistics and tracer: what a caller configures and reads.

import type { LinkSyncOptions } from "./link-sync.ts";
import type { SerialPort } from "./ports.ts";

export interface AtTracer {
  /** A command line sent (secrets masked) or a line received. */
  line(direction: "tx" | "rx", text: string): void;
  /** Raw payload bytes sent or received (a count, not the bytes). */
  data(direction: "tx" | "rx", length: number): void;
}

/** With the link-sync options (syncOnStart, syncTimeoutMs, syncAttempts, quietMs). */
export interface EngineOptions extends LinkSyncOptions {
  serial: SerialPort;
  /** Receive line buffer; longer lines are discarded and counted. Default 256. */
  lineCapacity?: number;
  /** Bytes read per `read(buffer)` call. Default 128 (the ESP32 UART FIFO). */
  readChunk?: number;
  /** Commands waiting behind the one in flight. Default 8. */
  queueCapacity?: number;
  /** Free TX space assumed before the first onWritable. Default 128. */
  initialWritable?: number;
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
  /** Filler bytes written for data phases that timed out before their payload was out. */
  fillerBytes: number;
  /** Sync `AT`s the modem answered with an error (busy, not silent: e.g. unread POP3 data). */
  syncRefusals: number;
}
