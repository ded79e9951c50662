// The SIM7000 email commands (spec section 3): settings, AT+SMTPSEND with the AT+SMTPFT
// attachment loop, and the POP3 commands with AT+POP3READ, each backed by a real SMTP or
// POP3 session.

import { AtParamError, type AtCommand, type Params } from "./at-parser.ts";
import {
  AttachmentDataError, Base64Encoder, Base64Passthrough, messageEnd, messageStart, SevenBitText,
  type AttachmentEncoder, type MailDraft,
} from "./mime.ts";
import { ERROR_RESPONSE, okResponse, quoted, type EmailDialect, type ModemPort } from "./modem.ts";
import type { SecureTransport, TlsParams } from "./network.ts";
import { POP3_CODES, Pop3Failure, Pop3Session, type StatusLine } from "./pop3-client.ts";
import { SMTP_CODES, SmtpFailure, SmtpSession } from "./smtp-client.ts";
import { Pop3Settings, SmtpSettings } from "./email-settings.ts";
import type { TimerHandle } from "../scheduler.ts";
import { AbandonWatch } from "./abandoned-sessions.ts";
import { concatBytes, hexBytes, latin1Bytes, latin1Text } from "./bytes.ts";

/** AT+CSSLCFG contexts 0-5 (SIM7080); AT+EMAILSSL names the one email uses. */
const SSL_CONTEXTS = 6;
/** SNI names up to this many bytes. */
const SNI_MAX_LENGTH = 64;
/**
 * `<sslversion>`: 0 SSL 3.0 (which the simulator cannot speak: the handshake fails), 1 TLS 1.0,
 * 2 TLS 1.1, 3 TLS 1.2, 4 all of TLS 1.0-1.3 (the default).
 */
const SSL_VERSIONS: Array<TlsParams["versions"]> = [
  null,
  { min: "TLSv1", max: "TLSv1" },
  { min: "TLSv1.1", max: "TLSv1.1" },
  { min: "TLSv1.2", max: "TLSv1.2" },
  { min: "TLSv1", max: "TLSv1.3" },
];
const DEFAULT_SSL_VERSION = 4;

/** Highest message number the POP3 test commands report. */
const MAX_MESSAGE_NUMBER = 65535;
const CRLF = "\r\n";

/** "ASCII" (or "US-ASCII") means text as is; any other charset means hex text. */
export function isAsciiCharset(charset: string): boolean {
  return /^(us-)?ascii$/i.test(charset);
}

function smtpCode(error: unknown): number {
  if (error instanceof SmtpFailure) return SMTP_CODES[error.kind];
  throw error;
}

function pop3Code(error: unknown): number {
  if (error instanceof Pop3Failure) return POP3_CODES[error.kind];
  throw error;
}

/** One AT+SMTPSEND in progress. */
interface SendJob {
  cid: number;
  draft: MailDraft;
  encoder: AttachmentEncoder | null;
  session: SmtpSession | null;
  /** "connecting" until the modem asks for attachment data; "ready" waits for AT+SMTPFT. */
  state: "connecting" | "ready" | "writing" | "finishing";
  chunks: number;
  done: boolean;
  /** Runs while the modem waits for the host's next AT+SMTPFT (field behaviour). */
  watch: AbandonWatch;
}

/** The multi-line answer of AT+POP3CMD as AT+POP3READ hands it out. */
class ReadBuffer {
  private readonly parts: Uint8Array[] = [];
  /** Bytes the host can read now. */
  visible = 0;
  /** Bytes received but held back by the trickle option. */
  private readonly held: Uint8Array[] = [];
  heldBytes = 0;
  serverDone = false;
  /** The last read came back short: announce new data with `+POP3READ: 3,<n>`. */
  announce = false;
  /** Any AT+POP3READ since the last reminder tick. */
  readSinceTick = false;
  /** Since when unread data has waited without an AT+POP3READ (modem clock ms). */
  idleSince: number;
  reminder: TimerHandle | null = null;
  trickle: TimerHandle | null = null;

  constructor(now: number) {
    this.idleSince = now;
  }

  get complete(): boolean {
    return this.serverDone && this.heldBytes === 0 && this.visible === 0;
  }

  show(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.visible += bytes.length;
  }

  hold(bytes: Uint8Array): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Moves up to `max` held bytes to the visible part. */
  release(max: number): number {
    let moved = 0;
    while (moved < max && this.held.length > 0) {
      const head = this.held[0];
      const take = Math.min(head.length, max - moved);
      this.show(head.slice(0, take));
      if (take === head.length) this.held.shift();
      else this.held[0] = head.subarray(take);
      this.heldBytes -= take;
      moved += take;
    }
    return moved;
  }

  take(max: number): Uint8Array {
    const out: Uint8Array[] = [];
    let taken = 0;
    while (taken < max && this.parts.length > 0) {
      const head = this.parts[0];
      const n = Math.min(head.length, max - taken);
      out.push(head.subarray(0, n));
      if (n === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(n);
      taken += n;
    }
    this.visible -= taken;
    return concatBytes(out);
  }
}

export class Sim7000Email implements EmailDialect {
  private readonly port: ModemPort;

  // Settings (NO_SAVE: a reset brings the defaults back).
  private cid = 0;
  private timeoutSeconds = 30;
  private readonly smtp = new SmtpSettings(() => this.limits, "rcptType");
  private readonly pop3 = new Pop3Settings(() => this.limits);
  private subject = "";
  private body: Uint8Array = new Uint8Array(0);
  private file = { type: 0, name: "", encoding: 0 };
  private charset = "ASCII";
  // AT+EMAILSSL (0 clear text, 1 TLS from the first byte, 2 STARTTLS/STLS) and its context.
  private emailSsl = 0;
  private sslContext = 0;
  private readonly sslContexts = Array.from({ length: SSL_CONTEXTS }, () => ({ version: DEFAULT_SSL_VERSION, sni: "" }));

  private sendJob: SendJob | null = null;
  private mailCounter = 0;

  // POP3: the session, a command waiting for the server, an answer waiting for AT+POP3READ.
  private pop3Session: Pop3Session | null = null;
  private pop3Cid = 0;
  private pop3Busy = false;
  private loginAttempt: { cid: number; cancelled: boolean } | null = null;
  private reading: ReadBuffer | null = null;
  /** A login no POP3 command has touched for a while ends (field behaviour). */
  private readonly pop3Watch: AbandonWatch;

  constructor(port: ModemPort) {
    this.port = port;
    this.pop3Watch = new AbandonWatch(port, port.options.abandonedSessions.pop3Ms, () => this.pop3Abandoned());
  }

  get networkBusy(): boolean {
    return this.reading !== null && !this.reading.serverDone && this.pop3Session?.awaitingStream === true;
  }

  blocks(command: AtCommand): boolean {
    // Spec 3.2.19: other commands wait until the answer was read completely.
    return this.reading !== null && command.name !== "+POP3READ" && command.name !== "+POP3OUT";
  }

  shutdown(): void {
    this.sendJob?.watch.stop();
    this.pop3Watch.stop();
    this.sendJob?.session?.abort();
    if (this.sendJob) this.sendJob.done = true;
    this.sendJob = null;
    this.pop3Session?.abort();
    this.pop3Session = null;
    if (this.loginAttempt) this.loginAttempt.cancelled = true;
    this.reading = null;
  }

  bearerLost(cid: number): void {
    const job = this.sendJob;
    if (job !== null && job.cid === cid) this.finishSend(job, 61);
    const login = this.loginAttempt;
    if (login !== null && login.cid === cid) {
      login.cancelled = true;
      this.loginAttempt = null;
      this.pop3Busy = false;
      this.port.urc("+POP3IN: 61");
    }
    if (this.pop3Session !== null && this.pop3Cid === cid) this.pop3Lost(61);
  }

  handle(command: AtCommand, params: Params): boolean {
    if (this.pop3Session !== null && command.name.startsWith("+POP3")) this.pop3Watch.touch();
    switch (command.name) {
      case "+EMAILCID": return this.emailCid(command, params);
      case "+EMAILTO": return this.emailTimeout(command, params);
      case "+SMTPSRV":
      case "+SMTPAUTH":
      case "+SMTPFROM":
      case "+SMTPRCPT": return this.smtpSetting(command, params);
      case "+SMTPSUB": return this.smtpSub(command, params);
      case "+SMTPBODY": return this.smtpBody(command, params);
      case "+SMTPFILE": return this.smtpFile(command, params);
      case "+SMTPCS": return this.smtpCharset(command, params);
      case "+SMTPSEND": return this.smtpSend(command);
      case "+SMTPFT": return this.smtpFt(command, params);
      case "+POP3SRV": return this.pop3Srv(command, params);
      case "+POP3IN": return this.pop3In(command);
      case "+POP3NUM": return this.pop3Num(command);
      case "+POP3LIST": return this.pop3Single(command, params, "+POP3LIST", "LIST");
      case "+POP3UIDL": return this.pop3Single(command, params, "+POP3UIDL", "UIDL");
      case "+POP3DEL": return this.pop3Single(command, params, "+POP3DEL", "DELE");
      case "+POP3RSET": return this.pop3Rset(command);
      case "+POP3CMD": return this.pop3Cmd(command, params);
      case "+POP3READ": return this.pop3Read(command, params);
      case "+POP3OUT": return this.pop3Out(command);
      // Absent unless the firmware has them (options.tls.commands): ERROR as unknown commands.
      case "+EMAILSSL": return this.port.options.tls.commands && this.emailSslCommand(command, params);
      case "+CSSLCFG": return this.port.options.tls.commands && this.sslConfig(command, params);
      default: return false;
    }
  }

  private ok(...info: string[]): true {
    this.port.reply(okResponse(...info));
    return true;
  }

  private get limits() {
    return this.port.options.limits;
  }

  // ---- settings -----------------------------------------------------------------------------

  private emailCid(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok("+EMAILCID: (0-3)");
    if (command.form === "read") return this.ok(`+EMAILCID: ${this.cid}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    this.cid = params.int(0, 0, 3, "cid");
    return this.ok();
  }

  private emailTimeout(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok("+EMAILTO: (10-120)");
    if (command.form === "read") return this.ok(`+EMAILTO: ${this.timeoutSeconds}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    this.timeoutSeconds = params.int(0, 10, 120, "timeout");
    return this.ok();
  }

  /** `AT+EMAILSSL=<n>[,<ctxindex>]` (SIM7080 form; SIM800's `AT+EMAILSSL=<n>` uses context 0). */
  private emailSslCommand(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+EMAILSSL: (0-2),(0-${SSL_CONTEXTS - 1})`);
    if (command.form === "read") return this.ok(`+EMAILSSL: ${this.emailSsl},${this.sslContext}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 2);
    const mode = params.int(0, 0, 2, "ssl");
    this.sslContext = params.has(1) ? params.int(1, 0, SSL_CONTEXTS - 1, "ctxindex") : 0;
    this.emailSsl = mode;
    return this.ok();
  }

  /** `AT+CSSLCFG="sslversion",<ctx>,<ver>` and `AT+CSSLCFG="sni",<ctx>,"<name>"` ("" = none). */
  private sslConfig(command: AtCommand, params: Params): boolean {
    const last = SSL_CONTEXTS - 1;
    if (command.form === "test") {
      return this.ok(`+CSSLCFG: "sslversion",(0-${last}),(0-${SSL_VERSIONS.length - 1})`, `+CSSLCFG: "sni",(0-${last}),${SNI_MAX_LENGTH}`);
    }
    if (command.form === "read") {
      return this.ok(...this.sslContexts.map((ctx, index) => `+CSSLCFG: ${index},${ctx.version},${quoted(ctx.sni)}`));
    }
    if (command.form !== "write") return false;
    params.expectCount(3, 3);
    const type = params.string(0, 16, "type", 1).toLowerCase();
    const context = this.sslContexts[params.int(1, 0, last, "ctxindex")];
    if (type === "sslversion") {
      context.version = params.int(2, 0, SSL_VERSIONS.length - 1, "sslversion");
      return this.ok();
    }
    if (type === "sni") {
      const name = params.string(2, SNI_MAX_LENGTH, "server name");
      if (/[^\x21-\x7e]/.test(name)) throw new AtParamError(`+CSSLCFG: server name "${name}" has spaces or non-ASCII bytes`);
      context.sni = name;
      return this.ok();
    }
    throw new AtParamError(`+CSSLCFG: type "${type}" is not simulated (sslversion, sni)`);
  }

  /** The TLS settings of the next SMTP or POP3 session, or null for clear text. */
  private secureTransport(): SecureTransport | null {
    if (this.emailSsl === 0) return null;
    const context = this.sslContexts[this.sslContext];
    return {
      mode: this.emailSsl === 1 ? "implicit" : "starttls",
      params: { ca: this.port.options.tls.ca, servername: context.sni, versions: SSL_VERSIONS[context.version] },
    };
  }

  private smtpSetting(command: AtCommand, params: Params): boolean {
    const info = this.smtp.handle(command, params);
    return info !== null && this.ok(...info);
  }

  private smtpSub(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+SMTPSUB: ${this.limits.subject}`);
    if (command.form === "read") return this.ok(`+SMTPSUB: ${quoted(this.subject)}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const subject = params.string(0, this.limits.subject, "subject");
    if (!isAsciiCharset(this.charset) && hexBytes(subject) === null) {
      throw new AtParamError(`+SMTPSUB: with charset ${this.charset} the subject must be hex text`);
    }
    this.subject = subject;
    return this.ok();
  }

  private smtpBody(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+SMTPBODY: ${this.limits.body}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const length = params.int(0, 0, this.limits.body, "length");
    this.port.write(`${CRLF}DOWNLOAD${CRLF}`);
    this.port.expectData(length, (data) => {
      if (!isAsciiCharset(this.charset) && hexBytes(latin1Text(data)) === null) {
        this.port.trace(`+SMTPBODY: with charset ${this.charset} the body must be hex text`);
        this.port.reply(ERROR_RESPONSE);
        return;
      }
      this.body = data;
      this.port.reply(okResponse());
    });
    return true;
  }

  private smtpFile(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+SMTPFILE: (0-2),${this.limits.fileName},(0-1)`);
    if (command.form === "read") return this.ok(`+SMTPFILE: ${this.file.type},${quoted(this.file.name)},${this.file.encoding}`);
    if (command.form !== "write") return false;
    const type = params.int(0, 0, 2, "fileType");
    if (type === 0) {
      params.expectCount(1, 1);
      this.file = { type: 0, name: "", encoding: 0 };
      return this.ok();
    }
    params.expectCount(3, 3);
    const name = params.string(1, this.limits.fileName, "file name", 1);
    const encoding = params.int(2, 0, 1, "encodeType");
    // A txt file goes 7bit (0), a binary file base64 (1).
    if (encoding !== type - 1) throw new AtParamError(`+SMTPFILE: file type ${type} needs encodeType ${type - 1}`);
    this.file = { type, name, encoding };
    return this.ok();
  }

  private smtpCharset(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+SMTPCS: ${this.limits.charset}`);
    if (command.form === "read") return this.ok(`+SMTPCS: ${quoted(this.charset)}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const charset = params.string(0, this.limits.charset, "charset", 1);
    if (!/^[A-Za-z0-9_.:+-]+$/.test(charset)) throw new AtParamError(`+SMTPCS: "${charset}" is not a charset name`);
    this.charset = charset;
    return this.ok();
  }

  // ---- sending ------------------------------------------------------------------------------

  /** The message as the modem will build it, or null when a setting is missing or invalid. */
  private draft(): MailDraft | null {
    const ascii = isAsciiCharset(this.charset);
    const subject = ascii ? latin1Bytes(this.subject) : hexBytes(this.subject);
    const body = ascii ? this.body : hexBytes(latin1Text(this.body));
    if (subject === null || body === null) return null;
    const clock = this.port.clock();
    const number = ++this.mailCounter;
    const stamp = new Date(clock.epochMs).toISOString().replace(/\D/g, "").slice(0, 14);
    const domain = this.smtp.sender.address.includes("@") ? this.smtp.sender.address.slice(this.smtp.sender.address.lastIndexOf("@") + 1) : "sim7000";
    const file = this.file;
    return {
      from: this.smtp.sender,
      to: this.smtp.ordered(0),
      cc: this.smtp.ordered(1),
      subject,
      body,
      charset: ascii ? null : this.charset,
      date: clock,
      messageId: `<${stamp}.${number}.${this.port.imei}@${domain}>`,
      boundary: `----=_SIM7000_${stamp}_${number}`,
      attachments: file.type === 0 ? [] : [{
        fileName: file.name,
        contentType: file.type === 1 ? "text/plain" : "application/octet-stream",
        transferEncoding: file.type === 1 ? "7bit" : "base64",
      }],
    };
  }

  private smtpSend(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "exec") return false;
    if (this.sendJob !== null) throw new AtParamError("+SMTPSEND: a mail is being sent");
    const recipients = this.smtp.envelopeRecipients();
    if (this.smtp.server === "" || this.smtp.sender.address === "" || recipients.length === 0) {
      throw new AtParamError("+SMTPSEND: server, sender and at least one recipient must be set");
    }
    const draft = this.draft();
    if (draft === null) throw new AtParamError(`+SMTPSEND: subject or body is not hex text as charset ${this.charset} requires`);
    this.ok();
    if (this.port.faults.emailSupport === "send-fails") {
      this.port.urc("+SMTPSEND: 65");
      return true;
    }
    if (!this.port.bearerUp(this.cid)) {
      this.port.urc("+SMTPSEND: 61");
      return true;
    }
    const file = this.file;
    const encoder = file.type === 0 ? null
      : file.type === 1 ? new SevenBitText()
      : this.port.options.smtp.attachmentEncoding === "host" ? new Base64Passthrough() : new Base64Encoder();
    const job: SendJob = { cid: this.cid, draft, encoder, session: null, state: "connecting", chunks: 0, done: false, watch: null! };
    job.watch = new AbandonWatch(this.port, this.port.options.abandonedSessions.smtpMs, () => this.finishSend(job, 64));
    this.sendJob = job;
    this.port.track(this.runSend(job, recipients));
    return true;
  }

  private async runSend(job: SendJob, recipients: string[]): Promise<void> {
    const account = {
      host: this.smtp.server,
      port: this.smtp.port,
      credentials: this.smtp.credentials,
      secure: this.secureTransport(),
      clientName: `[${this.port.bearerIp(job.cid)}]`,
      timeoutMs: this.port.timeoutMs(this.timeoutSeconds),
    };
    try {
      const session = await SmtpSession.open(this.port.network, account);
      if (job.done) {
        session.abort();
        return;
      }
      job.session = session;
      await session.begin(job.draft.from.address, recipients);
      if (job.done) return;
      await session.write(messageStart(job.draft));
      if (job.done) return;
      if (job.encoder !== null) {
        job.state = "ready";
        session.onDropped = (failure) => this.finishSend(job, SMTP_CODES[failure.kind]);
        job.watch.touch();
        this.port.urc(`+SMTPFT: 1,${this.ftMaxLength(job)}`);
        return;
      }
      await session.end();
      this.finishSend(job, 1);
    } catch (error) {
      this.finishSend(job, smtpCode(error));
    }
  }

  private ftMaxLength(job: SendJob): number {
    const shrink = this.port.faults.ftShrink;
    if (shrink !== null && job.chunks >= shrink.afterChunks) return shrink.maxLength;
    return this.port.options.smtp.ftMaxLength;
  }

  private finishSend(job: SendJob, code: number): void {
    if (job.done) return;
    job.done = true;
    job.watch.stop();
    if (code !== 1) job.session?.abort();
    if (this.sendJob === job) this.sendJob = null;
    this.port.urc(`+SMTPSEND: ${code}`);
  }

  private smtpFt(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const job = this.sendJob;
    if (job === null || job.state !== "ready") throw new AtParamError("+SMTPFT: the modem is not waiting for attachment data");
    job.watch.stop();
    const max = this.ftMaxLength(job);
    const requested = params.int(0, 0, max, "reqLength");
    const session = job.session!;
    if (requested === 0) {
      job.state = "finishing";
      this.ok();
      this.port.track((async () => {
        try {
          session.onDropped = null;
          await session.write(concatBytes([job.encoder!.finish(), messageEnd(job.draft)]));
          await session.end();
          this.finishSend(job, 1);
        } catch (error) {
          this.finishSend(job, smtpCode(error));
        }
      })());
      return true;
    }
    const limit = this.port.faults.ftConfirmLimit;
    const confirmed = limit === null ? requested : Math.min(requested, limit);
    this.port.write(`${CRLF}+SMTPFT: 2,${confirmed}${CRLF}`);
    this.port.expectData(confirmed, (data) => {
      let encoded: Uint8Array;
      try {
        encoded = job.encoder!.push(data);
      } catch (error) {
        if (!(error instanceof AttachmentDataError)) throw error;
        this.port.trace(`+SMTPFT: ${error.message}`);
        this.port.reply(ERROR_RESPONSE);
        job.watch.touch();
        this.port.urc(`+SMTPFT: 1,${this.ftMaxLength(job)}`);
        return;
      }
      job.chunks++;
      job.state = "writing";
      this.port.reply(okResponse());
      this.port.track(session.write(encoded).then(
        () => {
          if (job.done) return;
          job.state = "ready";
          job.watch.touch();
          this.port.urc(`+SMTPFT: 1,${this.ftMaxLength(job)}`);
        },
        (error: unknown) => this.finishSend(job, smtpCode(error)),
      ));
    });
    return true;
  }

  // ---- POP3 ---------------------------------------------------------------------------------

  private pop3Srv(command: AtCommand, params: Params): boolean {
    const info = this.pop3.handle(command, params);
    return info !== null && this.ok(...info);
  }

  private pop3In(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "exec") return false;
    if (this.pop3.server === "") throw new AtParamError("+POP3IN: AT+POP3SRV was not set");
    if (this.pop3Session !== null || this.loginAttempt !== null) throw new AtParamError("+POP3IN: already logged in");
    this.ok();
    if (this.port.faults.emailSupport === "send-fails") {
      this.port.urc("+POP3IN: 65");
      return true;
    }
    if (!this.port.bearerUp(this.cid)) {
      this.port.urc("+POP3IN: 61");
      return true;
    }
    const attempt = { cid: this.cid, cancelled: false };
    this.loginAttempt = attempt;
    const account = this.pop3.account(this.port.timeoutMs(this.timeoutSeconds), this.secureTransport());
    this.port.track(Pop3Session.open(this.port.network, account).then(
      (session) => {
        if (attempt.cancelled) {
          session.abort();
          return;
        }
        this.loginAttempt = null;
        this.pop3Session = session;
        this.pop3Cid = attempt.cid;
        session.onDropped = (failure) => this.pop3Lost(POP3_CODES[failure.kind]);
        this.pop3Watch.touch();
        this.port.urc("+POP3IN: 1");
      },
      (error: unknown) => {
        if (attempt.cancelled) return;
        this.loginAttempt = null;
        this.port.urc(`+POP3IN: ${pop3Code(error)}`);
      },
    ));
    return true;
  }

  /** The session ended without AT+POP3OUT: `+POP3OUT: <code>`. */
  private pop3Lost(code: number): void {
    this.pop3Watch.stop();
    this.pop3Session?.abort();
    this.pop3Session = null;
    this.pop3Busy = false;
    this.stopReading();
    this.port.urc(`+POP3OUT: ${code}`);
  }

  /** No POP3 command for the field's time: the modem ends the login (unread data: 69, else 64). */
  private pop3Abandoned(): void {
    if (this.pop3Session === null) return;
    if (this.pop3Busy && this.reading === null) {
      this.pop3Watch.touch(); // the server is still answering the last command
      return;
    }
    this.pop3Lost(this.reading !== null ? 69 : 64);
  }

  /** Runs one POP3 exchange for a command already answered with OK. */
  private pop3Exchange(run: (session: Pop3Session) => Promise<void>): void {
    const session = this.pop3Session!;
    this.pop3Busy = true;
    this.port.track(run(session).then(
      () => {
        if (this.pop3Session === session) this.pop3Busy = false;
      },
      (error: unknown) => {
        if (this.pop3Session === session) this.pop3Lost(pop3Code(error));
      },
    ));
  }

  private requireSession(name: string): void {
    if (this.pop3Session === null) throw new AtParamError(`${name}: not logged in (AT+POP3IN)`);
    if (this.pop3Busy) throw new AtParamError(`${name}: the previous POP3 command is still running`);
  }

  private pop3Num(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "exec") return false;
    this.requireSession("+POP3NUM");
    this.ok();
    this.pop3Exchange(async (session) => {
      const status = await session.simple("STAT");
      const m = /^(\d+)\s+(\d+)/.exec(status.text);
      this.port.urc(status.ok && m ? `+POP3NUM: 1,${m[1]},${m[2]}` : "+POP3NUM: 0");
    });
    return true;
  }

  /** AT+POP3LIST / AT+POP3UIDL / AT+POP3DEL =<msgNumber>. */
  private pop3Single(command: AtCommand, params: Params, name: string, verb: string): boolean {
    if (command.form === "test") return this.ok(`${name}: (1-${MAX_MESSAGE_NUMBER})`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const number = params.int(0, 1, MAX_MESSAGE_NUMBER, "msgNumber");
    this.requireSession(name);
    this.ok();
    this.pop3Exchange(async (session) => {
      const status = await session.simple(`${verb} ${number}`);
      this.port.urc(this.singleResult(name, number, status));
    });
    return true;
  }

  private singleResult(name: string, number: number, status: StatusLine): string {
    if (!status.ok) return `${name}: 0`;
    if (name === "+POP3DEL") return `${name}: 1`;
    const value = status.text.trim().split(/\s+/)[1];
    if (value === undefined) return `${name}: 0`;
    if (name === "+POP3UIDL" && this.port.options.quirks.uidlOnNextLine) return `${name}: 1,${number},${CRLF}${value}`;
    if (name === "+POP3LIST") return `${name}: 1,${number},${Math.floor(Number(value) / this.port.faults.listSizeDivisor)}`;
    return `${name}: 1,${number},${value}`;
  }

  private pop3Rset(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "exec") return false;
    this.requireSession("+POP3RSET");
    this.ok();
    this.pop3Exchange(async (session) => {
      const status = await session.simple("RSET");
      const negative = this.port.options.quirks.rsetNegativeSpelling ? "+POP3REST: 0" : "+POP3RSET: 0";
      this.port.urc(status.ok ? "+POP3RSET: 1" : negative);
    });
    return true;
  }

  private pop3Cmd(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.ok(`+POP3CMD: (1-4),(1-${MAX_MESSAGE_NUMBER}),(0-65535)`);
    if (command.form !== "write") return false;
    const type = params.int(0, 1, 4, "cmdType");
    let verb: string;
    if (type <= 2) {
      params.expectCount(1, 1);
      verb = type === 1 ? "LIST" : "UIDL";
    } else if (type === 3) {
      params.expectCount(3, 3);
      verb = `TOP ${params.int(1, 1, MAX_MESSAGE_NUMBER, "msgNumber")} ${params.int(2, 0, 65535, "lineNumber")}`;
    } else {
      params.expectCount(2, 2);
      verb = `RETR ${params.int(1, 1, MAX_MESSAGE_NUMBER, "msgNumber")}`;
    }
    this.requireSession("+POP3CMD");
    this.ok();
    this.pop3Exchange(async (session) => {
      const buffer = new ReadBuffer(this.now());
      const status = await session.multi(verb, {
        status: (line) => {
          this.reading = buffer;
          if (this.port.options.pop3.statusLine) buffer.show(latin1Bytes(`${line.line}${CRLF}`));
          this.startReadTimers(buffer);
        },
        data: (bytes) => this.arrived(buffer, bytes.slice()),
        end: () => {
          buffer.serverDone = true;
          this.announceIfWaiting(buffer);
        },
      });
      this.port.urc(status.ok ? "+POP3CMD: 1" : "+POP3CMD: 0");
    });
    return true;
  }

  private arrived(buffer: ReadBuffer, bytes: Uint8Array): void {
    if (this.reading !== buffer) return;
    if (this.port.options.pop3.trickle !== null) buffer.hold(bytes);
    else this.show(buffer, bytes);
    if (buffer.visible + buffer.heldBytes >= this.port.options.pop3.bufferBytes) this.pop3Session?.pause();
    this.announceIfWaiting(buffer);
  }

  private show(buffer: ReadBuffer, bytes: Uint8Array): void {
    if (buffer.visible === 0) buffer.idleSince = this.now();
    buffer.show(bytes);
  }

  /** After a short read, the next data (or the end of the answer) is announced once. */
  private announceIfWaiting(buffer: ReadBuffer): void {
    if (this.reading !== buffer || !buffer.announce) return;
    if (buffer.visible === 0 && !buffer.complete) return;
    buffer.announce = false;
    this.port.urc(`+POP3READ: 3,${buffer.visible}`);
  }

  private startReadTimers(buffer: ReadBuffer): void {
    const pop3 = this.port.options.pop3;
    const tick = () => {
      buffer.reminder = null;
      if (this.reading !== buffer) return;
      if (buffer.visible > 0 && this.now() - buffer.idleSince >= pop3.abandonMs) {
        // Spec 3.2.19: data left unread too long makes the modem quit the POP3 process.
        this.pop3Lost(69);
        return;
      }
      if (!buffer.readSinceTick && buffer.visible > 0) this.port.urc(`+POP3READ: 3,${buffer.visible}`);
      buffer.readSinceTick = false;
      buffer.reminder = this.port.setTimer(tick, pop3.reminderMs);
    };
    buffer.reminder = this.port.setTimer(tick, pop3.reminderMs);
    const trickle = pop3.trickle;
    if (trickle !== null) {
      const release = () => {
        buffer.trickle = null;
        if (this.reading !== buffer) return;
        if (buffer.visible === 0 && buffer.heldBytes > 0) buffer.idleSince = this.now();
        if (buffer.release(trickle.bytes) > 0) {
          this.announceIfWaiting(buffer);
          this.resumeIfRoom(buffer);
        }
        if (buffer.heldBytes > 0 || !buffer.serverDone) buffer.trickle = this.port.setTimer(release, trickle.intervalMs);
        else this.announceIfWaiting(buffer);
      };
      buffer.trickle = this.port.setTimer(release, trickle.intervalMs);
    }
  }

  private now(): number {
    return this.port.clock().epochMs;
  }

  private resumeIfRoom(buffer: ReadBuffer): void {
    if (buffer.visible + buffer.heldBytes < this.port.options.pop3.bufferBytes) this.pop3Session?.resume();
  }

  private stopReading(): void {
    const buffer = this.reading;
    if (buffer === null) return;
    if (buffer.reminder !== null) this.port.clearTimer(buffer.reminder);
    if (buffer.trickle !== null) this.port.clearTimer(buffer.trickle);
    this.reading = null;
  }

  private pop3Read(command: AtCommand, params: Params): boolean {
    const max = this.limits.pop3Read;
    if (command.form === "test") return this.ok(`+POP3READ: (1-${max})`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const requested = params.int(0, 1, max, "reqLength");
    const buffer = this.reading;
    if (buffer === null) throw new AtParamError("+POP3READ: no multi-line answer to read (AT+POP3CMD)");
    const data = buffer.take(requested);
    buffer.idleSince = this.now();
    buffer.readSinceTick = true;
    const complete = buffer.complete;
    const extra = this.port.options.pop3.readExtraCrlf ? CRLF : "";
    this.port.reply(`${CRLF}+POP3READ: ${complete ? 2 : 1},${data.length}${CRLF}${latin1Text(data)}${extra}${CRLF}OK${CRLF}`);
    if (complete) {
      this.stopReading();
      return true;
    }
    if (data.length < requested) buffer.announce = true;
    this.resumeIfRoom(buffer);
    return true;
  }

  private pop3Out(command: AtCommand): boolean {
    if (command.form === "test") return this.ok();
    if (command.form !== "exec") return false;
    const session = this.pop3Session;
    if (session === null) throw new AtParamError("+POP3OUT: not logged in");
    if (this.pop3Busy && this.reading === null) throw new AtParamError("+POP3OUT: a POP3 command is still running");
    this.ok();
    this.stopReading();
    this.pop3Busy = true;
    session.onDropped = null;
    this.port.track((async () => {
      let code = 1;
      try {
        await session.drain();
        await session.quit();
      } catch (error) {
        code = pop3Code(error);
      }
      if (this.pop3Session !== session) return;
      this.pop3Watch.stop();
      this.pop3Session = null;
      this.pop3Busy = false;
      this.port.urc(`+POP3OUT: ${code}`);
    })());
    return true;
  }
}
