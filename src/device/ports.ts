// Moddable bindings of the core's ports: ECMA-419 serial, the `timer` module, `Time.ticks`.

import Serial from "embedded:io/serial";
import Time from "time";
import Timer from "timer";
import type { ClockPort, Deadline, SerialListener, SerialPort, TimerPort } from "../transport/ports.ts";

/**
 * A Timer made once and kept unscheduled between uses, so arming never allocates.
 *
 * Armed with its delay equal to its interval, and unscheduled first thing in its callback, so
 * that the callback may re-arm it. Why: the lin timer (modules/base/timer/lin/timer.c), after a
 * callback returns, starts a fresh source for the interval when the delay differed from it,
 * and so loses track of a source the callback scheduled meanwhile, which then keeps firing
 * (a deadline that fires early and cannot be cancelled). With delay === interval it keeps the
 * callback's own source. The ESP32 timer behaves the same either way.
 */
class TimerDeadline implements Deadline {
  private readonly timer: Timer;
  constructor(callback: () => void) {
    const timer = Timer.set(() => {
      Timer.schedule(timer);
      callback();
    }, 1, 1);
    Timer.schedule(timer);
    this.timer = timer;
  }
  arm(ms: number): void {
    // 0 would make a one-shot timer, which both platforms free after it fires.
    const delay = ms >= 1 ? ms : 1;
    Timer.schedule(this.timer, delay, delay);
  }
  disarm(): void {
    Timer.schedule(this.timer);
  }
  close(): void {
    Timer.clear(this.timer);
  }
}

export const deviceTimers: TimerPort = {
  deadline: (callback) => new TimerDeadline(callback),
};

export const deviceClock: ClockPort = {
  now: () => Time.ticks,
};

/**
 * The exceptions by which a serial `write` says "not now, no room": ECMA-419's "output full"
 * (ESP32) and the Linux driver's "would overflow". Anything else is a real failure.
 */
function isOutputFull(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return message === "output full" || message === "would overflow";
}

export interface UartPins {
  /** UART number: 1 or 2 on ESP32 (0 belongs to the debugger). */
  port?: number;
  receive?: number;
  transmit?: number;
  /** The Moddable simulator on Linux opens a device path instead (e.g. the pty of `simmail sim`). */
  device?: string;
  baud: number;
}

/**
 * Opens the modem UART. The engine is attached with `listen` once it exists; callbacks before
 * that are ignored (nothing is lost: the bytes wait in the UART FIFO).
 */
export function openModemSerial(pins: UartPins): { serial: SerialPort; listen(listener: SerialListener): void; close(): void } {
  let listener: SerialListener | null = null;
  const options: Record<string, unknown> = {
    baud: pins.baud,
    format: "buffer",
    onReadable(count: number) {
      listener?.onReadable(count);
    },
    onWritable(count: number) {
      listener?.onWritable(count);
    },
  };
  if (pins.device !== undefined) options.device = pins.device;
  else Object.assign(options, { port: pins.port, receive: pins.receive, transmit: pins.transmit });
  const uart = new Serial(options as ConstructorParameters<typeof Serial>[0]);
  const onLinux = pins.device !== undefined;
  // The ESP32 reads straight into our buffer; the Linux simulator's serial only has read(count).
  const read = onLinux
    ? (buffer: Uint8Array) => {
        const chunk = uart.read(buffer.length) as ArrayBuffer | undefined;
        if (chunk === undefined) return 0;
        buffer.set(new Uint8Array(chunk));
        return chunk.byteLength;
      }
    : (buffer: Uint8Array) => (uart.read(buffer) as number | undefined) ?? 0;
  // The ESP32 writes any view; the Linux serial takes an ArrayBuffer only, so each length gets
  // one buffer of its own, made on first use (the engine writes 1 ... 32, 64 and 128 bytes).
  const whole: Array<Uint8Array | undefined> = [];
  const write = (data: Uint8Array) => {
    let bytes = data;
    if (onLinux) {
      bytes = whole[data.length] ?? (whole[data.length] = new Uint8Array(data.length));
      bytes.set(data);
    }
    try {
      uart.write(onLinux ? bytes.buffer : bytes);
      return true;
    } catch (error) {
      if (isOutputFull(error)) return false;
      throw error;
    }
  };
  return {
    serial: { read, write },
    listen(l) {
      listener = l;
      l.onReadable(1);
    },
    close: () => uart.close(),
  };
}
