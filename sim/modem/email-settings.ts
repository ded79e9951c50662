// The email settings both dialects keep alike: AT+SMTPSRV, AT+SMTPAUTH, AT+SMTPFROM,
// AT+SMTPRCPT and AT+POP3SRV, with each dialect's limits and parameter names, and what a send
// or a login takes from them.

import type { AtCommand, Params } from "./at-parser.ts";
import type { Mailbox } from "./mime.ts";
import { quoted, recipientListing, type SimLimits } from "./modem.ts";
import type { SecureTransport } from "./network.ts";
import type { Pop3Account } from "./pop3-client.ts";

export type SmtpSettingLimits = Pick<SimLimits,
  "smtpServer" | "smtpUser" | "smtpPassword" | "senderAddress" | "senderName" | "recipientAddress" | "recipientName" | "recipientsPerType">;

export class SmtpSettings {
  server = "";
  port = 25;
  /** 0 no AUTH, 1 AUTH with `user` and `password`. */
  authType = 0;
  user = "";
  password = "";
  sender: Mailbox = { address: "", name: "" };
  /** To, Cc, Bcc: index → recipient. */
  readonly recipients: Array<Map<number, Mailbox>> = [new Map(), new Map(), new Map()];

  /** `limits` is read at each command (the simulator's options may change); `recipientType` names AT+SMTPRCPT's first parameter in errors. */
  constructor(private readonly limits: () => SmtpSettingLimits, private readonly recipientType: string) {}

  /**
   * Runs one of the four commands: the information lines of its OK answer, or null when the
   * command is none of them or has no such form. Bad parameters throw the parser's errors.
   */
  handle(command: AtCommand, params: Params): string[] | null {
    switch (command.name) {
      case "+SMTPSRV": return this.smtpSrv(command, params);
      case "+SMTPAUTH": return this.smtpAuth(command, params);
      case "+SMTPFROM": return this.smtpFrom(command, params);
      case "+SMTPRCPT": return this.smtpRcpt(command, params);
      default: return null;
    }
  }

  /** The recipients of one type (0 To, 1 Cc, 2 Bcc) in index order. */
  ordered(type: number): Mailbox[] {
    return [...this.recipients[type].entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  }

  /** Every recipient's address, To then Cc then Bcc, each in index order: the RCPT TO list. */
  envelopeRecipients(): string[] {
    return this.recipients.flatMap((_, type) => this.ordered(type).map((r) => r.address));
  }

  /** What AUTH sends, or null without AT+SMTPAUTH=1. */
  get credentials(): { user: string; password: string } | null {
    return this.authType === 1 ? { user: this.user, password: this.password } : null;
  }

  private smtpSrv(command: AtCommand, params: Params): string[] | null {
    const limits = this.limits();
    if (command.form === "test") return [`+SMTPSRV: ${limits.smtpServer},(1-65535)`];
    if (command.form === "read") return [`+SMTPSRV: ${quoted(this.server)},${this.port}`];
    if (command.form !== "write") return null;
    params.expectCount(1, 2);
    const server = params.string(0, limits.smtpServer, "server", 1);
    this.port = params.has(1) ? params.int(1, 1, 65535, "port") : 25;
    this.server = server;
    return [];
  }

  private smtpAuth(command: AtCommand, params: Params): string[] | null {
    const limits = this.limits();
    if (command.form === "test") return [`+SMTPAUTH: (0-1),${limits.smtpUser},${limits.smtpPassword}`];
    if (command.form === "read") return [`+SMTPAUTH: ${this.authType},${quoted(this.user)},${quoted(this.password)}`];
    if (command.form !== "write") return null;
    if (params.int(0, 0, 1, "authType") === 0) {
      // "<userName> and <password> must not be given" with type 0.
      params.expectCount(1, 1);
      this.authType = 0;
      this.user = this.password = "";
      return [];
    }
    params.expectCount(3, 3);
    const user = params.string(1, limits.smtpUser, "user name", 1);
    const password = params.string(2, limits.smtpPassword, "password");
    this.authType = 1;
    this.user = user;
    this.password = password;
    return [];
  }

  private smtpFrom(command: AtCommand, params: Params): string[] | null {
    const limits = this.limits();
    if (command.form === "test") return [`+SMTPFROM: ${limits.senderAddress},${limits.senderName}`];
    if (command.form === "read") return [`+SMTPFROM: ${quoted(this.sender.address)},${quoted(this.sender.name)}`];
    if (command.form !== "write") return null;
    params.expectCount(1, 2);
    const address = params.string(0, limits.senderAddress, "sender address", 1);
    const name = params.has(1) ? params.string(1, limits.senderName, "sender name") : "";
    this.sender = { address, name };
    return [];
  }

  private smtpRcpt(command: AtCommand, params: Params): string[] | null {
    const limits = this.limits();
    const last = limits.recipientsPerType - 1;
    if (command.form === "test") return [`+SMTPRCPT: (0-2),(0-${last}),${limits.recipientAddress},${limits.recipientName}`];
    if (command.form === "read") return recipientListing(this.recipients);
    if (command.form !== "write") return null;
    params.expectCount(1, 4);
    const list = this.recipients[params.int(0, 0, 2, this.recipientType)];
    if (params.count === 1) list.clear();
    else {
      const index = params.int(1, 0, last, "index");
      if (params.count === 2) list.delete(index);
      else {
        const address = params.string(2, limits.recipientAddress, "recipient address", 1);
        const name = params.has(3) ? params.string(3, limits.recipientName, "recipient name") : "";
        list.set(index, { address, name });
      }
    }
    return [];
  }
}

export type Pop3SettingLimits = Pick<SimLimits, "pop3Server" | "pop3User" | "pop3Password">;

/** AT+POP3SRV: the POP3 server and account. */
export class Pop3Settings {
  server = "";
  user = "";
  password = "";
  port = 110;

  constructor(private readonly limits: () => Pop3SettingLimits) {}

  /** The information lines of AT+POP3SRV's OK answer, or null for a form it does not have. */
  handle(command: AtCommand, params: Params): string[] | null {
    const limits = this.limits();
    if (command.form === "test") return [`+POP3SRV: ${limits.pop3Server},${limits.pop3User},${limits.pop3Password},(1-65535)`];
    if (command.form === "read") return [`+POP3SRV: ${quoted(this.server)},${quoted(this.user)},${quoted(this.password)},${this.port}`];
    if (command.form !== "write") return null;
    params.expectCount(3, 4);
    const server = params.string(0, limits.pop3Server, "server", 1);
    const user = params.string(1, limits.pop3User, "user name", 1);
    const password = params.string(2, limits.pop3Password, "password");
    const port = params.has(3) ? params.int(3, 1, 65535, "port") : 110;
    this.server = server;
    this.user = user;
    this.password = password;
    this.port = port;
    return [];
  }

  /** What the POP3 client logs in with. */
  account(timeoutMs: number, secure: SecureTransport | null): Pop3Account {
    return { host: this.server, port: this.port, user: this.user, password: this.password, timeoutMs, secure };
  }
}
