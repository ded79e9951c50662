// The outbox as text lines for a mail attachment, streamed from flash through a fixed line
// buffer (nothing proportional to the log is ever in memory). One line per event:
//
//   2026-06-17 10:36:57Z  #42  ALARM  door=1  Door opened
//   boot 7 +12.345s  #43  input  door=0  Door closed          (time never learned)
//
// Lines end with CRLF (mail text). Control characters in texts become spaces. One renderer
// writes every line, from the record's bytes: the attachment's and a mail body's (`eventLine`).

import { decodeUtf8, encodeUtf8Into, utf8Length } from "../mail/codec/utf8.ts";
import type { ByteSource } from "../mail/message.ts";
import {
  AT_BOOT, AT_FLAGS, AT_SEQ, AT_SOURCE, AT_SOURCE_LENGTH, AT_STATE, AT_TIME, AT_TYPE, EVENT_TYPES, FLAG_ALARM,
  KIND_EVENT, MAX_RECORD, readU16, readU32, textLengthAt, writeEvent,
} from "./outbox-format.ts";
import { RecordScanner, type OutboxFile, type StoredEvent } from "./outbox-reader.ts";

export interface EventLogOptions {
  /** Only events of the last `windowMs` (dayLog: the outbox's day window). */
  windowMs?: number;
  /** Only events numbered `fromSeq` .. `throughSeq`. */
  fromSeq?: number;
  throughSeq?: number;
  /** A first line, e.g. "pump house: events of the last 24 hours". */
  title?: string;
  /** One "?" for each non-ASCII character, so the text can go as a 7-bit attachment. */
  ascii?: boolean;
}

const LINE_CAPACITY = MAX_RECORD + 96;
const CR = 13;
const LF = 10;
const SPACE = 32;
const QUESTION = 63;

const WORDS = ["ALARM", "TEST", ...EVENT_TYPES].map((word) => {
  const bytes = new Uint8Array(word.length);
  encodeUtf8Into(word, bytes, 0);
  return bytes;
});
const WORD_ALARM = 0;
const WORD_TEST = 1;
const WORD_TYPES = 2;

export class EventLogText implements ByteSource {
  readonly size: number;
  private readonly file: OutboxFile;
  private readonly scanner: RecordScanner;
  private readonly generation: number;
  private readonly end: number;
  private readonly windowMs: number | null;
  private readonly fromSeq: number;
  private readonly throughSeq: number;
  private readonly ascii: boolean;
  private readonly wallNow: number | null;
  private readonly uptimeNow: number;
  private readonly title: Uint8Array | null;
  private readonly line = new Uint8Array(LINE_CAPACITY);
  private lineLength = 0;
  private linePosition = 0;
  private titleDone = false;

  constructor(file: OutboxFile, options: EventLogOptions) {
    this.file = file;
    this.scanner = new RecordScanner(file.store);
    this.generation = file.generation;
    this.end = file.store.size();
    if (options.windowMs !== undefined && !(options.windowMs > 0)) throw new RangeError(`event log: window ${options.windowMs} ms is not a positive duration`);
    this.windowMs = options.windowMs ?? null;
    this.fromSeq = options.fromSeq ?? 0;
    this.throughSeq = options.throughSeq ?? Infinity;
    this.ascii = options.ascii ?? false;
    this.wallNow = file.wall.now();
    this.uptimeNow = file.uptime.now();
    this.title = options.title === undefined ? null : this.titleBytes(options.title);
    let size = 0;
    this.rewind();
    while (this.nextLine()) size += this.lineLength;
    this.size = size;
    this.rewind();
  }

  read(out: Uint8Array, offset: number, max: number): number {
    let written = 0;
    while (written < max) {
      if (this.linePosition === this.lineLength && !this.nextLine()) break;
      let n = this.lineLength - this.linePosition;
      if (n > max - written) n = max - written;
      const line = this.line;
      const from = this.linePosition;
      const to = offset + written;
      for (let i = 0; i < n; i++) out[to + i] = line[from + i];
      this.linePosition += n;
      written += n;
    }
    return written;
  }

  rewind(): void {
    this.file.checkGeneration(this.generation, "event log");
    this.scanner.reset(0, this.end);
    this.titleDone = this.title === null;
    this.lineLength = 0;
    this.linePosition = 0;
  }

  /** Renders the next line into `line`; false at the end. */
  private nextLine(): boolean {
    this.file.checkGeneration(this.generation, "event log");
    this.linePosition = 0;
    this.lineLength = 0;
    if (!this.titleDone) {
      this.titleDone = true;
      const title = this.title!;
      this.line.set(title, 0);
      this.lineLength = title.length;
      return true;
    }
    const scanner = this.scanner;
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT) continue;
      const seq = scanner.seq;
      if (seq < this.fromSeq || seq > this.throughSeq) continue;
      if (this.windowMs !== null && !this.file.isRecent(scanner, this.windowMs, this.wallNow, this.uptimeNow)) continue;
      this.lineLength = renderLine(this.line, scanner.buf, scanner.view, scanner.at, this.file.wallTime(scanner), this.ascii);
      return true;
    }
    return false;
  }

  private titleBytes(title: string): Uint8Array {
    const raw = new Uint8Array(utf8Length(title));
    encodeUtf8Into(title, raw, 0);
    const out = new Uint8Array(raw.length + 2);
    let n = copyText(raw, 0, raw.length, out, 0, this.ascii);
    out[n++] = CR;
    out[n++] = LF;
    return out.subarray(0, n);
  }
}

/** Copies UTF-8 text: controls become spaces; with `ascii`, each non-ASCII character one "?". */
function copyText(source: Uint8Array, from: number, length: number, out: Uint8Array, n: number, ascii: boolean): number {
  for (let i = from; i < from + length; i++) {
    const byte = source[i];
    if (byte < 0x20 || byte === 0x7f) out[n++] = SPACE;
    else if (byte < 0x80 || !ascii) out[n++] = byte;
    else if (byte >= 0xc0) out[n++] = QUESTION; // a lead byte; continuation bytes are dropped
  }
  return n;
}

/** "YYYY-MM-DD hh:mm:ssZ" for UTC milliseconds. */
export function formatUtc(ms: number): string {
  const out = new Uint8Array(24);
  const n = writeUtc(out, 0, ms);
  let text = "";
  for (let i = 0; i < n; i++) text += String.fromCharCode(out[i]);
  return text;
}

/** One event as a line of the log (without the line end), e.g. for a mail body. */
export function eventLine(event: StoredEvent): string {
  const record = new Uint8Array(MAX_RECORD);
  const view = new DataView(record.buffer);
  writeEvent(view, record, event, event.seq, event.bootId, event.uptimeMs === null, event.uptimeMs ?? event.wallMs ?? 0);
  const line = new Uint8Array(LINE_CAPACITY);
  return decodeUtf8(line, 0, renderLine(line, record, view, 0, event.wallMs, false) - 2);
}

/**
 * Renders the EVENT record at `buf[at..]` into `line` as one log line with its CRLF; returns
 * its length. `wall`: the event's UTC ms, null when unknown (then boot and uptime are shown).
 */
function renderLine(line: Uint8Array, buf: Uint8Array, view: DataView, at: number, wall: number | null, ascii: boolean): number {
  let n = 0;
  if (wall !== null) {
    n = writeUtc(line, n, wall);
  } else {
    n = writeWord(line, n, "boot ");
    n = writeDecimal(line, n, readU32(buf, at + AT_BOOT));
    n = writeWord(line, n, " +");
    n = writeMillisAsSeconds(line, n, view.getFloat64(at + AT_TIME, true));
  }
  n = writeWord(line, n, "  #");
  n = writeDecimal(line, n, readU32(buf, at + AT_SEQ));
  line[n++] = SPACE;
  line[n++] = SPACE;
  const type = buf[at + AT_TYPE] - 1;
  const word = (buf[at + AT_FLAGS] & FLAG_ALARM) !== 0 ? WORDS[WORD_ALARM] : EVENT_TYPES[type] === "test" ? WORDS[WORD_TEST] : WORDS[WORD_TYPES + type];
  line.set(word, n);
  n += word.length;
  line[n++] = SPACE;
  line[n++] = SPACE;
  n = copyText(buf, at + AT_SOURCE, buf[at + AT_SOURCE_LENGTH], line, n, ascii);
  if (EVENT_TYPES[type] === "input" || EVENT_TYPES[type] === "test") {
    line[n++] = 61; // "="
    n = writeDecimal(line, n, buf[at + AT_STATE]);
  }
  const textAt = textLengthAt(buf, at);
  const textLength = readU16(buf, textAt);
  if (textLength > 0) {
    line[n++] = SPACE;
    line[n++] = SPACE;
    n = copyText(buf, textAt + 2, textLength, line, n, ascii);
  }
  line[n++] = CR;
  line[n++] = LF;
  return n;
}

function writeWord(out: Uint8Array, n: number, word: string): number {
  for (let i = 0; i < word.length; i++) out[n++] = word.charCodeAt(i);
  return n;
}

function writeDecimal(out: Uint8Array, n: number, value: number): number {
  if (value < 10) {
    out[n] = 48 + value;
    return n + 1;
  }
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = digits - 1; i >= 0; i--) {
    out[n + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return n + digits;
}

function writePadded(out: Uint8Array, n: number, value: number, width: number): number {
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    out[n + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return n + width;
}

function writeMillisAsSeconds(out: Uint8Array, n: number, ms: number): number {
  const whole = Math.floor(ms);
  n = writeDecimal(out, n, Math.floor(whole / 1000));
  out[n++] = 46; // "."
  n = writePadded(out, n, whole % 1000, 3);
  out[n++] = 115; // "s"
  return n;
}

/** "YYYY-MM-DD hh:mm:ssZ" for UTC ms (days to civil date: H. Hinnant's algorithm). */
function writeUtc(out: Uint8Array, n: number, ms: number): number {
  const days = Math.floor(ms / 86_400_000);
  const secondsOfDay = Math.floor((ms - days * 86_400_000) / 1000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  n = writePadded(out, n, year, 4);
  out[n++] = 45; // "-"
  n = writePadded(out, n, month, 2);
  out[n++] = 45;
  n = writePadded(out, n, day, 2);
  out[n++] = SPACE;
  n = writePadded(out, n, Math.floor(secondsOfDay / 3600), 2);
  out[n++] = 58; // ":"
  n = writePadded(out, n, Math.floor(secondsOfDay / 60) % 60, 2);
  out[n++] = 58;
  n = writePadded(out, n, secondsOfDay % 60, 2);
  out[n++] = 90; // "Z"
  return n;
}
