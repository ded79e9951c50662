// The older SIMCom email dialect of the SMTP/POP3 application note: `+SMTP: <result>` and
// `+POP3: <result>` lines, the body inline, attachments and received mail in the modem's file
// system (AT+FSCD, AT+FSLS, AT+FSLOCA), each backed by a real SMTP or POP3 session.

import { AtParamError, type AtCommand, type Params } from "./at-parser.ts";
import { FileSystemError, SimFileSystem } from "./file-system.ts";
import { base64Lines, messageEnd, messageStart, nextAttachment, type MailDraft } from "./mime.ts";
import { okResponse, quoted, type EmailDialect, type ModemPort } from "./modem.ts";
import { Pop3Failure, Pop3Session, type Pop3FailureKind } from "./pop3-client.ts";
import { SmtpFailure, SmtpSession, type SmtpFailureKind } from "./smtp-client.ts";
import { Pop3Settings, SmtpSettings, type Pop3SettingLimits, type SmtpSettingLimits } from "./email-settings.ts";
import { concatBytes, latin1Bytes, latin1Text, utf8Bytes } from "./bytes.ts";

const CRLF = "\r\n";
/** A `+SMTP:`/`+POP3:` result that reports a failure (not a success, not numbers). */
const FAILURE_RESULT = /^\+(?:SMTP|POP3): (?!SUCCESS$|OK$)[A-Z]/;
/** The application note's limits. */
const MAX_ATTACHMENTS = 10;
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** "SMTP timer: 30 seconds", "POP3 timer: 30 seconds". */
const SERVER_TIMEOUT_SECONDS = 30;
/** The lengths its test commands report: 64 each, recipient indexes 0-4. */
const CLASSIC_LIMITS: SmtpSettingLimits & Pop3SettingLimits = {
  smtpServer: 64, smtpUser: 64, smtpPassword: 64, senderAddress: 64, senderName: 64, recipientAddress: 64, recipientName: 64, recipientsPerType: 5,
  pop3Server: 64, pop3User: 64, pop3Password: 64,
};

const CONTENT_TYPES: Record<string, string> = {
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  bmp: "image/bmp",
  amr: "audio/amr",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  "3gp": "video/3gpp",
  pdf: "application/pdf",
  zip: "application/zip",
};

function contentType(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  return (dot >= 0 ? CONTENT_TYPES[fileName.slice(dot + 1).toLowerCase()] : undefined) ?? "application/octet-stream";
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Dot-stuffing undone: a POP3 answer (ending in its dotline) back to the message bytes. */
function unstuff(answer: Uint8Array): Uint8Array {
  const lines = latin1Text(answer).split(CRLF);
  const out: string[] = [];
  for (const line of lines) {
    if (line === ".") break;
    out.push(line.startsWith(".") ? line.slice(1) : line);
  }
  return latin1Bytes(out.join(CRLF));
}

/** The header fields of a message, each with its continuation lines, by lower-case name. */
function headerFields(message: Uint8Array): Map<string, string> {
  const text = latin1Text(message);
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const fields = new Map<string, string>();
  let current = "";
  const flush = () => {
    const colon = current.indexOf(":");
    if (colon > 0) {
      const name = current.slice(0, colon).trim().toLowerCase();
      if (!fields.has(name)) fields.set(name, current);
    }
  };
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && current !== "") current += CRLF + line;
    else {
      flush();
      current = line;
    }
  }
  flush();
  return fields;
}

interface SendJob {
  session: SmtpSession | null;
  done: boolean;
}

/** What POP3GET keeps of a mail: its text and its attachments. */
export interface ParsedMessage {
  text: string;
  attachments: ReadonlyArray<{ filename: string | undefined; content: Uint8Array }>;
}

/** A MIME parser, given at the edge (mailparser under Node: sim/modem/node-modem.ts). */
export type MessageParser = (message: Uint8Array) => Promise<ParsedMessage>;

export class ClassicEmail implements EmailDialect {
  private readonly port: ModemPort;
  private readonly parse: MessageParser;

  private readonly smtp = new SmtpSettings(() => CLASSIC_LIMITS, "type");
  private readonly pop3 = new Pop3Settings(() => CLASSIC_LIMITS);
  private subject = "";
  private body = "";
  /** Attachment slots 1-10: absolute paths in the file system. */
  private readonly files = new Map<number, string>();

  private cwd = "C:";
  private location = 0;

  private sendJob: SendJob | null = null;
  private mailCounter = 0;
  private pop3Session: Pop3Session | null = null;
  /** An AT+POP3IN waiting for the server (a lost bearer cancels it). */
  private login: { cancelled: boolean } | null = null;
  /** A POP3GET in progress (POP3STOP cancels it). */
  private getting: { cancelled: boolean } | null = null;
  /** Path of the mail text the last POP3GET saved (AT+POP3READ prints it). */
  private lastSaved: string | null = null;

  constructor(port: ModemPort, parse: MessageParser) {
    this.port = port;
    this.parse = parse;
  }

  get networkBusy(): boolean {
    return this.getting !== null && this.pop3Session?.awaitingStream === true;
  }

  blocks(): boolean {
    return false;
  }

  shutdown(): void {
    if (this.sendJob) {
      this.sendJob.done = true;
      this.sendJob.session?.abort();
    }
    this.sendJob = null;
    if (this.getting) this.getting.cancelled = true;
    this.getting = null;
    if (this.login) this.login.cancelled = true;
    this.login = null;
    this.pop3Session?.abort();
    this.pop3Session = null;
  }

  bearerLost(cid: number): void {
    // The socket PDP context (AT+CGSOCKCONT profile 1) carries every session.
    if (cid !== 0 && cid !== 1) return;
    const job = this.sendJob;
    if (job !== null) this.finishSend(job, "NETWORK ERROR");
    if (this.login !== null) {
      this.login.cancelled = true;
      this.login = null;
      this.ok("+POP3: NETWORK ERROR");
    }
    if (this.pop3Session !== null) {
      this.pop3Session.abort();
      this.pop3Session = null;
      if (this.getting !== null) {
        this.getting.cancelled = true;
        this.getting = null;
        this.port.urc("+POP3: NETWORK ERROR");
      }
    }
  }

  private networkUp(): boolean {
    return this.port.bearerUp(0) && this.port.socketContextReady();
  }

  handle(command: AtCommand, params: Params): boolean {
    switch (command.name) {
      case "+SMTPSRV":
      case "+SMTPAUTH":
      case "+SMTPFROM":
      case "+SMTPRCPT": return this.smtpSetting(command, params);
      case "+SMTPSUB": return this.smtpText(command, params, "+SMTPSUB", 512);
      case "+SMTPBODY": return this.smtpText(command, params, "+SMTPBODY", 5120);
      case "+SMTPFILE": return this.smtpFile(command, params);
      case "+SMTPSEND": return this.smtpSend(command);
      case "+SMTPSTOP": return this.smtpStop(command);
      case "+POP3SRV": return this.pop3Srv(command, params);
      case "+POP3IN": return this.pop3In(command);
      case "+POP3NUM": return this.pop3Num(command);
      case "+POP3LIST": return this.pop3List(command, params);
      case "+POP3HDR": return this.pop3Hdr(command, params);
      case "+POP3GET": return this.pop3Get(command, params);
      case "+POP3READ": return this.pop3Read(command, params);
      case "+POP3DEL": return this.pop3Del(command, params);
      case "+POP3OUT": return this.pop3Out(command);
      case "+POP3STOP": return this.pop3Stop(command);
      case "+FSCD": return this.fsCd(command, params);
      case "+FSLS": return this.fsLs(command, params);
      case "+FSLOCA": return this.fsLoca(command, params);
      case "+FSMKDIR": return this.fsChange(command, params, (path) => this.port.fs.mkdir(path));
      case "+FSDEL": return this.fsChange(command, params, (path) => this.port.fs.remove(path));
      default: return false;
    }
  }

  /** The answer with OK; a failure result with ERROR instead where `classicFailureError` says so. */
  private ok(...info: string[]): true {
    const failure = info.length === 1 && FAILURE_RESULT.test(info[0]);
    this.port.reply(failure && this.port.options.quirks.classicFailureError ? `${CRLF}${info[0]}${CRLF}${CRLF}ERROR${CRLF}` : okResponse(...info));
    return true;
  }

  // ---- SMTP settings ------------------------------------------------------------------------

  private smtpSetting(command: AtCommand, params: Params): boolean {
    const info = this.smtp.handle(command, params);
    return info !== null && this.ok(...info);
  }

  /** AT+SMTPSUB="..." and the inline AT+SMTPBODY="...". */
  private smtpText(command: AtCommand, params: Params, name: "+SMTPSUB" | "+SMTPBODY", max: number): boolean {
    if (command.form === "test") return this.ok(`${name}: ${max}`);
    if (command.form === "read") return this.ok(`${name}: ${quoted(name === "+SMTPSUB" ? this.subject : this.body)}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const text = params.string(0, max, name === "+SMTPSUB" ? "subject" : "body");
    if (name === "+SMTPSUB") this.subject = text;
    else this.body = text;
    return this.ok();
  }

  private smtpFile(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+SMTPFILE: (1-${MAX_ATTACHMENTS}),64`);
    if (command.form === "read") {
      const lines = [...this.files.entries()].sort((a, b) => a[0] - b[0]).map(([n, path]) => `+SMTPFILE: ${n},${quoted(path)}`);
      return this.ok(...lines);
    }
    if (command.form === "exec") {
      this.files.clear();
      return this.ok();
    }
    if (command.form !== "write") return false;
    params.expectCount(1, 2);
    const slot = params.int(0, 1, MAX_ATTACHMENTS, "index");
    if (params.count === 1) {
      this.files.delete(slot);
      return this.ok();
    }
    const name = params.string(1, 64, "file name", 1);
    // "Select files from current directory": a name, not a path (AT+FSCD selects the folder).
    if (/[/\\]/.test(name)) throw new AtParamError(`+SMTPFILE: "${name}" is a path; the note selects a file of the current directory by name`);
    const path = this.port.fs.resolve(name, this.cwd);
    if (this.port.fs.isDirectory(path) || !this.port.fs.exists(path)) throw new AtParamError(`+SMTPFILE: no file ${path}`);
    this.files.set(slot, path);
    return this.ok();
  }

  // ---- sending ------------------------------------------------------------------------------

  private draft(attachments: Array<{ name: string }>): MailDraft {
    const clock = this.port.clock();
    const number = ++this.mailCounter;
    const stamp = new Date(clock.epochMs).toISOString().replace(/\D/g, "").slice(0, 14);
    const domain = this.smtp.sender.address.includes("@") ? this.smtp.sender.address.slice(this.smtp.sender.address.lastIndexOf("@") + 1) : "simcom";
    return {
      from: this.smtp.sender,
      to: this.smtp.ordered(0),
      cc: this.smtp.ordered(1),
      subject: latin1Bytes(this.subject),
      body: latin1Bytes(this.body),
      charset: null,
      date: clock,
      messageId: `<${stamp}.${number}.${this.port.imei}@${domain}>`,
      boundary: `----=_SIMCOM_${stamp}_${number}`,
      attachments: attachments.map((a) => ({ fileName: a.name, contentType: contentType(a.name), transferEncoding: "base64" as const })),
    };
  }

  /** The whole message, attachments read from the file system now. */
  private message(): Uint8Array | null {
    const fs = this.port.fs;
    const files = [...this.files.entries()].sort((a, b) => a[0] - b[0]).map(([, path]) => path);
    let total = 0;
    const contents: Array<{ name: string; data: Uint8Array }> = [];
    for (const path of files) {
      if (!fs.exists(path)) return null;
      const data = fs.read(path).slice();
      total += data.length;
      contents.push({ name: path.slice(path.lastIndexOf("/") + 1), data });
    }
    if (total > MAX_ATTACHMENT_BYTES) return null;
    const draft = this.draft(contents);
    const parts = [messageStart(draft)];
    contents.forEach((file, i) => {
      if (i > 0) parts.push(nextAttachment(draft, i));
      parts.push(base64Lines(file.data));
    });
    parts.push(messageEnd(draft));
    return concatBytes(parts);
  }

  private smtpSend(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    // "+SMTPSEND? can be used to inquire if SMTP client is in idle state": 0 idle, 1 busy.
    if (command.form === "read") return this.ok(`+SMTPSEND: ${this.sendJob === null ? 0 : 1}`);
    if (command.form !== "exec") return false;
    if (this.sendJob !== null) return this.ok("+SMTP: ONGOING");
    const recipients = this.smtp.envelopeRecipients();
    const message = this.smtp.server === "" || this.smtp.sender.address === "" || recipients.length === 0 ? null : this.message();
    if (message === null) return this.ok("+SMTP: PARAM ERROR");
    if (!this.networkUp()) return this.ok("+SMTP: NETWORK ERROR");
    if (this.port.faults.emailSupport === "send-fails") return this.ok("+SMTP: SERVER ERROR");

    const job: SendJob = { session: null, done: false };
    this.sendJob = job;
    const account = {
      host: this.smtp.server,
      port: this.smtp.port,
      credentials: this.smtp.credentials,
      secure: null, // the application note has no TLS commands
      clientName: "[10.89.193.100]",
      timeoutMs: this.port.timeoutMs(SERVER_TIMEOUT_SECONDS),
    };
    // The command waits for the TCP session: "+SMTP: OK" then OK, or the failure then OK.
    this.port.track(SmtpSession.open(this.port.network, account).then(
      async (session) => {
        if (job.done) {
          session.abort();
          return;
        }
        job.session = session;
        this.port.reply(okResponse("+SMTP: OK"));
        try {
          await session.begin(this.smtp.sender.address, recipients);
          if (job.done) return;
          await session.write(message);
          if (job.done) return;
          await session.end();
          this.finishSend(job, "SUCCESS");
        } catch (error) {
          if (!(error instanceof SmtpFailure)) throw error;
          this.finishSend(job, this.smtpResult(error.kind, error.recipient));
        }
      },
      (error: unknown) => {
        if (!(error instanceof SmtpFailure)) throw error;
        if (job.done) return;
        job.done = true;
        this.sendJob = null;
        this.ok(`+SMTP: ${error.kind === "bearer" ? "NETWORK ERROR" : "SERVER ERROR"}`);
      },
    ));
    return true;
  }

  private smtpResult(kind: SmtpFailureKind, recipient: string): string {
    switch (kind) {
      case "bearer": return "NETWORK ERROR";
      case "auth-required": return "AUTH REQUIRED";
      case "auth-failed": return "AUTH ERROR";
      case "bad-recipient": return `BAD RCPT ${recipient}`;
      default: return this.port.options.quirks.classicSessionFailure;
    }
  }

  private finishSend(job: SendJob, result: string): void {
    if (job.done) return;
    job.done = true;
    if (result !== "SUCCESS") job.session?.abort();
    if (this.sendJob === job) this.sendJob = null;
    if (job.session === null) this.ok(`+SMTP: ${result}`);
    else this.port.urc(`+SMTP: ${result}`);
  }

  private smtpStop(command: AtCommand): boolean {
    if (command.form !== "exec") return false;
    const job = this.sendJob;
    if (job !== null) {
      job.done = true;
      job.session?.abort();
      this.sendJob = null;
    }
    return this.ok();
  }

  // ---- POP3 ---------------------------------------------------------------------------------

  private pop3Srv(command: AtCommand, params: Params): boolean {
    const info = this.pop3.handle(command, params);
    return info !== null && this.ok(...info);
  }

  private pop3Result(kind: Pop3FailureKind): string {
    switch (kind) {
      case "bearer":
      case "dns":
      case "connect":
        return "NETWORK ERROR";
      case "bad-user": return "INVALID UN";
      case "bad-password": return "INVALID UN/PWD";
      default: return "SERVER ERROR";
    }
  }

  private pop3In(command: AtCommand): boolean {
    if (command.form !== "exec") return false;
    if (this.pop3.server === "") throw new AtParamError("+POP3IN: AT+POP3SRV was not set");
    if (this.pop3Session !== null) throw new AtParamError("+POP3IN: already logged in");
    if (!this.networkUp()) return this.ok("+POP3: NETWORK ERROR");
    if (this.port.faults.emailSupport === "send-fails") return this.ok("+POP3: SERVER ERROR");
    const account = this.pop3.account(this.port.timeoutMs(SERVER_TIMEOUT_SECONDS), null);
    const login = { cancelled: false };
    this.login = login;
    this.port.track(Pop3Session.open(this.port.network, account).then(
      (session) => {
        if (login.cancelled) {
          session.abort();
          return;
        }
        this.login = null;
        this.pop3Session = session;
        this.watchIdle(session);
        this.ok("+POP3: SUCCESS");
      },
      (error: unknown) => {
        if (!(error instanceof Pop3Failure)) throw error;
        if (login.cancelled) return;
        this.login = null;
        this.ok(`+POP3: ${this.pop3Result(error.kind)}`);
      },
    ));
    return true;
  }

  private requireSession(name: string): Pop3Session {
    const session = this.pop3Session;
    if (session === null) throw new AtParamError(`${name}: not logged in (AT+POP3IN)`);
    if (this.getting !== null) throw new AtParamError(`${name}: AT+POP3GET is still running`);
    return session;
  }

  /**
   * Runs a POP3 exchange while the command waits; a network failure closes the session and
   * answers `+POP3: <failure>`.
   */
  private exchange(session: Pop3Session, run: () => Promise<void>): void {
    this.port.track(run().catch((error: unknown) => {
      if (!(error instanceof Pop3Failure)) throw error;
      session.abort();
      if (this.pop3Session === session) this.pop3Session = null;
      this.ok(`+POP3: ${this.pop3Result(error.kind)}`);
    }));
  }

  private pop3Num(command: AtCommand): boolean {
    if (command.form !== "exec") return false;
    const session = this.requireSession("+POP3NUM");
    this.exchange(session, async () => {
      const status = await session.simple("STAT");
      const m = /^(\d+)\s+(\d+)/.exec(status.text);
      if (!status.ok || !m) {
        this.ok("+POP3: SERVER ERROR");
        return;
      }
      const asNote = this.port.options.quirks.classicNumAsAppNote && m[1] !== "0";
      this.ok(asNote ? `+POP3: ${m[1]} ${m[2]}` : `+POP3: ${m[1]}, ${m[2]}`);
    });
    return true;
  }

  private pop3List(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok("+POP3LIST: (1-65535)");
    if (command.form === "exec") {
      const session = this.requireSession("+POP3LIST");
      this.exchange(session, async () => {
        const answer = await this.collect(session, "LIST");
        if (answer === null) {
          this.ok("+POP3: SERVER ERROR");
          return;
        }
        const lines = latin1Text(unstuff(answer)).split(CRLF).filter((l) => l.trim() !== "");
        this.ok(...lines.map((line) => {
          const [n, size] = line.trim().split(/\s+/);
          return `+POP3: ${n}, ${size}`;
        }));
      });
      return true;
    }
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const number = params.int(0, 1, 65535, "index");
    const session = this.requireSession("+POP3LIST");
    this.exchange(session, async () => {
      const status = await session.simple(`LIST ${number}`);
      const size = status.text.trim().split(/\s+/)[1];
      this.ok(status.ok && size !== undefined ? `+POP3: ${number}, ${size}` : "+POP3: SERVER ERROR");
    });
    return true;
  }

  /** A whole multi-line answer, or null when the server answered -ERR. */
  private async collect(session: Pop3Session, verb: string): Promise<Uint8Array | null> {
    const parts: Uint8Array[] = [];
    let finish: () => void = () => {};
    const ended = new Promise<void>((resolve) => (finish = resolve));
    const status = await session.multi(verb, { status: () => {}, data: (bytes) => parts.push(bytes.slice()), end: () => finish() });
    if (!status.ok) return null;
    // A session that fails while the answer streams in rejects the wait.
    const failed = new Promise<never>((_, reject) => {
      session.onDropped = (failure) => reject(failure);
    });
    try {
      await Promise.race([ended, failed]);
    } finally {
      this.watchIdle(session);
    }
    return concatBytes(parts);
  }

  /** A session the server drops between commands is simply gone. */
  private watchIdle(session: Pop3Session): void {
    session.onDropped = () => {
      if (this.pop3Session === session) this.pop3Session = null;
    };
  }

  private pop3Hdr(command: AtCommand, params: Params): boolean {
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const number = params.int(0, 1, 65535, "index");
    const session = this.requireSession("+POP3HDR");
    this.exchange(session, async () => {
      const answer = await this.collect(session, `TOP ${number} 0`);
      if (answer === null) {
        this.ok("+POP3: SERVER ERROR");
        return;
      }
      const fields = headerFields(unstuff(answer));
      const lines = ["from", "date", "subject"].map((name) => fields.get(name)).filter((line): line is string => line !== undefined);
      this.ok(...lines);
    });
    return true;
  }

  private pop3Get(command: AtCommand, params: Params): boolean {
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const number = params.int(0, 1, 65535, "index");
    const session = this.requireSession("+POP3GET");
    const get = { cancelled: false };
    this.getting = get;
    this.ok();
    this.port.track((async () => {
      let result: string;
      try {
        const answer = await this.collect(session, `RETR ${number}`);
        if (get.cancelled) return;
        result = answer === null ? "+POP3: FAILURE" : await this.save(unstuff(answer));
      } catch (error) {
        if (get.cancelled) return;
        if (!(error instanceof Pop3Failure)) throw error;
        session.abort();
        if (this.pop3Session === session) this.pop3Session = null;
        result = `+POP3: ${this.pop3Result(error.kind)}`;
      }
      if (get.cancelled || !this.port.alive) return;
      this.getting = null;
      this.port.urc(result);
    })());
    return true;
  }

  /**
   * Saves a retrieved mail in `<drive>/Email/<yyMMddhhmmss>/`: EMAILnnn.TXT with Date, From,
   * To and Subject, a blank line and the text; each attachment under its own name.
   */
  private async save(message: Uint8Array): Promise<string> {
    const fs = this.port.fs;
    const parsed = await this.parse(message);
    const fields = headerFields(message);
    const head = ["date", "from", "to", "subject"].map((name) => fields.get(name)).filter((line): line is string => line !== undefined);
    const text = parsed.text.replace(/\r?\n/g, CRLF);
    const content = concatBytes([
      latin1Bytes(head.join(CRLF) + CRLF + CRLF),
      utf8Bytes(text.endsWith(CRLF) || text === "" ? text : text + CRLF),
    ]);
    const { epochMs, timezoneQuarters } = this.port.clock();
    const local = new Date(epochMs + timezoneQuarters * 15 * 60_000);
    const stamp = `${pad(local.getUTCFullYear() % 100)}${pad(local.getUTCMonth() + 1)}${pad(local.getUTCDate())}${pad(local.getUTCHours())}${pad(local.getUTCMinutes())}${pad(local.getUTCSeconds())}`;
    const dir = `${this.location === 0 ? "C:" : "D:"}/Email/${stamp}`;
    try {
      fs.mkdir(dir);
      let index = 0;
      const existing = fs.list(dir).files;
      while (existing.includes(`EMAIL${String(index).padStart(3, "0")}.TXT`)) index++;
      const name = `EMAIL${String(index).padStart(3, "0")}.TXT`;
      fs.write(`${dir}/${name}`, content);
      parsed.attachments.forEach((attachment, i) => {
        const fileName = (attachment.filename ?? `ATTACH${i}.BIN`).replace(/[/\\:]/g, "_");
        fs.write(`${dir}/${fileName}`, attachment.content);
      });
      this.lastSaved = `${dir}/${name}`;
      return `+POP3: SUCCESS${CRLF}${dir}/, ${name}`;
    } catch (error) {
      if (!(error instanceof FileSystemError)) throw error;
      this.port.trace(`POP3GET: ${error.message}`);
      // "POP3 client will close the session with POP3 server" on a file system error.
      this.pop3Session?.abort();
      this.pop3Session = null;
      return "+POP3: FILE SYSTEM ERROR";
    }
  }

  private pop3Read(command: AtCommand, params: Params): boolean {
    const fs = this.port.fs;
    let path: string;
    if (command.form === "exec") {
      if (this.lastSaved === null || !fs.exists(this.lastSaved)) throw new AtParamError("+POP3READ: no mail was saved by AT+POP3GET");
      path = this.lastSaved;
    } else if (command.form === "write") {
      params.expectCount(2, 2);
      const drive = params.int(0, 0, 1, "location") === 0 ? "C:" : "D:";
      path = fs.resolve(params.string(1, 128, "path", 1), `${drive}/Email`);
      if (fs.isDirectory(path) || !fs.exists(path)) throw new AtParamError(`+POP3READ: no file ${path}`);
    } else return false;
    this.port.reply(`${CRLF}${latin1Text(fs.read(path))}${CRLF}OK${CRLF}`);
    return true;
  }

  private pop3Del(command: AtCommand, params: Params): boolean {
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const number = params.int(0, 1, 65535, "index");
    const session = this.requireSession("+POP3DEL");
    this.exchange(session, async () => {
      const status = await session.simple(`DELE ${number}`);
      this.ok(status.ok ? "+POP3: SUCCESS" : "+POP3: SERVER ERROR");
    });
    return true;
  }

  private pop3Out(command: AtCommand): boolean {
    if (command.form !== "exec") return false;
    const session = this.requireSession("+POP3OUT");
    this.pop3Session = null;
    session.onDropped = null;
    this.port.track(session.quit().then(
      () => this.ok("+POP3: SUCCESS"),
      (error: unknown) => {
        if (!(error instanceof Pop3Failure)) throw error;
        this.ok(`+POP3: ${this.pop3Result(error.kind)}`);
      },
    ));
    return true;
  }

  private pop3Stop(command: AtCommand): boolean {
    if (command.form !== "exec") return false;
    if (this.getting !== null) this.getting.cancelled = true;
    this.getting = null;
    this.pop3Session?.abort();
    this.pop3Session = null;
    return this.ok();
  }

  // ---- file system --------------------------------------------------------------------------

  private fsCd(command: AtCommand, params: Params): boolean {
    const fs = this.port.fs;
    if (command.form === "read") return this.ok(`+FSCD: ${SimFileSystem.display(this.cwd)}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const path = fs.resolve(params.text(0, 128, "directory"), this.cwd);
    if (!fs.isDirectory(path)) throw new AtParamError(`+FSCD: no directory ${path}`);
    this.cwd = path;
    return this.ok(`+FSCD: ${SimFileSystem.display(path)}`);
  }

  private fsLs(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok("+FSLS: (0-2)");
    let mode = 0;
    if (command.form === "write") {
      params.expectCount(1, 1);
      mode = params.int(0, 0, 2, "type");
    } else if (command.form !== "exec") return false;
    const { directories, files } = this.port.fs.list(this.cwd);
    const sections: string[][] = [];
    if (mode !== 2 && directories.length > 0) sections.push(["+FSLS: SUBDIRECTORIES:", ...directories]);
    if (mode !== 1 && files.length > 0) sections.push(["+FSLS: FILES:", ...files]);
    return this.ok(...sections.flatMap((section, i) => (i === 0 ? section : ["", ...section])));
  }

  private fsLoca(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok("+FSLOCA: (0,1)");
    if (command.form === "read") return this.ok(`+FSLOCA: ${this.location}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const location = params.int(0, 0, 1, "location");
    if (location === 1 && !this.port.fs.storageCard) throw new AtParamError("+FSLOCA: no storage card (D:)");
    this.location = location;
    return this.ok();
  }

  private fsChange(command: AtCommand, params: Params, change: (path: string) => void): boolean {
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    try {
      change(this.port.fs.resolve(params.text(0, 128, "name"), this.cwd));
    } catch (error) {
      if (error instanceof FileSystemError) throw new AtParamError(error.message);
      throw error;
    }
    return this.ok();
  }
}
