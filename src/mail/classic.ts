// The older SIMCom email dialect (SMTP/POP3 application note): results come as `+SMTP: <text>`
// and `+POP3: <text>`, the body is inline, attachments are files in the modem's file system,
// and POP3 text (POP3HDR, POP3READ) arrives as plain lines ending with OK.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine } from "../transport/engine.ts";
import { MatchTable } from "../transport/match.ts";
import { query } from "../modem/basic.ts";
import { displayName, writeParties, writeServer } from "./envelope.ts";
import { planSecurity, type SecuritySettings } from "./security.ts";
import { encodeHeaderWord } from "./codec/rfc2047.ts";
import { isAscii } from "./codec/utf8.ts";
import { MailError, MailParameterError, Pop3Error, Pop3NegativeError, SmtpError } from "./errors.ts";
import {
  checkAddress, checkHost, checkPort, checkSubject, checkText,
  type MailMessage, type ServerAccount,
} from "./message.ts";
import type { MailSink, MessageInfo } from "./pop3.ts";

/** The application note's limits: subject 512 and body 5120 ASCII characters, 10 files. */
export const CLASSIC_LIMITS = { subject: 512, body: 5120, attachments: 10, field: 64 };

const RESULT = 0;
const CRLF = new Uint8Array([13, 10]);

/** A command whose outcome is a `+SMTP: ...` / `+POP3: ...` line (before or after OK). */
class ResultCommand extends AtCommand {
  result_ = "";
  /** Text of the line after the result (POP3GET's saved path), when asked for. */
  trailing = "";
  private readonly wantsTrailing: boolean;

  constructor(prefix: string, build: (cmd: AtCommand) => void, timeoutMs: number, trailing = false) {
    super(48);
    build(this);
    this.text.end();
    this.okIsFinal = false;
    this.timeoutMs = timeoutMs;
    this.wantsTrailing = trailing;
    this.responses = new MatchTable([{ text: prefix, id: RESULT }]);
  }

  override onMatch(_id: number, line: Line): number {
    this.result_ = line.rest().trim();
    if (this.wantsTrailing && this.result_ === "SUCCESS") return Verdict.TakeLine;
    return this.result();
  }

  override onLine(line: Line): number {
    this.trailing = line.text().trim();
    return this.result();
  }
}

/** AT+SMTPSEND: "+SMTP: OK" (session open) comes first; the outcome follows after OK. */
class SmtpSendCommand extends ResultCommand {
  constructor(timeoutMs: number) {
    super("+SMTP: ", (c) => c.text.raw("AT+SMTPSEND"), timeoutMs);
  }

  override onMatch(id: number, line: Line): number {
    if (line.rest().trim() === "OK") return Verdict.Continue;
    return super.onMatch(id, line);
  }
}

/** POP3 text output (POP3HDR, POP3READ): every line up to OK goes to the sink with its CRLF. */
class TextOutputCommand extends AtCommand {
  sink: MailSink | null = null;
  delivered = 0;
  outcome = "";
  /** Blank lines are held back: the one just before OK is framing, not mail. */
  private heldBlankLines = 0;

  constructor(timeoutMs: number) {
    super(80);
    this.rawLines = true;
    this.timeoutMs = timeoutMs;
    this.responses = new MatchTable([{ text: "+POP3: ", id: RESULT }]);
  }

  override prepare(): void {
    super.prepare();
    this.delivered = 0;
    this.outcome = "";
    this.heldBlankLines = 0;
  }

  override onMatch(_id: number, line: Line): number {
    // A `+POP3: <error>` instead of mail text ends the output with a failure.
    this.outcome = line.rest().trim();
    this.error = new Pop3Error(0, this.outcome);
    return Verdict.Fail;
  }

  override onLine(line: Line): number {
    const sink = this.sink!;
    if (line.length === 0) {
      this.heldBlankLines++;
      return Verdict.Continue;
    }
    // Blank lines before the first text are framing too.
    if (this.delivered === 0) this.heldBlankLines = 0;
    for (; this.heldBlankLines > 0; this.heldBlankLines--) this.emit(sink, CRLF, 0, 2);
    this.emit(sink, line.buf, 0, line.length);
    this.emit(sink, CRLF, 0, 2);
    return Verdict.Continue;
  }

  private emit(sink: MailSink, buf: Uint8Array, offset: number, length: number): void {
    this.delivered += length;
    sink.write(buf, offset, length);
  }
}

/** The application note has no TLS commands: only "none", and the refusal switch. */
type ClassicSecurity = Pick<SecuritySettings, "security" | "requireSecureCredentials">;

export interface ClassicSmtpSettings extends ClassicSecurity {
  server: ServerAccount;
  /** Seconds to wait for `+SMTP: SUCCESS` (the modem's own timer is 30 s). */
  timeoutSeconds?: number;
}

export class ClassicSmtpClient {
  readonly engine: AtEngine;

  constructor(engine: AtEngine) {
    this.engine = engine;
  }

  /** Sends one mail; attachments are file names in the modem's current directory. */
  async send(settings: ClassicSmtpSettings, message: MailMessage, attachments: string[] = []): Promise<void> {
    const plan = this.check(settings, message, attachments);
    const engine = this.engine;
    const server = settings.server;
    await writeServer(engine, server);
    await writeParties(engine, message.from.address, plan.fromName, plan.recipients);
    await query(engine, (c) => c.text.raw("AT+SMTPSUB=").quoted(plan.subject, "subject"), 5000);
    await query(engine, (c) => c.text.raw("AT+SMTPBODY=").quoted(message.body, "body"), 5000);
    await query(engine, (c) => c.text.raw("AT+SMTPFILE"), 5000);
    for (let i = 0; i < attachments.length; i++) {
      const name = attachments[i];
      await query(engine, (c) => c.text.raw("AT+SMTPFILE=").int(i + 1).raw(",").quoted(name, "attachment name"), 5000);
    }
    const sendTimeout = ((settings.timeoutSeconds ?? 30) + 30) * 1000;
    const send = new SmtpSendCommand(sendTimeout);
    await engine.run(send);
    if (send.result_ !== "SUCCESS") {
      const [result, detail] = splitBadRecipient(send.result_);
      throw new SmtpError(0, result, detail);
    }
  }

  /** AT+SMTPSTOP: closes the SMTP session at once. */
  async abort(): Promise<void> {
    await query(this.engine, (c) => c.text.raw("AT+SMTPSTOP"), 10_000);
  }

  private check(settings: ClassicSmtpSettings, message: MailMessage, attachments: string[]) {
    const max = CLASSIC_LIMITS.field;
    const server = settings.server;
    checkHost("smtp", "SMTP server", server.host, max);
    if (server.port !== undefined) checkPort("smtp", "SMTP port", server.port);
    if (server.user !== undefined) {
      checkText("smtp", "SMTP user", server.user, max);
      checkText("smtp", "SMTP password", server.password ?? "", max);
    }
    checkAddress("smtp", "sender address", message.from?.address, max);
    const name = (field: string, value: string | undefined) => displayName(field, value, max);
    const fromName = name("sender name", message.from.name);
    const recipients = [message.to ?? [], message.cc ?? [], message.bcc ?? []].map((list, type) => {
      const kind = ["To", "Cc", "Bcc"][type];
      return list.map((r, i) => ({
        address: checkAddress("smtp", `${kind} recipient ${i + 1} address`, r?.address, max),
        name: name(`${kind} recipient ${i + 1} name`, r?.name),
      }));
    });
    if (recipients[0].length + recipients[1].length + recipients[2].length === 0) {
      throw new MailParameterError("smtp", "recipients", "at least one To, Cc or Bcc recipient is needed");
    }
    checkSubject("smtp", message.subject);
    const subject = isAscii(message.subject) ? message.subject : encodeHeaderWord(message.subject);
    checkText("smtp", "subject", subject, CLASSIC_LIMITS.subject);
    if (typeof message.body !== "string") throw new MailParameterError("smtp", "body", "must be text");
    if (/[\r\n]/.test(message.body)) {
      throw new MailParameterError("smtp", "body", "this modem dialect takes the body inline in quotes: it cannot carry line breaks");
    }
    checkText("smtp", "body", message.body, CLASSIC_LIMITS.body);
    if (message.attachment !== undefined) {
      throw new MailParameterError("smtp", "attachment", "this modem dialect attaches files from its own file system: pass their names instead");
    }
    if (attachments.length > CLASSIC_LIMITS.attachments) {
      throw new MailParameterError("smtp", "attachments", `${attachments.length} given; this modem takes at most ${CLASSIC_LIMITS.attachments}`);
    }
    attachments.forEach((a, i) => checkText("smtp", `attachment ${i + 1} name`, a, max));
    planSecurity("smtp", settings, null, server.user !== undefined);
    return { fromName, recipients, subject };
  }
}

/** "BAD RCPT a@b" → ["BAD RCPT", "a@b"]. */
function splitBadRecipient(result: string): [string, string] {
  if (result.startsWith("BAD RCPT")) return ["BAD RCPT", result.slice(8).trim()];
  return [result, ""];
}

export interface ClassicPop3Settings extends ClassicSecurity {
  server: ServerAccount;
  timeoutSeconds?: number;
}

export class ClassicPop3Client {
  readonly engine: AtEngine;
  loggedIn = false;
  private readonly output: TextOutputCommand;
  private timeoutMs = 60_000;

  constructor(engine: AtEngine) {
    this.engine = engine;
    this.output = new TextOutputCommand(60_000);
  }

  async login(settings: ClassicPop3Settings): Promise<void> {
    const max = CLASSIC_LIMITS.field;
    const server = settings.server;
    checkHost("pop3", "POP3 server", server.host, max);
    if (server.port !== undefined) checkPort("pop3", "POP3 port", server.port);
    const user = checkText("pop3", "POP3 user", server.user ?? "", max);
    const password = checkText("pop3", "POP3 password", server.password ?? "", max);
    if (user === "") throw new MailParameterError("pop3", "POP3 user", "is missing");
    planSecurity("pop3", settings, null, true);
    this.timeoutMs = ((settings.timeoutSeconds ?? 30) + 30) * 1000;
    await query(this.engine, (c) => c.text.raw("AT+POP3SRV=").quoted(server.host, "POP3 server").raw(",").quoted(user, "POP3 user").raw(",").quoted(password, "POP3 password", true).raw(",").int(server.port ?? 110), 5000);
    await this.success((c) => c.text.raw("AT+POP3IN"));
    this.loggedIn = true;
  }

  /** `+POP3: <count> <size>`. */
  async stat(): Promise<{ count: number; size: number }> {
    const cmd = await this.result((c) => c.text.raw("AT+POP3NUM"));
    const [count, size] = cmd.result_.split(/[\s,]+/).map(Number);
    if (!Number.isInteger(count)) throw new Pop3Error(0, cmd.result_);
    return { count, size };
  }

  /** `+POP3: <n>, <size>`. */
  async list(n: number): Promise<number> {
    const cmd = await this.result((c) => c.text.raw("AT+POP3LIST=").int(positive(n)));
    const [, size] = cmd.result_.split(/[\s,]+/).map(Number);
    if (!Number.isInteger(size)) throw new Pop3NegativeError(`LIST ${n}`, cmd.result_);
    return size;
  }

  async listAll(): Promise<MessageInfo[]> {
    const { count } = await this.stat();
    const out: MessageInfo[] = [];
    for (let n = 1; n <= count; n++) out.push({ number: n, size: await this.list(n) });
    return out;
  }

  /** AT+POP3HDR=<n>: the header lines. */
  headers(n: number, sink: MailSink): Promise<number> {
    return this.text((c) => c.text.raw("AT+POP3HDR=").int(positive(n)), sink);
  }

  /** AT+POP3GET=<n> saves the mail on the modem; AT+POP3READ then prints it. Resolves with the saved path. */
  async retrieve(n: number, sink: MailSink): Promise<number> {
    await this.fetch(n);
    return this.wholeText((c) => c.text.raw("AT+POP3READ"), sink);
  }

  /** AT+POP3GET=<n>: the mail is saved in the modem's file system; resolves with its path. */
  async fetch(n: number): Promise<string> {
    const cmd = new ResultCommand("+POP3: ", (c) => c.text.raw("AT+POP3GET=").int(positive(n)), this.timeoutMs, true);
    await this.engine.run(cmd);
    if (cmd.result_ !== "SUCCESS") throw new Pop3Error(0, cmd.result_);
    return cmd.trailing;
  }

  /** AT+POP3READ=0,"<path>": a mail saved earlier. */
  readSaved(path: string, sink: MailSink): Promise<number> {
    checkText("pop3", "saved mail path", path, 128);
    return this.wholeText((c) => c.text.raw("AT+POP3READ=0,").quoted(path, "saved mail path"), sink);
  }

  async delete(n: number): Promise<void> {
    await this.success((c) => c.text.raw("AT+POP3DEL=").int(positive(n)));
  }

  async logout(): Promise<void> {
    this.loggedIn = false;
    await this.success((c) => c.text.raw("AT+POP3OUT"));
  }

  /** AT+POP3STOP: closes the session at once. */
  async abort(): Promise<void> {
    this.loggedIn = false;
    await query(this.engine, (c) => c.text.raw("AT+POP3STOP"), 10_000);
  }

  private async text(build: (cmd: AtCommand) => void, sink: MailSink): Promise<number> {
    const cmd = this.output;
    cmd.text.reset();
    build(cmd);
    cmd.text.end();
    cmd.timeoutMs = this.timeoutMs;
    cmd.sink = sink;
    try {
      await this.engine.run(cmd);
    } finally {
      cmd.sink = null;
    }
    return cmd.delivered;
  }

  /** Mail text must arrive whole: a line too long for the engine's line buffer is dropped by the framer, so it fails the read. */
  private async wholeText(build: (cmd: AtCommand) => void, sink: MailSink): Promise<number> {
    const before = this.engine.stats.overlongLines;
    const delivered = await this.text(build, sink);
    const lost = this.engine.stats.overlongLines - before;
    if (lost > 0) {
      throw new MailError("pop3", `${lost} line${lost === 1 ? " was" : "s were"} longer than the AT engine's line buffer (lineCapacity) and lost: this dialect prints mail as text lines; read the mail with a larger lineCapacity`);
    }
    return delivered;
  }

  private async result(build: (cmd: AtCommand) => void): Promise<ResultCommand> {
    const cmd = new ResultCommand("+POP3: ", build, this.timeoutMs);
    await this.engine.run(cmd);
    return cmd;
  }

  private async success(build: (cmd: AtCommand) => void): Promise<void> {
    const cmd = await this.result(build);
    if (cmd.result_ !== "SUCCESS") throw new Pop3Error(0, cmd.result_);
  }
}

function positive(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new MailParameterError("pop3", "message number", `${n} is not a message number (1 or more)`);
  return n;
}
