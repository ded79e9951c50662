// The in-memory serial link between the engine and a scripted SIM7000, shared by the bench's
// responders (bench/paths.ts, bench/responders.ts) and the tests that script the modem. Plain
// JS with no platform API: it runs under Node and under XS.

import type { SerialListener, SerialPort } from "../src/transport/ports.ts";
import { noTimers, type CoreLib } from "./engine-replay.ts";

export const CR = 13;
/** The UART's FIFOs: a write takes at most this many bytes, a read gives at most that many. */
export const TX_FIFO = 128;
export const READ_FIFO = 128;

/** Callbacks a script uses to hand bytes back and to wait for payload. */
export interface ModemEnd {
  send(text: string): void;
  sendByte(byte: number): void;
  sendBytes(bytes: Uint8Array, start: number, end: number): void;
  /** The next `n` host bytes are payload, not a command. */
  expectPayload(n: number): void;
}

/** What the modem side does with the host's bytes. */
export interface ModemScript {
  /** A command line (without its CR). */
  command(text: string, link: ModemEnd): void;
  /** Payload bytes as they come, when the script keeps them. */
  payload?(bytes: Uint8Array, start: number, end: number): void;
  payloadDone(link: ModemEnd): void;
}

/** Host ↔ scripted modem, callbacks posted as Promise jobs (never from inside read/write). */
export class ScriptedLink implements SerialPort, ModemEnd {
  listener: SerialListener | null = null;
  /** Modem → host bytes not yet read: [head, tail) of a linear buffer, compacted when full. */
  private readonly toHost = new Uint8Array(8192);
  private head = 0;
  private tail = 0;
  /**
   * Bytes up to here may be read: those sent before the current readable callback. An answer
   * to a command written during a callback comes with the next one (on the device it is a
   * round trip away), never in the same read loop.
   */
  private visible = 0;
  private readonly command = new Uint8Array(256);
  private commandLength = 0;
  private payloadLeft = 0;
  private readablePosted = false;
  private writablePosted = false;
  script: ModemScript;
  /** Every command line the host wrote, when set (for replayResponder). */
  log: string[] | null = null;
  private readonly deliverReadable = (): void => {
    this.readablePosted = false;
    this.visible = this.tail;
    if (this.tail > this.head) this.listener!.onReadable(this.tail - this.head);
  };
  private readonly deliverWritable = (): void => {
    this.writablePosted = false;
    this.listener!.onWritable(TX_FIFO);
  };

  constructor(script: ModemScript) {
    this.script = script;
  }

  read(buffer: Uint8Array): number {
    let n = this.visible - this.head;
    if (n > buffer.length) n = buffer.length;
    if (n > READ_FIFO) n = READ_FIFO;
    if (n === 0) return 0;
    buffer.set(this.toHost.subarray(this.head, this.head + n));
    this.head += n;
    return n;
  }

  write(data: Uint8Array): boolean {
    if (data.length > TX_FIFO) return false;
    // The FIFO's room is reported before the modem's answer to these bytes: on the device a
    // command line leaves the FIFO in a millisecond or two, the answer comes a round trip later.
    if (!this.writablePosted) {
      this.writablePosted = true;
      Promise.resolve().then(this.deliverWritable);
    }
    let i = 0;
    while (i < data.length) {
      if (this.payloadLeft > 0) {
        const n = data.length - i < this.payloadLeft ? data.length - i : this.payloadLeft;
        this.payloadLeft -= n;
        this.script.payload?.(data, i, i + n);
        i += n;
        if (this.payloadLeft === 0) this.script.payloadDone(this);
        continue;
      }
      const byte = data[i++];
      if (byte === CR) {
        let text = "";
        for (let k = 0; k < this.commandLength; k++) text += String.fromCharCode(this.command[k]);
        this.commandLength = 0;
        this.log?.push(text);
        this.script.command(text, this);
      } else {
        if (this.commandLength === this.command.length) throw new Error("responder: command line too long");
        this.command[this.commandLength++] = byte;
      }
    }
    return true;
  }

  expectPayload(n: number): void {
    this.payloadLeft = n;
  }

  private room(n: number): void {
    if (this.tail + n <= this.toHost.length) return;
    this.toHost.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.visible -= this.head;
    this.head = 0;
    if (this.tail + n > this.toHost.length) throw new Error("responder output overflow: the host stopped reading");
  }

  send(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.toHost[this.tail++] = text.charCodeAt(i);
    this.posted();
  }

  sendByte(byte: number): void {
    this.room(1);
    this.toHost[this.tail++] = byte;
    this.posted();
  }

  sendBytes(bytes: Uint8Array, start: number, end: number): void {
    this.room(end - start);
    this.toHost.set(bytes.subarray(start, end), this.tail);
    this.tail += end - start;
    this.posted();
  }

  private posted(): void {
    if (!this.readablePosted) {
      this.readablePosted = true;
      Promise.resolve().then(this.deliverReadable);
    }
  }
}

/** An AtEngine on a new link to `script`, in step from the start (a script needs no AT first). */
export function scriptedEngine(lib: Pick<CoreLib, "AtEngine">, script: ModemScript): { link: ScriptedLink; engine: InstanceType<CoreLib["AtEngine"]> } {
  const link = new ScriptedLink(script);
  const engine = new lib.AtEngine({ serial: link, timers: noTimers, syncOnStart: false });
  link.listener = engine;
  return { link, engine };
}
