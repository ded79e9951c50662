// The simulated modem's view of the internet: deterministic name resolution (a fixed table,
// never real DNS), connections to the configured servers (optionally TLS, implicit or upgraded
// in the middle of a session) read as lines or raw streams, server response timeouts on the
// network clock, and the server faults (refused, silent, slow, hanging up). The bytes travel
// over a `Connector`: real sockets under Node (node-sockets.ts), in-memory servers under XS.

import { RealClock, type Scheduler, type TimerHandle } from "../scheduler.ts";
import { concatBytes, latin1Bytes, latin1Text } from "./bytes.ts";

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
  versions: { min: TlsVersion; max: TlsVersion } | null;
}

export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/** One byte stream to a server: a TCP socket, TLS over one, or an in-memory pipe. */
export interface ByteStream {
  /** Each chunk that arrives; the stream hands over the chunk (it is not reused). */
  onData: ((chunk: Uint8Array) => void) | null;
  /** Once, when the stream has closed for any reason. */
  onClose: (() => void) | null;
  /** `done` once the bytes are on their way (null) or cannot be (the error). */
  write(bytes: Uint8Array, done?: (error: Error | null) => void): void;
  /** Flow control: no `onData` while paused. */
  pause(): void;
  resume(): void;
  /** Polite end: what was written still goes out, then the stream closes. */
  end(): void;
  destroy(): void;
}

/** A stream being set up: usable once `ready` resolves; destroying it gives up. */
export interface PendingStream<T = void> {
  stream: ByteStream;
  /** Rejects with the reason (a refused port, a failed handshake, a bad certificate). */
  ready: Promise<T>;
}

/** How the TLS client on a stream checks its server. */
export interface TlsClientParams {
  /** Trusted CA certificates (PEM); only these count. */
  ca: string[];
  /** The name sent as SNI (when it is not an IP literal) and checked against the certificate. */
  name: string;
  versions: { min: TlsVersion; max: TlsVersion };
}

/** Where the simulated network's bytes really go. */
export interface Connector {
  open(address: string, port: number): PendingStream;
  /** A TLS client over `plain` (which nothing else reads from now on); `ready` gives the protocol, e.g. "TLSv1.3". */
  secure(plain: ByteStream, params: TlsClientParams): PendingStream<string>;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIPv4(text: string): boolean {
  return IPV4.test(text);
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
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "NetError";
  readonly failure: NetFailure;
  constructor(failure: NetFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

export interface NetworkOptions {
  connector: Connector;
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
  private readonly connector: Connector;
  private readonly trace: (text: string) => void;

  constructor(options: NetworkOptions) {
    this.connector = options.connector;
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
      const plain = await this.settle(this.connector.open(address, port), timeoutMs,
        () => new NetError("connect", `no TCP answer from ${address}:${port} within ${timeoutMs} ms`),
        (error) => new NetError("connect", `TCP connection to ${address}:${port} failed: ${error.message}`));
      const stream = tls === undefined ? plain : await this.handshake(plain, host, tls, timeoutMs);
      const connection = new Connection(this, stream, fault, `${host}:${port}`);
      this.connections.add(connection);
      this.trace(`connected to ${host} (${address}):${port}`);
      return connection;
    } finally {
      this.activity.end();
    }
  }

  /** The stream of `pending` once ready; on a failure or no answer in `timeoutMs` it is destroyed and the error thrown. */
  private settle<T>(pending: PendingStream<T>, timeoutMs: number, late: () => NetError, failed: (error: Error) => NetError): Promise<ByteStream> {
    return this.settleWith(pending, timeoutMs, late, failed).then(() => pending.stream);
  }

  private settleWith<T>(pending: PendingStream<T>, timeoutMs: number, late: () => NetError, failed: (error: Error) => NetError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = this.clock.setTimer(() => {
        settled = true;
        pending.stream.destroy();
        reject(late());
      }, timeoutMs);
      pending.ready.then((value) => {
        if (settled) return;
        this.clock.clearTimer(timer);
        resolve(value);
      }, (error: Error) => {
        if (settled) return;
        this.clock.clearTimer(timer);
        pending.stream.destroy();
        reject(failed(error));
      });
    });
  }

  /** A TLS client handshake over `plain`, the certificate checked against `tls.ca` and the SNI name. */
  async handshake(plain: ByteStream, host: string, tls: TlsParams, timeoutMs: number): Promise<ByteStream> {
    const name = tls.servername !== "" ? tls.servername : host;
    if (tls.versions === null) {
      plain.destroy();
      throw new NetError("tls", `TLS handshake with ${host} failed: SSL 3.0 is not offered by the server`);
    }
    this.activity.begin();
    try {
      const pending = this.connector.secure(plain, { ca: tls.ca, name, versions: tls.versions });
      const protocol = await this.settleWith(pending, timeoutMs,
        () => new NetError("tls", `TLS handshake with ${host} did not finish within ${timeoutMs} ms`),
        (error) => new NetError("tls", `TLS handshake with ${host} failed: ${error.message}`));
      this.trace(`TLS ${protocol} with ${host}, certificate verified for "${name}"`);
      return pending.stream;
    } finally {
      this.activity.end();
    }
  }

  /** A connection that ended leaves the set (closeAll has nothing to do for it). */
  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** Drops every open connection at once (modem reset, power down). */
  closeAll(): void {
    const open = [...this.connections];
    this.connections.clear();
    for (const connection of open) connection.destroy();
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
 * One connection read as lines (SMTP, POP3 status) or as a raw stream (POP3 multi-line
 * answers). Server faults are applied to what arrives.
 */
export class Connection {
  readonly label: string;
  private readonly network: SimNetwork;
  /** A TLS stream after `startTls()`. */
  private stream: ByteStream;
  private readonly fault: ServerFault | null;
  private buffer: Uint8Array = new Uint8Array(0);
  private linesSeen = 0;
  private ended: NetError | null = null;
  private waiter: Waiter | null = null;
  /** Raw mode: arriving bytes go here instead of the line buffer. */
  private rawSink: ((bytes: Uint8Array) => void) | null = null;
  private paused = false;
  private streaming = false;
  /** Raw mode: the server must send something at least this often (while not paused). */
  private rawTimeoutMs = 0;
  private cancelRawTimer: (() => void) | null = null;

  constructor(network: SimNetwork, stream: ByteStream, fault: ServerFault | null, label: string) {
    this.network = network;
    this.stream = stream;
    this.fault = fault;
    this.label = label;
    this.listen(stream);
  }

  private readonly onData = (chunk: Uint8Array) => this.arrive(chunk);
  private readonly onStreamClose = () => {
    this.network.forget(this);
    this.fail(new NetError("closed", `${this.label} closed the connection`));
  };

  private listen(stream: ByteStream): void {
    stream.onData = this.onData;
    stream.onClose = this.onStreamClose;
  }

  /**
   * STARTTLS / STLS: the rest of the session runs over TLS on this connection. Call it right
   * after the server's go-ahead, with nothing else buffered. Fails with "tls".
   */
  async startTls(host: string, tls: TlsParams, timeoutMs: number): Promise<void> {
    if (this.ended) throw this.ended;
    const plain = this.stream;
    // The TLS client reads the plain stream from now on.
    plain.onData = null;
    plain.onClose = null;
    try {
      this.stream = await this.network.handshake(plain, host, tls, timeoutMs);
    } catch (error) {
      this.network.forget(this);
      this.fail(error as NetError);
      throw error;
    }
    this.listen(this.stream);
  }

  get closed(): boolean {
    return this.ended !== null;
  }

  private arrive(chunk: Uint8Array): void {
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

  private deliver(chunk: Uint8Array): void {
    if (this.ended) return;
    const fault = this.fault;
    if (fault?.kind === "silent" || fault?.kind === "hangup") {
      chunk = this.limitLines(chunk, fault.afterLines ?? 0);
      if (chunk.length === 0) {
        if (fault.kind === "hangup") {
          this.stream.destroy();
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
    this.buffer = this.buffer.length === 0 ? chunk : concatBytes([this.buffer, chunk]);
    this.wake();
  }

  /** Passes only the part of `chunk` within the first `limit` lines of the whole session. */
  private limitLines(chunk: Uint8Array, limit: number): Uint8Array {
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
        const line = latin1Text(this.buffer, 0, newline > 0 && this.buffer[newline - 1] === 13 ? newline - 1 : newline);
        this.buffer = this.buffer.subarray(newline + 1);
        this.network.traceLine(`${this.label} < ${line}`);
        return line;
      }
      await this.more(timeoutMs);
    }
  }

  /** Sends bytes; resolves once the stream took them. `shown` is what the trace prints instead. */
  write(data: Uint8Array | string, shown?: string): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    const bytes = typeof data === "string" ? latin1Bytes(data) : data;
    this.network.traceLine(`${this.label} > ${shown ?? (bytes.length < 200 ? latin1Text(bytes).replace(/\r\n$/, "") : `(${bytes.length} bytes)`)}`);
    this.network.activity.begin();
    return new Promise((resolve, reject) => {
      this.stream.write(bytes, (error) => {
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
  startRaw(sink: (bytes: Uint8Array) => void, timeoutMs: number): void {
    this.rawSink = sink;
    this.streaming = true;
    this.rawTimeoutMs = timeoutMs;
    if (this.buffer.length > 0) {
      const pending = this.buffer;
      this.buffer = new Uint8Array(0);
      sink(pending);
    }
    this.armRawTimer();
  }

  /** Back to line mode; `rest` (bytes after the raw part) is read first. */
  stopRaw(rest: Uint8Array): void {
    this.rawSink = null;
    this.streaming = false;
    this.resume();
    if (rest.length > 0) this.buffer = concatBytes([rest, this.buffer]);
  }

  /** (Re)starts the raw-mode silence timer, or stops it when it does not apply. */
  private armRawTimer(): void {
    this.cancelRawTimer?.();
    this.cancelRawTimer = null;
    if (!this.streaming || this.paused || this.ended) return;
    this.cancelRawTimer = this.timer(() => {
      this.cancelRawTimer = null;
      this.stream.destroy();
      this.fail(new NetError("timeout", `${this.label} stopped sending for ${this.rawTimeoutMs} ms in the middle of an answer`));
    }, this.rawTimeoutMs);
  }

  /** Flow control for raw mode: the modem's buffer is full. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stream.pause();
    this.armRawTimer();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream.resume();
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
    this.network.forget(this);
    this.fail(new NetError("closed", `${this.label}: connection closed by the modem`));
    this.stream.destroy();
  }

  /** Polite end: sends `text` (e.g. QUIT) and closes (the stream gives the server a grace period). */
  close(text?: string): void {
    this.onClose = null;
    this.streaming = false;
    this.armRawTimer();
    this.network.forget(this);
    if (text !== undefined && !this.ended) this.stream.write(latin1Bytes(text));
    this.stream.end();
    this.ended ??= new NetError("closed", `${this.label}: connection closed by the modem`);
  }
}
