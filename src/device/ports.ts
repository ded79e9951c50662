// Moddable bindings of the core's ports: ECMA-419 serial, the `timer` module, `Time.ticks`.

import Serial from "embedded:io/serial";
import Time from "time";
import Timer from "timer";
import type { ClockPort, Deadline, SerialListener, SerialPort, TimerPort } from "../transport/ports.ts";

/** A repeating Timer kept unscheduled between uses, so arming never allocates. */
class TimerDeadline implements Deadline {
  private readonly timer: Timer;
  constructor(callback: () => void) {
    const timer = Timer.set(() => {
      Timer.schedule(timer);
      callback();
    }, 1, 0x3fffffff);
    Timer.schedule(timer);
    this.timer = timer;
  }
  arm(ms: number): void {
    Timer.schedule(this.timer, ms, 0x3fffffff);
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
  // The ESP32 reads straight into our buffer; the Linux simulator's serial only has read(count).
  const read = pins.device === undefined
    ? (buffer: Uint8Array) => (uart.read(buffer) as number | undefined) ?? 0
    : (buffer: Uint8Array) => {
        const chunk = uart.read(buffer.length) as ArrayBuffer | undefined;
        if (chunk === undefined) return 0;
        buffer.set(new Uint8Array(chunk));
        return chunk.byteLength;
      };
  return {
    serial: { read, write: (data) => uart.write(data) },
    listen(l) {
      listener = l;
      l.onReadable(1);
    },
    close: () => uart.close(),
  };
}
