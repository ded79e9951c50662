// The modem's SMTP client over a real TCP connection. Every way a session can fail is named
// (`SmtpFailureKind`) so each dialect can turn it into its own result code or URC.

import { NetError, SESSION_CODES, type Connection, type SecureTransport, type ServerAccount, type SimNetwork } from "./network.ts";
import { base64Text, concatBytes, latin1Bytes } from "./bytes.ts";

export type SmtpFailureKind =
  | "bearer" // no network for the session
  | "dns"
  | "connect"
  | "tls" // TLS handshake failed: untrusted certificate, name mismatch, no common protocol
  | "timeout" // the server stopped answering
  | "closed" // the server (or the network) dropped the connection
  | "protocol" // an unexpected reply
  | "auth-required" // the server wants AUTH and the modem has no credentials
  | "auth-failed"
  | "bad-recipient";

export class SmtpFailure extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "SmtpFailure";
  readonly kind: SmtpFailureKind;
  /** The refused address for "bad-recipient". */
  readonly recipient: string;
  constructor(kind: SmtpFailureKind, message: string, recipient = "") {
    super(message);
    this.kind = kind;
    this.recipient = recipient;
  }
}

/** sim7000 `+SMTPSEND: <code>` for each failure. */
export const SMTP_CODES: Record<SmtpFailureKind, number> = {
  ...SESSION_CODES,
  "auth-required": 66,
  "auth-failed": 67,
  "bad-recipient": 68,
};

export interface SmtpAccount extends ServerAccount {
  /** null: AUTH is not attempted. */
  credentials: { user: string; password: string } | null;
  /** Name given in EHLO/HELO. */
  clientName: string;
}

interface Reply {
  code: number;
  lines: string[];
}

function fromNet(error: unknown): SmtpFailure {
  if (error instanceof SmtpFailure) return error;
  if (error instanceof NetError) {
    const kind: SmtpFailureKind = error.failure === "bearer" ? "bearer" : error.failure;
    return new SmtpFailure(kind, error.message);
  }
  return new SmtpFailure("protocol", error instanceof Error ? error.message : String(error));
}

export class SmtpSession {
  private readonly connection: Connection;
  private readonly account: SmtpAccount;
  private atLineStart = true;
  private lastTwo = [13, 10];

  private constructor(connection: Connection, account: SmtpAccount) {
    this.connection = connection;
    this.account = account;
  }

  /** TCP connection and the server's 220 greeting. */
  static open(network: SimNetwork, account: SmtpAccount): Promise<SmtpSession> {
    return network.openSession(account, fromNet, (connection) => new SmtpSession(connection, account), async (session) => {
      const greeting = await session.reply();
      if (greeting.code !== 220) throw new SmtpFailure("protocol", `greeting was ${greeting.code} ${greeting.lines.join(" ")}`);
    });
  }

  /** Called if the server drops the connection while the modem is not waiting for it. */
  set onDropped(callback: ((failure: SmtpFailure) => void) | null) {
    this.connection.onClose = callback === null ? null : (error) => callback(fromNet(error));
  }

  /** EHLO (HELO if refused) and AUTH; then MAIL FROM, RCPT TO for each, DATA. */
  async begin(sender: string, recipients: string[]): Promise<void> {
    try {
      let hello = await this.command(`EHLO ${this.account.clientName}`);
      const secure = this.account.secure;
      if (secure?.mode === "starttls") hello = await this.startTls(hello, secure);
      if (hello.code !== 250) {
        hello = await this.command(`HELO ${this.account.clientName}`);
        if (hello.code !== 250) throw new SmtpFailure("protocol", `HELO answered ${hello.code}`);
      }
      const credentials = this.account.credentials;
      const mechanisms = authMechanisms(hello.lines);
      if (credentials !== null && mechanisms.length > 0) await this.authenticate(credentials, mechanisms);

      const mail = await this.command(`MAIL FROM:<${sender}>`);
      if (mail.code === 530) throw new SmtpFailure("auth-required", `MAIL FROM answered ${describe(mail)}`);
      if (mail.code !== 250) throw new SmtpFailure("protocol", `MAIL FROM answered ${describe(mail)}`);
      for (const recipient of recipients) {
        const rcpt = await this.command(`RCPT TO:<${recipient}>`);
        if (rcpt.code === 530) throw new SmtpFailure("auth-required", `RCPT TO answered ${describe(rcpt)}`);
        if (rcpt.code !== 250 && rcpt.code !== 251) throw new SmtpFailure("bad-recipient", `RCPT TO:<${recipient}> answered ${describe(rcpt)}`, recipient);
      }
      const data = await this.command("DATA");
      if (data.code !== 354) throw new SmtpFailure("protocol", `DATA answered ${describe(data)}`);
    } catch (error) {
      this.connection.destroy();
      throw fromNet(error);
    }
  }

  /** STARTTLS (RFC 3207) after the first EHLO, then EHLO again over TLS; returns that answer. */
  private async startTls(hello: Reply, secure: SecureTransport): Promise<Reply> {
    if (hello.code !== 250 || !hello.lines.some((line) => /^STARTTLS$/i.test(line.trim()))) {
      throw new SmtpFailure("protocol", `the server does not offer STARTTLS (EHLO answered ${describe(hello)})`);
    }
    const go = await this.command("STARTTLS");
    if (go.code !== 220) throw new SmtpFailure("protocol", `STARTTLS answered ${describe(go)}`);
    await this.connection.startTls(this.account.host, secure.params, this.account.timeoutMs);
    const secured = await this.command(`EHLO ${this.account.clientName}`);
    if (secured.code !== 250) throw new SmtpFailure("protocol", `EHLO after STARTTLS answered ${describe(secured)}`);
    return secured;
  }

  private async authenticate(credentials: { user: string; password: string }, mechanisms: string[]): Promise<void> {
    const b64 = (text: string) => base64Text(latin1Bytes(text));
    let reply: Reply;
    if (mechanisms.includes("LOGIN")) {
      reply = await this.command("AUTH LOGIN");
      if (reply.code === 334) reply = await this.command(b64(credentials.user), "<user>");
      if (reply.code === 334) reply = await this.command(b64(credentials.password), "<password>");
    } else if (mechanisms.includes("PLAIN")) {
      reply = await this.command(`AUTH PLAIN ${b64(`\0${credentials.user}\0${credentials.password}`)}`, "AUTH PLAIN <credentials>");
    } else {
      throw new SmtpFailure("protocol", `the server offers AUTH ${mechanisms.join(" ")}, neither LOGIN nor PLAIN`);
    }
    if (reply.code === 235) return;
    if (reply.code >= 500) throw new SmtpFailure("auth-failed", `AUTH answered ${describe(reply)}`);
    throw new SmtpFailure("protocol", `AUTH answered ${describe(reply)}`);
  }

  /** Message bytes after DATA; dot-stuffed on the way. Resolves when the OS took them. */
  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    // Line starts found with indexOf: a dot there is doubled, everything else passes in slices.
    const parts: Uint8Array[] = [];
    let from = 0;
    let start = this.atLineStart ? 0 : afterNewline(bytes, 0);
    while (start >= 0 && start < bytes.length) {
      if (bytes[start] === 46) {
        parts.push(bytes.subarray(from, start), STUFFED_DOT);
        from = start;
      }
      start = afterNewline(bytes, start);
    }
    parts.push(bytes.subarray(from));
    this.atLineStart = bytes[bytes.length - 1] === 10;
    this.lastTwo = [bytes.length > 1 ? bytes[bytes.length - 2] : this.lastTwo[1], bytes[bytes.length - 1]];
    try {
      await this.connection.write(concatBytes(parts));
    } catch (error) {
      throw fromNet(error);
    }
  }

  /** Ends the message (`CRLF . CRLF`) and waits for the server to accept it; then QUIT. */
  async end(): Promise<void> {
    const endsWithCrlf = this.lastTwo[0] === 13 && this.lastTwo[1] === 10;
    try {
      await this.connection.write(endsWithCrlf ? ".\r\n" : "\r\n.\r\n");
      const accepted = await this.reply();
      if (accepted.code !== 250) throw new SmtpFailure("protocol", `the message was answered ${describe(accepted)}`);
    } catch (error) {
      this.connection.destroy();
      throw fromNet(error);
    }
    this.connection.close("QUIT\r\n");
  }

  abort(): void {
    this.connection.destroy();
  }

  /** `shown` replaces secrets in the trace. */
  private async command(line: string, shown = line): Promise<Reply> {
    await this.connection.write(`${line}\r\n`, shown);
    return this.reply();
  }

  private async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.connection.readLine(this.account.timeoutMs);
      const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!match) throw new SmtpFailure("protocol", `not an SMTP reply: "${line}"`);
      lines.push(match[3]);
      if (match[2] !== "-") return { code: Number(match[1]), lines };
    }
  }
}

const STUFFED_DOT = Uint8Array.of(46);

/** The index after the next LF at or after `from`, or -1. */
function afterNewline(bytes: Uint8Array, from: number): number {
  const newline = bytes.indexOf(10, from);
  return newline < 0 ? -1 : newline + 1;
}

function describe(reply: Reply): string {
  return `${reply.code} ${reply.lines.join(" / ")}`;
}

/** AUTH mechanisms from EHLO lines ("AUTH PLAIN LOGIN" or the old "AUTH=LOGIN"). */
function authMechanisms(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const match = /^AUTH[ =](.*)$/i.exec(line);
    if (match) for (const m of match[1].trim().split(/\s+/)) out.push(m.toUpperCase());
  }
  return out;
}
