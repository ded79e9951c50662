// What the alarm mailer needs from the platform besides the transport ports (serial, timers,
// uptime clock: see ../transport/ports.ts). Device bindings live in src/device, host ones in
// src/host and the host tests; the app itself imports no Node or Moddable module.

import type { AtEngine } from "../transport/engine.ts";
import type { ClockPort, SerialPort, TimerPort } from "../transport/ports.ts";

export type { ClockPort, Deadline, TimerPort } from "../transport/ports.ts";

/** Appends `length` bytes of `data` from `offset`. */
export type AppendBytes = (data: Uint8Array, offset: number, length: number) => void;

/**
 * One append-only file on flash (the outbox). Device: a LittleFS file; host tests: the mock
 * flash with power-cut injection.
 */
export interface LogStore {
  /** Bytes in the file (0 when it does not exist yet). */
  size(): number;
  /** Copies up to `length` bytes from file position `position` into `out[offset..]`; returns the count (0 at the end). */
  read(position: number, out: Uint8Array, offset: number, length: number): number;
  /**
   * Adds bytes at the end. Durable when it returns. A power cut during the call may leave any
   * prefix of the bytes in the file (the reader must detect and skip such a torn tail).
   */
  append: AppendBytes;
  /**
   * Atomically replaces the whole file with what `writer` appends (write a new file, then
   * rename it over the old one): after a power cut the file is either the old or the new one,
   * never a mix. While `writer` runs, `read` and `size` still see the old content. When
   * `writer` throws, the old content stays and the error propagates.
   */
  replace(writer: (append: AppendBytes) => void): void;
}

/** Small persisted values (the command ledger, the armed flag, a boot counter). */
export interface KeyValueStore {
  /** The stored value, or null when the key was never written (or was deleted). */
  get(key: string): Uint8Array | null;
  /** Stores a value atomically: after a power cut the key holds the old or the new value, never a mix. Durable when it returns. */
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

/** Cryptography for remote commands. Device: Moddable's `crypt`; host: `node:crypto`. */
export interface Crypto {
  /** HMAC-SHA256 of `data` with `key` (32 bytes). */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** `n` random bytes from the platform's generator. */
  randomBytes(n: number): Uint8Array;
}

/** One digital input pin, already configured (pull-up/down) by the binding. */
export interface DigitalInputPort {
  read(): 0 | 1;
}

/** The status LED. */
export interface StatusLed {
  set(on: boolean): void;
}

/**
 * UTC wall time, which may be unknown: the device clock starts near 1970 and is only set once
 * the modem reports network time. See `NetworkWallClock` in ./wall-clock.ts.
 */
export interface WallClock {
  /** Milliseconds since 1970 UTC, or null while the time is not known. */
  now(): number | null;
}

/** Uniform numbers in [0, 1) (retry jitter). Deterministic in tests: see `seededRandom`. */
export interface RandomPort {
  random(): number;
}

/** Everything the alarm mailer is given by its binding (src/device/platform.ts, src/host/platform.ts). */
export interface AlarmPlatform {
  serial: SerialPort;
  /** Connects the engine to the serial callbacks. */
  attachSerial(engine: AtEngine): void;
  timers: TimerPort;
  clock: ClockPort;
  log: LogStore;
  /** The most the outbox file may take of this board's flash. Default 256 KiB. */
  logBytes?: number;
  store: KeyValueStore;
  crypto: Crypto;
  inputs: Record<string, DigitalInputPort>;
  led?: StatusLed;
  /** Pulses the modem's PWRKEY (switches it on or off); absent when the modem is always on. */
  powerKey?: () => Promise<void>;
  /** Traces (never given a secret). */
  trace?: (text: string) => void;
}
