// The modem end of a serial line as the simulated modem (and the kit's scripted modem) drive
// it: SimModem.attach takes one; the kit's mock UART gives one.
import type { Scheduler } from "../scheduler.ts";

/** The modem end, driven by the simulator or the scripted modem. */
export interface ModemSerial {
  /**
   * Receives the host's bytes as they arrive, in order (one byte per call at a finite baud
   * rate). While null the modem is not listening: arriving bytes are lost (`stats.modemRxLost`).
   */
  onData: ((bytes: Uint8Array) => void) | null;
  /** Queues bytes toward the host, sent at line rate; a string is taken as Latin-1 (one byte per character). */
  write(bytes: Uint8Array | string): void;
  /**
   * `hold(true)`: a busy modem; arriving bytes accumulate (up to `modemRxBuffer`, the rest is
   * lost) until `hold(false)` hands them to `onData` in one call.
   */
  hold(on: boolean): void;
  /** The modem's CTS line under 'rtscts': false pauses the host's output. */
  setCts(ready: boolean): void;
  /** Calls `callback` (asynchronously) once every byte written so far has reached the host's RX FIFO (or been lost there). */
  onceDrained(callback: () => void): void;
  /** Bytes written by the modem and not yet at the host. */
  readonly pendingToHost: number;
  readonly scheduler: Scheduler;
  /** Wire time of one byte in ms (0 at an infinite baud rate). */
  readonly byteTimeMs: number;
}
