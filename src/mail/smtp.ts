// Sending mail with the SIM7000's own SMTP client (spec section 3, examples 5.2-5.4).
// The attachment streams through one fixed chunk buffer: each AT+SMTPFT chunk is read from
// the source, base64-encoded in place and written, with no allocation per chunk.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine } from "../transport/engine.ts";
import { ascii } from "../transport/bytes.ts";
import { MatchTable } from "../transport/match.ts";
import { query } from "../modem/basic.ts";
import type { TlsCapabilities } from "../modem/probe.ts";
import { displayName, writeParties, writeServer } from "./envelope.ts";
import { Base64Encoder, base64ExpandInPlace } from "./codec/base64.ts";
import { isAscii } from "./codec/utf8.ts";
import { Utf8HexStream, hexOfUtf8 } from "./codec/hex.ts";
import { MailError, MailParameterError, SmtpError } from "./errors.ts";
import { planSecurity, TLS_HINT, writeSecurity, type SecurityPlan, type SecuritySettings } from "./security.ts";
import {
  checkAddress, checkBody, checkHost, checkPort, checkSubject, checkText, DEFAULT_LIMITS,
  type Address, type Attachment, type ByteSource, type EmailLimits, type MailMessage, type ServerAccount,
} from "./message.ts";

export interface SendOptions {
  /** Raw attachment bytes sent so far and in all. */
  onProgress?: (sent: number, total: number) => void;
}

export interface SmtpSettings extends SecuritySettings {
  server: ServerAccount;
  /** Bearer profile (AT+EMAILCID). Default 1. */
  cid?: number;
  /** Server response timeout in seconds (AT+EMAILTO, 10-120). Default 30. */
  timeoutSeconds?: number;
  limits?: EmailLimits;
}

const DOWNLOAD = ascii("DOWNLOAD");
const SEND_RESULT = 0;
const FT_STATE = 1;

/** AT+SMTPBODY=<n>, `DOWNLOAD`, then exactly n body bytes (ASCII text or UTF-8 hex), then OK. */
class BodyCommand extends AtCommand {
  private readonly hex = new Utf8HexStream("");
  private ascii = "";
  private asciiPos = 0;
  private useHex = false;
  length = 0;

  constructor() {
    super(24);
    this.prompt = DOWNLOAD;
    this.timeoutMs = 10_000;
  }

  setBody(body: string, hex: boolean): void {
    this.useHex = hex;
    if (hex) {
      this.hex.reset(body);
      this.length = this.hex.totalLength;
    } else {
      this.ascii = body;
      this.asciiPos = 0;
      this.length = body.length;
    }
    this.text.reset().raw("AT+SMTPBODY=").int(this.length).end();
  }

  override onPrompt(): number {
    this.sendLength = this.length;
    return Verdict.Send;
  }

  override fillPayload(out: Uint8Array, offset: number, length: number): void {
    if (this.useHex) {
      this.hex.read(out, offset, length);
      return;
    }
    for (let i = 0; i < length; i++) out[offset + i] = this.ascii.charCodeAt(this.asciiPos++);
  }
}

/** AT+SMTPSEND and AT+SMTPFT=<n>: both end with `+SMTPFT: 1,<max>` (send more) or `+SMTPSEND: <code>`. */
class TransferCommand extends AtCommand {
  /** Result: code of +SMTPSEND (0 = none yet) and the next allowed chunk (0 = none). */
  sendCode = 0;
  nextMax = 0;
  /** Bytes asked for with AT+SMTPFT=<n>, and confirmed by +SMTPFT: 2,<cnf>. */
  requested = 0;
  confirmed = 0;
  chunk: Uint8Array | null = null;
  private chunkPos = 0;

  constructor(timeoutMs: number) {
    super(24);
    this.okIsFinal = false;
    this.timeoutMs = timeoutMs;
    this.responses = new MatchTable([
      { text: "+SMTPSEND:", id: SEND_RESULT },
      { text: "+SMTPFT:", id: FT_STATE },
    ]);
  }

  override prepare(): void {
    super.prepare();
    this.sendCode = 0;
    this.nextMax = 0;
    this.confirmed = 0;
    this.chunkPos = 0;
  }

  override onMatch(id: number, line: Line): number {
    if (id === SEND_RESULT) {
      this.sendCode = line.int();
      return this.result();
    }
    const state = line.int();
    const value = line.int();
    if (state === 2) {
      if (!(value >= 0 && value <= this.requested)) {
        this.error = new MailError("smtp", `the modem confirmed ${value} attachment bytes for a request of ${this.requested}`);
        return Verdict.Fail;
      }
      this.confirmed = value;
      this.sendLength = value;
      return value > 0 ? Verdict.Send : Verdict.Continue;
    }
    if (state === 1) {
      this.nextMax = value;
      return this.result();
    }
    return Verdict.Continue;
  }

  override fillPayload(out: Uint8Array, offset: number, length: number): void {
    const chunk = this.chunk!;
    for (let i = 0; i < length; i++) out[offset + i] = chunk[this.chunkPos++];
  }
}

/**
 * The AT+SMTPFT loop as a callback state machine: one Promise for the whole attachment,
 * one reused command and one chunk buffer for every chunk.
 */
class AttachmentUpload {
  private readonly engine: AtEngine;
  private readonly cmd: TransferCommand;
  private readonly chunk: Uint8Array;
  private readonly encoder = new Base64Encoder();
  private source: ByteSource | null = null;
  private hostBase64 = false;
  private sourceDone = false;
  private finished = false;
  /** Prepared bytes at the front of `chunk` not yet confirmed by the modem. */
  private pending = 0;
  private requested = 0;
  private sentRaw = 0;
  private progress: ((sent: number, total: number) => void) | undefined;
  private resolve: ((code: number) => void) | null = null;
  private reject: ((error: Error) => void) | null = null;

  constructor(engine: AtEngine, chunkCapacity: number, timeoutMs: number) {
    this.engine = engine;
    this.chunk = new Uint8Array(chunkCapacity);
    this.cmd = new TransferCommand(timeoutMs);
    this.cmd.chunk = this.chunk;
    this.cmd.onEnd = (error) => this.chunkEnded(error);
  }

  /** Runs the loop from the first `+SMTPFT: 1,<max>`; resolves with the +SMTPSEND code. */
  run(source: ByteSource, hostBase64: boolean, firstMax: number, progress?: (sent: number, total: number) => void): Promise<number> {
    this.source = source;
    this.hostBase64 = hostBase64;
    this.sourceDone = false;
    this.finished = false;
    this.pending = 0;
    this.sentRaw = 0;
    this.progress = progress;
    this.encoder.reset();
    source.rewind();
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.next(firstMax);
    });
  }

  private next(max: number): void {
    try {
      const n = this.finished ? 0 : this.fill(max < this.chunk.length ? max : this.chunk.length);
      if (n === 0) this.finished = true;
      this.requested = n;
      this.cmd.requested = n;
      this.cmd.text.reset().raw("AT+SMTPFT=").int(n).end();
      this.engine.submit(this.cmd);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Makes up to `limit` bytes ready at the front of the chunk; returns how many are ready. */
  private fill(limit: number): number {
    if (this.pending > 0 || this.sourceDone) return this.pending < limit ? this.pending : limit;
    const source = this.source!;
    const chunk = this.chunk;
    if (!this.hostBase64) {
      const n = source.read(chunk, 0, limit);
      this.sentRaw += n;
      if (n === 0) this.sourceDone = true;
      this.pending = n;
      return n;
    }
    const rawRoom = this.encoder.rawBytesFor(limit);
    const rawOffset = limit - rawRoom;
    let raw = 0;
    while (raw < rawRoom) {
      const n = source.read(chunk, rawOffset + raw, rawRoom - raw);
      if (n === 0) {
        this.sourceDone = true;
        break;
      }
      raw += n;
    }
    this.sentRaw += raw;
    let encoded = base64ExpandInPlace(chunk, rawOffset, raw, this.encoder);
    if (this.sourceDone) encoded += this.encoder.finish(chunk, encoded);
    this.pending = encoded;
    return encoded;
  }

  private chunkEnded(error: Error | null): void {
    const cmd = this.cmd;
    if (error !== null) {
      const detail = error instanceof MailError ? "" : `: ${error.message}`;
      this.fail(cmd.sendCode > 1 ? new SmtpError(cmd.sendCode) : error instanceof SmtpError ? error : new MailError("smtp", `attachment transfer failed${detail}`, { cause: error }));
      return;
    }
    if (this.requested > 0) {
      const sent = cmd.confirmed < this.requested ? cmd.confirmed : this.requested;
      // The modem may confirm less than asked: keep the rest for the next chunk.
      if (sent < this.pending) this.chunk.copyWithin(0, sent, this.pending);
      this.pending -= sent;
      this.progress?.(this.sentRaw - (this.hostBase64 ? 0 : this.pending), this.source!.size);
    }
    if (cmd.sendCode !== 0) {
      this.settle(cmd.sendCode);
      return;
    }
    if (cmd.nextMax > 0) {
      this.next(cmd.nextMax);
      return;
    }
    this.fail(new MailError("smtp", "the modem ended an attachment chunk without +SMTPFT or +SMTPSEND"));
  }

  private settle(code: number): void {
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    this.source = null;
    resolve?.(code);
  }

  private fail(error: Error): void {
    const reject = this.reject;
    this.resolve = this.reject = null;
    this.source = null;
    reject?.(error);
  }
}

/** Text attachments go 7bit: every byte must be ASCII without NUL. Checked before sending. */
function checkSevenBit(source: ByteSource, scratch: Uint8Array): void {
  source.rewind();
  for (;;) {
    const n = source.read(scratch, 0, scratch.length);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const b = scratch[i];
      if (b === 0 || b > 127) {
        throw new MailParameterError("smtp", "attachment", `is not 7-bit text (byte 0x${b.toString(16)}); send it as binary`);
      }
    }
  }
  source.rewind();
}

export class SmtpClient {
  readonly engine: AtEngine;
  limits: EmailLimits;
  private readonly body = new BodyCommand();
  private readonly upload: AttachmentUpload;
  /** From the probe: what AT+EMAILSSL offers (null: nothing); undefined = not probed. */
  tls: TlsCapabilities | null | undefined = undefined;
  /** Charset last set on the modem; "" = unknown (after a reset). */
  private charset = "";
  /** AT+EMAILSSL mode last set (0 is the modem's default after a reset). */
  private sslMode = 0;

  constructor(engine: AtEngine, limits: EmailLimits = DEFAULT_LIMITS, chunkCapacity = 1460) {
    this.engine = engine;
    this.limits = limits;
    this.upload = new AttachmentUpload(engine, chunkCapacity, 130_000);
  }

  /** Forget modem-side state (after a modem reset). */
  forget(): void {
    this.charset = "";
    this.sslMode = 0;
  }

  /** Sends one mail; resolves when the modem reports `+SMTPSEND: 1`. */
  async send(settings: SmtpSettings, message: MailMessage, options: SendOptions = {}): Promise<void> {
    const plan = this.check(settings, message);
    const engine = this.engine;
    const emailTimeout = settings.timeoutSeconds ?? 30;
    const server = settings.server;

    await query(engine, (c) => c.text.raw("AT+EMAILCID=").int(settings.cid ?? 1), 5000);
    await query(engine, (c) => c.text.raw("AT+EMAILTO=").int(emailTimeout), 5000);
    // Before AT+SMTPAUTH: the password is only handed over once the session will be secured.
    this.sslMode = await writeSecurity(engine, plan.security, this.sslMode);
    await writeServer(engine, server);
    const charset = plan.unicode ? "UTF-8" : "ASCII";
    if (charset !== this.charset) {
      await query(engine, (c) => c.text.raw("AT+SMTPCS=").quoted(charset, "charset"), 5000);
      this.charset = charset;
    }
    await writeParties(engine, message.from.address, plan.fromName, plan.recipients);
    await query(engine, (c) => c.text.raw("AT+SMTPSUB=").quoted(plan.subject, "subject"), 5000, null);
    this.body.setBody(message.body, plan.unicode);
    await engine.run(this.body);

    const attachment = message.attachment;
    if (attachment !== undefined) {
      const binary = (attachment.type ?? "binary") === "binary";
      await query(engine, (c) => c.text.raw("AT+SMTPFILE=").int(binary ? 2 : 1).raw(",").quoted(attachment.name, "attachment name").raw(binary ? ",1" : ",0"), 5000);
    } else {
      await query(engine, (c) => c.text.raw("AT+SMTPFILE=0"), 5000);
    }

    const transferTimeout = (emailTimeout + 10) * 1000;
    const start = new TransferCommand(transferTimeout);
    start.text.raw("AT+SMTPSEND").end();
    await engine.run(start);
    let code = start.sendCode;
    if (code === 0 && start.nextMax > 0) {
      if (attachment === undefined || attachment.source === undefined) {
        throw new MailError("smtp", "the modem asked for attachment data but the mail has none");
      }
      const hostBase64 = (attachment.type ?? "binary") === "binary" && (attachment.encoding ?? "host") === "host";
      code = await this.upload.run(attachment.source, hostBase64, start.nextMax, options.onProgress);
    }
    if (code !== 1) throw new SmtpError(code, "", code === 63 && plan.security.mode !== 0 ? TLS_HINT : "");
  }

  /** Every field checked, and the modem-side text worked out, before any byte is written. */
  private check(settings: SmtpSettings, message: MailMessage): {
    security: SecurityPlan; unicode: boolean; subject: string; fromName: string | null;
    recipients: Array<Array<{ address: string; name: string | null }>>;
  } {
    const limits = this.limits;
    const server = settings.server;
    checkHost("smtp", "SMTP server", server.host, limits.smtpServer);
    if (server.port !== undefined) checkPort("smtp", "SMTP port", server.port);
    if (server.user !== undefined) {
      checkText("smtp", "SMTP user", server.user, limits.smtpUser);
      checkText("smtp", "SMTP password", server.password ?? "", limits.smtpPassword);
    }
    const cid = settings.cid ?? 1;
    if (!Number.isInteger(cid) || cid < limits.cid[0] || cid > limits.cid[1]) {
      throw new MailParameterError("smtp", "bearer cid", `${cid} is outside ${limits.cid[0]}-${limits.cid[1]}`);
    }
    const timeout = settings.timeoutSeconds ?? 30;
    if (!Number.isInteger(timeout) || timeout < limits.timeout[0] || timeout > limits.timeout[1]) {
      throw new MailParameterError("smtp", "timeout", `${timeout} s is outside ${limits.timeout[0]}-${limits.timeout[1]} s`);
    }
    if (!message || typeof message !== "object") throw new MailParameterError("smtp", "message", "is missing");
    if (!message.from) throw new MailParameterError("smtp", "sender", "is missing");
    checkAddress("smtp", "sender address", message.from.address, limits.senderAddress);
    const fromName = displayName("sender name", message.from.name, limits.senderName);
    const recipients = [message.to ?? [], message.cc ?? [], message.bcc ?? []].map((list, type) => {
      const kind = ["To", "Cc", "Bcc"][type];
      if (!Array.isArray(list)) throw new MailParameterError("smtp", `${kind} recipients`, "must be a list");
      const count = limits.recipientIndex[1] - limits.recipientIndex[0] + 1;
      if (list.length > count) throw new MailParameterError("smtp", `${kind} recipients`, `${list.length} given; this modem takes at most ${count}`);
      return list.map((r: Address, i: number) => ({
        address: checkAddress("smtp", `${kind} recipient ${i + 1} address`, r?.address, limits.recipientAddress),
        name: displayName(`${kind} recipient ${i + 1} name`, r?.name, limits.recipientName),
      }));
    });
    if (recipients[0].length + recipients[1].length + recipients[2].length === 0) {
      throw new MailParameterError("smtp", "recipients", "at least one To, Cc or Bcc recipient is needed");
    }
    checkSubject("smtp", message.subject);
    checkBody("smtp", message.body);
    const unicode = !isAscii(message.subject) || !isAscii(message.body) || hasControl(message.subject);
    const subject = unicode ? hexOfUtf8(message.subject) : message.subject;
    if (!unicode) checkText("smtp", "subject", subject, limits.subject);
    else if (subject.length > limits.subject) {
      throw new MailParameterError("smtp", "subject", `is ${subject.length / 2} bytes of UTF-8 (${subject.length} hex characters); this modem takes at most ${limits.subject} characters`);
    }
    const bodyLength = unicode ? new Utf8HexStream(message.body).totalLength : message.body.length;
    if (bodyLength > limits.body) {
      throw new MailParameterError("smtp", "body", `needs ${bodyLength} characters on the wire${unicode ? " (UTF-8 as hex)" : ""}; this modem takes at most ${limits.body}`);
    }
    if (message.attachment !== undefined) this.checkAttachment(message.attachment);
    const security = planSecurity("smtp", settings, this.tls, server.user !== undefined);
    return { security, unicode, subject, fromName, recipients };
  }

  private checkAttachment(attachment: Attachment): void {
    checkText("smtp", "attachment name", attachment.name, this.limits.fileName);
    if (attachment.name === "") throw new MailParameterError("smtp", "attachment name", "is empty");
    const type = attachment.type ?? "binary";
    if (type !== "binary" && type !== "text") throw new MailParameterError("smtp", "attachment type", `"${String(type)}" is neither "binary" nor "text"`);
    const encoding = attachment.encoding ?? "host";
    if (encoding !== "host" && encoding !== "modem") throw new MailParameterError("smtp", "attachment encoding", `"${String(encoding)}" is neither "host" nor "modem"`);
    if (attachment.source === undefined) throw new MailParameterError("smtp", "attachment", "has no data source");
    if (type === "text") checkSevenBit(attachment.source, this.scratch());
  }

  private scratchBuf: Uint8Array | null = null;
  private scratch(): Uint8Array {
    return (this.scratchBuf ??= new Uint8Array(256));
  }
}

/** Tabs and other controls in an ASCII subject cannot go in quotes: send such a subject hex-encoded. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 32) return true;
  return false;
}
