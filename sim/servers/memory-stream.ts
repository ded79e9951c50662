// What the in-memory mail servers (memory-smtp.ts, memory-pop3.ts) share: the account a server
// listens as, one connection between the modem and a server with each chunk a hop on the clock,
// and the line splitter. Plain JS with no platform API: it runs under XS.

import type { Scheduler } from "../scheduler.ts";
import { latin1Bytes, latin1Text } from "../modem/bytes.ts";
import type { ByteStream } from "../modem/network.ts";

export interface MemoryAccount {
  /** The IPv4 address the simulator's hosts table maps the server name to. */
  address: string;
  port: number;
  /** "": the SMTP server takes mail without a login (a relay on the local network). */
  user: string;
  password: string;
}

export const CRLF = "\r\n";

/** The server's end of one connection. */
export interface ServerEnd {
  receive(text: string): void;
}

/** One connection: the modem's ByteStream and the server's send/close, each hop on the clock. */
export class MemoryStream implements ByteStream {
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: (() => void) | null = null;
  server: ServerEnd | null = null;
  private closed = false;
  private paused = false;
  private readonly held: Uint8Array[] = [];
  private readonly clock: Scheduler;
  private readonly latencyMs: number;

  constructor(clock: Scheduler, latencyMs: number) {
    this.clock = clock;
    this.latencyMs = latencyMs;
  }

  write(bytes: Uint8Array, done?: (error: Error | null) => void): void {
    if (this.closed) {
      done?.(new Error("the connection is closed"));
      return;
    }
    const text = latin1Text(bytes);
    this.clock.setTimer(() => {
      if (!this.closed) this.server?.receive(text);
    }, this.latencyMs);
    done?.(null);
  }

  /** Server to modem. */
  send(text: string): void {
    const bytes = latin1Bytes(text);
    this.clock.setTimer(() => {
      if (this.closed) return;
      if (this.paused) this.held.push(bytes);
      else this.onData?.(bytes);
    }, this.latencyMs);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && !this.closed && this.held.length > 0) this.onData?.(this.held.shift()!);
  }

  /** The server hangs up after what it sent (its chunks are ahead on the clock). */
  hangUp(): void {
    this.clock.setTimer(() => this.destroy(), this.latencyMs);
  }

  end(): void {
    this.hangUp();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.server = null;
    this.held.length = 0;
    const onClose = this.onClose;
    this.clock.setTimer(() => onClose?.(), 0);
  }
}

/** Splits arriving text into CRLF lines (a bare LF ends one too). */
export class LineReader {
  private pending = "";

  /** The complete lines in `text` after what came before, without their line ends. */
  push(text: string): string[] {
    const parts = (this.pending + text).split("\n");
    this.pending = parts.pop()!;
    return parts.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }
}

