// The older SIMCom email dialect (SMTP/POP3 application note): results come as `+SMTP: <text>`
// and `+POP3: <text>`, the body is inline, attachments are files in the modem's file system,
// and POP3 text (POP3HDR, POP3READ) arrives as plain lines ending with OK.

import type { AtEngine } from "../transport/engine.ts";
import { AtCommandError } from "../transport/errors.ts";
import { quotingProblem } from "../transport/tx.ts";
import { runStep, Step, steps, wholeNumber, type StepArgument } from "../transport/step.ts";
import {
  checkEnvelope, checkMessageNumber, checkPop3Account, writePop3Account, writeParties, writeServer, writeSubject,
  type EnvelopeLimits, type Pop3AccountLimits,
} from "./envelope.ts";
import { planSecurity, type SecuritySettings } from "./security.ts";
import { encodeHeaderWord } from "./codec/rfc2047.ts";
import { isAscii } from "./codec/utf8.ts";
import { MailError, MailParameterError, MailReadStoppedError, Pop3Error, Pop3NegativeError, SmtpError } from "./errors.ts";
import { checkText, type MailMessage, type ServerAccount } from "./message.ts";
import type { MailSink, MessageInfo, ReadLimit } from "./pop3.ts";
import { TextOutputCommand } from "./classic-text.ts";

/** The application note's limits: subject 512 and body 5120 ASCII characters, 10 files. */
export const CLASSIC_LIMITS = { subject: 512, body: 5120, attachments: 10, field: 64 };
const FIELD = CLASSIC_LIMITS.field;
/** Every envelope field takes 64 characters; the note gives no bound on a recipient list. */
const ENVELOPE_LIMITS: EnvelopeLimits = {
  smtpServer: FIELD, smtpUser: FIELD, smtpPassword: FIELD, senderAddress: FIELD, senderName: FIELD,
  recipientAddress: FIELD, recipientName: FIELD, recipientsPerList: Number.MAX_SAFE_INTEGER,
};
const ACCOUNT_LIMITS: Pop3AccountLimits = { pop3Server: FIELD, pop3User: FIELD, pop3Password: FIELD };

/** Results are `+SMTP: <text>` / `+POP3: <text>` lines, before or after OK. */
const RESULT = { ends: "result", timeoutMs: 30_000, server: true, session: true } as const;
/** POP3 text output (`TextOutputCommand`, classic-text.ts): its lines are told apart there. */
const TEXT = { timeoutMs: 30_000, server: true, session: true } as const;
const CLASSIC = steps({
  // The application note's socket PDP context (profile 1), which its email commands use.
  bearer: { request: 'AT+CGSOCKCONT=1,"IP","<APN>","0.0.0.0",0,0', timeoutMs: 5000 },
  body: { request: 'AT+SMTPBODY="<body>"', timeoutMs: 5000, session: true },
  clearFiles: { request: "AT+SMTPFILE", timeoutMs: 5000 },
  file: { request: 'AT+SMTPFILE=<index>,"<attachment name>"', timeoutMs: 5000 },
  // "+SMTP: OK" (session open) comes first; the outcome follows after OK.
  send: { ...RESULT, request: "AT+SMTPSEND", lines: ["+SMTP: "], progress: ["+SMTP: OK$"] },
  stopSmtp: { request: "AT+SMTPSTOP", timeoutMs: 10_000 },
  login: { ...RESULT, request: "AT+POP3IN", lines: ["+POP3: "] },
  // `+POP3: <count> <size>` and `+POP3: <n>, <size>`: spaces separate fields too.
  stat: { ...RESULT, request: "AT+POP3NUM", lines: ["+POP3: "], spaced: true },
  size: { ...RESULT, request: "AT+POP3LIST=<message number>", lines: ["+POP3: "], spaced: true },
  headers: { ...TEXT, request: "AT+POP3HDR=<message number>" },
  // `+POP3: SUCCESS`, then the path the mail was saved under on its own line.
  fetch: { ...RESULT, request: "AT+POP3GET=<message number>", lines: ["+POP3: "], continued: { positive: "SUCCESS", fields: 2 } },
  read: { ...TEXT, request: "AT+POP3READ" },
  readSaved: { ...TEXT, request: 'AT+POP3READ=0,"<saved mail path>"' },
  delete: { ...RESULT, request: "AT+POP3DEL=<message number>", lines: ["+POP3: "] },
  logout: { ...RESULT, request: "AT+POP3OUT", lines: ["+POP3: "] },
  stopPop3: { request: "AT+POP3STOP", timeoutMs: 10_000, session: true },
});
/** simmail's own bound on a path it prints or selects (the note gives none). */
const PATH_MAX = 128;
/** The longest request the text outputs carry: AT+POP3READ=0,"<path>". */
const TEXT_CAPACITY = Math.max(CLASSIC.headers.capacity([65_535]), CLASSIC.read.capacity([]), CLASSIC.readSaved.capacity(["x".repeat(PATH_MAX)]));

/** Sets the socket PDP context the email commands use (the bearer comes up with the first session). */
export async function openClassicBearer(engine: AtEngine, apn: string): Promise<void> {
  await runStep(engine, CLASSIC.bearer, [apn]);
}

/** The application note has no TLS commands: only "none", and the refusal switch. */
type ClassicSecurity = Pick<SecuritySettings, "security" | "requireSecureCredentials">;

export interface ClassicSmtpSettings extends ClassicSecurity {
  server: ServerAccount;
  /** Seconds to wait for `+SMTP: SUCCESS` (the modem's own timer is 30 s). */
  timeoutSeconds?: number;
}

export class ClassicSmtpClient {
  readonly engine: AtEngine;

  constructor(engine: AtEngine) {
    this.engine = engine;
  }

  /**
   * Sends one mail. Attachments are files in the modem's current directory: the message's
   * attachment names one (it has no bytes), `attachments` more.
   */
  async send(settings: ClassicSmtpSettings, message: MailMessage, attachments: string[] = []): Promise<void> {
    const plan = this.check(settings, message, attachments);
    const engine = this.engine;
    const server = settings.server;
    await writeServer(engine, server);
    await writeParties(engine, message.from.address, plan.fromName, plan.recipients);
    await writeSubject(engine, plan.subject);
    await runStep(engine, CLASSIC.body, [message.body]);
    await runStep(engine, CLASSIC.clearFiles);
    if (plan.folder !== null) await this.enter(plan.folder);
    for (let i = 0; i < plan.files.length; i++) await this.select(i + 1, plan.files[i], plan.folder);
    const result = (await classicResult(engine, CLASSIC.send, [], (settings.timeoutSeconds ?? 30) * 1000)).text;
    if (result !== "SUCCESS") {
      const [outcome, detail] = splitBadRecipient(result);
      throw new SmtpError(0, outcome, detail);
    }
  }

  /** AT+SMTPSTOP: closes the SMTP session at once. */
  async abort(): Promise<void> {
    await runStep(this.engine, CLASSIC.stopSmtp);
  }

  /** AT+FSCD=<folder>, as the note writes it (3.2): the folder the attachments are selected from. */
  private async enter(folder: string): Promise<void> {
    try {
      await runStep(this.engine, new Step({ request: `AT+FSCD=${folder}`, lines: ["+FSCD:"], timeoutMs: 5000 }));
    } catch (error) {
      if (error instanceof AtCommandError) throw new MailError("smtp", "modem-files", `the modem has no folder ${folder} (AT+FSCD answered ${error.reply})`, { cause: error });
      throw error;
    }
  }

  private async select(index: number, name: string, folder: string | null): Promise<void> {
    try {
      await runStep(this.engine, CLASSIC.file, [index, name]);
    } catch (error) {
      const where = folder === null ? "its current folder" : folder;
      if (error instanceof AtCommandError) throw new MailError("smtp", "modem-files", `attachment ${index}: the modem has no file ${name} in ${where} (AT+SMTPFILE answered ${error.reply})`, { cause: error });
      throw error;
    }
  }

  /** `files`: the attachment's name (a file in the modem's file system), then `attachments`. */
  private check(settings: ClassicSmtpSettings, message: MailMessage, attachments: string[]) {
    const { fromName, recipients } = checkEnvelope(settings.server, message, ENVELOPE_LIMITS);
    const subject = isAscii(message.subject) ? message.subject : encodeHeaderWord(message.subject);
    checkText("smtp", "subject", subject, CLASSIC_LIMITS.subject);
    if (typeof message.body !== "string") throw new MailParameterError("smtp", "body", "must be text");
    if (/[\r\n]/.test(message.body)) {
      throw new MailParameterError("smtp", "body", "this modem dialect takes the body inline in quotes: it cannot carry line breaks");
    }
    checkText("smtp", "body", message.body, CLASSIC_LIMITS.body);
    const attachment = message.attachment;
    if (attachment !== undefined && attachment.source !== undefined) {
      throw new MailParameterError("smtp", "attachment", "this modem dialect attaches files from its own file system: give the file's name, not its bytes");
    }
    const files = attachment === undefined ? attachments : [attachment.name, ...attachments];
    if (files.length > CLASSIC_LIMITS.attachments) {
      throw new MailParameterError("smtp", "attachments", `${files.length} given; this modem takes at most ${CLASSIC_LIMITS.attachments}`);
    }
    const { folder, names } = attachmentFolder(files);
    planSecurity("smtp", settings, null, settings.server.user !== undefined);
    return { fromName, recipients, subject, folder, files: names };
  }
}

/** A folder AT+FSCD takes as the note writes it, unquoted: from its drive, plain names between slashes. */
const FOLDER = /^[CD]:(?:\/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)*$/i;

/**
 * The note selects attachments by name in the modem's current folder (AT+SMTPFILE), set with
 * AT+FSCD: `C:/Picture/a.jpg` is folder `C:/Picture`, name `a.jpg`. Every path is checked here,
 * before the first byte: one folder for all (the note has one current folder), from its drive.
 */
function attachmentFolder(paths: string[]): { folder: string | null; names: string[] } {
  let folder: string | null = null;
  const names: string[] = [];
  paths.forEach((path, i) => {
    const field = `attachment ${i + 1}`;
    const problem = typeof path === "string" ? quotingProblem(path) : "must be text";
    if (problem !== null) throw new MailParameterError("smtp", `${field} name`, problem);
    if (path.includes("\\")) throw new MailParameterError("smtp", field, `"${path}": the modem's folders are separated by "/" (C:/Picture/photo.jpg)`);
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    const at = slash < 0 ? null : path.slice(0, slash);
    if (name === "" || name === "." || name === "..") throw new MailParameterError("smtp", field, `"${path}" names a folder, not a file`);
    checkText("smtp", `${field} name`, name, FIELD);
    if (path.length > PATH_MAX) throw new MailParameterError("smtp", field, `is ${path.length} characters long; simmail takes paths of at most ${PATH_MAX}`);
    if (at !== null && !FOLDER.test(at)) {
      throw new MailParameterError("smtp", field, `"${path}": the folder must start at a drive (C:/ or D:/) and hold only plain names (letters, digits, "_", "-" and inner dots; no spaces, commas, quotes, "." or ".." parts): AT+FSCD takes it unquoted`);
    }
    if (i > 0 && at !== folder) {
      throw new MailParameterError("smtp", field, `"${path}" is in ${at ?? "the current folder"}, attachment 1 in ${folder ?? "the current folder"}: this modem selects every attachment from one folder (AT+FSCD, then AT+SMTPFILE by name)`);
    }
    folder = at;
    names.push(name);
  });
  return { folder, names };
}

/** A step ending with a `+SMTP:`/`+POP3:` result: a result followed by ERROR instead of OK still says what happened. */
async function classicResult(engine: AtEngine, step: Step, args: StepArgument[], serverMs: number): Promise<{ text: string; fields: readonly string[] }> {
  try {
    return (await runStep(engine, step, args, serverMs)).result!;
  } catch (error) {
    if (error instanceof AtCommandError && error.result !== null && error.result.text !== "SUCCESS") return error.result;
    throw error;
  }
}

/** "BAD RCPT a@b" → ["BAD RCPT", "a@b"]. */
function splitBadRecipient(result: string): [string, string] {
  if (result.startsWith("BAD RCPT")) return ["BAD RCPT", result.slice(8).trim()];
  return [result, ""];
}

export interface ClassicPop3Settings extends ClassicSecurity {
  server: ServerAccount;
  timeoutSeconds?: number;
}

export class ClassicPop3Client {
  readonly engine: AtEngine;
  loggedIn = false;
  private readonly output = new TextOutputCommand(TEXT_CAPACITY);
  /** The server timeout the results and text outputs wait for, on top of their own. */
  private serverMs = 30_000;

  constructor(engine: AtEngine) {
    this.engine = engine;
  }

  async login(settings: ClassicPop3Settings): Promise<void> {
    const server = settings.server;
    const { user, password } = checkPop3Account(server, ACCOUNT_LIMITS);
    planSecurity("pop3", settings, null, true);
    this.serverMs = (settings.timeoutSeconds ?? 30) * 1000;
    await writePop3Account(this.engine, server, user, password);
    await this.success(CLASSIC.login);
    this.loggedIn = true;
  }

  /** `+POP3: <count> <size>`. */
  async stat(): Promise<{ count: number; size: number }> {
    const result = await this.result(CLASSIC.stat);
    const count = wholeNumber(result.fields[0] ?? "");
    if (Number.isNaN(count)) throw new Pop3Error(0, result.text);
    return { count, size: wholeNumber(result.fields[1] ?? "") };
  }

  /** `+POP3: <n>, <size>`. */
  async list(n: number): Promise<number> {
    const result = await this.result(CLASSIC.size, checkMessageNumber(n));
    const size = wholeNumber(result.fields[1] ?? "");
    if (Number.isNaN(size)) throw new Pop3NegativeError(`LIST ${n}`, result.text);
    return size;
  }

  /** The note has no multi-line LIST: AT+POP3LIST=<n> for each mail of the STAT, handed to `visit` in turn. */
  async listAll(visit: (info: MessageInfo) => void): Promise<number> {
    const { count } = await this.stat();
    for (let n = 1; n <= count; n++) visit({ number: n, size: await this.list(n) });
    return count;
  }

  /** The application note has no UIDL: mails have no unique id here. */
  async uid(_n: number): Promise<null> {
    return null;
  }

  async uidlAll(_visit: (number: number, uid: string) => void): Promise<number> {
    return 0;
  }

  /**
   * AT+POP3HDR=<n>: the header lines. The note offers no way to stop a text output part way
   * (AT+POP3STOP waits behind it): past `limit.maxBytes` the rest is read and dropped, and the
   * read fails at its end; `limit.interrupt` is not asked. Check the size first (AT+POP3LIST).
   */
  async headers(n: number, sink: MailSink, limit?: ReadLimit): Promise<number> {
    const maxBytes = limit?.maxBytes ?? Infinity;
    const delivered = await this.text(CLASSIC.headers, [checkMessageNumber(n)], sink, maxBytes);
    const received = this.output.received;
    if (received > maxBytes) throw new MailReadStoppedError(`AT+POP3HDR=${n}`, "too-large", received, maxBytes, false);
    return delivered;
  }

  /** AT+POP3GET=<n> saves the mail on the modem; AT+POP3READ then prints it. */
  async retrieve(n: number, sink: MailSink): Promise<number> {
    await this.fetch(n);
    return this.wholeText(CLASSIC.read, [], sink);
  }

  /** AT+POP3GET=<n>: the mail is saved in the modem's file system; resolves with its path. */
  async fetch(n: number): Promise<string> {
    const result = await this.result(CLASSIC.fetch, checkMessageNumber(n));
    if (result.fields[0] !== "SUCCESS") throw new Pop3Error(0, result.text);
    return result.fields[1] ?? "";
  }

  /** AT+POP3READ=0,"<path>": a mail saved earlier. */
  readSaved(path: string, sink: MailSink): Promise<number> {
    checkText("pop3", "saved mail path", path, PATH_MAX);
    return this.wholeText(CLASSIC.readSaved, [path], sink);
  }

  async delete(n: number): Promise<void> {
    await this.success(CLASSIC.delete, checkMessageNumber(n));
  }

  async logout(): Promise<void> {
    this.loggedIn = false;
    await this.success(CLASSIC.logout);
  }

  /** AT+POP3STOP: closes the session at once. */
  async abort(): Promise<void> {
    this.loggedIn = false;
    await runStep(this.engine, CLASSIC.stopPop3);
  }

  private async text(step: Step, args: StepArgument[], sink: MailSink, maxBytes = Infinity): Promise<number> {
    const cmd = this.output;
    cmd.use(step, args, step.timeoutMs + this.serverMs, sink, maxBytes);
    try {
      await this.engine.run(cmd);
    } finally {
      cmd.sink = null;
    }
    return cmd.delivered;
  }

  /** Mail text must arrive whole: a line too long for the engine's line buffer is dropped by the framer, so it fails the read. */
  private async wholeText(step: Step, args: StepArgument[], sink: MailSink): Promise<number> {
    const before = this.engine.stats.overlongLines;
    const delivered = await this.text(step, args, sink);
    const lost = this.engine.stats.overlongLines - before;
    if (lost > 0) {
      throw new MailError("pop3", "lines-lost", `${lost} line${lost === 1 ? " was" : "s were"} longer than the AT engine's line buffer (lineCapacity) and lost: this dialect prints mail as text lines; read the mail with a larger lineCapacity`);
    }
    return delivered;
  }

  private result(step: Step, ...args: StepArgument[]) {
    return classicResult(this.engine, step, args, this.serverMs);
  }

  private async success(step: Step, ...args: StepArgument[]): Promise<void> {
    const result = await this.result(step, ...args);
    if (result.text !== "SUCCESS") throw new Pop3Error(0, result.text);
  }
}
