// Scripted SIM7000 responders for the hot loops, in plain JS with no platform API (they also
// run under XS): the modem side of an attachment upload (AT+SMTPFT, bench/paths.ts SendScript)
// and of a retrieval (AT+POP3READ), connected to the engine through the bench's serial link
// (bench/scripted-link.ts).

import type { MailSink } from "../src/mail/pop3.ts";
import type { ByteSource } from "../src/mail/message.ts";
import { noTimers, type CoreLib } from "./engine-replay.ts";
import { SendScript } from "./paths.ts";
import { scriptedEngine, type ModemEnd, type ModemScript } from "./scripted-link.ts";

/** Four mail lines of 75 bytes with CRLF; the third starts with a dot, so it is stuffed. */
const MAIL_LINES = [
  "Received: from relay.example.net by mail.sim.com with ESMTP id 4711",
  "10:30:37 zone 2 temperature 20.1 C humidity 41% battery 3.61 V mains ok",
  "..stuffed: the server doubled the leading dot of this text line",
  "Y29udGVudCBvZiBhIGJhc2U2NCBhdHRhY2htZW50IGxpbmUgaW4gdGhlIG1haWwgYm9keS4u",
].map((line) => `${line.padEnd(73, " ")}\r\n`).join("");
const DOTLINE = ".\r\n";

/** Modem side of Pop3Client.retrieve: `+POP3CMD: 1`, then POP3READ chunks of a mail of `lines` lines. */
class Pop3Script implements ModemScript {
  chunks = 0;
  private sent = 0;
  private readonly total: number;
  private readonly bodyBytes: number;

  constructor(lines: number) {
    this.bodyBytes = lines * 75;
    this.total = this.bodyBytes + DOTLINE.length;
  }

  command(text: string, link: ModemEnd): void {
    if (text.startsWith("AT+POP3CMD=")) {
      link.send("\r\nOK\r\n\r\n+POP3CMD: 1\r\n");
      return;
    }
    if (!text.startsWith("AT+POP3READ=")) throw new Error(`POP3 responder: unexpected command ${text}`);
    const max = Number(text.slice(12));
    const n = Math.min(max, this.total - this.sent);
    this.chunks++;
    link.send(`\r\n+POP3READ: ${this.sent + n === this.total ? 2 : 1},${n}\r\n`);
    for (let i = 0; i < n; i++, this.sent++) {
      const at = this.sent;
      link.sendByte(at < this.bodyBytes ? MAIL_LINES.charCodeAt(at % MAIL_LINES.length) : DOTLINE.charCodeAt(at - this.bodyBytes));
    }
    link.send("\r\nOK\r\n");
  }

  payloadDone(): void {
    throw new Error("POP3 responder: the host sent payload bytes");
  }
}

/** Attachment bytes made on the fly (no big buffer). */
class PatternSource implements ByteSource {
  readonly size: number;
  private position = 0;
  constructor(size: number) {
    this.size = size;
  }
  read(out: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.size - this.position);
    for (let i = 0; i < n; i++) out[offset + i] = (this.position + i) * 31 & 0xff;
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
}

class CountingSink implements MailSink {
  bytes = 0;
  write(_buf: Uint8Array, _offset: number, length: number): void {
    this.bytes += length;
  }
}

/**
 * Raw attachment bytes per 1360-byte chunk of base64 in 76-character lines with CRLF, on
 * average: a little under 1360·76/78·3/4 because each chunk keeps room for a final group and
 * line break (Base64Encoder.rawBytesFor). Measured; the responder counts the real chunks.
 */
const RAW_PER_CHUNK = 991.6;

export interface LoopBench {
  /** Sends one mail whose attachment takes about `chunks` AT+SMTPFT chunks; resolves with the count. */
  upload(chunks: number): Promise<number>;
  /** Retrieves a mail of about `chunks` POP3READ chunks; resolves with the count. */
  retrieve(chunks: number): Promise<number>;
}

/** One engine, SMTP client and POP3 client, reused for every run (as on the device). */
export function createLoopBench(lib: CoreLib): LoopBench {
  const smtpScript = new SendScript();
  const smtp = new lib.SmtpClient(scriptedEngine(lib, smtpScript).engine);

  const pop3Script = { current: new Pop3Script(0) };
  const { engine: pop3Engine } = scriptedEngine(lib, {
    command: (text, link) => pop3Script.current.command(text, link),
    payloadDone: () => pop3Script.current.payloadDone(),
  });
  const pop3 = new lib.Pop3Client(pop3Engine, noTimers);
  const sink = new CountingSink();

  const settings = { server: { host: "smtp.example.net", port: 587, user: "alarm", password: "secret" } };
  return {
    async upload(chunks) {
      smtpScript.chunks = 0;
      await smtp.send(settings, {
        from: { address: "alarm@example.net" },
        to: [{ address: "ops@example.net" }],
        subject: "Log",
        body: "The log is attached.",
        attachment: { name: "log.bin", source: new PatternSource(Math.floor(chunks * RAW_PER_CHUNK)) },
      });
      return smtpScript.chunks;
    },
    async retrieve(chunks) {
      const lines = Math.floor((chunks * 1460 - DOTLINE.length) / 75);
      const script = new Pop3Script(lines);
      pop3Script.current = script;
      sink.bytes = 0;
      const delivered = await pop3.retrieve(1, sink);
      // Every fourth line lost its stuffed dot.
      const expected = lines * 75 - Math.floor((lines + 1) / 4);
      if (delivered !== expected) throw new Error(`POP3 responder: ${delivered} mail bytes delivered, ${expected} expected`);
      return script.chunks;
    },
  };
}
