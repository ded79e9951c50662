// The only things the core needs from the platform. Device and host bindings implement
// these; the core never imports Node or Moddable modules.

/**
 * The part of an ECMA-419 `embedded:io/serial` instance (format "buffer") the engine uses.
 * The binding forwards the instance's `onReadable(count)` / `onWritable(count)` callbacks
 * to the engine's methods of the same names.
 */
export interface SerialPort {
  /** ECMA-419 `read(buffer)`: copies up to `buffer.byteLength` available bytes, returns the count. */
  read(buffer: Uint8Array): number | undefined;
  /**
   * ECMA-419 `write(buffer)`: queues all of `data` and returns true, or returns false when it
   * is larger than the free transmit space ("output full": nothing was sent; wait for
   * `onWritable`). The binding turns its platform's output-full exception into `false`; any
   * other failure throws, and the engine fails the work in flight with it.
   */
  write(data: Uint8Array): boolean;
}

/** Receives the serial instance's callbacks. */
export interface SerialListener {
  onReadable(count: number): void;
  onWritable(count: number): void;
}

/**
 * One re-armable one-shot timer, created once so that arming it per command allocates
 * nothing (Moddable: `Timer.set` once, then `Timer.schedule`).
 */
export interface Deadline {
  /** (Re)arms the timer to fire once after `ms`; replaces any earlier arming. */
  arm(ms: number): void;
  /** Cancels a pending firing; harmless when none is pending. */
  disarm(): void;
  /** Releases the timer for good. */
  close(): void;
}

export interface TimerPort {
  /** Creates a disarmed deadline that calls `callback` each time it fires. */
  deadline(callback: () => void): Deadline;
}

/** Monotonic milliseconds (device: `Time.ticks`; host: a real or a virtual clock). */
export interface ClockPort {
  now(): number;
}
