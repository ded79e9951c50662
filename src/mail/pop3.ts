// Reading mail with the SIM7000's own POP3 client (spec section 3, examples 5.5-5.7).
// Multi-line answers (LIST, UIDL, TOP, RETR) come through AT+POP3READ by byte count; the
// bytes pass a fixed ring and reach the caller's sink in blocks, dot-stuffing undone.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine, UrcHandler } from "../transport/engine.ts";
import { MatchTable } from "../transport/match.ts";
import type { Deadline, TimerPort } from "../transport/ports.ts";
import { ByteRing } from "../transport/ring.ts";
import { query } from "../modem/basic.ts";
import type { TlsCapabilities } from "../modem/probe.ts";
import { DotUnstuffer } from "./codec/dot-unstuff.ts";
import { MailError, MailParameterError, Pop3Error, Pop3NegativeError } from "./errors.ts";
import { checkHost, checkPort, checkText, DEFAULT_LIMITS, type EmailLimits, type ServerAccount } from "./message.ts";
import { planSecurity, TLS_HINT, writeSecurity, type SecuritySettings } from "./security.ts";

/** Receives mail bytes in blocks; `buf` is only valid during the call. */
export interface MailSink {
  write(buf: Uint8Array, offset: number, length: number): void;
}

export interface Pop3Settings extends SecuritySettings {
  server: ServerAccount;
  cid?: number;
  timeoutSeconds?: number;
}

export interface MessageInfo {
  number: number;
  size: number;
}

const RESULT = 0;
const LOGGED_OUT = 1;

/** An exchange answered with OK, then `+POP3xxx: ...` (or `+POP3OUT: <code>` on failure). */
class Pop3Command extends AtCommand {
  status = -1;
  outCode = 0;
  values: string[] = [];
  private readonly takeUidOnNextLine: boolean;

  constructor(prefix: string, build: (cmd: AtCommand) => void, timeoutMs: number, uid = false) {
    super(40);
    build(this);
    this.text.end();
    this.okIsFinal = false;
    this.timeoutMs = timeoutMs;
    this.takeUidOnNextLine = uid;
    this.responses = new MatchTable([
      { text: prefix, id: RESULT },
      { text: "+POP3REST:", id: RESULT }, // the spec's own spelling of the negative RSET answer
      { text: "+POP3OUT:", id: LOGGED_OUT },
    ]);
  }

  override onMatch(id: number, line: Line): number {
    if (id === LOGGED_OUT) {
      this.outCode = line.int();
      return this.result();
    }
    this.status = line.int();
    while (!line.atEnd()) this.values.push(line.str());
    // Some firmwares print the UID on the line after "+POP3UIDL: 1,<n>,".
    if (this.takeUidOnNextLine && this.status === 1 && this.values.length < 2) return Verdict.TakeLine;
    return this.result();
  }

  override onLine(line: Line): number {
    this.values.push(line.text().trim());
    return this.result();
  }
}

/** AT+POP3READ=<n>: `+POP3READ: 1|2,<cnf>`, cnf raw bytes, OK. Reused for every chunk. */
class ReadCommand extends AtCommand {
  status = 0;
  outCode = 0;
  /** A `+POP3READ: 3,<n>` arrived while this command was in flight. */
  dataAnnounced = false;
  sink: ((buf: Uint8Array, offset: number, length: number) => void) | null = null;

  constructor(chunk: number, timeoutMs: number) {
    super(24);
    this.text.raw("AT+POP3READ=").int(chunk).end();
    this.timeoutMs = timeoutMs;
    this.responses = new MatchTable([
      { text: "+POP3READ:", id: RESULT },
      { text: "+POP3OUT:", id: LOGGED_OUT },
    ]);
  }

  override prepare(): void {
    super.prepare();
    this.status = 0;
    this.outCode = 0;
  }

  override onMatch(id: number, line: Line): number {
    if (id === LOGGED_OUT) {
      this.outCode = line.int();
      this.error = new Pop3Error(this.outCode);
      return Verdict.Fail;
    }
    const status = line.int();
    const length = line.int();
    if (status === 3) {
      this.dataAnnounced = true;
      return Verdict.Continue;
    }
    this.status = status;
    this.receiveLength = length;
    return length > 0 ? Verdict.Receive : Verdict.Continue;
  }

  override onData(buf: Uint8Array, offset: number, length: number): void {
    this.sink!(buf, offset, length);
  }
}

/**
 * The AT+POP3READ loop for one multi-line answer: a callback state machine with one Promise
 * for the whole answer, one reused command, a fixed ring and a fixed block buffer.
 */
class MultiLineReader implements UrcHandler {
  readonly table = new MatchTable([{ text: "+POP3READ: 3,", id: 0 }]);
  receiveLength = 0;
  delivered = 0;
  private readonly engine: AtEngine;
  private readonly cmd: ReadCommand;
  private readonly unstuffer = new DotUnstuffer();
  private readonly work: Uint8Array;
  private readonly ring: ByteRing;
  private readonly block: Uint8Array;
  private readonly idle: Deadline;
  private readonly idleMs: number;
  private sink: MailSink | null = null;
  private waitingForData = false;
  private atStart = true;
  private resolve: (() => void) | null = null;
  private reject: ((error: Error) => void) | null = null;

  constructor(engine: AtEngine, timers: TimerPort, chunk: number, blockSize: number, timeoutMs: number) {
    this.engine = engine;
    this.cmd = new ReadCommand(chunk, timeoutMs);
    this.cmd.sink = (buf, offset, length) => this.take(buf, offset, length);
    this.cmd.onEnd = (error) => this.chunkEnded(error);
    this.work = new Uint8Array(256);
    this.ring = new ByteRing(blockSize * 2);
    this.block = new Uint8Array(blockSize);
    this.idleMs = timeoutMs;
    this.idle = timers.deadline(() => this.fail(new Pop3Error(69, "", "no +POP3READ: 3 data announcement in time")));
  }

  read(sink: MailSink): Promise<number> {
    this.sink = sink;
    this.delivered = 0;
    this.unstuffer.reset();
    this.atStart = true;
    this.ring.clear();
    this.waitingForData = false;
    this.engine.addUrcHandler(this);
    return new Promise((resolve, reject) => {
      this.resolve = () => resolve(this.delivered);
      this.reject = reject;
      this.submit();
    });
  }

  onUrc(): number {
    if (this.resolve === null) return Verdict.NotMine;
    if (this.waitingForData) {
      this.waitingForData = false;
      this.idle.disarm();
      this.submit();
    }
    return Verdict.Continue;
  }

  onLine(): number {
    return Verdict.NotMine;
  }

  onData(): void {}

  /** Releases the idle timer (on the device a timer holds its callback until cleared). */
  close(): void {
    this.idle.close();
  }

  private submit(): void {
    this.cmd.dataAnnounced = false;
    try {
      this.engine.submit(this.cmd);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** POP3READ bytes: undo dot-stuffing into the ring, pass full blocks on. */
  private take(buf: Uint8Array, offset: number, length: number): void {
    // Firmwares differ on whether the "+OK ..." status line comes first: a mail, a scan
    // listing or a UID listing never starts with "+", so its presence tells.
    if (this.atStart && length > 0) {
      this.atStart = false;
      if (buf[offset] === 43) this.unstuffer.reset({ skipStatusLine: true });
    }
    const work = this.work;
    while (length > 0) {
      const n = length < work.length ? length : work.length;
      const out = this.unstuffer.push(buf, offset, n, work, 0);
      offset += n;
      length -= n;
      let written = 0;
      while (written < out) {
        written += this.ring.push(work, written, out - written);
        if (this.ring.available >= this.block.length) this.flush(this.block.length);
      }
    }
  }

  private flush(max: number): void {
    const n = this.ring.shift(this.block, 0, max);
    if (n === 0) return;
    this.delivered += n;
    this.sink!.write(this.block, 0, n);
  }

  private chunkEnded(error: Error | null): void {
    if (error !== null) {
      this.fail(error);
      return;
    }
    const cmd = this.cmd;
    if (cmd.status === 2 || this.unstuffer.done) {
      while (this.ring.available > 0) this.flush(this.block.length);
      if (!this.unstuffer.done) {
        this.fail(new MailError("pop3", "the modem ended the answer before the final dotline: the mail is incomplete"));
        return;
      }
      this.settle();
      return;
    }
    if (cmd.receiveLength > 0 || cmd.dataAnnounced) {
      this.submit();
      return;
    }
    // "+POP3READ: 1,0": nothing yet; wait for "+POP3READ: 3,<n>".
    this.waitingForData = true;
    this.idle.arm(this.idleMs);
  }

  private settle(): void {
    this.engine.removeUrcHandler(this);
    this.idle.disarm();
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    this.sink = null;
    resolve?.();
  }

  private fail(error: Error): void {
    this.engine.removeUrcHandler(this);
    this.idle.disarm();
    this.waitingForData = false;
    const reject = this.reject;
    this.resolve = this.reject = null;
    this.sink = null;
    reject?.(error);
  }
}

/** Collects a small multi-line answer (LIST, UIDL) as text lines. */
class LineCollector implements MailSink {
  lines: string[] = [];
  private partial = "";
  write(buf: Uint8Array, offset: number, length: number): void {
    for (let i = offset; i < offset + length; i++) {
      const c = buf[i];
      if (c === 10) {
        this.lines.push(this.partial.replace(/\r$/, ""));
        this.partial = "";
      } else this.partial += String.fromCharCode(c);
    }
  }
}

export class Pop3Client {
  readonly engine: AtEngine;
  limits: EmailLimits;
  loggedIn = false;
  /** From the probe: what AT+EMAILSSL offers (null: nothing); undefined = not probed. */
  tls: TlsCapabilities | null | undefined = undefined;
  private readonly reader: MultiLineReader;
  private timeoutMs = 40_000;
  /** AT+EMAILSSL mode last set (0 is the modem's default after a reset). */
  private sslMode = 0;

  constructor(engine: AtEngine, timers: TimerPort, limits: EmailLimits = DEFAULT_LIMITS, blockSize = 512) {
    this.engine = engine;
    this.limits = limits;
    this.reader = new MultiLineReader(engine, timers, limits.pop3Read, blockSize, 40_000);
  }

  async login(settings: Pop3Settings): Promise<void> {
    this.loggedIn = false;
    const limits = this.limits;
    const server = settings.server;
    checkHost("pop3", "POP3 server", server.host, limits.pop3Server);
    if (server.port !== undefined) checkPort("pop3", "POP3 port", server.port);
    const user = checkText("pop3", "POP3 user", server.user ?? "", limits.pop3User);
    const password = checkText("pop3", "POP3 password", server.password ?? "", limits.pop3Password);
    if (user === "") throw new MailParameterError("pop3", "POP3 user", "is missing");
    const timeout = settings.timeoutSeconds ?? 30;
    if (!Number.isInteger(timeout) || timeout < limits.timeout[0] || timeout > limits.timeout[1]) {
      throw new MailParameterError("pop3", "timeout", `${timeout} s is outside ${limits.timeout[0]}-${limits.timeout[1]} s`);
    }
    const security = planSecurity("pop3", settings, this.tls, true);
    this.timeoutMs = (timeout + 10) * 1000;
    const engine = this.engine;
    await query(engine, (c) => c.text.raw("AT+EMAILCID=").int(settings.cid ?? 1), 5000);
    await query(engine, (c) => c.text.raw("AT+EMAILTO=").int(timeout), 5000);
    // Before AT+POP3SRV, which carries the password.
    this.sslMode = await writeSecurity(engine, security, this.sslMode);
    await query(engine, (c) => c.text.raw("AT+POP3SRV=").quoted(server.host, "POP3 server").raw(",").quoted(user, "POP3 user").raw(",").quoted(password, "POP3 password", true).raw(",").int(server.port ?? 110), 5000);
    const cmd = await this.exchange("+POP3IN:", (c) => c.text.raw("AT+POP3IN"));
    if (cmd.status !== 1) throw new Pop3Error(cmd.status, "", cmd.status === 63 && security.mode !== 0 ? TLS_HINT : "");
    this.loggedIn = true;
  }

  /** Number of mails and their total size. */
  async stat(): Promise<{ count: number; size: number }> {
    const cmd = await this.positive("+POP3NUM:", "STAT", (c) => c.text.raw("AT+POP3NUM"));
    return { count: Number(cmd.values[0]), size: Number(cmd.values[1]) };
  }

  async list(n: number): Promise<number> {
    const cmd = await this.positive("+POP3LIST:", `LIST ${n}`, (c) => c.text.raw("AT+POP3LIST=").int(this.number(n)));
    return Number(cmd.values[1]);
  }

  async uid(n: number): Promise<string> {
    const cmd = await this.positive("+POP3UIDL:", `UIDL ${n}`, (c) => c.text.raw("AT+POP3UIDL=").int(this.number(n)), true);
    return cmd.values[1] ?? "";
  }

  /** The whole scan listing (multi-line LIST). */
  async listAll(): Promise<MessageInfo[]> {
    const lines = await this.multiLineText("LIST", (c) => c.text.raw("AT+POP3CMD=1"));
    return lines.filter((l) => l.trim() !== "").map((l) => {
      const [number, size] = l.trim().split(/\s+/).map(Number);
      return { number, size };
    });
  }

  /** The whole unique-id listing (multi-line UIDL). */
  async uidlAll(): Promise<Array<{ number: number; uid: string }>> {
    const lines = await this.multiLineText("UIDL", (c) => c.text.raw("AT+POP3CMD=2"));
    return lines.filter((l) => l.trim() !== "").map((l) => {
      const [number, uid] = l.trim().split(/\s+/);
      return { number: Number(number), uid: uid ?? "" };
    });
  }

  /** Headers plus `lines` body lines of mail `n` into `sink`; resolves with the bytes delivered. */
  top(n: number, lines: number, sink: MailSink): Promise<number> {
    return this.multiLine(`TOP ${n} ${lines}`, (c) => c.text.raw("AT+POP3CMD=3,").int(this.number(n)).raw(",").int(this.count(lines)), sink);
  }

  /** Mail `n` as the server sent it (dot-stuffing undone) into `sink`. */
  retrieve(n: number, sink: MailSink): Promise<number> {
    return this.multiLine(`RETR ${n}`, (c) => c.text.raw("AT+POP3CMD=4,").int(this.number(n)), sink);
  }

  async delete(n: number): Promise<void> {
    await this.positive("+POP3DEL:", `DELE ${n}`, (c) => c.text.raw("AT+POP3DEL=").int(this.number(n)));
  }

  async reset(): Promise<void> {
    await this.positive("+POP3RSET:", "RSET", (c) => c.text.raw("AT+POP3RSET"));
  }

  async logout(): Promise<void> {
    // Whatever the answer, the session is over for this client (one client serves every poll).
    this.loggedIn = false;
    const cmd = await this.exchange("+POP3OUT:", (c) => c.text.raw("AT+POP3OUT"));
    if (cmd.status !== 1) throw new Pop3Error(cmd.status);
  }

  /** Releases the client's timer. Keep one client for every session rather than one per poll. */
  close(): void {
    this.reader.close();
  }

  private async multiLineText(what: string, build: (cmd: AtCommand) => void): Promise<string[]> {
    const collector = new LineCollector();
    await this.multiLine(what, build, collector);
    return collector.lines;
  }

  private async multiLine(what: string, build: (cmd: AtCommand) => void, sink: MailSink): Promise<number> {
    await this.positive("+POP3CMD:", what, build);
    return this.reader.read(sink);
  }

  private async positive(prefix: string, what: string, build: (cmd: AtCommand) => void, uid = false): Promise<Pop3Command> {
    const cmd = await this.exchange(prefix, build, uid);
    if (cmd.status !== 1) throw new Pop3NegativeError(what);
    return cmd;
  }

  private async exchange(prefix: string, build: (cmd: AtCommand) => void, uid = false): Promise<Pop3Command> {
    const cmd = new Pop3Command(prefix, build, this.timeoutMs, uid);
    await this.engine.run(cmd);
    if (cmd.outCode !== 0 && prefix !== "+POP3OUT:") {
      this.loggedIn = false;
      throw new Pop3Error(cmd.outCode);
    }
    return cmd;
  }

  private number(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new MailParameterError("pop3", "message number", `${n} is not a message number (1 or more)`);
    return n;
  }

  private count(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new MailParameterError("pop3", "line count", `${n} is not a count (0 or more)`);
    return n;
  }
}
