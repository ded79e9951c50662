// How the simulated modem turns its SMTP settings into an RFC 5322 / MIME message, the way a
// modem's own SMTP client does: fixed header set, a text part, one attachment part streamed
// in as the host sends it. Strings are Latin-1 "binary strings" (one char per byte) as they
// came from the AT command line.

import { base64Bytes, base64Text, concatBytes, latin1Bytes, latin1Text } from "./bytes.ts";

export interface Mailbox {
  address: string;
  name: string;
}

export interface AttachmentSpec {
  fileName: string;
  /** "text/plain" for a text attachment, "application/octet-stream" for a binary one, ... */
  contentType: string;
  transferEncoding: "7bit" | "base64";
}

export interface MailDraft {
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  subject: Uint8Array;
  body: Uint8Array;
  /**
   * Charset label of subject, body and names. null: ASCII mode, where bytes are passed on as
   * the host gave them (a modem that takes "ASCII" at its word).
   */
  charset: string | null;
  /** UTC milliseconds and the modem's time zone in quarter hours. */
  date: { epochMs: number; timezoneQuarters: number };
  messageId: string;
  boundary: string;
  attachments: AttachmentSpec[];
}

const CRLF = "\r\n";
/** Characters per base64 line (RFC 2045). */
const LINE = 76;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** RFC 5322 date in the modem's local time: `Wed, 26 Dec 2018 10:36:49 +0800`. */
export function formatDate(epochMs: number, timezoneQuarters: number): string {
  const local = new Date(epochMs + timezoneQuarters * 15 * 60_000);
  const offset = Math.abs(timezoneQuarters) * 15;
  const sign = timezoneQuarters < 0 ? "-" : "+";
  return `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} `
    + `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${sign}${pad(Math.floor(offset / 60))}${pad(offset % 60)}`;
}

function isPrintableAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if ((b < 0x20 && b !== 0x09) || b > 0x7e) return false;
  return true;
}

/**
 * RFC 2047 "B" encoded words of at most 75 characters, folded onto continuation lines. UTF-8
 * text is never split inside a character.
 */
export function encodeWords(bytes: Uint8Array, charset: string): string {
  const overhead = `=?${charset}?B??=`.length;
  const perWord = Math.max(3, Math.floor((75 - overhead) / 4) * 3);
  const utf8 = /^utf-?8$/i.test(charset);
  const words: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + perWord);
    if (utf8) while (end < bytes.length && end > start + 1 && (bytes[end] & 0xc0) === 0x80) end--;
    words.push(`=?${charset}?B?${base64Text(bytes.subarray(start, end))}?=`);
    start = end;
  }
  return words.join(`${CRLF} `);
}

const ENCODED_WORDS = /^=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=(\s+=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)*$/;

/** A display name as a header phrase: encoded words pass, others are quoted or encoded. */
function phrase(name: string, charset: string | null): string {
  if (ENCODED_WORDS.test(name)) return name;
  const bytes = latin1Bytes(name);
  if (charset !== null && !isPrintableAscii(bytes)) return encodeWords(bytes, charset);
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function formatMailbox(mailbox: Mailbox, charset: string | null): string {
  return mailbox.name === "" ? mailbox.address : `${phrase(mailbox.name, charset)} <${mailbox.address}>`;
}

/** `Name: a, b, c` folded so that lines stay short. */
function addressHeader(field: string, list: Mailbox[], charset: string | null): string {
  let out = `${field}: `;
  let lineLength = out.length;
  list.forEach((mailbox, i) => {
    const text = formatMailbox(mailbox, charset) + (i < list.length - 1 ? "," : "");
    if (i > 0) {
      if (lineLength + 1 + text.length > 76) {
        out += `${CRLF} `;
        lineLength = 1;
      } else {
        out += " ";
        lineLength++;
      }
    }
    out += text;
    const lastBreak = text.lastIndexOf("\n");
    lineLength = lastBreak >= 0 ? text.length - lastBreak - 1 : lineLength + text.length;
  });
  return out + CRLF;
}

function subjectHeader(subject: Uint8Array, charset: string | null): string {
  if (charset === null || isPrintableAscii(subject)) return `Subject: ${latin1Text(subject)}${CRLF}`;
  return `Subject: ${encodeWords(subject, charset)}${CRLF}`;
}

/** Bare CR and bare LF become CRLF (SMTP carries CRLF lines only). */
export function normalizeLineEnds(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 13) {
      out.push(13, 10);
      if (bytes[i + 1] === 10) i++;
    } else if (b === 10) out.push(13, 10);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

/** Base64 of `bytes` in 76-character lines, each ending in CRLF. */
export function base64Lines(bytes: Uint8Array): Uint8Array {
  const text = base64Text(bytes);
  let out = "";
  for (let i = 0; i < text.length; i += 76) out += text.slice(i, i + 76) + CRLF;
  return latin1Bytes(out);
}

function textPartHeaders(draft: MailDraft): string {
  if (draft.charset === null) return `Content-Type: text/plain; charset=us-ascii${CRLF}Content-Transfer-Encoding: 7bit${CRLF}`;
  return `Content-Type: text/plain; charset=${draft.charset}${CRLF}Content-Transfer-Encoding: base64${CRLF}`;
}

function textPartBody(draft: MailDraft): Uint8Array {
  return draft.charset === null ? normalizeLineEnds(draft.body) : base64Lines(draft.body);
}

/** `name="x"`, or RFC 2231 / RFC 2047 forms for names that are not plain ASCII. */
function fileNameParams(fileName: string): { name: string; filename: string } {
  const bytes = latin1Bytes(fileName);
  if (isPrintableAscii(bytes) && !/["\\]/.test(fileName)) return { name: `name="${fileName}"`, filename: `filename="${fileName}"` };
  const percent = [...bytes].map((b) => (/[A-Za-z0-9._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
  return { name: `name="${encodeWords(bytes, "UTF-8").replace(/\r\n /g, " ")}"`, filename: `filename*=UTF-8''${percent}` };
}

export function attachmentHeaders(attachment: AttachmentSpec): string {
  const names = fileNameParams(attachment.fileName);
  return `Content-Type: ${attachment.contentType}; ${names.name}${CRLF}`
    + `Content-Transfer-Encoding: ${attachment.transferEncoding}${CRLF}`
    + `Content-Disposition: attachment; ${names.filename}${CRLF}${CRLF}`;
}

/** The top-level header block (ends with the blank line). */
export function headerBlock(draft: MailDraft): string {
  let head = `Date: ${formatDate(draft.date.epochMs, draft.date.timezoneQuarters)}${CRLF}`;
  head += `From: ${formatMailbox(draft.from, draft.charset)}${CRLF}`;
  if (draft.to.length > 0) head += addressHeader("To", draft.to, draft.charset);
  if (draft.cc.length > 0) head += addressHeader("Cc", draft.cc, draft.charset);
  head += subjectHeader(draft.subject, draft.charset);
  head += `Message-ID: ${draft.messageId}${CRLF}MIME-Version: 1.0${CRLF}`;
  if (draft.attachments.length === 0) return head + textPartHeaders(draft) + CRLF;
  return head + `Content-Type: multipart/mixed; boundary="${draft.boundary}"${CRLF}${CRLF}`;
}

/**
 * Everything up to the first attachment's data: the whole message when there is no
 * attachment, else headers, the text part and the first attachment part's headers.
 */
export function messageStart(draft: MailDraft): Uint8Array {
  const head = latin1Bytes(headerBlock(draft));
  if (draft.attachments.length === 0) return concatBytes([head, textPartBody(draft)]);
  return concatBytes([
    head,
    latin1Bytes(`This is a multi-part message in MIME format.${CRLF}${CRLF}--${draft.boundary}${CRLF}${textPartHeaders(draft)}${CRLF}`),
    textPartBody(draft),
    latin1Bytes(`${CRLF}--${draft.boundary}${CRLF}${attachmentHeaders(draft.attachments[0])}`),
  ]);
}

/** Between two attachments' data (the previous data must have ended with CRLF). */
export function nextAttachment(draft: MailDraft, index: number): Uint8Array {
  return latin1Bytes(`--${draft.boundary}${CRLF}${attachmentHeaders(draft.attachments[index])}`);
}

/** After the last attachment's data (which ends with CRLF). */
export function messageEnd(draft: MailDraft): Uint8Array {
  return latin1Bytes(draft.attachments.length === 0 ? "" : `--${draft.boundary}--${CRLF}`);
}

/** Thrown by a streaming encoder for a chunk it cannot take (the modem answers ERROR). */
export class AttachmentDataError extends Error {
  // A field, not an assignment: under frozen built-ins (XS, SES) Error.prototype.name is read-only.
  override readonly name: string = "AttachmentDataError";
  constructor(message: string) {
    super(message);
  }
}

/** Turns attachment chunks as the host sends them into message lines; `finish` ends with CRLF. */
export interface AttachmentEncoder {
  push(chunk: Uint8Array): Uint8Array;
  finish(): Uint8Array;
}

/** Raw bytes in, base64 lines out (the modem does the encoding). */
export class Base64Encoder implements AttachmentEncoder {
  private carry = new Uint8Array(0);
  private lineFill = 0;

  push(chunk: Uint8Array): Uint8Array {
    const data = concatBytes([this.carry, chunk]);
    const whole = data.length - (data.length % 3);
    this.carry = data.slice(whole);
    return this.fold(base64Bytes(data.subarray(0, whole)));
  }

  finish(): Uint8Array {
    const tail = this.fold(base64Bytes(this.carry));
    this.carry = new Uint8Array(0);
    const end = this.lineFill > 0 ? CRLF : "";
    this.lineFill = 0;
    return concatBytes([tail, latin1Bytes(end)]);
  }

  /** Base64 characters into 76-character lines ending in CRLF; the last line goes on in the next call. */
  protected fold(chars: Uint8Array): Uint8Array {
    const room = LINE - this.lineFill;
    const breaks = chars.length < room ? 0 : 1 + Math.floor((chars.length - room) / LINE);
    const out = new Uint8Array(chars.length + 2 * breaks);
    let from = 0;
    let at = 0;
    for (let take = room; chars.length - from >= take; take = LINE) {
      out.set(chars.subarray(from, from + take), at);
      at += take;
      from += take;
      out[at++] = 13;
      out[at++] = 10;
    }
    out.set(chars.subarray(from), at);
    this.lineFill = (breaks > 0 ? 0 : this.lineFill) + chars.length - from;
    return out;
  }
}

/**
 * Base64 text in (the host did the encoding): line breaks the host put in are dropped and
 * the text is refolded into 76-character lines; anything outside the base64 alphabet is
 * refused.
 */
export class Base64Passthrough extends Base64Encoder {
  override push(chunk: Uint8Array): Uint8Array {
    const text = latin1Text(chunk);
    const bad = /[^A-Za-z0-9+/=\r\n]/.exec(text);
    if (bad !== null) {
      const b = chunk[bad.index];
      throw new AttachmentDataError(`byte 0x${b.toString(16).padStart(2, "0")} at offset ${bad.index} is not base64 text (the modem expects the host to base64-encode binary attachments)`);
    }
    return this.fold(latin1Bytes(text.replace(/[\r\n]/g, "")));
  }
}

/**
 * 7bit text: US-ASCII without NUL, line ends made CRLF. `finish` adds the CRLF that belongs to
 * the next boundary line, so the text arrives exactly as sent (bar line-end normalising).
 */
export class SevenBitText implements AttachmentEncoder {
  private pendingCr = false;

  push(chunk: Uint8Array): Uint8Array {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0 || b > 0x7f) {
        throw new AttachmentDataError(`byte 0x${b.toString(16).padStart(2, "0")} at offset ${i} is not 7bit text (send it as a binary file, type 2)`);
      }
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        out.push(13, 10);
        if (b === 10) continue;
      }
      if (b === 13) this.pendingCr = true;
      else if (b === 10) out.push(13, 10);
      else out.push(b);
    }
    return Uint8Array.from(out);
  }

  finish(): Uint8Array {
    const end = this.pendingCr ? CRLF + CRLF : CRLF;
    this.pendingCr = false;
    return latin1Bytes(end);
  }
}
