// The two firmware hot paths end to end, as the device app runs them, for XS's compute meter
// (bench/xs.ts), whose figures drive the wire model (bench/wire.ts):
//  - send: SmtpClient.send with a binary attachment (host base64, the AT+SMTPFT loop);
//  - retrieve: Pop3Client.retrieve (AT+POP3READ loop, dot-unstuffing, the block ring) into the
//    command poll's own sink, a HeaderReader keeping From and Subject.
// The modem side is a scripted responder that moves bytes in bulk (native set/subarray, a few
// operations per chunk), so what the meter counts is the core's work, not the script's; a
// "responder only" run measures what is left of it (bench/xs.ts subtracts it).
// Plain JS with no platform API: it runs under Node and under XS.

import type { ByteSource } from "../src/mail/message.ts";
import { noTimers, type CoreLib } from "./engine-replay.ts";
import { CR, READ_FIFO, ScriptedLink, TX_FIFO, scriptedEngine, type ModemEnd, type ModemScript } from "./scripted-link.ts";

/**
 * Modem side of SmtpClient.send: OK to the set-up, the body after DOWNLOAD, the SMTPFT loop.
 * A test scripts another modem by overriding what it offers, confirms and answers per chunk.
 */
export class SendScript implements ModemScript {
  chunks = 0;
  /** The chunk the modem offers (+SMTPFT: 1,<max>): 1360 on the SIM7000. */
  max = 1360;
  /** Whether the payload under way is an attachment chunk (not the body after DOWNLOAD). */
  protected chunkUnderWay = false;

  command(text: string, link: ModemEnd): void {
    if (text.startsWith("AT+SMTPBODY=")) {
      link.send("\r\nDOWNLOAD\r\n");
      this.chunkUnderWay = false;
      link.expectPayload(Number(text.slice(12)));
    } else if (text === "AT+SMTPSEND") {
      link.send(`\r\nOK\r\n\r\n+SMTPFT: 1,${this.offer()}\r\n`);
    } else if (text.startsWith("AT+SMTPFT=")) {
      const asked = Number(text.slice(10));
      if (asked === 0) {
        link.send("\r\nOK\r\n\r\n+SMTPSEND: 1\r\n");
        return;
      }
      this.chunks++;
      const n = this.confirmed(asked);
      link.send(`\r\n+SMTPFT: 2,${n}\r\n`);
      this.chunkUnderWay = true;
      link.expectPayload(n);
    } else {
      link.send("\r\nOK\r\n");
    }
  }

  payloadDone(link: ModemEnd): void {
    if (this.chunkUnderWay) this.chunkDone(link);
    else link.send("\r\nOK\r\n");
  }

  /** The chunk size of the next `+SMTPFT: 1,<max>`. */
  protected offer(): number {
    return this.max;
  }

  /** How many of the `asked` bytes the modem takes (`+SMTPFT: 2,<n>`). */
  protected confirmed(asked: number): number {
    return asked;
  }

  /** The answer once a chunk's payload is in: OK and the next offer. */
  protected chunkDone(link: ModemEnd): void {
    link.send(`\r\nOK\r\n\r\n+SMTPFT: 1,${this.offer()}\r\n`);
  }
}

/** Modem side of Pop3Client.retrieve/headers: `+POP3CMD: 1`, then POP3READ chunks of `mail`. */
export class RetrieveScript implements ModemScript {
  chunks = 0;
  private sent = 0;
  mail: Uint8Array = new Uint8Array(0);

  load(mail: Uint8Array): void {
    this.mail = mail;
    this.sent = 0;
    this.chunks = 0;
  }

  command(text: string, link: ModemEnd): void {
    if (text.startsWith("AT+POP3CMD=")) {
      link.send("\r\nOK\r\n\r\n+POP3CMD: 1\r\n");
      return;
    }
    if (!text.startsWith("AT+POP3READ=")) {
      link.send("\r\nOK\r\n");
      return;
    }
    const max = Number(text.slice(12));
    const total = this.mail.length;
    const n = Math.min(max, total - this.sent);
    this.chunks++;
    link.send(`\r\n+POP3READ: ${this.sent + n === total ? 2 : 1},${n}\r\n`);
    link.sendBytes(this.mail, this.sent, this.sent + n);
    this.sent += n;
    link.send("\r\nOK\r\n");
  }

  payloadDone(): void {
    throw new Error("POP3 responder: the host sent payload bytes");
  }
}

/** Attachment bytes from one buffer, copied out in bulk. */
export class BufferSource implements ByteSource {
  readonly size: number;
  private position = 0;
  private readonly bytes: Uint8Array;
  private readonly onRead: (() => void) | null;
  constructor(bytes: Uint8Array, onRead: (() => void) | null = null) {
    this.bytes = bytes;
    this.size = bytes.length;
    this.onRead = onRead;
  }
  read(out: Uint8Array, offset: number, max: number): number {
    this.onRead?.();
    const n = Math.min(max, this.size - this.position);
    out.set(this.bytes.subarray(this.position, this.position + n), offset);
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
}

export function patternBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 167 + 13) & 0xff;
  return out;
}

const MAIL_HEAD =
  "Return-Path: <ops@example.net>\r\nReceived: from relay.example.net by mail.example.net with ESMTP id 4711\r\n" +
  "From: Ops <ops@example.net>\r\nTo: Alarm <alarm@example.net>\r\nSubject: ARM alarm-1 1717000000 0123456789abcdef\r\n" +
  "Date: Fri, 17 May 2024 08:31:12 +0000\r\nMessage-ID: <bench@example.net>\r\n\r\n";
const BODY_LINES = [
  "10:30:37 zone 2 temperature 20.1 C humidity 41% battery 3.61 V mains ok",
  "..stuffed: the server doubled the leading dot of this text line",
  "Y29udGVudCBvZiBhIGJhc2U2NCBhdHRhY2htZW50IGxpbmUgaW4gdGhlIG1haWwgYm9keS4u",
  "a plain line of mail text, neither short nor long, as most of them are",
];

/**
 * A mail as the server sends it in a POP3 answer: `size` bytes as stored (headers, then body
 * lines of which one in four starts with a dot and is stuffed), dot-stuffed, ".\r\n" after.
 * Returns the wire bytes and how many bytes the client must deliver.
 */
export function pop3Answer(size: number): { wire: Uint8Array; delivered: number } {
  let text = MAIL_HEAD;
  let delivered = MAIL_HEAD.length;
  for (let i = 0; delivered < size; i++) {
    const line = `${BODY_LINES[i % BODY_LINES.length]}\r\n`;
    const stuffed = line.charCodeAt(0) === 46;
    text += line;
    delivered += line.length - (stuffed ? 1 : 0);
  }
  text += ".\r\n";
  const wire = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) wire[i] = text.charCodeAt(i);
  return { wire, delivered };
}

/**
 * The responder's own work for a logged exchange, with no core: the same command lines and
 * payload written to a fresh link in 128-byte writes, its answers read back in 128-byte reads.
 * What bench/xs.ts subtracts from a path's compute (on the device the modem does this part).
 */
export async function replayResponder(script: ModemScript, log: readonly string[]): Promise<number> {
  const link = new ScriptedLink(script);
  const readBuf = new Uint8Array(READ_FIFO);
  const writeBuf = new Uint8Array(TX_FIFO);
  const view = writeBuf.subarray(0, TX_FIFO);
  let read = 0;
  link.listener = {
    onReadable() {
      for (let n = link.read(readBuf); n > 0; n = link.read(readBuf)) read += n;
    },
    onWritable() {},
  };
  for (const text of log) {
    for (let i = 0; i < text.length; i++) writeBuf[i] = text.charCodeAt(i);
    writeBuf[text.length] = CR;
    link.write(writeBuf.subarray(0, text.length + 1));
    const payload = /^AT\+(SMTPFT|SMTPBODY)=(\d+)$/.exec(text);
    for (let left = payload === null ? 0 : Number(payload[2]); left > 0; left -= TX_FIFO) {
      link.write(left >= TX_FIFO ? view : writeBuf.subarray(0, left));
    }
    await null;
  }
  return read;
}

export interface PathBench {
  /** Sends one mail whose attachment is `attachment`; resolves with the SMTPFT chunks. */
  send(attachment: Uint8Array): Promise<number>;
  /** Retrieves a prepared POP3 answer into the poll's header reader; resolves with the bytes delivered. */
  retrieve(answer: Uint8Array): Promise<number>;
  sendScript: SendScript;
  retrieveScript: RetrieveScript;
  /** The command lines of the last send and retrieve (for replayResponder). */
  sendLog: string[];
  retrieveLog: string[];
  /** Set by retrieve: the From the header reader kept (a check that the sink read the mail). */
  lastFrom: string;
  /** Called at every source read and sink write, when set (bench/buffer-probe.ts samples memory there). */
  sample: (() => void) | null;
}

/** One engine and client pair per path, reused for every run (as on the device). */
export function createPathBench(lib: CoreLib): PathBench {
  const sendScript = new SendScript();
  const send = scriptedEngine(lib, sendScript);
  const smtp = new lib.SmtpClient(send.engine);

  const retrieveScript = new RetrieveScript();
  const retrieve = scriptedEngine(lib, retrieveScript);
  const pop3 = new lib.Pop3Client(retrieve.engine, noTimers);
  // The command poll's sink (src/app/command-poll.ts).
  const headers = new lib.HeaderReader({ fields: ["From", "Subject"] });
  const sink = {
    write(buf: Uint8Array, offset: number, length: number): void {
      bench.sample?.();
      headers.write(buf, offset, length);
    },
  };

  const settings = { server: { host: "smtp.example.net", port: 587, user: "alarm", password: "secret" } };
  const bench: PathBench = {
    sendScript,
    retrieveScript,
    sendLog: [],
    retrieveLog: [],
    lastFrom: "",
    sample: null,
    async send(attachment) {
      sendScript.chunks = 0;
      bench.sendLog = send.link.log = [];
      await smtp.send(settings, {
        from: { address: "alarm@example.net" },
        to: [{ address: "ops@example.net" }],
        subject: "Log",
        body: "The log is attached.",
        attachment: { name: "log.bin", source: new BufferSource(attachment, () => bench.sample?.()) },
      });
      return sendScript.chunks;
    },
    async retrieve(answer) {
      retrieveScript.load(answer);
      bench.retrieveLog = retrieve.link.log = [];
      headers.reset();
      const delivered = await pop3.retrieve(1, sink);
      headers.end();
      bench.lastFrom = headers.raw("From") ?? "";
      return delivered;
    },
  };
  return bench;
}
