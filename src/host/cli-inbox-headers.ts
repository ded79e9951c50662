// `simmail inbox list` and `inbox headers N`: the header block of each mail (TOP n 0, or
// AT+POP3HDR in the classic dialect) through the streaming HeaderReader, its fields decoded.
// list writes a line per mail as it is read; what is held whole (list --json, the block as
// served for headers --raw / --json) is bounded, with a clear error past the bound.

import type { DialectCapabilities, Mailbox } from "../mail/dialect.ts";
import type { MailSink } from "../mail/pop3.ts";
import { MailReadStoppedError } from "../mail/errors.ts";
import { HeaderReader } from "../mail/codec/header-reader.ts";
import { decodeUtf8, isValidUtf8 } from "../mail/codec/utf8.ts";
import { printableBlock, printableLine, type Out } from "./cli-text.ts";

/** Bytes kept per header field read: a long subject or recipient list is read whole up to this. */
const FIELD_BYTES = 16 * 1024;
const SHOWN_FIELDS = ["From", "To", "Cc", "Date", "Subject"] as const;
/** `inbox list --json` answers in one document, held until the end: at most this many mails (plain `inbox list` streams any number). */
export const JSON_LIST_MAX = 1000;
/** Bytes of a header block `inbox headers --raw / --json` hold to show as served (the decoded fields need none). */
export const RAW_HEADER_MAX = 1024 * 1024;

/** Notes about what could not be decoded: on stderr as they come, and kept for --json. */
export class Notes {
  readonly list: string[] = [];
  /** `keep` false: on stderr only (a streamed list keeps nothing per mail). */
  constructor(private readonly keep = true) {}
  add(text: string): void {
    if (this.keep) this.list.push(text);
    process.stderr.write(`simmail: note: ${printableLine(text)}\n`);
  }
  /** Each problem of `field` of mail `n`. */
  field(n: number, field: string, problems: string[]): void {
    for (const problem of problems) this.add(`mail ${n}, ${field}: ${problem}`);
    problems.length = 0;
  }
}

/**
 * The header block of mail `n` into `reader` (fixed buffers, any size), and its bytes as
 * served when `raw` collects them: then at most RAW_HEADER_MAX, or a clear error.
 */
async function readHeader(client: Mailbox, n: number, reader: HeaderReader, raw: Buffer[] | null): Promise<void> {
  reader.reset();
  const sink: MailSink = {
    write(buf, offset, length) {
      raw?.push(Buffer.from(buf.subarray(offset, offset + length)));
      reader.write(buf, offset, length);
    },
  };
  try {
    await client.headers(n, sink, raw === null ? undefined : { maxBytes: RAW_HEADER_MAX });
  } catch (error) {
    if (!(error instanceof MailReadStoppedError)) throw error;
    throw new Error(`mail ${n}: its header block is larger than ${RAW_HEADER_MAX} bytes, more than inbox headers --raw or --json holds in memory; inbox headers ${n} shows its fields decoded, inbox read ${n} --out FILE saves the whole mail`);
  }
  reader.end();
}

/** Notes about a field that was cut or read as ISO-8859-1. */
function fieldNotes(notes: Notes, n: number, reader: HeaderReader, field: string): void {
  if (!reader.has(field)) return;
  if (reader.isTruncated(field)) notes.add(`mail ${n}, ${field}: longer than ${reader.maxFieldBytes} bytes, shown cut there`);
  if (reader.isLatin1(field)) notes.add(`mail ${n}, ${field}: 8-bit bytes that are not UTF-8, read as ISO-8859-1`);
}

/** The Date field: ISO 8601 (UTC) and "YYYY-MM-DD HH:MM" in local time; null when it is not a date. */
function parseDate(text: string | null): { iso: string; local: string } | null {
  if (text === null) return null;
  const time = Date.parse(text);
  if (Number.isNaN(time)) return null;
  const date = new Date(time);
  const two = (v: number) => String(v).padStart(2, "0");
  const local = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`;
  return { iso: date.toISOString(), local };
}

/**
 * One line per mail, each written as soon as it is read (STAT, then LIST, UIDL and the header
 * of one mail at a time): memory stays the same however full the mailbox is. --json answers
 * in one document, so it takes at most JSON_LIST_MAX mails, refused up front past that.
 */
export async function list(client: Mailbox, can: DialectCapabilities, json: boolean, out: Out): Promise<void> {
  const { count } = await client.stat();
  if (json && count > JSON_LIST_MAX) {
    throw new Error(`the mailbox holds ${count} mails, more than the ${JSON_LIST_MAX} inbox list --json answers in one document; inbox list without --json shows them all, a line per mail as it is read`);
  }
  const reader = new HeaderReader({ fields: ["From", "Date", "Subject"], maxFieldBytes: FIELD_BYTES });
  const notes = new Notes(json);
  const problems: string[] = [];
  const rows = [];
  for (let n = 1; n <= count; n++) {
    const size = await client.list(n);
    const uid = can.uidl ? await client.uid(n) : null;
    await readHeader(client, n, reader, null);
    for (const field of reader.fields) fieldNotes(notes, n, reader, field);
    const from = reader.address("From", problems);
    notes.field(n, "From", problems);
    const subject = reader.get("Subject", problems);
    notes.field(n, "Subject", problems);
    const dateText = reader.raw("Date");
    const date = parseDate(dateText);
    if (dateText !== null && date === null) notes.add(`mail ${n}, Date: "${dateText}" is not a date`);
    if (json) {
      rows.push({ number: n, size, uid, date: date?.iso ?? null, dateText, from, subject });
      continue;
    }
    const sender = from === null ? "-" : from.name !== "" ? from.name : from.address;
    process.stdout.write(`${[n, size, date?.local ?? dateText ?? "-", sender, subject ?? ""].map((cell) => printableLine(String(cell))).join("\t")}\n`);
  }
  if (json) out("", { messages: rows, notes: notes.list });
  else if (count === 0) out("no mail", {});
}

export async function headers(client: Mailbox, n: number, rawOnly: boolean, json: boolean, out: Out): Promise<void> {
  const reader = new HeaderReader({ fields: SHOWN_FIELDS, maxFieldBytes: FIELD_BYTES });
  // The block as served is only kept where it is shown.
  const chunks: Buffer[] | null = rawOnly || json ? [] : null;
  await readHeader(client, n, reader, chunks);
  const bytes = Buffer.concat(chunks ?? []);
  const utf8 = isValidUtf8(bytes, 0, bytes.length);
  const raw = utf8 ? decodeUtf8(bytes, 0, bytes.length) : bytes.toString("latin1");
  if (rawOnly && !json) {
    // As served, folding and line ends kept; only terminal controls are replaced.
    process.stdout.write(printableBlock(raw));
    return;
  }
  const notes = new Notes();
  if (!utf8) notes.add(`mail ${n}: the header has 8-bit bytes that are not UTF-8: raw is read as ISO-8859-1`);
  const problems: string[] = [];
  const decoded: Record<string, string | null> = {};
  const lines = [];
  for (const field of SHOWN_FIELDS) {
    fieldNotes(notes, n, reader, field);
    const value = reader.get(field, problems);
    notes.field(n, field, problems);
    decoded[field.toLowerCase()] = value;
    if (value !== null) lines.push(`${`${field}:`.padEnd(9)}${printableLine(value)}`);
  }
  const addresses = { from: reader.addresses("From"), to: reader.addresses("To"), cc: reader.addresses("Cc") };
  out(rawOnly ? raw : lines.join("\n"), { number: n, ...decoded, addresses, raw, notes: notes.list });
}

