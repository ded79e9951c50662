// Node binding of the serial port: `serialport` behind the ECMA-419 shape the engine uses.
// The host has a software receive queue; the device does not (its binding reads the UART FIFO).

import { readFileSync, statSync } from "node:fs";
import { SerialPort as NodeSerialPort } from "serialport";
import type { SerialListener, SerialPort } from "../transport/ports.ts";

/** A serial port that cannot be opened: `reason` in plain words, `hint` what to do (or ""). */
export class SerialOpenError extends Error {
  override readonly name: string = "SerialOpenError";
  constructor(readonly path: string, readonly reason: string, readonly hint: string) {
    super(`cannot open ${path}: ${reason}${hint === "" ? "" : `; ${hint}`}`);
  }
}

/** The name of group `gid` from /etc/group, or null. */
function groupName(gid: number): string | null {
  try {
    const line = readFileSync("/etc/group", "utf8").split("\n").find((entry) => entry.split(":")[2] === String(gid));
    return line === undefined ? null : line.split(":")[0];
  } catch {
    return null;
  }
}

/**
 * serialport's open error ("Error: Permission denied, cannot open /dev/ttyUSB0") in plain words,
 * the path said once, with what to do where that is known.
 */
function openError(path: string, error: Error): SerialOpenError {
  const suffix = `, cannot open ${path}`;
  const message = error.message.replace(/^Error: /, "");
  const text = message.endsWith(suffix) ? message.slice(0, -suffix.length) : message;
  if (/No such file or directory/.test(text)) return new SerialOpenError(path, "no such device", "check --port (or SIMMAIL_PORT) and that the modem's USB-serial adapter is plugged in");
  if (/Permission denied/.test(text)) {
    let group: string | null = null;
    try {
      group = groupName(statSync(path).gid);
    } catch {
      // The hint below does without the group's name.
    }
    const hint = group === "dialout" || group === "uucp"
      ? `the port belongs to the group ${group}: sudo usermod -aG ${group} $USER, then log in again`
      : `your user may not open it${group === null ? "" : ` (group ${group})`}`;
    return new SerialOpenError(path, "permission denied", hint);
  }
  if (/Inappropriate ioctl/.test(text)) return new SerialOpenError(path, "not a serial port", "");
  if (/Is a directory/.test(text)) return new SerialOpenError(path, "is a directory, not a serial port", "");
  if (/busy|locked/i.test(text)) return new SerialOpenError(path, "in use by another program", "close the other program (a terminal emulator, ModemManager)");
  return new SerialOpenError(path, text, "");
}

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
      port.open((error) => (error ? reject(openError(path, error)) : resolve(new HostSerial(port))));
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

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
