// A recorded-looking SIM7000 output stream (modem → host), deterministic from a seed: result
// codes, status answers and URCs, the SMTPFT handshake of attachment uploads, and POP3READ
// chunks carrying real-looking mail (headers, quoted-printable and base64 parts, dot-stuffed
// lines, lines that look like modem output). Plain JS with no platform API, so that the same
// code also runs under XS.

import { seededRandom } from "../sim/random.ts";

/** What the stream holds: the reference every parser's counts are checked against. */
export interface StreamTruth {
  /** `OK` result lines (outside POP3READ data). */
  ok: number;
  /** `+CSQ: <rssi>,<ber>` lines and the sum of their rssi fields. */
  csq: number;
  csqSum: number;
  /** `+SMTPFT: <state>,<n>` lines and the sum of their n fields. */
  smtpft: number;
  smtpftSum: number;
  /** `+POP3READ: <state>,<n>` lines and the sum of their n fields (= POP3READ data bytes). */
  pop3read: number;
  pop3readSum: number;
  /** `+SMTPSEND: <code>` and `+POP3CMD: <code>` lines. */
  smtpsend: number;
  pop3cmd: number;
  /** Lines nobody subscribes to (+CREG, +CPSI, SMS Ready ...). */
  noise: number;
  /** POP3READ data bytes and the LF bytes in them. */
  dataBytes: number;
  dataLineFeeds: number;
  /** Mail lines in the data that a line-based reader would take for one of the lines above. */
  lookalikeLines: number;
  mails: number;
  uploads: number;
}

export interface ModemStream {
  bytes: Uint8Array;
  truth: StreamTruth;
}

/** A growable byte buffer (generation only; nothing here is on a measured path). */
class ByteWriter {
  bytes = new Uint8Array(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  text(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i) & 0xff;
  }

  append(src: Uint8Array, offset: number, length: number): void {
    this.room(length);
    this.bytes.set(src.subarray(offset, offset + length), this.length);
    this.length += length;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const WORDS = (
  "the pump house alarm panel reported zone door window sensor battery mains power restored " +
  "temperature humidity motion detected armed disarmed by remote command at site north gate " +
  "please check the log attached below and confirm that everything is back to normal before " +
  "tonight the technician will visit on monday morning to replace the faulty contact in zone"
).split(" ");
const NAMES = ["Alarm Panel", "John Smith", "Maria Garcia", "Ops Desk", "Night Watch", "Site 7"];
const DOMAINS = ["example.net", "sim.com", "alarms.example.org", "mail.example.com"];
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Body lines a reader of lines would mistake for modem output. */
const LOOKALIKES = ["OK", "+CSQ: 31,99", "+SMTPFT: 1,1360", "+POP3READ: 1,1460", "+SMTPSEND: 1", "+POP3CMD: 1"];
const NOISE = [
  "+CREG: 5", "+CGREG: 1", "SMS Ready", "+CPSI: LTE CAT-M1,Online,460-00,0x1816,27447557,283,EUTRAN-BAND3,1300,3,3,-11,-83,-52,13",
  "+CTZV: 32,0", "+CFUN: 1", "+CPIN: READY", "*PSUTTZ: 2024,5,17,8,31,12,\"+32\",0", "DST: 0", "+CNTP: 1",
];

class Generator {
  private readonly out = new ByteWriter();
  private readonly random: () => number;
  readonly truth: StreamTruth = {
    ok: 0, csq: 0, csqSum: 0, smtpft: 0, smtpftSum: 0, pop3read: 0, pop3readSum: 0,
    smtpsend: 0, pop3cmd: 0, noise: 0, dataBytes: 0, dataLineFeeds: 0, lookalikeLines: 0,
    mails: 0, uploads: 0,
  };

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  get length(): number {
    return this.out.length;
  }

  result(): ModemStream {
    return { bytes: this.out.result(), truth: this.truth };
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)];
  }

  /** A line as the modem frames results and URCs: CRLF before and after. */
  private line(text: string): void {
    this.out.text(`\r\n${text}\r\n`);
  }

  ok(): void {
    this.line("OK");
    this.truth.ok++;
  }

  signalQuality(): void {
    const rssi = this.int(5, 31);
    this.line(`+CSQ: ${rssi},0`);
    this.truth.csq++;
    this.truth.csqSum += rssi;
    this.ok();
  }

  noise(): void {
    this.line(this.pick(NOISE));
    this.truth.noise++;
  }

  private smtpft(state: number, n: number): void {
    this.line(`+SMTPFT: ${state},${n}`);
    this.truth.smtpft++;
    this.truth.smtpftSum += n;
  }

  /** The modem side of one attachment upload: `+SMTPFT: 1,1360`, `+SMTPFT: 2,n`, OK per chunk. */
  upload(): void {
    const chunks = this.int(8, 48);
    this.ok(); // AT+SMTPSEND accepted
    this.smtpft(1, 1360);
    for (let i = 0; i < chunks; i++) {
      this.smtpft(2, i === chunks - 1 ? this.int(1, 1360) : 1360);
      this.ok();
      this.smtpft(1, 1360);
      if (this.random() < 0.02) this.noise();
    }
    this.ok(); // AT+SMTPFT=0
    this.line("+SMTPSEND: 1");
    this.truth.smtpsend++;
    this.truth.uploads++;
  }

  /** One RETR answer through AT+POP3READ=1460: chunks of 1460 bytes, the last one shorter. */
  retrieve(): void {
    const mail = this.mail();
    this.ok(); // AT+POP3CMD=4,n accepted
    this.line("+POP3CMD: 1");
    this.truth.pop3cmd++;
    for (let offset = 0; offset < mail.length; offset += 1460) {
      const n = Math.min(1460, mail.length - offset);
      const last = offset + n === mail.length;
      this.line(`+POP3READ: ${last ? 2 : 1},${n}`);
      this.truth.pop3read++;
      this.truth.pop3readSum += n;
      this.out.append(mail, offset, n);
      this.truth.dataBytes += n;
      for (let i = offset; i < offset + n; i++) if (mail[i] === 10) this.truth.dataLineFeeds++;
      this.ok();
      if (this.random() < 0.01) this.noise();
    }
    this.truth.mails++;
  }

  private words(count: number): string {
    let s = "";
    for (let i = 0; i < count; i++) s += (i > 0 ? " " : "") + this.pick(WORDS);
    return s;
  }

  /** A dot-stuffed RETR answer (without the +OK line), ending in the dotline. */
  private mail(): Uint8Array {
    const w = new ByteWriter();
    const lines: string[] = [];
    const from = `${this.pick(NAMES)} <${this.pick(["alarm", "ops", "john", "night"])}@${this.pick(DOMAINS)}>`;
    const boundary = `----=_Part_${this.int(100000, 999999)}_${this.int(1000, 9999)}`;
    const day = this.int(1, 28);
    lines.push(
      `Return-Path: <alarm@${this.pick(DOMAINS)}>`,
      `Received: from relay.${this.pick(DOMAINS)} (relay.example.net [192.0.2.${this.int(1, 254)}])`,
      `\tby mail.sim.com with ESMTP id ${this.int(1000, 99999)}; ${day} May 2024 10:${this.int(10, 59)}:${this.int(10, 59)} +0800`,
      `Received: from panel (unknown [10.0.0.${this.int(2, 250)}]) by relay.example.net; ${day} May 2024 10:${this.int(10, 59)}:00 +0800`,
      `Date: Fri, ${day} May 2024 10:36:49 +0800`,
      `From: ${from}`,
      `To: john <john@sim.com>`,
      `Subject: =?UTF-8?Q?Status_report_=E2=80=93_${this.words(3).replace(/ /g, "_")}?=`,
      `Message-ID: <${this.int(100000000, 999999999)}.${this.int(1000, 9999)}@example.net>`,
      "MIME-Version: 1.0",
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      "This is a multi-part message in MIME format.",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
    );
    // Quoted-printable text: soft line breaks, encoded UTF-8, lines that need dot-stuffing.
    const paragraphs = this.int(3, 12);
    for (let p = 0; p < paragraphs; p++) {
      const sentenceLines = this.int(2, 8);
      for (let i = 0; i < sentenceLines; i++) {
        let text = this.words(this.int(6, 11));
        if (this.random() < 0.2) text += " =E2=80=99s =C3=A9t=C3=A9";
        // Soft line breaks keep lines within 76 characters, never inside an =XX escape.
        while (text.length > 75) {
          let cut = 73;
          while (text[cut - 1] === "=" || text[cut - 2] === "=") cut--;
          lines.push(`${text.slice(0, cut)}=`);
          text = text.slice(cut);
        }
        lines.push(text);
      }
      if (this.random() < 0.3) lines.push(`.${this.words(4)}`); // starts with a dot: stuffed below
      if (this.random() < 0.15) {
        // A quoted modem log: lines a line-based reader takes for modem output.
        lines.push("The modem printed:");
        for (let k = this.int(1, 3); k > 0; k--) {
          lines.push(this.pick(LOOKALIKES));
          this.truth.lookalikeLines++;
        }
      }
      lines.push("");
    }
    lines.push(`--${boundary}`, `Content-Type: application/octet-stream; name="log-${day}.bin"`, "Content-Transfer-Encoding: base64",
      `Content-Disposition: attachment; filename="log-${day}.bin"`, "");
    const base64Lines = this.int(20, 600);
    for (let i = 0; i < base64Lines; i++) {
      let s = "";
      const n = i === base64Lines - 1 ? 4 * this.int(1, 18) : 76;
      for (let k = 0; k < n; k++) s += BASE64[Math.floor(this.random() * 64)];
      lines.push(s);
    }
    lines.push(`--${boundary}--`, "");
    for (const line of lines) w.text(`${line.charCodeAt(0) === 46 ? "." : ""}${line}\r\n`);
    w.text(".\r\n");
    return w.result();
  }
}

/** At least `minBytes` of modem output, made of whole exchanges, the same for the same seed. */
export function generateModemStream(minBytes: number, seed = 7): ModemStream {
  if (!(minBytes > 0)) throw new RangeError(`generateModemStream: minBytes must be positive, got ${String(minBytes)}`);
  const g = new Generator(seed);
  let turn = 0;
  while (g.length < minBytes) {
    turn++;
    // Per retrieved mail: about one upload, a few signal checks and an odd URC.
    if (turn % 3 === 0) g.upload();
    else if (turn % 3 === 1) g.retrieve();
    else {
      g.signalQuality();
      g.noise();
      g.ok();
    }
  }
  return g.result();
}
