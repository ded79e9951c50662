// The in-memory SMTP server (EHLO/HELO, AUTH LOGIN and PLAIN, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT): one session per connection, every message it accepts kept as received.

import { base64Text, latin1Bytes } from "../modem/bytes.ts";
import { CRLF, LineReader, type MemoryAccount, type MemoryStream, type ServerEnd } from "./memory-stream.ts";

/** A message as the SMTP server accepted it. */
export interface DeliveredMail {
  /** "address:port" it came in on. */
  server: string;
  from: string;
  recipients: string[];
  /** The message as sent after DATA, dot-stuffing undone, CRLF lines, as Latin-1 text. */
  message: string;
}

type SmtpVerb = (session: SmtpSession, argument: string) => void;

/** What each SMTP command does; anything else is 502. */
const SMTP_VERBS = new Map<string, SmtpVerb>([
  ["EHLO", (s) => s.reply("250-memory.smtp\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME")],
  ["HELO", (s) => s.reply("250 memory.smtp")],
  ["AUTH", (s, argument) => s.auth(argument)],
  ["MAIL", (s, argument) => s.mail(argument)],
  ["RCPT", (s, argument) => s.rcpt(argument)],
  ["DATA", (s) => s.data()],
  ["RSET", (s) => s.reset()],
  ["NOOP", (s) => s.reply("250 OK")],
  ["QUIT", (s) => s.quit()],
]);

export class SmtpSession implements ServerEnd {
  private readonly lines = new LineReader();
  private readonly stream: MemoryStream;
  private readonly account: MemoryAccount;
  private readonly delivered: DeliveredMail[];
  private authenticated = false;
  /** AUTH LOGIN: which credential the next line is. */
  private loginStep: "user" | "password" | null = null;
  private loginUser = "";
  private from: string | null = null;
  private recipients: string[] = [];
  /** DATA: the message lines so far, or null outside DATA. */
  private message: string[] | null = null;

  constructor(stream: MemoryStream, account: MemoryAccount, delivered: DeliveredMail[]) {
    this.stream = stream;
    this.account = account;
    this.delivered = delivered;
    this.authenticated = account.user === "";
    this.reply("220 memory.smtp ESMTP");
  }

  reply(text: string): void {
    this.stream.send(text + CRLF);
  }

  receive(text: string): void {
    for (const line of this.lines.push(text)) this.line(line);
  }

  private line(line: string): void {
    if (this.message !== null) return this.dataLine(line);
    if (this.loginStep !== null) return this.loginLine(line);
    const space = line.indexOf(" ");
    const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const run = SMTP_VERBS.get(verb);
    if (run === undefined) this.reply(`502 5.5.2 ${verb} is not a command here`);
    else run(this, space < 0 ? "" : line.slice(space + 1));
  }

  auth(argument: string): void {
    const [mechanism, initial] = argument.split(" ");
    if (mechanism.toUpperCase() === "PLAIN") {
      this.authenticated = initial === base64Text(latin1Bytes(`\0${this.account.user}\0${this.account.password}`));
      this.reply(this.authenticated ? "235 2.7.0 Authentication successful" : "535 5.7.8 Authentication credentials invalid");
    } else if (mechanism.toUpperCase() === "LOGIN") {
      this.loginStep = "user";
      this.reply(`334 ${base64Text(latin1Bytes("Username:"))}`);
    } else {
      this.reply(`504 5.5.4 AUTH ${mechanism} is not offered`);
    }
  }

  private loginLine(line: string): void {
    if (this.loginStep === "user") {
      this.loginUser = line;
      this.loginStep = "password";
      this.reply(`334 ${base64Text(latin1Bytes("Password:"))}`);
      return;
    }
    this.loginStep = null;
    this.authenticated = this.loginUser === base64Text(latin1Bytes(this.account.user)) && line === base64Text(latin1Bytes(this.account.password));
    this.reply(this.authenticated ? "235 2.7.0 Authentication successful" : "535 5.7.8 Authentication credentials invalid");
  }

  mail(argument: string): void {
    const match = /^FROM:<([^>]*)>/i.exec(argument);
    if (!this.authenticated) return this.reply("530 5.7.0 Authentication required");
    if (match === null) return this.reply("501 5.5.4 MAIL FROM:<address> expected");
    this.from = match[1];
    this.recipients = [];
    this.reply("250 2.1.0 OK");
  }

  rcpt(argument: string): void {
    const match = /^TO:<([^>]+)>/i.exec(argument);
    if (this.from === null) return this.reply("503 5.5.1 MAIL first");
    if (match === null) return this.reply("501 5.5.4 RCPT TO:<address> expected");
    this.recipients.push(match[1]);
    this.reply("250 2.1.5 OK");
  }

  data(): void {
    if (this.from === null || this.recipients.length === 0) return this.reply("503 5.5.1 MAIL and RCPT first");
    this.message = [];
    this.reply("354 End data with <CR><LF>.<CR><LF>");
  }

  private dataLine(line: string): void {
    const message = this.message!;
    if (line !== ".") {
      message.push(line.startsWith(".") ? line.slice(1) : line);
      return;
    }
    this.message = null;
    const server = `${this.account.address}:${this.account.port}`;
    this.delivered.push({ server, from: this.from!, recipients: this.recipients, message: message.map((l) => l + CRLF).join("") });
    this.from = null;
    this.recipients = [];
    this.reply("250 2.0.0 OK queued");
  }

  reset(): void {
    this.from = null;
    this.recipients = [];
    this.reply("250 2.0.0 OK");
  }

  quit(): void {
    this.reply("221 2.0.0 Bye");
    this.stream.hangUp();
  }
}

