// The POP3 server for where Dovecot cannot run (not root, or not installed): RFC 1939 with CAPA
// (RFC 2449), TOP and UIDL over plain TCP, serving the maildirs smtp-server delivers into, and
// answering as Dovecot does where a client may look (UIDLs %08Xu%08Xv, sizes counted with CRLF,
// -ERR [AUTH] on a bad login). No TLS and no AUTH command: those need Dovecot.
// startMailServers({ pop3: "node" }) uses it, and "auto" (the simulator, the demo) where Dovecot cannot run.

import { promises as fs } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { basename } from "node:path";
import { maildirFiles } from "./maildir.ts";

export interface Pop3Mailbox { name: string; password: string; maildir: string }

type State = "authorization" | "transaction";

interface Message { path: string; bytes: Buffer; uid: string; deleted: boolean }

/** Where each command is allowed and what it does: every rule of the conversation is here. */
interface Command { states: readonly State[]; run(session: Session, argument: string): Promise<void> | void }

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from("\r\n");
const STUFFED_DOT = Buffer.from(".");
const END_OF_ANSWER = Buffer.from(".\r\n");
/** RFC 2449 allows 255 octets per command; anything far longer is not a POP3 client. */
const MAX_LINE = 8 * 1024;
/** RFC 1939's autologout timer: at least 10 minutes. */
const IDLE_TIMEOUT_MS = 10 * 60_000;
const CAPABILITIES = ["TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE"];

const COMMANDS: Record<string, Command> = {
  CAPA: { states: ["authorization", "transaction"], run: (s) => s.multiline("Capability list follows", Buffer.from(CAPABILITIES.map((c) => `${c}\r\n`).join(""))) },
  QUIT: { states: ["authorization", "transaction"], run: (s) => s.quit() },
  USER: { states: ["authorization"], run: (s, name) => s.user(name) },
  PASS: { states: ["authorization"], run: (s, password) => s.pass(password) },
  STAT: { states: ["transaction"], run: (s) => s.stat() },
  LIST: { states: ["transaction"], run: (s, n) => s.list(n) },
  UIDL: { states: ["transaction"], run: (s, n) => s.uidl(n) },
  RETR: { states: ["transaction"], run: (s, n) => s.retrieve(n) },
  TOP: { states: ["transaction"], run: (s, argument) => s.top(argument) },
  DELE: { states: ["transaction"], run: (s, n) => s.delete(n) },
  RSET: { states: ["transaction"], run: (s) => s.reset() },
  NOOP: { states: ["transaction"], run: (s) => s.ok("NOOP") },
};

export class MaildirPop3Server {
  port = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** UIDs per "<user>/<maildir base name>", stable for the server's life as Dovecot keeps them in its index. */
  private readonly uids = new Map<string, number>();
  private readonly nextUid = new Map<string, number>();
  private readonly uidValidity = Math.floor(Date.now() / 1000);

  constructor(private readonly mailboxes: readonly Pop3Mailbox[], private readonly greeting: string) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on `host`:`port` (0: any free port); resolves with the port. */
  listen(host: string, port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        if (typeof address === "object" && address) resolve((this.port = address.port));
        else reject(new Error("the POP3 listener has no port"));
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }

  mailbox(name: string, password: string): Pop3Mailbox | undefined {
    // The password arrives as latin1 text (the bytes on the wire); compare bytes with bytes.
    const account = this.mailboxes.find((candidate) => candidate.name === name);
    return account && Buffer.from(account.password, "utf8").equals(Buffer.from(password, "latin1")) ? account : undefined;
  }

  uid(user: string, path: string): string {
    const key = `${user}/${basename(path).split(":")[0]}`;
    let uid = this.uids.get(key);
    if (uid === undefined) {
      uid = (this.nextUid.get(user) ?? 0) + 1;
      this.nextUid.set(user, uid);
      this.uids.set(key, uid);
    }
    return `${hex8(uid)}${hex8(this.uidValidity)}`;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => {}); // a client that drops is its own business
    new Session(this, socket).start(`+OK ${this.greeting}\r\n`);
  }
}

class Session {
  private state: State = "authorization";
  private userName: string | null = null;
  private messages: Message[] = [];
  private pending = "";
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly server: MaildirPop3Server, private readonly socket: Socket) {}

  start(greeting: string): void {
    this.socket.setTimeout(IDLE_TIMEOUT_MS, () => this.close("-ERR Disconnected for inactivity."));
    this.socket.setEncoding("latin1");
    this.socket.on("data", (text: string) => this.receive(text));
    this.socket.write(greeting);
  }

  private receive(text: string): void {
    this.pending += text;
    for (let end = this.pending.indexOf("\n"); end >= 0; end = this.pending.indexOf("\n")) {
      const line = this.pending.slice(0, end).replace(/\r$/, "");
      this.pending = this.pending.slice(end + 1);
      // One command at a time, in order, even when a client sends several at once.
      this.queue = this.queue.then(() => this.handle(line)).catch((error: unknown) => {
        this.close(`-ERR [SYS/TEMP] ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    if (this.pending.length > MAX_LINE) this.close("-ERR Input line too long.");
  }

  private async handle(line: string): Promise<void> {
    if (this.socket.destroyed) return;
    const space = line.indexOf(" ");
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const argument = space < 0 ? "" : line.slice(space + 1);
    const command = COMMANDS[keyword];
    if (command === undefined || !command.states.includes(this.state)) {
      this.err("Unknown command.");
      return;
    }
    await command.run(this, keyword === "PASS" ? argument : argument.trim());
  }

  ok(text = ""): void {
    this.socket.write(`+OK${text === "" ? "" : ` ${text}`}\r\n`);
  }

  err(text: string): void {
    this.socket.write(`-ERR ${text}\r\n`);
  }

  /** +OK, then `body` dot-stuffed and ended with CRLF "." CRLF. */
  multiline(status: string, body: Buffer): void {
    this.socket.write(Buffer.concat([Buffer.from(`+OK${status === "" ? "" : ` ${status}`}\r\n`), ...dotStuffed(body), END_OF_ANSWER]));
  }

  private close(line: string): void {
    if (!this.socket.destroyed) this.socket.end(`${line}\r\n`);
  }

  user(name: string): void {
    if (name === "") return this.err("USER needs a name.");
    this.userName = name;
    this.ok();
  }

  async pass(password: string): Promise<void> {
    if (this.userName === null) return this.err("No username given.");
    const mailbox = this.server.mailbox(this.userName, password);
    this.userName = null;
    if (mailbox === undefined) return this.err("[AUTH] Authentication failed.");
    this.messages = await this.load(mailbox);
    this.state = "transaction";
    this.ok("Logged in.");
  }

  /** The mailbox as it is at login: later deliveries wait for the next session, as with Dovecot. */
  private async load(mailbox: Pop3Mailbox): Promise<Message[]> {
    const messages: Message[] = [];
    for (const path of await maildirFiles(mailbox.maildir)) {
      // Another session may have deleted it since the listing.
      const raw = await fs.readFile(path).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? null : Promise.reject(error)));
      if (raw !== null) messages.push({ path, bytes: withCrlf(raw), uid: this.server.uid(mailbox.name, path), deleted: false });
    }
    return messages;
  }

  quit(): void {
    if (this.state === "authorization") return this.close("+OK Logging out");
    const deleted = this.messages.filter((message) => message.deleted);
    void Promise.all(deleted.map((message) => fs.rm(message.path, { force: true }))).then(
      () => this.close(deleted.length > 0 ? "+OK Logging out, messages deleted." : "+OK Logging out."),
      (error: Error) => this.close(`-ERR [SYS/TEMP] deleting failed: ${error.message}`),
    );
  }

  stat(): void {
    const live = this.live();
    this.ok(`${live.length} ${live.reduce((sum, { message }) => sum + message.bytes.length, 0)}`);
  }

  list(argument: string): void {
    this.listing(argument, (message) => String(message.bytes.length), (live) => `${live.length} messages:`);
  }

  uidl(argument: string): void {
    this.listing(argument, (message) => message.uid, () => "");
  }

  /** LIST and UIDL: one message's line, or all of them as a multi-line answer. */
  private listing(argument: string, value: (message: Message) => string, heading: (live: Array<{ number: number }>) => string): void {
    if (argument !== "") {
      const found = this.message(argument);
      if (found !== null) this.ok(`${argument} ${value(found)}`);
      return;
    }
    const live = this.live();
    this.multiline(heading(live), Buffer.from(live.map(({ number, message }) => `${number} ${value(message)}\r\n`).join("")));
  }

  retrieve(argument: string): void {
    const message = this.message(argument);
    if (message !== null) this.multiline(`${message.bytes.length} octets`, message.bytes);
  }

  top(argument: string): void {
    const [number = "", lines = ""] = argument.split(/\s+/);
    if (!/^\d+$/.test(lines)) return this.err("Invalid number of lines.");
    const message = this.message(number);
    if (message !== null) this.multiline("", headerAndLines(message.bytes, Number(lines)));
  }

  delete(argument: string): void {
    const message = this.message(argument);
    if (message === null) return;
    message.deleted = true;
    this.ok("Marked to be deleted.");
  }

  reset(): void {
    for (const message of this.messages) message.deleted = false;
    this.ok();
  }

  /** The message `argument` names, or null after answering why there is none. */
  private message(argument: string): Message | null {
    if (!/^\d+$/.test(argument)) {
      this.err(`Invalid message number: ${argument}`);
      return null;
    }
    const message = this.messages[Number(argument) - 1];
    if (message === undefined) this.err(`There's no message ${argument}.`);
    else if (message.deleted) this.err("Message is deleted.");
    else return message;
    return null;
  }

  private live(): Array<{ number: number; message: Message }> {
    return this.messages.flatMap((message, index) => (message.deleted ? [] : [{ number: index + 1, message }]));
  }
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, "0");
}

/** The message with every bare LF made CRLF: what POP3 sends and what its sizes count. */
function withCrlf(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let lf = bytes.indexOf(LF); lf >= 0; lf = bytes.indexOf(LF, lf + 1)) {
    if (lf > 0 && bytes[lf - 1] === CR) continue;
    parts.push(bytes.subarray(start, lf), CRLF);
    start = lf + 1;
  }
  if (parts.length === 0) return bytes;
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}

/** `bytes` as the parts of a multi-line answer: a "." before every line that starts with one, a CRLF at the end. */
function dotStuffed(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let line = 0; line < bytes.length; ) {
    if (bytes[line] === DOT) {
      parts.push(bytes.subarray(start, line), STUFFED_DOT);
      start = line;
    }
    const lf = bytes.indexOf(LF, line);
    if (lf < 0) break;
    line = lf + 1;
  }
  parts.push(bytes.subarray(start));
  if (bytes.length > 0 && bytes[bytes.length - 1] !== LF) parts.push(CRLF);
  return parts;
}

/** TOP: the header, the empty line and the first `lines` lines of the body. */
function headerAndLines(bytes: Buffer, lines: number): Buffer {
  const blank = bytes.indexOf("\r\n\r\n");
  if (blank < 0) return bytes;
  let end = blank + 4;
  for (let taken = 0; taken < lines && end < bytes.length; taken++) {
    const lf = bytes.indexOf(LF, end);
    end = lf < 0 ? bytes.length : lf + 1;
  }
  return bytes.subarray(0, end);
}
