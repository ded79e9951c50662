// Node binding of the serial port: `serialport` behind the ECMA-419 shape the engine uses.
// The host has a software receive queue; the device does not (its binding reads the UART FIFO).

import { SerialPort as NodeSerialPort } from "serialport";
import type { SerialListener, SerialPort } from "../transport/ports.ts";

/** Bytes the binding lets the engine queue toward the OS before waiting for a drain. */
const WRITE_WINDOW = 4096;

export class HostSerial implements SerialPort {
  readonly port: NodeSerialPort;
  private listener: SerialListener | null = null;
  private readonly queue: Buffer[] = [];
  private queueOffset = 0;
  private inFlight = 0;

  private constructor(port: NodeSerialPort) {
    this.port = port;
    port.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      this.listener?.onReadable(chunk.length);
    });
  }

  /** Opens `path` at `baud` (8N1, no flow control). */
  static open(path: string, baud: number): Promise<HostSerial> {
    return new Promise((resolve, reject) => {
      const port = new NodeSerialPort({ path, baudRate: baud, autoOpen: false });
      port.open((error) => (error ? reject(new Error(`cannot open serial port ${path}: ${error.message}`)) : resolve(new HostSerial(port))));
    });
  }

  attach(listener: SerialListener): void {
    this.listener = listener;
    listener.onWritable(WRITE_WINDOW);
    if (this.queue.length > 0) listener.onReadable(this.queue[0].length - this.queueOffset);
  }

  read(buffer: Uint8Array): number {
    let n = 0;
    while (n < buffer.length && this.queue.length > 0) {
      const head = this.queue[0];
      const take = Math.min(buffer.length - n, head.length - this.queueOffset);
      head.copy(buffer, n, this.queueOffset, this.queueOffset + take);
      n += take;
      this.queueOffset += take;
      if (this.queueOffset === head.length) {
        this.queue.shift();
        this.queueOffset = 0;
      }
    }
    return n;
  }

  write(data: Uint8Array): boolean {
    if (data.length > WRITE_WINDOW - this.inFlight) return false;
    this.inFlight += data.length;
    // The engine reuses its staging buffer: copy before handing the bytes to the OS.
    this.port.write(Buffer.from(data), () => {
      this.inFlight -= data.length;
      this.listener?.onWritable(WRITE_WINDOW - this.inFlight);
    });
    return true;
  }

  /** Follows a baud change made on the modem with AT+IPR. */
  setBaud(baud: number): Promise<void> {
    return new Promise((resolve, reject) => this.port.update({ baudRate: baud }, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
