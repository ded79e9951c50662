// Two connected serial endpoints on a Scheduler, modelling the wire between an ESP32 and the
// modem: 10 bits per byte at the configured baud rate, the ESP32's 128-byte hardware FIFOs on
// the host side (no software receive buffer: bytes that find the RX FIFO full are lost), and
// Moddable's ECMA-419 serial behaviour (format "buffer") on top of them.

import type { SerialListener, SerialPort } from "../../src/transport/ports.ts";
import { toBytes } from "./bytes.ts";
import { seededRandom } from "../../sim/random.ts";
import type { ModemSerial } from "../../sim/modem/serial.ts";
import type { Scheduler } from "../../sim/scheduler.ts";
import type { TranscriptEntry } from "./transcript.ts";

export type { ModemSerial };

/**
 * How many received bytes one host `onReadable` notification covers: a fixed random range
 * (seeded, reproducible) or a function given the bytes still on their way to the host that
 * returns the size of the next notification. The line going idle always ends a notification
 * early (the UART's receive timeout).
 */
export type FragmentPolicy = { min: number; max: number; seed?: number } | ((available: number) => number);

export interface UartOptions {
  scheduler: Scheduler;
  /** Bits per second, 10 bits per byte (8N1). `Infinity`: bytes cross in no time. Default 115200. */
  baud?: number;
  /** Default: a notification per 96 bytes (the ESP32's RX-FIFO-full threshold at reset) or at idle. */
  fragment?: FragmentPolicy;
  /** Host transmit FIFO bytes. Default 128 (ESP32). */
  txFifo?: number;
  /** Host receive FIFO bytes. Default 128 (ESP32). */
  rxFifo?: number;
  /** `onWritable` is signalled once the TX FIFO holds fewer bytes than this. Default 10 (Moddable). */
  txEmptyThreshold?: number;
  /** Bytes the modem side buffers while `hold(true)` is on before it loses them. Default unbounded. */
  modemRxBuffer?: number;
  /**
   * 'rtscts': the modem pauses its output while the host RX FIFO holds `rtsThreshold` bytes
   * or more, and the host pauses its output while the modem is not ready (`setCts(false)`, or
   * a full hold buffer). Default 'none'.
   */
  flowControl?: "none" | "rtscts";
  /** Host RX FIFO level that stops the modem under 'rtscts'. Default rxFifo - 8. */
  rtsThreshold?: number;
  /** Keep every write of both sides in `transcript`. Default false. */
  record?: boolean;
}

/** The host end: the ECMA-419 serial instance as Moddable implements it on the ESP32. */
export interface HostSerial extends SerialPort {
  /**
   * Connects the engine binding. Like Moddable's constructor it signals `onWritable` with the
   * initial free space (asynchronously), and `onReadable` if bytes are already waiting.
   */
  attach(listener: SerialListener): void;
  /** Copies up to `buffer.length` bytes out of the RX FIFO; returns the count (0 when empty). */
  read(buffer: Uint8Array): number;
  /** Queues all of `data` in the TX FIFO and returns true, or false (output full, nothing sent) when it does not fit. */
  write(data: Uint8Array | ArrayBuffer): boolean;
  /** Bytes waiting in the RX FIFO. */
  readonly readable: number;
  /** Free bytes in the TX FIFO. */
  readonly writable: number;
}

export interface UartStats {
  /** Host→modem bytes that crossed the wire. */
  txBytes: number;
  /** Modem→host bytes that crossed the wire (including those then lost at the RX FIFO). */
  rxBytes: number;
  /** Bytes that found the host RX FIFO full. */
  rxLost: number;
  /** Bytes the modem side lost: hold buffer full, or nobody listening. */
  modemRxLost: number;
  /** Times `host.write` refused data for want of TX space ("output full"). */
  txFullRefusals: number;
  /** When the first host byte started on the wire / the last one arrived (null: none yet). */
  txFirstAt: number | null;
  txLastAt: number | null;
  /** When the first modem byte started on the wire / the last one arrived. */
  rxFirstAt: number | null;
  rxLastAt: number | null;
  /** Highest RX FIFO level seen. */
  rxFifoPeak: number;
}

export interface UartPair {
  host: HostSerial;
  modem: ModemSerial;
  stats: UartStats;
  /** Every write of both sides when `record` is on ('tx' host→modem, 'rx' modem→host), stamped when written. */
  transcript: TranscriptEntry[];
  /** Wire time of one byte in ms. */
  byteTimeMs: number;
}

/** Ideal wire time in ms of `bytes` at `baud` (10 bits per byte): the benchmark's yardstick. */
export function wireTimeMs(bytes: number, baud: number): number {
  return (bytes * 10_000) / baud;
}

export function createUartPair(options: UartOptions): UartPair {
  const uart = new MockUart(options);
  return { host: uart.host, modem: uart.modem, stats: uart.stats, transcript: uart.transcript, byteTimeMs: uart.byteTimeMs };
}

const DEFAULT_RX_NOTIFY = 96;

/** FIFO of bytes in a growable (or fixed) ring. */
class ByteRing {
  private buf: Uint8Array;
  private head = 0;
  length = 0;
  private readonly growable: boolean;

  constructor(capacity: number, growable: boolean) {
    this.buf = new Uint8Array(capacity);
    this.growable = growable;
  }

  get free(): number {
    return this.buf.length - this.length;
  }

  push(src: Uint8Array, offset: number, n: number): void {
    if (n > this.free) {
      if (!this.growable) throw new Error("ByteRing overflow");
      let size = this.buf.length * 2;
      while (size - this.length < n) size *= 2;
      const grown = new Uint8Array(size);
      this.copyOut(grown, 0, this.length);
      this.buf = grown;
      this.head = 0;
    }
    const cap = this.buf.length;
    for (let i = 0; i < n; i++) this.buf[(this.head + this.length + i) % cap] = src[offset + i];
    this.length += n;
  }

  /** Removes the first `n` bytes into `dst` at `offset`. */
  shift(dst: Uint8Array, offset: number, n: number): void {
    this.copyOut(dst, offset, n);
    this.head = (this.head + n) % this.buf.length;
    this.length -= n;
  }

  private copyOut(dst: Uint8Array, offset: number, n: number): void {
    const cap = this.buf.length;
    for (let i = 0; i < n; i++) dst[offset + i] = this.buf[(this.head + i) % cap];
  }
}

function checkCount(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`createUartPair: ${name} must be a whole number ≥ ${min}, got ${String(value)}`);
  return value;
}

function fragmentSizer(policy: FragmentPolicy | undefined): (available: number) => number {
  if (policy === undefined) return () => DEFAULT_RX_NOTIFY;
  if (typeof policy === "function") {
    return (available) => {
      const n = policy(available);
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`fragment policy returned ${String(n)}; it must return a whole number of bytes ≥ 1`);
      return n;
    };
  }
  const { min, max } = policy;
  checkCount(min, "fragment.min", 1);
  checkCount(max, "fragment.max", 1);
  if (max < min) throw new RangeError(`createUartPair: fragment.max (${max}) is below fragment.min (${min})`);
  const random = seededRandom(policy.seed ?? 1);
  return () => min + Math.floor(random() * (max - min + 1));
}

class MockUart {
  readonly stats: UartStats = {
    txBytes: 0, rxBytes: 0, rxLost: 0, modemRxLost: 0, txFullRefusals: 0,
    txFirstAt: null, txLastAt: null, rxFirstAt: null, rxLastAt: null, rxFifoPeak: 0,
  };
  readonly transcript: TranscriptEntry[] = [];
  readonly byteTimeMs: number;
  readonly host: HostSerial;
  readonly modem: ModemSerial;

  private readonly scheduler: Scheduler;
  private readonly instant: boolean;
  private readonly record: boolean;
  private readonly rtscts: boolean;
  private readonly txFifoSize: number;
  private readonly txEmptyThreshold: number;
  private readonly rtsThreshold: number;
  private readonly modemRxBuffer: number;
  private readonly nextFragment: (available: number) => number;

  private listener: SerialListener | null = null;
  private readonly txFifo: ByteRing;
  private readonly rxFifo: ByteRing;
  private readonly modemOut = new ByteRing(256, true);
  private readonly held = new ByteRing(256, true);
  private txInFlight: Uint8Array | null = null;
  private rxInFlight: Uint8Array | null = null;
  /** Moddable re-arms the TX-empty interrupt on each write; it fires once below the threshold. */
  private txArmed = false;
  private writablePosted = false;
  private readablePosted = false;
  private fragmentLeft = 0;
  private onData: ((bytes: Uint8Array) => void) | null = null;
  private holding = false;
  private cts = true;
  private modemWritten = 0;
  private modemArrived = 0;
  private readonly drainWaiters: Array<{ target: number; callback: () => void }> = [];

  constructor(options: UartOptions) {
    if (!options || typeof options.scheduler?.setTimer !== "function") throw new TypeError("createUartPair: options.scheduler (a Scheduler) is required");
    this.scheduler = options.scheduler;
    const baud = options.baud ?? 115200;
    if (typeof baud !== "number" || !(baud > 0)) throw new RangeError(`createUartPair: baud must be a positive number or Infinity, got ${String(baud)}`);
    this.instant = baud === Infinity;
    this.byteTimeMs = this.instant ? 0 : wireTimeMs(1, baud);
    this.txFifoSize = checkCount(options.txFifo ?? 128, "txFifo", 1);
    const rxFifoSize = checkCount(options.rxFifo ?? 128, "rxFifo", 1);
    this.txEmptyThreshold = checkCount(options.txEmptyThreshold ?? Math.min(10, this.txFifoSize), "txEmptyThreshold", 1);
    if (this.txEmptyThreshold > this.txFifoSize) throw new RangeError(`createUartPair: txEmptyThreshold (${this.txEmptyThreshold}) exceeds txFifo (${this.txFifoSize})`);
    const flow = options.flowControl ?? "none";
    if (flow !== "none" && flow !== "rtscts") throw new RangeError(`createUartPair: flowControl must be 'none' or 'rtscts', got ${String(flow)}`);
    this.rtscts = flow === "rtscts";
    this.rtsThreshold = checkCount(options.rtsThreshold ?? Math.max(1, rxFifoSize - 8), "rtsThreshold", 1);
    if (this.rtsThreshold > rxFifoSize) throw new RangeError(`createUartPair: rtsThreshold (${this.rtsThreshold}) exceeds rxFifo (${rxFifoSize})`);
    const modemRxBuffer = options.modemRxBuffer ?? Infinity;
    if (modemRxBuffer !== Infinity) checkCount(modemRxBuffer, "modemRxBuffer", 0);
    this.modemRxBuffer = modemRxBuffer;
    this.nextFragment = fragmentSizer(options.fragment);
    this.record = options.record ?? false;
    this.txFifo = new ByteRing(this.txFifoSize, false);
    this.rxFifo = new ByteRing(rxFifoSize, false);
    this.host = this.makeHost();
    this.modem = this.makeModem();
  }

  private makeHost(): HostSerial {
    const uart = this;
    return {
      attach(listener: SerialListener): void {
        if (!listener || typeof listener.onReadable !== "function" || typeof listener.onWritable !== "function") {
          throw new TypeError("HostSerial.attach: the listener needs onReadable(count) and onWritable(count)");
        }
        uart.listener = listener;
        uart.txArmed = true;
        uart.checkWritable();
        if (uart.rxFifo.length > 0) uart.postReadable();
      },
      read: (buffer: Uint8Array): number => uart.hostRead(buffer),
      write: (data: Uint8Array | ArrayBuffer): boolean => uart.hostWrite(data),
      get readable() {
        return uart.rxFifo.length;
      },
      get writable() {
        return uart.txFifo.free;
      },
    };
  }

  private makeModem(): ModemSerial {
    const uart = this;
    return {
      get onData() {
        return uart.onData;
      },
      set onData(handler: ((bytes: Uint8Array) => void) | null) {
        if (handler !== null && typeof handler !== "function") throw new TypeError("ModemSerial.onData must be a function or null");
        uart.onData = handler;
      },
      write: (bytes: Uint8Array | string): void => uart.modemWrite(bytes),
      hold: (on: boolean): void => uart.setHold(on),
      setCts: (ready: boolean): void => uart.setCts(ready),
      onceDrained: (callback: () => void): void => uart.onceDrained(callback),
      get pendingToHost() {
        return uart.modemWritten - uart.modemArrived;
      },
      scheduler: this.scheduler,
      byteTimeMs: this.byteTimeMs,
    };
  }

  // ---- host → modem ----

  private hostWrite(data: Uint8Array | ArrayBuffer): boolean {
    if (!(data instanceof Uint8Array) && !(data instanceof ArrayBuffer)) {
      throw new TypeError("HostSerial.write: data must be a Uint8Array or an ArrayBuffer");
    }
    const bytes = toBytes(data);
    if (bytes.length > this.txFifo.free) {
      this.stats.txFullRefusals++;
      return false;
    }
    if (bytes.length === 0) return true;
    this.txFifo.push(bytes, 0, bytes.length);
    if (this.record) this.transcript.push({ dir: "tx", at: this.scheduler.now(), bytes: bytes.slice() });
    this.txArmed = true;
    this.startTx();
    this.checkWritable();
    return true;
  }

  /** Moves the next byte (all queued bytes at an infinite rate) from the TX FIFO onto the wire. */
  private startTx(): void {
    if (this.txInFlight !== null || this.txFifo.length === 0 || !this.modemReady()) return;
    let n = this.instant ? this.txFifo.length : 1;
    if (this.rtscts && this.holding) n = Math.min(n, this.modemRxBuffer - this.held.length);
    const bytes = new Uint8Array(n);
    this.txFifo.shift(bytes, 0, n);
    this.txInFlight = bytes;
    this.stats.txFirstAt ??= this.scheduler.now();
    this.scheduler.setTimer(this.txArrive, n * this.byteTimeMs);
    this.checkWritable();
  }

  private readonly txArrive = (): void => {
    const bytes = this.txInFlight!;
    this.txInFlight = null;
    this.stats.txBytes += bytes.length;
    this.stats.txLastAt = this.scheduler.now();
    this.deliverToModem(bytes);
    this.startTx();
  };

  private deliverToModem(bytes: Uint8Array): void {
    if (this.holding) {
      const keep = Math.min(bytes.length, this.modemRxBuffer - this.held.length);
      this.held.push(bytes, 0, keep);
      this.stats.modemRxLost += bytes.length - keep;
      return;
    }
    if (this.onData === null) {
      this.stats.modemRxLost += bytes.length;
      return;
    }
    this.onData(bytes);
  }

  /** CTS as the host sees it: the modem's own line, and under 'rtscts' a full hold buffer. */
  private modemReady(): boolean {
    if (!this.rtscts) return true;
    return this.cts && !(this.holding && this.held.length >= this.modemRxBuffer);
  }

  private checkWritable(): void {
    if (!this.txArmed || this.listener === null || this.txFifo.length >= this.txEmptyThreshold) return;
    this.txArmed = false;
    if (this.writablePosted) return;
    this.writablePosted = true;
    this.scheduler.setTimer(this.deliverWritable, 0);
  }

  private readonly deliverWritable = (): void => {
    this.writablePosted = false;
    const free = this.txFifo.free;
    if (this.listener !== null && free > 0) this.listener.onWritable(free);
  };

  private setHold(on: boolean): void {
    if (typeof on !== "boolean") throw new TypeError("ModemSerial.hold: pass true or false");
    this.holding = on;
    if (on || this.held.length === 0) {
      this.startTx();
      return;
    }
    const bytes = new Uint8Array(this.held.length);
    this.held.shift(bytes, 0, bytes.length);
    this.deliverToModem(bytes);
    this.startTx();
  }

  private setCts(ready: boolean): void {
    if (!this.rtscts) throw new Error("ModemSerial.setCts: flow control is off; create the pair with flowControl: 'rtscts'");
    if (typeof ready !== "boolean") throw new TypeError("ModemSerial.setCts: pass true or false");
    this.cts = ready;
    this.startTx();
  }

  // ---- modem → host ----

  private modemWrite(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    if (bytes.length === 0) return;
    this.modemOut.push(bytes, 0, bytes.length);
    this.modemWritten += bytes.length;
    if (this.record) this.transcript.push({ dir: "rx", at: this.scheduler.now(), bytes: bytes.slice() });
    this.startRx();
  }

  private startRx(): void {
    if (this.rxInFlight !== null || this.modemOut.length === 0) return;
    if (this.rtscts && this.rxFifo.length >= this.rtsThreshold) return;
    if (this.fragmentLeft === 0) this.fragmentLeft = this.nextFragment(this.modemOut.length);
    let n = 1;
    if (this.instant) {
      n = Math.min(this.fragmentLeft, this.modemOut.length);
      if (this.rtscts) n = Math.min(n, this.rtsThreshold - this.rxFifo.length);
    }
    const bytes = new Uint8Array(n);
    this.modemOut.shift(bytes, 0, n);
    this.rxInFlight = bytes;
    this.stats.rxFirstAt ??= this.scheduler.now();
    this.scheduler.setTimer(this.rxArrive, n * this.byteTimeMs);
  }

  private readonly rxArrive = (): void => {
    const bytes = this.rxInFlight!;
    this.rxInFlight = null;
    const stats = this.stats;
    const keep = Math.min(bytes.length, this.rxFifo.free);
    this.rxFifo.push(bytes, 0, keep);
    stats.rxLost += bytes.length - keep;
    stats.rxBytes += bytes.length;
    stats.rxLastAt = this.scheduler.now();
    if (this.rxFifo.length > stats.rxFifoPeak) stats.rxFifoPeak = this.rxFifo.length;
    this.modemArrived += bytes.length;
    this.fragmentLeft -= bytes.length;
    // Posted before the next byte can arrive: a fragment ends here.
    if (this.fragmentLeft <= 0) {
      this.fragmentLeft = 0;
      this.postReadable();
    }
    this.startRx();
    if (this.rxInFlight === null) {
      // The line went idle (or RTS stopped it): the receive timeout ends the fragment.
      this.fragmentLeft = 0;
      this.postReadable();
    }
    while (this.drainWaiters.length > 0 && this.modemArrived >= this.drainWaiters[0].target) {
      this.drainWaiters.shift()!.callback();
    }
  };

  private postReadable(): void {
    if (this.readablePosted) return;
    this.readablePosted = true;
    this.scheduler.setTimer(this.deliverReadable, 0);
  }

  private readonly deliverReadable = (): void => {
    this.readablePosted = false;
    const count = this.rxFifo.length;
    if (this.listener !== null && count > 0) this.listener.onReadable(count);
  };

  private hostRead(buffer: Uint8Array): number {
    if (!(buffer instanceof Uint8Array)) throw new TypeError("HostSerial.read: buffer must be a Uint8Array");
    if (buffer.length === 0) throw new RangeError("HostSerial.read: the buffer has no room");
    const n = Math.min(buffer.length, this.rxFifo.length);
    this.rxFifo.shift(buffer, 0, n);
    if (n > 0 && this.rtscts) this.startRx();
    return n;
  }

  private onceDrained(callback: () => void): void {
    if (typeof callback !== "function") throw new TypeError("ModemSerial.onceDrained: callback must be a function");
    if (this.modemArrived >= this.modemWritten) {
      this.scheduler.setTimer(callback, 0);
      return;
    }
    this.drainWaiters.push({ target: this.modemWritten, callback });
  }
}
