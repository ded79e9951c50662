// Moddable's `embedded:io/serial` for lin as the SDK implements it (8.2.3,
// modules/io/serial/lin/serial.c), on virtual time, with the device path's far end in the
// test's hands (a pty in the real runs: `simmail sim --pty`). What the device bindings meet there:
// - `write(data)` takes an ArrayBuffer only (xsToArrayBuffer): a Uint8Array or any other view
//   throws TypeError "not an ArrayBuffer instance". An empty buffer writes nothing.
// - It writes what the file descriptor takes at once; when the descriptor is full (EAGAIN) it
//   keeps the rest (up to 1,024 bytes) and sends it as room appears. While it keeps some, or
//   when `data` is over 1,024 bytes, `write` throws Error "would overflow": nothing of `data`
//   is sent (lin's "output full"). Any other failure of write(2) throws its strerror text
//   (e.g. "Input/output error" when the far end has gone) and loses `data`.
// - `onWritable(1024)` comes from a G_IO_OUT watch: once after the constructor, and after
//   every write once the descriptor has taken all of it.
// - `onReadable(count)` comes from a G_IO_IN watch on every main loop turn while bytes wait;
//   `read(count)` returns a new ArrayBuffer of at most `count` of them (all without `count`),
//   or undefined when none wait. `read(buffer)`, the ESP32's form, reads 0 bytes here (the
//   buffer converts to the count 0).
// Not modelled: G_IO_ERR on the device (the driver calls onError, then closes itself), RTS/DTR.
//
// glib watches are modelled as level-triggered sources dispatched on a main loop turn (a 0 ms
// timer of the virtual clock) while their condition holds.

import type { VirtualClock } from "../../sim/scheduler.ts";

/** The lin driver's write buffer and the count onWritable reports (kWriteBufferSize). */
export const LIN_WRITE_BUFFER = 1024;

/** The main loop's I/O watches: each is dispatched on a loop turn while its condition holds. */
class MainLoop {
  private readonly clock: VirtualClock;
  private readonly watches: IoWatch[] = [];
  private turnPending = false;

  constructor(clock: VirtualClock) {
    this.clock = clock;
  }

  /** g_io_add_watch. */
  watch(ready: () => boolean, dispatch: () => boolean): IoWatch {
    const watch = new IoWatch(ready, dispatch);
    this.watches.push(watch);
    this.poke();
    return watch;
  }

  remove(watch: IoWatch): void {
    watch.destroyed = true;
    const index = this.watches.indexOf(watch);
    if (index >= 0) this.watches.splice(index, 1);
  }

  /** Something changed that may make a watch ready: a loop turn soon. */
  poke(): void {
    if (this.turnPending) return;
    this.turnPending = true;
    this.clock.setTimer(() => this.turn(), 0);
  }

  private turn(): void {
    this.turnPending = false;
    for (const watch of this.watches.slice()) {
      if (watch.destroyed || !watch.ready()) continue;
      if (!watch.dispatch()) this.remove(watch);
    }
    if (this.watches.some((watch) => watch.ready())) this.poke();
  }
}

class IoWatch {
  destroyed = false;
  readonly ready: () => boolean;
  readonly dispatch: () => boolean;
  constructor(ready: () => boolean, dispatch: () => boolean) {
    this.ready = ready;
    this.dispatch = dispatch;
  }
}

/**
 * The far end of a device path: what the firmware writes arrives in `onData` (or `received`
 * while nobody listens) and `write` sends bytes to it. The shape of the kit's ModemSerial that
 * the simulator attaches to (onData, write, scheduler: SimModem.attach).
 */
export class FarEnd {
  /** Receives the firmware's bytes, in order, as the far end reads them. */
  onData: ((bytes: Uint8Array) => void) | null = null;
  /** Bytes the firmware wrote while `onData` was null. */
  received: number[] = [];
  /** Bytes the descriptor holds toward the far end at most (the pty's buffer). */
  capacity = 4096;
  /** While true the far end reads nothing: the descriptor fills up and then says EAGAIN. */
  paused = false;
  /** The errno text every write(2) of the firmware fails with from now on, e.g. "Input/output error"; null: none. */
  writeError: string | null = null;
  /** Bytes the firmware's write(2) calls handed over, in order, as they were accepted. */
  readonly accepted: number[] = [];
  readonly scheduler: VirtualClock;

  /** @internal Toward the far end, written and not yet read. */
  toFar: number[] = [];
  /** @internal Toward the firmware, written and not yet read. */
  toHost: number[] = [];
  /** @internal */
  loop: MainLoop;
  private readPending = false;

  constructor(clock: VirtualClock, loop: MainLoop) {
    this.scheduler = clock;
    this.loop = loop;
  }

  /** Bytes (a string: one byte per character) toward the firmware. */
  write(bytes: Uint8Array | string): void {
    for (let i = 0; i < bytes.length; i++) this.toHost.push(typeof bytes === "string" ? bytes.charCodeAt(i) & 0xff : bytes[i]);
    this.loop.poke();
  }

  /** Lets a paused far end read again. */
  resume(): void {
    this.paused = false;
    this.scheduleRead();
  }

  /** @internal write(2) from the firmware: how many bytes it took, or the errno's text. */
  take(data: Uint8Array): number | "EAGAIN" | string {
    if (this.writeError !== null) return this.writeError;
    const room = this.capacity - this.toFar.length;
    if (room <= 0) return "EAGAIN";
    const n = Math.min(room, data.length);
    for (let i = 0; i < n; i++) {
      this.toFar.push(data[i]);
      this.accepted.push(data[i]);
    }
    this.scheduleRead();
    return n;
  }

  private scheduleRead(): void {
    if (this.readPending || this.paused) return;
    this.readPending = true;
    this.scheduler.setTimer(() => {
      this.readPending = false;
      if (this.paused || this.toFar.length === 0) return;
      const bytes = Uint8Array.from(this.toFar);
      this.toFar = [];
      if (this.onData === null) for (const byte of bytes) this.received.push(byte);
      else this.onData(bytes);
      this.loop.poke(); // room again: G_IO_OUT
    }, 0);
  }
}

export interface LinSerialOptions {
  device?: unknown;
  baud?: unknown;
  format?: unknown;
  target?: unknown;
  onReadable?: (this: unknown, count: number) => void;
  onWritable?: (this: unknown, count: number) => void;
  onError?: (this: unknown) => void;
}

/** The lin serial driver with its devices: `Serial` is the module's default export. */
export class LinSerialDevices {
  private readonly clock: VirtualClock;
  private readonly loop: MainLoop;
  private readonly devices = new Map<string, FarEnd>();
  /** Instances open now. */
  open = 0;
  /** Every instance's options, as given. */
  readonly opened: LinSerialOptions[] = [];
  readonly Serial: new (options: LinSerialOptions) => LinSerialInstance;

  constructor(clock: VirtualClock) {
    this.clock = clock;
    this.loop = new MainLoop(clock);
    this.Serial = makeSerialClass(this);
  }

  /** Creates the device path `path` (the pty) and returns its far end. */
  create(path: string): FarEnd {
    const far = new FarEnd(this.clock, this.loop);
    this.devices.set(path, far);
    return far;
  }

  /** @internal */
  lookUp(path: string): FarEnd | undefined {
    return this.devices.get(path);
  }

  /** @internal */
  get mainLoop(): MainLoop {
    return this.loop;
  }
}

export interface LinSerialInstance {
  read(count?: unknown): ArrayBuffer | string | undefined;
  write(data: unknown): void;
  close(): void;
  set(options: { RTS?: boolean; DTR?: boolean }): void;
  purge(): void;
  format: string;
}

interface SerialState {
  far: FarEnd;
  bufferFormat: boolean;
  onReadable: LinSerialOptions["onReadable"];
  onWritable: LinSerialOptions["onWritable"];
  readSource: IoWatch;
  writeSource: IoWatch | null;
  /** Bytes kept for later (writeBuffer, writeCount). */
  pending: Uint8Array;
}

function formatIsBuffer(format: string): boolean {
  if (format === "buffer") return true;
  if (format === "string;ascii") return false;
  if (format === "number") throw new Error("unimplemented format");
  throw new Error("invalid format");
}

/** xsToInteger. */
function toInteger(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? n | 0 : 0;
}

function makeSerialClass(devices: LinSerialDevices): new (options: LinSerialOptions) => LinSerialInstance {
  const loop = devices.mainLoop;
  const states = new WeakMap<object, SerialState>();

  /** xsGetHostData: after close() the C driver dereferences NULL; here that is an exception. */
  const stateOf = (serial: object): SerialState => {
    const state = states.get(serial);
    if (state === undefined) throw new Error("lin serial: used after close() (the SDK's driver would crash here)");
    return state;
  };

  /** xs_serial_write_callback: sends what was kept; once all is out, onWritable(1024) and the watch ends. */
  const writeCallback = (serial: LinSerialInstance, state: SerialState) => (): boolean => {
    if (state.pending.length > 0) {
      const result = state.far.take(state.pending);
      if (typeof result === "number") state.pending = state.pending.slice(result);
    }
    if (state.pending.length > 0) return true;
    state.writeSource = null;
    if (state.onWritable !== undefined) {
      try {
        state.onWritable.call(serial, LIN_WRITE_BUFFER);
      } catch {
        // xsCatch {}: the driver swallows what the callback throws.
      }
    }
    return false;
  };

  /** G_IO_OUT: the descriptor has room (a descriptor that fails its writes is not polled as writable here). */
  const writable = (state: SerialState) => () => state.far.toFar.length < state.far.capacity && state.far.writeError === null;

  class Serial implements LinSerialInstance {
    constructor(options: LinSerialOptions) {
      const hasFormat = "format" in options;
      const bufferFormat = hasFormat ? formatIsBuffer(String(options.format)) : true;
      if ("target" in options) (this as unknown as { target: unknown }).target = options.target;
      toInteger(options.baud);
      const path = String(options.device);
      const far = devices.lookUp(path);
      if (far === undefined) throw new Error("No such file or directory");
      const state: SerialState = {
        far,
        bufferFormat,
        onReadable: typeof options.onReadable === "function" ? options.onReadable : undefined,
        onWritable: typeof options.onWritable === "function" ? options.onWritable : undefined,
        readSource: null as unknown as IoWatch,
        writeSource: null,
        pending: new Uint8Array(0),
      };
      state.readSource = loop.watch(() => far.toHost.length > 0, () => {
        if (state.onReadable !== undefined) {
          try {
            state.onReadable.call(this, far.toHost.length);
          } catch {
            // xsCatch {}
          }
        }
        return true;
      });
      if (state.onWritable !== undefined) state.writeSource = loop.watch(writable(state), writeCallback(this, state));
      states.set(this, state);
      devices.open++;
      devices.opened.push(options);
    }

    read(...args: unknown[]): ArrayBuffer | string | undefined {
      const state = stateOf(this);
      const available = state.far.toHost.length;
      if (available === 0) return undefined;
      let count = available;
      if (args.length > 0) count = Math.min(toInteger(args[0]), available);
      if (count < 0) count = 0;
      const bytes = state.far.toHost.splice(0, count);
      if (!state.bufferFormat) return String.fromCharCode(...bytes);
      return Uint8Array.from(bytes).buffer;
    }

    write(data: unknown): void {
      const state = stateOf(this);
      let bytes: Uint8Array;
      if (state.bufferFormat) {
        if (!(data instanceof ArrayBuffer)) throw new TypeError("not an ArrayBuffer instance");
        bytes = new Uint8Array(data.slice(0));
      } else {
        const text = String(data);
        const end = text.indexOf("\0");
        bytes = Uint8Array.from(end < 0 ? text : text.slice(0, end), (c) => c.charCodeAt(0) & 0xff);
      }
      if (bytes.length === 0) return;
      if (bytes.length > LIN_WRITE_BUFFER || state.pending.length > 0) throw new Error("would overflow");
      while (bytes.length > 0) {
        const result = state.far.take(bytes);
        if (typeof result !== "number") {
          if (result !== "EAGAIN") throw new Error(result);
          state.pending = bytes;
          // As in serial.c: a new watch even when one is waiting already.
          state.writeSource = loop.watch(writable(state), writeCallback(this, state));
          return;
        }
        bytes = bytes.subarray(result);
      }
      if (state.writeSource === null && state.onWritable !== undefined) state.writeSource = loop.watch(writable(state), writeCallback(this, state));
    }

    close(): void {
      const state = states.get(this);
      if (state === undefined) return;
      loop.remove(state.readSource);
      if (state.writeSource !== null) loop.remove(state.writeSource);
      states.delete(this);
      devices.open--;
    }

    set(_options: { RTS?: boolean; DTR?: boolean }): void {
      stateOf(this);
    }

    purge(): void {}

    get format(): string {
      const state = states.get(this);
      return state === undefined ? "" : state.bufferFormat ? "buffer" : "string;ascii";
    }

    set format(value: string) {
      const state = states.get(this);
      if (state !== undefined) state.bufferFormat = formatIsBuffer(String(value));
    }
  }
  return Serial;
}
