// Reading mail with the SIM7000's own POP3 client (spec section 3, examples 5.5-5.7). Each
// exchange is answered with OK, then `+POP3xxx: <status>,...` (or `+POP3OUT: <code>` when the
// session ended); multi-line answers come through AT+POP3READ (pop3-reader.ts).

import type { AtEngine } from "../transport/engine.ts";
import type { TimerPort } from "../transport/ports.ts";
import { runStep, steps, wholeNumber, type Reply, type Step, type StepArgument } from "../transport/step.ts";
import type { TlsCapabilities } from "../modem/probe.ts";
import { checkMessageNumber, checkPop3Account, writePop3Account } from "./envelope.ts";
import { MailParameterError, Pop3Error, Pop3NegativeError } from "./errors.ts";
import { DEFAULT_LIMITS, type EmailLimits, type ServerAccount } from "./message.ts";
import { LineVisitor, MultiLineReader, type MailSink, type ReadLimit } from "./pop3-reader.ts";
import { planSecurity, TLS_HINT, writeSecurity, type SecuritySettings } from "./security.ts";
import { checkSession, writeSession } from "./session.ts";

export type { MailSink, ReadLimit } from "./pop3-reader.ts";

export interface Pop3Settings extends SecuritySettings {
  server: ServerAccount;
  cid?: number;
  timeoutSeconds?: number;
}

export interface MessageInfo {
  number: number;
  size: number;
}

/** `lines[0]` of every exchange: the session ended (or, for AT+POP3OUT, its own result). */
const LOGGED_OUT = 0;
const EXCHANGE = { lines: ["+POP3OUT:"], ends: "result", timeoutMs: 10_000, server: true, session: true } as const;
const POP3 = steps({
  login: { ...EXCHANGE, request: "AT+POP3IN", lines: ["+POP3OUT:", "+POP3IN:"] },
  stat: { ...EXCHANGE, request: "AT+POP3NUM", lines: ["+POP3OUT:", "+POP3NUM:"] },
  size: { ...EXCHANGE, request: "AT+POP3LIST=<message number>", lines: ["+POP3OUT:", "+POP3LIST:"] },
  // Some firmwares print the UID on the line after "+POP3UIDL: 1,<n>,".
  uid: { ...EXCHANGE, request: "AT+POP3UIDL=<message number>", lines: ["+POP3OUT:", "+POP3UIDL:"], continued: { positive: "1", fields: 3 } },
  listAll: { ...EXCHANGE, request: "AT+POP3CMD=1", lines: ["+POP3OUT:", "+POP3CMD:"] },
  uidlAll: { ...EXCHANGE, request: "AT+POP3CMD=2", lines: ["+POP3OUT:", "+POP3CMD:"] },
  top: { ...EXCHANGE, request: "AT+POP3CMD=3,<message number>,<line count>", lines: ["+POP3OUT:", "+POP3CMD:"] },
  retrieve: { ...EXCHANGE, request: "AT+POP3CMD=4,<message number>", lines: ["+POP3OUT:", "+POP3CMD:"] },
  delete: { ...EXCHANGE, request: "AT+POP3DEL=<message number>", lines: ["+POP3OUT:", "+POP3DEL:"] },
  // The spec spells the negative answer `+POP3REST: 0` (3.2.21).
  reset: { ...EXCHANGE, request: "AT+POP3RSET", lines: ["+POP3OUT:", "+POP3RSET:", "+POP3REST:"] },
  logout: { ...EXCHANGE, request: "AT+POP3OUT" },
});

export class Pop3Client {
  readonly engine: AtEngine;
  limits: EmailLimits;
  loggedIn = false;
  /** From the probe: what AT+EMAILSSL offers (null: nothing); undefined = not probed. */
  tls: TlsCapabilities | null | undefined = undefined;
  private readonly reader: MultiLineReader;
  /** The server response timeout (AT+EMAILTO) the exchanges wait for, on top of their own. */
  private serverMs = 30_000;
  /** AT+EMAILSSL mode last set (0 is the modem's default after a reset). */
  private sslMode = 0;

  /** `readLength`: each AT+POP3READ's; the firmware sizes it to the baud rate (pop3ReadLength). */
  constructor(engine: AtEngine, timers: TimerPort, limits: EmailLimits = DEFAULT_LIMITS, readLength = limits.pop3Read) {
    this.engine = engine;
    this.limits = limits;
    this.reader = new MultiLineReader(engine, timers, readLength);
  }

  async login(settings: Pop3Settings): Promise<void> {
    this.loggedIn = false;
    const server = settings.server;
    const { user, password } = checkPop3Account(server, this.limits);
    const { cid, timeoutSeconds } = checkSession("pop3", settings, this.limits);
    const security = planSecurity("pop3", settings, this.tls, true);
    this.serverMs = timeoutSeconds * 1000;
    const engine = this.engine;
    await writeSession(engine, cid, timeoutSeconds);
    // Before AT+POP3SRV, which carries the password.
    this.sslMode = await writeSecurity(engine, security, this.sslMode);
    await writePop3Account(engine, server, user, password);
    const status = this.status(POP3.login, await this.exchange(POP3.login));
    if (status !== 1) throw new Pop3Error(status, "", status === 63 && security.mode !== 0 ? TLS_HINT : "");
    this.loggedIn = true;
  }

  /** Number of mails and their total size. */
  async stat(): Promise<{ count: number; size: number }> {
    const fields = await this.positive(POP3.stat, "STAT");
    return { count: Number(fields[1]), size: Number(fields[2]) };
  }

  async list(n: number): Promise<number> {
    return Number((await this.positive(POP3.size, `LIST ${n}`, checkMessageNumber(n)))[2]);
  }

  async uid(n: number): Promise<string> {
    return (await this.positive(POP3.uid, `UIDL ${n}`, checkMessageNumber(n)))[2] ?? "";
  }

  /** The scan listing (multi-line LIST), each entry handed to `visit` as it arrives; resolves with their number. */
  async listAll(visit: (info: MessageInfo) => void): Promise<number> {
    return this.listing(POP3.listAll, "LIST", (line) => {
      const [number, size] = line.trim().split(/\s+/).map(Number);
      visit({ number, size });
    });
  }

  /** The unique-id listing (multi-line UIDL), each entry handed to `visit` as it arrives; resolves with their number. */
  async uidlAll(visit: (number: number, uid: string) => void): Promise<number> {
    return this.listing(POP3.uidlAll, "UIDL", (line) => {
      const [number, uid] = line.trim().split(/\s+/);
      visit(Number(number), uid ?? "");
    });
  }

  /** The header lines of mail `n` (TOP n 0) into `sink`; `limit` may stop the read part way (then log out). */
  headers(n: number, sink: MailSink, limit?: ReadLimit): Promise<number> {
    return this.multiLine(POP3.top, `TOP ${n} 0`, sink, limit ?? null, checkMessageNumber(n), 0);
  }

  /** Headers plus `lines` body lines of mail `n` into `sink`; resolves with the bytes delivered. */
  top(n: number, lines: number, sink: MailSink): Promise<number> {
    return this.multiLine(POP3.top, `TOP ${n} ${lines}`, sink, null, checkMessageNumber(n), this.count(lines));
  }

  /** Mail `n` as the server sent it (dot-stuffing undone) into `sink`. */
  retrieve(n: number, sink: MailSink): Promise<number> {
    return this.multiLine(POP3.retrieve, `RETR ${n}`, sink, null, checkMessageNumber(n));
  }

  async delete(n: number): Promise<void> {
    await this.positive(POP3.delete, `DELE ${n}`, checkMessageNumber(n));
  }

  async reset(): Promise<void> {
    await this.positive(POP3.reset, "RSET");
  }

  async logout(): Promise<void> {
    // Whatever the answer, the session is over for this client (one client serves every poll).
    this.loggedIn = false;
    const status = this.status(POP3.logout, await this.exchange(POP3.logout));
    if (status !== 1) throw new Pop3Error(status);
  }

  /** Releases the client's timer. Keep one client for every session rather than one per poll. */
  close(): void {
    this.reader.close();
  }

  private async listing(step: Step, what: string, visit: (line: string) => void): Promise<number> {
    let entries = 0;
    const visitor = new LineVisitor((line) => {
      entries++;
      visit(line);
    }, what);
    await this.multiLine(step, what, visitor, null);
    visitor.check();
    return entries;
  }

  private async multiLine(step: Step, what: string, sink: MailSink, limit: ReadLimit | null, ...args: StepArgument[]): Promise<number> {
    await this.positive(step, what, ...args);
    return this.reader.read(sink, what, limit);
  }

  /** The fields of a positive answer (`<status>` 1 first); -ERR is a Pop3NegativeError naming `what`. */
  private async positive(step: Step, what: string, ...args: StepArgument[]): Promise<string[]> {
    const result = (await this.exchange(step, ...args)).result!;
    if (result.match === LOGGED_OUT || result.fields[0] !== "1") throw new Pop3NegativeError(what);
    return result.fields;
  }

  /** Runs an exchange; `+POP3OUT: <code>` instead of its answer means the session is gone. */
  private async exchange(step: Step, ...args: StepArgument[]): Promise<Reply> {
    const reply = await runStep(this.engine, step, args, this.serverMs);
    const result = reply.result!;
    if (result.match === LOGGED_OUT && step !== POP3.logout) {
      const code = reply.int(0, LOGGED_OUT);
      if (code !== 0) {
        this.loggedIn = false;
        throw new Pop3Error(code);
      }
    }
    return reply;
  }

  /** `<status>` of the answer; -1 when the session ended instead (AT+POP3OUT: that is its answer). */
  private status(step: Step, reply: Reply): number {
    const result = reply.result!;
    if (result.match === LOGGED_OUT && step !== POP3.logout) return -1;
    return wholeNumber(result.fields[0] ?? "");
  }

  private count(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new MailParameterError("pop3", "line count", `${n} is not a count (0 or more)`);
    return n;
  }
}
