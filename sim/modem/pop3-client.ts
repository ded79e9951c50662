// The modem's POP3 client over a real TCP connection: USER/PASS login, single-line commands,
// and multi-line answers streamed raw (dot-stuffing and the final dotline kept) to the modem's
// read buffer with flow control.

import { NetError, SESSION_CODES, type Connection, type ServerAccount, type SimNetwork } from "./network.ts";

export type Pop3FailureKind =
  | "bearer"
  | "dns"
  | "connect"
  | "tls" // TLS handshake failed: untrusted certificate, name mismatch, no common protocol
  | "timeout"
  | "closed"
  | "protocol" // not a POP3 answer
  | "rejected" // the server refuses logins (negative greeting, [IN-USE], [SYS/...])
  | "bad-user" // USER answered -ERR
  | "bad-password"; // PASS answered -ERR

export class Pop3Failure extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "Pop3Failure";
  readonly kind: Pop3FailureKind;
  constructor(kind: Pop3FailureKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** sim7000 `+POP3IN: <code>` / `+POP3OUT: <code>` for each failure. */
export const POP3_CODES: Record<Pop3FailureKind, number> = {
  ...SESSION_CODES,
  rejected: 66,
  "bad-user": 67,
  "bad-password": 68,
};

export interface Pop3Account extends ServerAccount {
  user: string;
  password: string;
}

export interface StatusLine {
  ok: boolean;
  /** The whole line as the server sent it, without CRLF. */
  line: string;
  /** Text after "+OK " / "-ERR ". */
  text: string;
}

function fromNet(error: unknown): Pop3Failure {
  if (error instanceof Pop3Failure) return error;
  if (error instanceof NetError) return new Pop3Failure(error.failure, error.message);
  return new Pop3Failure("protocol", error instanceof Error ? error.message : String(error));
}

/** Finds the end of a multi-line answer (a line holding just "."), however it is split. */
class DotlineScanner {
  /** 0 mid-line, 1 at a line start, 2 "." at a line start, 3 ".\r" at a line start. */
  private state = 1;

  /** Index just after the dotline's LF in `chunk`, or -1 if it is not in this chunk. */
  scan(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 1:
          this.state = b === 46 ? 2 : b === 10 ? 1 : 0;
          break;
        case 2:
          this.state = b === 13 ? 3 : b === 10 ? 1 : 0;
          break;
        case 3:
          if (b === 10) return i + 1;
          this.state = 0;
          break;
        default:
          if (b === 10) this.state = 1;
      }
    }
    return -1;
  }
}

export interface StreamHandlers {
  status(status: StatusLine): void;
  data(bytes: Uint8Array): void;
  end(): void;
}

export class Pop3Session {
  private readonly connection: Connection;
  private readonly account: Pop3Account;
  private stream: StreamHandlers | null = null;

  private constructor(connection: Connection, account: Pop3Account) {
    this.connection = connection;
    this.account = account;
  }

  /** Connects, reads the greeting and logs in with USER/PASS. */
  static open(network: SimNetwork, account: Pop3Account): Promise<Pop3Session> {
    return network.openSession(account, fromNet, (connection) => new Pop3Session(connection, account), async (session, connection) => {
      const greeting = await session.status();
      if (!greeting.ok) throw new Pop3Failure("rejected", `the server greets with "${greeting.line}"`);
      const secure = account.secure;
      if (secure?.mode === "starttls") {
        // RFC 2595: STLS before USER; a server without it answers -ERR.
        const go = await session.simple("STLS");
        if (!go.ok) throw new Pop3Failure("protocol", `STLS answered "${go.line}"`);
        await connection.startTls(account.host, secure.params, account.timeoutMs);
      }
      const user = await session.simple(`USER ${account.user}`);
      if (!user.ok) throw new Pop3Failure("bad-user", `USER answered "${user.line}"`);
      const pass = await session.simple(`PASS ${account.password}`, "PASS <password>");
      if (!pass.ok) {
        const rejected = /\[(IN-USE|SYS\/[A-Z]+|LOGIN-DELAY)\]/i.test(pass.text);
        throw new Pop3Failure(rejected ? "rejected" : "bad-password", `PASS answered "${pass.line}"`);
      }
    });
  }

  /** Called if the connection ends while the modem is not waiting for an answer. */
  set onDropped(callback: ((failure: Pop3Failure) => void) | null) {
    this.connection.onClose = callback === null ? null : (error) => callback(fromNet(error));
  }

  get closed(): boolean {
    return this.connection.closed;
  }

  /** A single-line command and its status line. */
  async simple(command: string, shown = command): Promise<StatusLine> {
    try {
      await this.connection.write(`${command}\r\n`, shown);
      return await this.status();
    } catch (error) {
      throw fromNet(error);
    }
  }

  /**
   * A multi-line command. On +OK, `handlers.status` gets the status line, then the rest of
   * the answer (up to and including the dotline) goes to `handlers.data` as it arrives, then
   * `handlers.end` runs; on -ERR nothing more is read.
   */
  async multi(command: string, handlers: StreamHandlers): Promise<StatusLine> {
    const status = await this.simple(command);
    if (!status.ok) return status;
    handlers.status(status);
    const scanner = new DotlineScanner();
    this.stream = handlers;
    this.connection.startRaw((chunk) => {
      const stream = this.stream!;
      const end = scanner.scan(chunk);
      if (end < 0) {
        stream.data(chunk);
        return;
      }
      stream.data(chunk.subarray(0, end));
      this.stream = null;
      this.connection.stopRaw(chunk.slice(end));
      stream.end();
    }, this.account.timeoutMs);
    return status;
  }

  /** Reads the rest of a multi-line answer without keeping it (before QUIT). */
  drain(): Promise<void> {
    const stream = this.stream;
    if (stream === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cancel = this.connection.timer(() => {
        this.connection.destroy();
        reject(new Pop3Failure("timeout", `the rest of the answer did not arrive within ${this.account.timeoutMs} ms`));
      }, this.account.timeoutMs);
      stream.data = () => {};
      stream.end = () => {
        cancel();
        resolve();
      };
      this.connection.onClose = (error) => {
        cancel();
        reject(fromNet(error));
      };
      this.connection.resume();
    });
  }

  /** Flow control while the modem's read buffer is full. */
  pause(): void {
    this.connection.pause();
  }

  resume(): void {
    this.connection.resume();
  }

  get awaitingStream(): boolean {
    return this.connection.awaitingStream;
  }

  /** QUIT and its answer (a failure if the server does not answer in time). */
  async quit(): Promise<void> {
    try {
      await this.connection.write("QUIT\r\n");
      await this.status();
    } catch (error) {
      this.connection.destroy();
      throw fromNet(error);
    }
    this.connection.close();
  }

  abort(): void {
    this.connection.destroy();
  }

  private async status(): Promise<StatusLine> {
    const line = await this.connection.readLine(this.account.timeoutMs);
    const match = /^(\+OK|-ERR)(?:\s(.*))?$/i.exec(line);
    if (!match) throw new Pop3Failure("protocol", `not a POP3 status line: "${line}"`);
    return { ok: match[1].toUpperCase() === "+OK", line, text: match[2] ?? "" };
  }
}
