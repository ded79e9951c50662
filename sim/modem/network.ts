// The simulated modem's view of the internet: deterministic name resolution (a fixed table,
// never real DNS), real TCP connections to the configured servers (optionally TLS, implicit or
// upgraded in the middle of a session), server response timeouts on a real clock, and the
// server faults (refused, silent, slow, hanging up).

import { isIP, isIPv4, Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type SecureVersion, type TLSSocket } from "node:tls";
import { RealClock, type Scheduler, type TimerHandle } from "../scheduler.ts";

/** How a server misbehaves; applies to connections opened while it is set. */
export type ServerFault =
  /** Every connection is refused (as a closed port). */
  | { kind: "refuse" }
  /** The server accepts and then sends nothing more after `afterLines` lines (default 0). */
  | { kind: "silent"; afterLines?: number }
  /** Every chunk from the server arrives `delayMs` late (real time). */
  | { kind: "slow"; delayMs: number }
  /** The server closes the connection after `afterLines` lines (default 0). */
  | { kind: "hangup"; afterLines?: number };

export type NetFailure = "dns" | "connect" | "timeout" | "closed" | "bearer" | "tls";

/** The sim7000 codes that SMTP (+SMTPSEND) and POP3 (+POP3IN/+POP3OUT) share: the network's failures and a reply that is not the protocol's. */
export const SESSION_CODES: Record<NetFailure | "protocol", number> = {
  bearer: 61,
  dns: 62,
  connect: 63,
  // The spec has no TLS code: a secure connection that cannot be set up is a connection error.
  tls: 63,
  closed: 63,
  timeout: 64,
  protocol: 65,
};

/** How the modem's TLS client checks a server (from AT+CSSLCFG and the simulator's trust store). */
export interface TlsParams {
  /** Trusted CA certificates (PEM). None: no server is trusted. */
  ca: string[];
  /** The SNI name sent and checked against the certificate; "" = the server name as configured. */
  servername: string;
  /** Protocol bounds; null = a protocol the simulator cannot speak (SSL 3.0): the handshake fails. */
  versions: { min: SecureVersion; max: SecureVersion } | null;
}

/** AT+EMAILSSL 1 (TLS from the first byte) or 2 (STARTTLS / STLS), with the TLS client settings. */
export interface SecureTransport {
  mode: "implicit" | "starttls";
  params: TlsParams;
}

/** Where a mail client connects to, and how. */
export interface ServerAccount {
  host: string;
  port: number;
  /** How long each server answer may take. */
  timeoutMs: number;
  /** null: clear text (AT+EMAILSSL=0). */
  secure: SecureTransport | null;
}

export class NetError extends Error {
  readonly failure: NetFailure;
  constructor(failure: NetFailure, message: string) {
    super(message);
    this.failure = failure;
    this.name = "NetError";
  }
}

export interface NetworkOptions {
  /** Name → IPv4 address. IPv4 literals need no entry; other names fail (DNS error). */
  hosts: Record<string, string>;
  /** Clock of server timeouts and slow-server delays. Default: real time. */
  clock?: Scheduler;
  /** Multiplies every server timeout (tests use e.g. 0.01 so EMAILTO=10 waits 100 ms). */
  timeoutScale?: number;
  trace?: (text: string) => void;
}

/** Counts operations waiting on the network, so virtual-time drivers can wait for them. */
class Activity {
  count = 0;
  private waiters: Array<() => void> = [];

  begin(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export class SimNetwork {
  readonly clock: Scheduler;
  readonly activity = new Activity();
  hosts: Record<string, string>;
  fault: ServerFault | null = null;
  timeoutScale: number;
  private readonly connections = new Set<Connection>();
  private readonly trace: (text: string) => void;

  constructor(options: NetworkOptions) {
    this.hosts = { ...options.hosts };
    this.clock = options.clock ?? new RealClock();
    this.timeoutScale = options.timeoutScale ?? 1;
    this.trace = options.trace ?? (() => {});
    for (const [name, address] of Object.entries(this.hosts)) {
      if (!isIPv4(address)) throw new RangeError(`hosts: "${name}" maps to "${address}", which is not an IPv4 address`);
    }
  }

  /** The address of `name`, or null (the modem's DNS error). */
  resolve(name: string): string | null {
    if (isIPv4(name)) return name;
    const direct = this.hosts[name] ?? this.hosts[name.toLowerCase()];
    return direct ?? null;
  }

  /** Timeout in ms for a server answer, from the modem's EMAILTO seconds. */
  timeoutMs(seconds: number): number {
    return Math.max(1, Math.round(seconds * 1000 * this.timeoutScale));
  }

  /**
   * Opens a TCP connection, with TLS from the first byte when `tls` is given; fails with "dns",
   * "connect" (refused, unreachable, or no answer in time) or "tls" (handshake or certificate).
   */
  async connect(host: string, port: number, timeoutMs: number, tls?: TlsParams): Promise<Connection> {
    const address = this.resolve(host);
    if (address === null) throw new NetError("dns", `cannot resolve "${host}" (not in the simulator's hosts table)`);
    const fault = this.fault;
    this.activity.begin();
    try {
      if (fault?.kind === "refuse") throw new NetError("connect", `connection to ${address}:${port} refused (fault: refuse)`);
      const plain = await this.openSocket(address, port, timeoutMs);
      const socket = tls === undefined ? plain : await this.handshake(plain, host, tls, timeoutMs);
      const connection = new Connection(this, socket, fault, `${host}:${port}`);
      this.connections.add(connection);
      socket.once("close", () => this.connections.delete(connection));
      this.trace(`connected to ${host} (${address}):${port}`);
      return connection;
    } finally {
      this.activity.end();
    }
  }

  private openSocket(address: string, port: number, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = this.clock.setTimer(() => {
        socket.destroy();
        reject(new NetError("connect", `no TCP answer from ${address}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("error", (error) => {
        this.clock.clearTimer(timer);
        reject(new NetError("connect", `TCP connection to ${address}:${port} failed: ${error.message}`));
      });
      socket.connect(port, address, () => {
        this.clock.clearTimer(timer);
        socket.removeAllListeners("error");
        resolve(socket);
      });
    });
  }

  /** A TLS client handshake over `socket`, the certificate checked against `tls.ca` and the SNI name. */
  handshake(socket: Socket, host: string, tls: TlsParams, timeoutMs: number): Promise<TLSSocket> {
    const name = tls.servername !== "" ? tls.servername : host;
    if (tls.versions === null) {
      socket.destroy();
      return Promise.reject(new NetError("tls", `TLS handshake with ${host} failed: SSL 3.0 is not offered by the server`));
    }
    const versions = tls.versions;
    this.activity.begin();
    return new Promise<TLSSocket>((resolve, reject) => {
      const secure = tlsConnect({
        socket,
        // An array, even an empty one, replaces Node's root store: only the modem's CAs count.
        ca: tls.ca,
        minVersion: versions.min,
        maxVersion: versions.max,
        servername: isIP(name) === 0 ? name : undefined,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
      });
      const timer = this.clock.setTimer(() => {
        secure.destroy();
        reject(new NetError("tls", `TLS handshake with ${host} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      secure.once("secureConnect", () => {
        this.clock.clearTimer(timer);
        secure.removeAllListeners("error");
        this.trace(`TLS ${secure.getProtocol()} with ${host}, certificate verified for "${name}"`);
        resolve(secure);
      });
      secure.once("error", (error) => {
        this.clock.clearTimer(timer);
        secure.destroy();
        reject(new NetError("tls", `TLS handshake with ${host} failed: ${error.message}`));
      });
    }).finally(() => this.activity.end());
  }

  /** Drops every open connection at once (modem reset, power down). */
  closeAll(): void {
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  traceLine(text: string): void {
    this.trace(text);
  }

  /**
   * A mail client's session: connects (with TLS from the first byte when `secure.mode` is
   * "implicit"), makes the session and runs its greeting and login. Any failure on the way
   * closes the connection and comes out as `failure(error)`, the client's own error type.
   */
  async openSession<S>(
    account: ServerAccount,
    failure: (error: unknown) => Error,
    create: (connection: Connection) => S,
    handshake: (session: S, connection: Connection) => Promise<void>,
  ): Promise<S> {
    let connection: Connection;
    try {
      connection = await this.connect(account.host, account.port, account.timeoutMs, account.secure?.mode === "implicit" ? account.secure.params : undefined);
    } catch (error) {
      throw failure(error);
    }
    const session = create(connection);
    try {
      await handshake(session, connection);
    } catch (error) {
      connection.destroy();
      throw failure(error);
    }
    return session;
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: NetError) => void;
  timer: TimerHandle | null;
}

/**
 * One TCP connection read as lines (SMTP, POP3 status) or as a raw stream (POP3 multi-line
 * answers). Server faults are applied to what arrives.
 */
export class Connection {
  readonly label: string;
  private readonly network: SimNetwork;
  /** A TLS socket after `startTls()`. */
  private socket: Socket;
  private readonly fault: ServerFault | null;
  private buffer: Buffer = Buffer.alloc(0);
  private linesSeen = 0;
  private ended: NetError | null = null;
  private waiter: Waiter | null = null;
  /** Raw mode: arriving bytes go here instead of the line buffer. */
  private rawSink: ((bytes: Buffer) => void) | null = null;
  private paused = false;
  private streaming = false;
  /** Raw mode: the server must send something at least this often (while not paused). */
  private rawTimeoutMs = 0;
  private cancelRawTimer: (() => void) | null = null;

  constructor(network: SimNetwork, socket: Socket, fault: ServerFault | null, label: string) {
    this.network = network;
    this.socket = socket;
    this.fault = fault;
    this.label = label;
    this.listen(socket);
  }

  private readonly onData = (chunk: Buffer) => this.arrive(chunk);
  private readonly onSocketClose = () => this.fail(new NetError("closed", `${this.label} closed the connection`));

  private listen(socket: Socket): void {
    socket.on("data", this.onData);
    socket.on("error", () => {});
    socket.on("close", this.onSocketClose);
  }

  /**
   * STARTTLS / STLS: the rest of the session runs over TLS on this connection. Call it right
   * after the server's go-ahead, with nothing else buffered. Fails with "tls".
   */
  async startTls(host: string, tls: TlsParams, timeoutMs: number): Promise<void> {
    if (this.ended) throw this.ended;
    const plain = this.socket;
    // The TLS socket reads the plain one from now on (SimNetwork's own close listener stays).
    plain.off("data", this.onData);
    plain.off("close", this.onSocketClose);
    try {
      this.socket = await this.network.handshake(plain, host, tls, timeoutMs);
    } catch (error) {
      this.fail(error as NetError);
      throw error;
    }
    this.listen(this.socket);
  }

  get closed(): boolean {
    return this.ended !== null;
  }

  private arrive(chunk: Buffer): void {
    const fault = this.fault;
    if (fault?.kind === "slow") {
      this.network.activity.begin();
      this.network.clock.setTimer(() => {
        this.network.activity.end();
        this.deliver(chunk);
      }, fault.delayMs);
      return;
    }
    this.deliver(chunk);
  }

  private deliver(chunk: Buffer): void {
    if (this.ended) return;
    const fault = this.fault;
    if (fault?.kind === "silent" || fault?.kind === "hangup") {
      chunk = this.limitLines(chunk, fault.afterLines ?? 0);
      if (chunk.length === 0) {
        if (fault.kind === "hangup") {
          this.socket.destroy();
          this.fail(new NetError("closed", `${this.label} hung up (fault: hangup)`));
        }
        return;
      }
    }
    if (this.rawSink) {
      this.rawSink(chunk);
      this.armRawTimer();
      return;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake();
  }

  /** Passes only the part of `chunk` within the first `limit` lines of the whole session. */
  private limitLines(chunk: Buffer, limit: number): Buffer {
    let end = 0;
    while (end < chunk.length && this.linesSeen < limit) {
      const newline = chunk.indexOf(10, end);
      if (newline < 0) return chunk;
      end = newline + 1;
      this.linesSeen++;
    }
    return chunk.subarray(0, end);
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    if (waiter.timer !== null) this.network.clock.clearTimer(waiter.timer);
    this.network.activity.end();
    waiter.resolve();
  }

  private fail(error: NetError): void {
    if (this.ended) return;
    this.ended = error;
    this.streaming = false;
    this.armRawTimer();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      if (waiter.timer !== null) this.network.clock.clearTimer(waiter.timer);
      this.network.activity.end();
      waiter.reject(error);
    }
    this.onClose?.(error);
  }

  /** Called once when the connection ends for any reason other than `destroy()`. */
  onClose: ((error: NetError) => void) | null = null;

  /** Waits for more bytes, failing after `timeoutMs` with "timeout". */
  private more(timeoutMs: number): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.network.activity.begin();
      const waiter: Waiter = { resolve, reject, timer: null };
      waiter.timer = this.network.clock.setTimer(() => {
        if (this.waiter !== waiter) return;
        this.waiter = null;
        this.network.activity.end();
        reject(new NetError("timeout", `no answer from ${this.label} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = waiter;
    });
  }

  /** One line without its CRLF (Latin-1). */
  async readLine(timeoutMs: number): Promise<string> {
    for (;;) {
      const newline = this.buffer.indexOf(10);
      if (newline >= 0) {
        const line = this.buffer.subarray(0, newline).toString("latin1").replace(/\r$/, "");
        this.buffer = this.buffer.subarray(newline + 1);
        this.network.traceLine(`${this.label} < ${line}`);
        return line;
      }
      await this.more(timeoutMs);
    }
  }

  /** Sends bytes; resolves once the OS took them. `shown` is what the trace prints instead. */
  write(data: Buffer | string, shown?: string): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    this.network.traceLine(`${this.label} > ${shown ?? (bytes.length < 200 ? bytes.toString("latin1").replace(/\r\n$/, "") : `(${bytes.length} bytes)`)}`);
    this.network.activity.begin();
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        this.network.activity.end();
        if (error) reject(new NetError("closed", `writing to ${this.label} failed: ${error.message}`));
        else resolve();
      });
    });
  }

  /**
   * Switches to raw mode: bytes already buffered and every later chunk go to `sink`. The
   * server must keep sending (gaps up to `timeoutMs`, pauses aside) or the connection fails
   * with "timeout".
   */
  startRaw(sink: (bytes: Buffer) => void, timeoutMs: number): void {
    this.rawSink = sink;
    this.streaming = true;
    this.rawTimeoutMs = timeoutMs;
    if (this.buffer.length > 0) {
      const pending = this.buffer;
      this.buffer = Buffer.alloc(0);
      sink(pending);
    }
    this.armRawTimer();
  }

  /** Back to line mode; `rest` (bytes after the raw part) is read first. */
  stopRaw(rest: Buffer): void {
    this.rawSink = null;
    this.streaming = false;
    this.resume();
    if (rest.length > 0) this.buffer = Buffer.concat([rest, this.buffer]);
  }

  /** (Re)starts the raw-mode silence timer, or stops it when it does not apply. */
  private armRawTimer(): void {
    this.cancelRawTimer?.();
    this.cancelRawTimer = null;
    if (!this.streaming || this.paused || this.ended) return;
    this.cancelRawTimer = this.timer(() => {
      this.cancelRawTimer = null;
      this.socket.destroy();
      this.fail(new NetError("timeout", `${this.label} stopped sending for ${this.rawTimeoutMs} ms in the middle of an answer`));
    }, this.rawTimeoutMs);
  }

  /** Flow control for raw mode: the modem's buffer is full. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    this.armRawTimer();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    this.armRawTimer();
  }

  /** True while a raw stream is expected and flowing (more server bytes are on their way). */
  get awaitingStream(): boolean {
    return this.streaming && !this.paused && !this.ended;
  }

  /** A timer on the network clock; returns its cancel function. */
  timer(callback: () => void, ms: number): () => void {
    const clock = this.network.clock;
    const handle = clock.setTimer(callback, ms);
    return () => clock.clearTimer(handle);
  }

  /** Closes without reporting (the modem gave up on it). */
  destroy(): void {
    this.onClose = null;
    this.rawSink = null;
    this.streaming = false;
    this.armRawTimer();
    this.fail(new NetError("closed", `${this.label}: connection closed by the modem`));
    this.socket.destroy();
  }

  /** Polite end: sends `text` (e.g. QUIT) and closes after a short grace period. */
  close(text?: string): void {
    this.onClose = null;
    this.streaming = false;
    this.armRawTimer();
    if (text !== undefined && !this.ended) this.socket.write(text);
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 1000).unref();
    this.ended ??= new NetError("closed", `${this.label}: connection closed by the modem`);
  }
}
