// Sending mail with the SIM7000's own SMTP client (spec section 3, examples 5.2-5.4). The
// body goes after a DOWNLOAD prompt, the attachment by AT+SMTPFT chunks (smtp-upload.ts).

import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine } from "../transport/engine.ts";
import { runStep, steps } from "../transport/step.ts";
import type { TlsCapabilities } from "../modem/probe.ts";
import { checkEnvelope, writeParties, writeServer, writeSubject, type CheckedEnvelope } from "./envelope.ts";
import { checkSession, writeSession } from "./session.ts";
import { AttachmentUpload, SMTP_STEPS, TransferCommand } from "./smtp-upload.ts";
import { isAscii } from "./codec/utf8.ts";
import { Utf8HexStream, hexOfUtf8 } from "./codec/hex.ts";
import { MailError, MailParameterError, SmtpError } from "./errors.ts";
import { planSecurity, TLS_HINT, writeSecurity, type SecurityPlan, type SecuritySettings } from "./security.ts";
import {
  checkBody, checkText, DEFAULT_LIMITS, type Attachment, type ByteSource, type EmailLimits, type MailMessage, type ServerAccount,
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
}

const SMTP = steps({
  charset: { request: 'AT+SMTPCS="<charset>"', timeoutMs: 5000 },
  // Then DOWNLOAD, exactly <length> body bytes (ASCII text or UTF-8 hex), OK.
  body: { request: "AT+SMTPBODY=<length>", prompt: "DOWNLOAD", timeoutMs: 10_000, session: true },
  attachment: { request: 'AT+SMTPFILE=<kind>,"<attachment name>",<modem encodes>', timeoutMs: 5000 },
  noAttachment: { request: "AT+SMTPFILE=0", timeoutMs: 5000 },
});

/** AT+SMTPBODY=<n>, `DOWNLOAD`, then exactly n body bytes (ASCII text or UTF-8 hex), then OK. */
class BodyCommand extends AtCommand {
  private readonly hex = new Utf8HexStream("");
  private ascii = "";
  private asciiPos = 0;
  private useHex = false;
  length = 0;

  constructor() {
    super(24);
    this.prompt = SMTP.body.promptBytes;
    this.timeoutMs = SMTP.body.timeoutMs;
    this.session = SMTP.body.session;
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
    SMTP.body.write(this.text, [this.length]);
    this.owedIfPromptLost = this.length;
  }

  override onPrompt(): Verdict {
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
    this.upload = new AttachmentUpload(engine, chunkCapacity);
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
    const server = settings.server;

    await writeSession(engine, plan.cid, plan.timeoutSeconds);
    // Before AT+SMTPAUTH: the password is only handed over once the session will be secured.
    this.sslMode = await writeSecurity(engine, plan.security, this.sslMode);
    await writeServer(engine, server);
    const charset = plan.unicode ? "UTF-8" : "ASCII";
    if (charset !== this.charset) {
      await runStep(engine, SMTP.charset, [charset]);
      this.charset = charset;
    }
    await writeParties(engine, message.from.address, plan.fromName, plan.recipients);
    await writeSubject(engine, plan.subject);
    this.body.setBody(message.body, plan.unicode);
    await engine.run(this.body);

    const attachment = message.attachment;
    if (attachment !== undefined) {
      const binary = (attachment.type ?? "binary") === "binary";
      await runStep(engine, SMTP.attachment, [binary ? 2 : 1, attachment.name, binary ? 1 : 0]);
    } else {
      await runStep(engine, SMTP.noAttachment);
    }

    const start = new TransferCommand(SMTP_STEPS.send, SMTP_STEPS.send.timeoutMs + plan.timeoutSeconds * 1000);
    start.request(SMTP_STEPS.send, 0);
    await engine.run(start);
    let code = start.sendCode;
    if (code === 0 && start.nextMax > 0) {
      if (attachment === undefined || attachment.source === undefined) {
        throw new MailError("smtp", "modem-protocol", "the modem asked for attachment data but the mail has none");
      }
      const hostBase64 = (attachment.type ?? "binary") === "binary" && (attachment.encoding ?? "host") === "host";
      code = await this.upload.run(attachment.source, hostBase64, start.nextMax, options.onProgress);
    }
    if (code !== 1) throw new SmtpError(code, "", code === 63 && plan.security.mode !== 0 ? TLS_HINT : "");
  }

  /** Every field checked, and the modem-side text worked out, before any byte is written. */
  private check(settings: SmtpSettings, message: MailMessage): CheckedEnvelope & {
    security: SecurityPlan; unicode: boolean; subject: string; cid: number; timeoutSeconds: number;
  } {
    const limits = this.limits;
    const envelope = checkEnvelope(settings.server, message, {
      ...limits, recipientsPerList: limits.recipientIndex[1] - limits.recipientIndex[0] + 1,
    });
    const { cid, timeoutSeconds } = checkSession("smtp", settings, limits);
    checkBody("smtp", message.body);
    const unicode = !isAscii(message.subject) || !isAscii(message.body) || hasControl(message.subject);
    const subject = unicode ? hexOfUtf8(message.subject) : message.subject;
    if (!unicode) checkText("smtp", "subject", subject, limits.subject);
    else if (subject.length > limits.subject) {
      throw new MailParameterError("smtp", "subject", `is ${subject.length / 2} bytes of UTF-8 (${subject.length} hex characters); this modem takes at most ${limits.subject} characters`, limits.subject);
    }
    const bodyLength = unicode ? new Utf8HexStream(message.body).totalLength : message.body.length;
    if (bodyLength > limits.body) {
      throw new MailParameterError("smtp", "body", `needs ${bodyLength} characters on the wire${unicode ? " (UTF-8 as hex)" : ""}; this modem takes at most ${limits.body}`, limits.body);
    }
    if (message.attachment !== undefined) this.checkAttachment(message.attachment);
    const security = planSecurity("smtp", settings, this.tls, settings.server.user !== undefined);
    return { ...envelope, security, unicode, subject, cid, timeoutSeconds };
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
