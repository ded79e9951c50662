// Mail servers in memory, for the simulator where there are no sockets (under XS): an SMTP
// server (EHLO/HELO, AUTH LOGIN and PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps every
// message it accepts, and a POP3 server (RFC 1939: USER/PASS, STAT, LIST, UIDL, TOP, RETR, DELE,
// RSET, NOOP, QUIT; CAPA) over one mailbox. Both reach the modem through `connector`, each
// chunk a `latencyMs` hop on the given clock. No TLS: that needs real sockets (node-sockets.ts).

import type { Scheduler } from "../scheduler.ts";
import { base64Text, latin1Bytes, latin1Text } from "../modem/bytes.ts";
import type { ByteStream, Connector, PendingStream } from "../modem/network.ts";

export interface MemoryAccount {
  /** The IPv4 address the simulator's hosts table maps the server name to. */
  address: string;
  port: number;
  /** "": the SMTP server takes mail without a login (a relay on the local network). */
  user: string;
  password: string;
}

/** A message as the SMTP server accepted it. */
export interface DeliveredMail {
  /** "address:port" it came in on. */
  server: string;
  from: string;
  recipients: string[];
  /** The message as sent after DATA, dot-stuffing undone, CRLF lines, as Latin-1 text. */
  message: string;
}

export interface StoredMail {
  uid: string;
  /** The whole message, CRLF lines. */
  text: string;
}

export interface MemoryMailOptions {
  clock: Scheduler;
  smtp: MemoryAccount;
  pop3: MemoryAccount;
  /** Each chunk's trip between modem and server. Default 5 ms. */
  latencyMs?: number;
}

const CRLF = "\r\n";

/** The server's end of one connection. */
interface ServerEnd {
  receive(text: string): void;
}

/** One connection: the modem's ByteStream and the server's send/close, each hop on the clock. */
class MemoryStream implements ByteStream {
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: (() => void) | null = null;
  server: ServerEnd | null = null;
  private closed = false;
  private paused = false;
  private readonly held: Uint8Array[] = [];
  private readonly clock: Scheduler;
  private readonly latencyMs: number;

  constructor(clock: Scheduler, latencyMs: number) {
    this.clock = clock;
    this.latencyMs = latencyMs;
  }

  write(bytes: Uint8Array, done?: (error: Error | null) => void): void {
    if (this.closed) {
      done?.(new Error("the connection is closed"));
      return;
    }
    const text = latin1Text(bytes);
    this.clock.setTimer(() => {
      if (!this.closed) this.server?.receive(text);
    }, this.latencyMs);
    done?.(null);
  }

  /** Server to modem. */
  send(text: string): void {
    const bytes = latin1Bytes(text);
    this.clock.setTimer(() => {
      if (this.closed) return;
      if (this.paused) this.held.push(bytes);
      else this.onData?.(bytes);
    }, this.latencyMs);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && !this.closed && this.held.length > 0) this.onData?.(this.held.shift()!);
  }

  /** The server hangs up after what it sent (its chunks are ahead on the clock). */
  hangUp(): void {
    this.clock.setTimer(() => this.destroy(), this.latencyMs);
  }

  end(): void {
    this.hangUp();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.server = null;
    this.held.length = 0;
    const onClose = this.onClose;
    this.clock.setTimer(() => onClose?.(), 0);
  }
}

/** Splits arriving text into CRLF lines (a bare LF ends one too). */
class LineReader {
  private pending = "";

  /** The complete lines in `text` after what came before, without their line ends. */
  push(text: string): string[] {
    const parts = (this.pending + text).split("\n");
    this.pending = parts.pop()!;
    return parts.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }
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

class SmtpSession implements ServerEnd {
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

type Pop3Verb = (session: Pop3Session, argument: string) => void;

/** Commands by state (RFC 1939 section 3): AUTHORIZATION, then TRANSACTION after PASS. */
const POP3_AUTHORIZATION = new Map<string, Pop3Verb>([
  ["USER", (s, argument) => s.user(argument)],
  ["PASS", (s, argument) => s.pass(argument)],
  ["CAPA", (s) => s.multi("Capability list follows", `USER${CRLF}TOP${CRLF}UIDL${CRLF}`)],
  ["QUIT", (s) => s.quit()],
]);
const POP3_TRANSACTION = new Map<string, Pop3Verb>([
  ["STAT", (s) => s.stat()],
  ["LIST", (s, argument) => s.listing(argument, (mail) => String(octets(mail)))],
  ["UIDL", (s, argument) => s.listing(argument, (mail) => mail.uid)],
  ["TOP", (s, argument) => s.top(argument)],
  ["RETR", (s, argument) => s.retrieve(argument)],
  ["DELE", (s, argument) => s.delete(argument)],
  ["RSET", (s) => s.reset()],
  ["NOOP", (s) => s.ok("")],
  ["CAPA", (s) => s.multi("Capability list follows", `USER${CRLF}TOP${CRLF}UIDL${CRLF}`)],
  ["QUIT", (s) => s.quit()],
]);

function octets(mail: StoredMail): number {
  return mail.text.length;
}

/** A multi-line answer's body: CRLF lines, dot-stuffed. */
function stuffed(text: string): string {
  const body = text.endsWith(CRLF) || text === "" ? text : text + CRLF;
  return body.replace(/^\./gm, "..");
}

class Pop3Session implements ServerEnd {
  private readonly lines = new LineReader();
  private readonly stream: MemoryStream;
  private readonly service: MemoryMailService;
  private userName: string | null = null;
  /** The maildrop as it was at PASS, and the numbers marked deleted. */
  private drop: StoredMail[] | null = null;
  private readonly marked = new Set<number>();

  constructor(stream: MemoryStream, service: MemoryMailService) {
    this.stream = stream;
    this.service = service;
    this.ok("memory POP3 ready");
  }

  receive(text: string): void {
    for (const line of this.lines.push(text)) {
      const space = line.indexOf(" ");
      const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
      const run = (this.drop === null ? POP3_AUTHORIZATION : POP3_TRANSACTION).get(verb);
      if (run === undefined) this.error(`${verb} is not allowed here`);
      else run(this, space < 0 ? "" : line.slice(space + 1));
    }
  }

  ok(text: string): void {
    this.stream.send(text === "" ? `+OK${CRLF}` : `+OK ${text}${CRLF}`);
  }

  error(text: string): void {
    this.stream.send(`-ERR ${text}${CRLF}`);
  }

  multi(status: string, body: string): void {
    this.stream.send(`+OK ${status}${CRLF}${stuffed(body)}.${CRLF}`);
  }

  user(name: string): void {
    this.userName = name;
    this.ok("");
  }

  pass(password: string): void {
    const account = this.service.pop3;
    if (this.userName !== account.user || password !== account.password) {
      this.userName = null;
      return this.error("[AUTH] Authentication failed.");
    }
    this.drop = this.service.mailbox.slice();
    this.ok("Logged in.");
  }

  /** The mail numbered `argument` (1-based, not deleted), or null after answering -ERR. */
  private numbered(argument: string): { number: number; mail: StoredMail } | null {
    const number = /^\d+$/.test(argument) ? Number(argument) : NaN;
    const mail = this.drop![number - 1];
    if (mail === undefined || this.marked.has(number)) {
      this.error(`no message ${argument}`);
      return null;
    }
    return { number, mail };
  }

  stat(): void {
    let count = 0;
    let size = 0;
    this.drop!.forEach((mail, i) => {
      if (this.marked.has(i + 1)) return;
      count++;
      size += octets(mail);
    });
    this.ok(`${count} ${size}`);
  }

  listing(argument: string, value: (mail: StoredMail) => string): void {
    if (argument !== "") {
      const found = this.numbered(argument);
      if (found !== null) this.ok(`${found.number} ${value(found.mail)}`);
      return;
    }
    let body = "";
    this.drop!.forEach((mail, i) => {
      if (!this.marked.has(i + 1)) body += `${i + 1} ${value(mail)}${CRLF}`;
    });
    this.multi("", body);
  }

  top(argument: string): void {
    const [which, lines] = argument.split(" ");
    if (lines === undefined || !/^\d+$/.test(lines)) return this.error("TOP <message> <lines> expected");
    const found = this.numbered(which);
    if (found === null) return;
    const text = found.mail.text;
    const split = text.indexOf(CRLF + CRLF);
    const head = split < 0 ? text : text.slice(0, split + 2);
    const bodyLines = split < 0 ? [] : text.slice(split + 4).split(CRLF).slice(0, Number(lines));
    this.multi("", head + CRLF + bodyLines.map((l) => l + CRLF).join(""));
  }

  retrieve(argument: string): void {
    const found = this.numbered(argument);
    if (found !== null) this.multi(`${octets(found.mail)} octets`, found.mail.text);
  }

  delete(argument: string): void {
    const found = this.numbered(argument);
    if (found === null) return;
    this.marked.add(found.number);
    this.service.deleted.push(found.number);
    this.ok(`message ${found.number} deleted`);
  }

  reset(): void {
    this.marked.clear();
    this.ok("");
  }

  /** UPDATE state (RFC 1939 section 6): only a QUIT removes the marked mails. */
  quit(): void {
    if (this.drop !== null) {
      const gone = new Set<StoredMail>();
      for (const number of this.marked) gone.add(this.drop[number - 1]);
      const mailbox = this.service.mailbox;
      for (let i = mailbox.length - 1; i >= 0; i--) if (gone.has(mailbox[i])) mailbox.splice(i, 1);
    }
    this.ok("Logging out.");
    this.stream.hangUp();
  }
}

export class MemoryMailService {
  readonly connector: Connector;
  /** Every message the SMTP server accepted, oldest first. */
  readonly delivered: DeliveredMail[] = [];
  /** The POP3 mailbox; a QUIT removes what DELE marked. */
  readonly mailbox: StoredMail[] = [];
  /** The message numbers of every DELE, in order. */
  readonly deleted: number[] = [];
  readonly smtp: MemoryAccount;
  readonly pop3: MemoryAccount;

  constructor(options: MemoryMailOptions) {
    this.smtp = options.smtp;
    this.pop3 = options.pop3;
    const clock = options.clock;
    const latencyMs = options.latencyMs ?? 5;
    const service = this;
    this.connector = {
      open(address: string, port: number): PendingStream {
        const stream = new MemoryStream(clock, latencyMs);
        const at = (account: MemoryAccount) => account.address === address && account.port === port;
        if (at(service.smtp)) stream.server = new SmtpSession(stream, service.smtp, service.delivered);
        else if (at(service.pop3)) stream.server = new Pop3Session(stream, service);
        else return { stream, ready: Promise.reject(new Error(`nothing listens on ${address}:${port} (connection refused)`)) };
        return { stream, ready: Promise.resolve() };
      },
      secure(plain: ByteStream): PendingStream<string> {
        return { stream: plain, ready: Promise.reject(new Error("the in-memory servers speak no TLS (real TLS runs under Node: sim/modem/node-sockets.ts)")) };
      },
    };
  }
}
