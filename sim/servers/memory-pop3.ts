// The in-memory POP3 server (RFC 1939: USER/PASS, STAT, LIST, UIDL, TOP, RETR, DELE, RSET,
// NOOP, QUIT; CAPA): one session per connection over the service's one mailbox.

import { CRLF, LineReader, type MemoryAccount, type MemoryStream, type ServerEnd } from "./memory-stream.ts";

export interface StoredMail {
  uid: string;
  /** The whole message, CRLF lines. */
  text: string;
}

/** The account and mailbox a POP3 session serves (MemoryMailService holds them). */
export interface Pop3Maildrop {
  readonly pop3: MemoryAccount;
  /** A QUIT removes what DELE marked. */
  readonly mailbox: StoredMail[];
  /** The message numbers of every DELE, in order. */
  readonly deleted: number[];
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

export class Pop3Session implements ServerEnd {
  private readonly lines = new LineReader();
  private readonly stream: MemoryStream;
  private readonly service: Pop3Maildrop;
  private userName: string | null = null;
  /** The maildrop as it was at PASS, and the numbers marked deleted. */
  private drop: StoredMail[] | null = null;
  private readonly marked = new Set<number>();

  constructor(stream: MemoryStream, service: Pop3Maildrop) {
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

