// A SIM7000 that runs inside XS: the simulator (sim/) needs Node sockets, so the XS
// suite drives AlarmApp against this scripted stand-in on the modem end of the kit's mock UART.
// It answers the bring-up, probe, SMTP and POP3 commands the app sends (spec section 3), keeps
// what the app handed over for the mail in progress (SMTP settings, body, the AT+SMTPFT bytes)
// and serves a mailbox to AT+POP3NUM, AT+POP3UIDL=<n>, AT+POP3LIST=<n>, AT+POP3CMD=3 (TOP) and AT+POP3READ.
// Network results (+SMTPFT: 1, +SMTPSEND, +POP3IN ...) come `networkMs` after the OK, on the
// UART's scheduler. The TLS commands a plain
// SIM7000 firmware lacks are ERROR, as there; anything else is answered ERROR and kept in `unknown`.
// Network time (AT+CNTPCID, AT+CNTP="server",tz, AT+CNTP) succeeds `timeSyncMs` after the OK.

import type { ModemSerial } from "../mock-uart.ts";

/** One mail as the modem received it for sending. */
export interface SentMail {
  server: string;
  from: string;
  recipients: string[];
  subject: string;
  body: string;
  /** AT+SMTPFILE's name, or "" without an attachment. */
  fileName: string;
  /** Every byte of the AT+SMTPFT chunks, as Latin-1 text (base64 when the host encodes). */
  attachment: string;
  chunks: number;
}

export interface MailboxMessage {
  uid: string;
  /** The whole message, CRLF lines. */
  text: string;
}

const CR = 13;
const FT_MAX = 1360;
const EPOCH_YEAR_2000 = 2000;

// A Map, not an object: XS interns every string used as a property key for good, and command
// lines carry lengths that change from mail to mail.
/** Commands of SIM7080/SIM800 firmwares that the probe tries and a plain SIM7000 refuses. */
const ABSENT = new Set(["AT+EMAILSSL=?", "AT+CSSLCFG=?"]);

const TEST_FORMS = new Map(Object.entries({
  "AT+EMAILCID=?": "+EMAILCID: (0-3)",
  "AT+EMAILTO=?": "+EMAILTO: (10-120)",
  "AT+SMTPSRV=?": "+SMTPSRV: 64,(1-65535)",
  "AT+SMTPAUTH=?": "+SMTPAUTH: (0-1),64,64",
  "AT+SMTPFROM=?": "+SMTPFROM: 64,64",
  "AT+SMTPRCPT=?": "+SMTPRCPT: (0-2),(0-4),64,64",
  "AT+SMTPSUB=?": "+SMTPSUB: 512",
  "AT+SMTPBODY=?": "+SMTPBODY: 5120",
  "AT+SMTPFILE=?": "+SMTPFILE: (0-2),64,(0-1)",
  "AT+SMTPCS=?": "+SMTPCS: 16",
  "AT+POP3SRV=?": "+POP3SRV: 64,64,64,(1-65535)",
  "AT+POP3READ=?": "+POP3READ: (1-1460)",
}));

/** Settings commands answered OK with nothing to keep. */
const SETTINGS = ["AT+CGDCONT=", "AT+SAPBR=3,", "AT+EMAILCID=", "AT+EMAILTO=", "AT+SMTPAUTH=", "AT+SMTPCS=", "AT+POP3SRV=", "AT+CNTPCID=", 'AT+CNTP="'];

export class XsSim7000 {
  /** Mails sent (`+SMTPSEND: 1`), oldest first; the test empties it as it checks them. */
  readonly sent: SentMail[] = [];
  /** The POP3 mailbox; AT+POP3OUT removes what AT+POP3DEL marked. */
  readonly mailbox: MailboxMessage[] = [];
  /** Message numbers of every AT+POP3DEL, in order. */
  readonly deleted: number[] = [];
  /** Command lines it did not know. */
  readonly unknown: string[] = [];
  battery = "+CBC: 0,80,4000";
  signal = "+CSQ: 20,99";
  networkMs = 50;
  /** From AT+CNTP's OK to its `+CNTP: 1` (the NTP exchange). */
  timeSyncMs = 50;
  /** A modem still starting: what arrives before this scheduler time gets no answer. */
  deafUntilMs = 0;

  private readonly uart: ModemSerial;
  /** Wall time (UTC ms) at scheduler time 0: what AT+CCLK? reports. */
  private readonly wallAtZero: number;
  private line = "";
  private payloadLeft = 0;
  private payloadDone: (() => void) | null = null;
  private payload = "";
  private bearerUp = false;
  private mail: SentMail = emptyMail();
  private session: MailboxMessage[] | null = null;
  private marked: boolean[] = [];
  private reading = "";

  constructor(uart: ModemSerial, wallAtZero: number) {
    this.uart = uart;
    this.wallAtZero = wallAtZero;
    uart.onData = (bytes) => {
      for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]);
    };
  }

  private byte(byte: number): void {
    if (this.uart.scheduler.now() < this.deafUntilMs) return;
    if (this.payloadLeft > 0) {
      this.payload += String.fromCharCode(byte);
      if (--this.payloadLeft === 0) this.payloadDone!();
      return;
    }
    if (byte === CR) {
      const line = this.line;
      this.line = "";
      if (line !== "") this.command(line);
      return;
    }
    if (byte !== 10) this.line += String.fromCharCode(byte);
  }

  private command(line: string): void {
    const test = TEST_FORMS.get(line);
    if (test !== undefined) return this.ok(test);
    if (ABSENT.has(line)) {
      this.uart.write("\r\nERROR\r\n");
      return;
    }
    if (SETTINGS.some((prefix) => line.startsWith(prefix))) return this.ok();
    switch (line) {
      case "AT": case "ATE0": return this.ok();
      case "AT+CPIN?": return this.ok("+CPIN: READY");
      case "AT+CSQ": return this.ok(this.signal);
      case "AT+CBC": return this.ok(this.battery);
      case "AT+CGATT?": return this.ok("+CGATT: 1");
      case "AT+COPS?": return this.ok('+COPS: 0,0,"460 01",9');
      case "AT+CCLK?": return this.ok(`+CCLK: "${clockText(this.wallAtZero + this.uart.scheduler.now())}"`);
      case "AT+SAPBR=2,1": return this.ok(this.bearerUp ? '+SAPBR: 1,1,"10.64.0.2"' : '+SAPBR: 1,3,"0.0.0.0"');
      case "AT+SAPBR=1,1":
        this.bearerUp = true;
        return this.ok();
      case "AT+SMTPFILE=0":
        this.mail.fileName = "";
        return this.ok();
      case "AT+SMTPSEND": return this.smtpSend();
      case "AT+CNTP":
        this.ok();
        this.uart.scheduler.setTimer(() => this.uart.write("\r\n+CNTP: 1\r\n"), this.timeSyncMs);
        return;
      case "AT+POP3IN":
        this.session = this.mailbox.slice();
        this.marked = this.session.map(() => false);
        return this.okThen("+POP3IN: 1");
      case "AT+POP3OUT": return this.pop3Out();
      case "AT+POP3NUM": {
        const live = (this.session ?? []).filter((_, i) => !this.marked[i]);
        return this.okThen(`+POP3NUM: 1,${live.length},${live.reduce((total, message) => total + message.text.length, 0)}`);
      }
    }
    const [name, args] = splitCommand(line);
    switch (name) {
      case "AT+SMTPSRV=":
        this.mail.server = args;
        return this.ok();
      case "AT+SMTPFROM=":
        this.mail.from = unquote(args.split(",")[0]);
        return this.ok();
      case "AT+SMTPRCPT=": {
        const parts = args.split(",");
        if (parts.length === 1) this.mail.recipients = this.mail.recipients.filter((r) => !r.startsWith(`${parts[0]}:`));
        else this.mail.recipients.push(`${parts[0]}:${unquote(parts[2])}`);
        return this.ok();
      }
      case "AT+SMTPSUB=":
        this.mail.subject = unquote(args);
        return this.ok();
      case "AT+SMTPBODY=":
        this.uart.write("\r\nDOWNLOAD\r\n");
        return this.expectPayload(Number(args), (text) => {
          this.mail.body = text;
          this.ok();
        });
      case "AT+SMTPFILE=":
        this.mail.fileName = unquote(args.split(",")[1]);
        return this.ok();
      case "AT+SMTPFT=": return this.smtpFt(Number(args));
      case "AT+POP3CMD=": return this.pop3Command(args.split(",").map(Number));
      case "AT+POP3READ=": return this.pop3Read(Number(args));
      case "AT+POP3UIDL=": {
        const message = this.session?.[Number(args) - 1];
        return this.okThen(message === undefined ? "+POP3UIDL: 0" : `+POP3UIDL: 1,${Number(args)},${message.uid}`);
      }
      case "AT+POP3LIST=": {
        const message = this.session?.[Number(args) - 1];
        return this.okThen(message === undefined ? "+POP3LIST: 0" : `+POP3LIST: 1,${Number(args)},${message.text.length}`);
      }
      case "AT+POP3DEL=": {
        const n = Number(args);
        this.deleted.push(n);
        this.marked[n - 1] = true;
        return this.okThen("+POP3DEL: 1");
      }
    }
    this.unknown.push(line);
    this.uart.write("\r\nERROR\r\n");
  }

  // ---- SMTP -----------------------------------------------------------------------------------

  private smtpSend(): void {
    if (this.mail.fileName !== "") this.okThen(`+SMTPFT: 1,${FT_MAX}`);
    else this.okThen("+SMTPSEND: 1", () => this.fileMail());
  }

  private smtpFt(length: number): void {
    if (length === 0) return this.okThen("+SMTPSEND: 1", () => this.fileMail());
    this.uart.write(`\r\n+SMTPFT: 2,${length}\r\n`);
    this.expectPayload(length, (bytes) => {
      this.mail.attachment += bytes;
      this.mail.chunks++;
      this.okThen(`+SMTPFT: 1,${FT_MAX}`);
    });
  }

  /** Files the mail as sent and starts the next from the same settings. */
  private fileMail(): void {
    const mail = this.mail;
    this.sent.push(mail);
    this.mail = { ...emptyMail(), server: mail.server, from: mail.from, recipients: mail.recipients.slice() };
  }

  // ---- POP3 -----------------------------------------------------------------------------------

  private pop3Command([type, number]: number[]): void {
    const session = this.session ?? [];
    if (type === 3 && session[number - 1] !== undefined) this.reading = `${session[number - 1].text.split("\r\n\r\n")[0]}\r\n\r\n.\r\n`;
    else return this.okThen("+POP3CMD: 0");
    this.okThen("+POP3CMD: 1");
  }

  private pop3Read(max: number): void {
    const data = this.reading.slice(0, max);
    this.reading = this.reading.slice(data.length);
    this.uart.write(`\r\n+POP3READ: ${this.reading === "" ? 2 : 1},${data.length}\r\n${data}\r\nOK\r\n`);
  }

  private pop3Out(): void {
    const session = this.session ?? [];
    for (let i = session.length - 1; i >= 0; i--) {
      if (this.marked[i]) this.mailbox.splice(this.mailbox.indexOf(session[i]), 1);
    }
    this.session = null;
    this.okThen("+POP3OUT: 1");
  }

  // ---- replies --------------------------------------------------------------------------------

  private ok(info?: string): void {
    this.uart.write(info === undefined ? "\r\nOK\r\n" : `\r\n${info}\r\n\r\nOK\r\n`);
  }

  /** OK now, the network's result `networkMs` later (`then` runs as it is reported). */
  private okThen(urc: string, then?: () => void): void {
    this.ok();
    this.uart.scheduler.setTimer(() => {
      then?.();
      this.uart.write(`\r\n${urc}\r\n`);
    }, this.networkMs);
  }

  private expectPayload(length: number, done: (text: string) => void): void {
    this.payload = "";
    this.payloadLeft = length;
    this.payloadDone = () => done(this.payload);
  }
}

function emptyMail(): SentMail {
  return { server: "", from: "", recipients: [], subject: "", body: "", fileName: "", attachment: "", chunks: 0 };
}

/** "AT+SMTPSUB=" and the rest of the line. */
function splitCommand(line: string): [string, string] {
  const equals = line.indexOf("=");
  return equals < 0 ? [line, ""] : [line.slice(0, equals + 1), line.slice(equals + 1)];
}

function unquote(text: string): string {
  return text.length >= 2 && text[0] === '"' && text[text.length - 1] === '"' ? text.slice(1, -1) : text;
}

/** +CCLK text, UTC: yy/MM/dd,hh:mm:ss+00. */
function clockText(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  return `${two(d.getUTCFullYear() - EPOCH_YEAR_2000)}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())},${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}+00`;
}
