// Content-Type and Content-Disposition values (RFC 2045 section 5, RFC 2183):
// `type/subtype; name=value; name="quoted"`, with RFC 2231 parameters (charset, continuations).

import { CHARSET_UNKNOWN, CHARSET_UTF8, charsetOf, singleByteCodePoint } from "./charset.ts";
import { decodeHeaderValue } from "./rfc2047.ts";
import { decodeUtf8, encodeCodePoint, isValidUtf8, readCodePoint } from "./utf8.ts";

export interface ContentType {
  /** "type/subtype", lowercase; "text/plain" when the field is missing or unreadable. */
  mimeType: string;
  type: string;
  subtype: string;
  /** Lowercase charset parameter; "us-ascii" for text/* without one (RFC 2045 default), else "". */
  charset: string;
  /** The boundary parameter as written (case matters); "" when absent. */
  boundary: string;
}

const DEFAULT_TEXT: ContentType = { mimeType: "text/plain", type: "text", subtype: "plain", charset: "us-ascii", boundary: "" };

function isTokenChar(c: number): boolean {
  // RFC 2045 token: printable ASCII except SPACE and tspecials ()<>@,;:\"/[]?=
  return c > 32 && c < 127 && "()<>@,;:\\\"/[]?=".indexOf(String.fromCharCode(c)) < 0;
}

/** Removes (comments), honoring quoted strings and quoted-pairs. */
function stripComments(value: string): string {
  let out = "";
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\" && (inQuote || depth > 0) && i + 1 < value.length) {
      if (depth === 0) out += ch + value[i + 1];
      i++;
    } else if (depth > 0) {
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
    } else if (ch === '"') {
      inQuote = !inQuote;
      out += ch;
    } else if (ch === "(" && !inQuote) depth = 1;
    else out += ch;
  }
  return out;
}

function isSpace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

/** A token at `text[at]`: its end. */
function tokenEnd(text: string, at: number): number {
  while (at < text.length && isTokenChar(text.charCodeAt(at))) at++;
  return at;
}

/**
 * Calls `visit(name, value)` for each `; name=value` after `at` in a comment-free value, the
 * name lowercase, a quoted value unquoted. Lenient: junk before a ";" is skipped, and an
 * unquoted value that breaks the token rules ("boundary=--=_x") runs to the next ";" or space.
 */
function scanParameters(text: string, at: number, visit: (name: string, value: string) => void): void {
  let i = at;
  while (i < text.length) {
    while (i < text.length && text[i] !== ";") {
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      }
      i++;
    }
    if (i >= text.length) break;
    i++;
    while (i < text.length && isSpace(text[i])) i++;
    const nameEnd = tokenEnd(text, i);
    const name = text.slice(i, nameEnd).toLowerCase();
    i = nameEnd;
    while (i < text.length && isSpace(text[i])) i++;
    if (text[i] !== "=") continue;
    i++;
    while (i < text.length && isSpace(text[i])) i++;
    let value = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i++];
      }
      i++;
    } else {
      const start = i;
      while (i < text.length && text[i] !== ";" && !isSpace(text[i])) i++;
      value = text.slice(start, i);
    }
    visit(name, value);
  }
}

/** Parses a Content-Type value; an empty or malformed type gives text/plain. Never throws. */
export function parseContentType(value: string | null): ContentType {
  if (value === null) return { ...DEFAULT_TEXT };
  const text = stripComments(value);
  let i = 0;
  while (i < text.length && isSpace(text[i])) i++;
  let end = tokenEnd(text, i);
  const type = text.slice(i, end).toLowerCase();
  i = end;
  while (i < text.length && isSpace(text[i])) i++;
  let subtype = "";
  if (text[i] === "/") {
    i++;
    while (i < text.length && isSpace(text[i])) i++;
    end = tokenEnd(text, i);
    subtype = text.slice(i, end).toLowerCase();
    i = end;
  }
  if (type === "" || subtype === "") return { ...DEFAULT_TEXT };
  const result: ContentType = { mimeType: `${type}/${subtype}`, type, subtype, charset: "", boundary: "" };
  scanParameters(text, i, (name, paramValue) => {
    if (name === "charset" && result.charset === "") result.charset = paramValue.toLowerCase();
    else if (name === "boundary" && result.boundary === "") result.boundary = paramValue;
  });
  if (result.charset === "" && type === "text") result.charset = "us-ascii";
  return result;
}

/** The disposition type of a Content-Disposition value ("attachment", "inline"), lowercase; "" when absent. */
export function dispositionType(value: string | null): string {
  if (value === null) return "";
  const text = stripComments(value);
  let i = 0;
  while (i < text.length && isSpace(text[i])) i++;
  return text.slice(i, tokenEnd(text, i)).toLowerCase();
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** One piece of an RFC 2231 parameter: `name*N` (literal) or `name*N*` (charset'language'%XX). */
interface Piece {
  value: string;
  extended: boolean;
}

/** Decodes the pieces of an RFC 2231 value; the charset is named by the first extended one. */
function joinPieces(pieces: Piece[], problems: string[] | undefined, parameter: string): string {
  const first = pieces[0];
  // The charset'language' prefix of an extended first piece; the value as written follows it.
  let prefix = 0;
  let charsetLabel = "";
  if (first.extended) {
    const quote = first.value.indexOf("'");
    const second = quote < 0 ? -1 : first.value.indexOf("'", quote + 1);
    if (second >= 0) {
      prefix = second + 1;
      charsetLabel = first.value.slice(0, quote);
    }
  }
  let written = first.value.slice(prefix);
  for (let p = 1; p < pieces.length; p++) written += pieces[p].value;
  if (first.extended && prefix === 0) {
    problems?.push(`the ${parameter} parameter "${written}" has no charset'language' prefix: kept as written`);
    return written;
  }
  const charset = first.extended ? charsetOf(charsetLabel) : CHARSET_UTF8;
  if (charset === CHARSET_UNKNOWN) {
    problems?.push(`the ${parameter} parameter is in the charset "${charsetLabel}", which simmail does not know: kept as written`);
    return written;
  }
  // Bytes: %XX of extended pieces, the UTF-8 of literal ones.
  const bytes = new Uint8Array(4 * written.length);
  let length = 0;
  let badEscape = false;
  for (let p = 0; p < pieces.length; p++) {
    const { value, extended } = pieces[p];
    for (let i = p === 0 ? prefix : 0; i < value.length; i++) {
      const codePoint = readCodePoint(value, i);
      if (codePoint >= 0x10000) i++;
      if (extended && codePoint === 37) {
        const high = i + 2 < value.length ? hexDigit(value.charCodeAt(i + 1)) : -1;
        const low = high >= 0 ? hexDigit(value.charCodeAt(i + 2)) : -1;
        if (low >= 0) {
          bytes[length++] = (high << 4) | low;
          i += 2;
          continue;
        }
        badEscape = true;
      }
      length += encodeCodePoint(codePoint, bytes, length);
    }
  }
  if (badEscape) problems?.push(`the ${parameter} parameter "${written}" has a % that is not %XX: kept as written there`);
  let text = "";
  if (charset === CHARSET_UTF8) {
    if (!isValidUtf8(bytes, 0, length)) problems?.push(`the ${parameter} parameter "${written}" is not UTF-8: shown with U+FFFD`);
    text = decodeUtf8(bytes, 0, length);
  } else {
    let invalid = false;
    for (let i = 0; i < length; i++) {
      const codePoint = singleByteCodePoint(charset, bytes[i]);
      if (codePoint === 0xfffd) invalid = true;
      text += String.fromCharCode(codePoint);
    }
    if (invalid) problems?.push(`the ${parameter} parameter "${written}" holds bytes that are not ${charsetLabel}: shown as U+FFFD`);
  }
  return text;
}

/**
 * A parameter of a Content-Type or Content-Disposition value (`name`, `filename`), decoded:
 * RFC 2231 (`filename*=utf-8''%C3%A4.pdf`, continuations `filename*0*=`, `filename*1=`) takes
 * precedence over the plain form, whose RFC 2047 words are decoded as mailers write them. Null
 * when the parameter is absent. What cannot be decoded is kept as written and described in
 * `problems`. Never throws.
 */
export function contentParameter(value: string | null, parameter: string, problems?: string[]): string | null {
  if (value === null) return null;
  const wanted = parameter.toLowerCase();
  let plain = null as string | null;
  let extended = null as string | null;
  const pieces: Piece[] = [];
  const text = stripComments(value);
  scanParameters(text, 0, (name, paramValue) => {
    if (!name.startsWith(wanted)) return;
    const rest = name.slice(wanted.length);
    if (rest === "") {
      if (plain === null) plain = paramValue;
    } else if (rest === "*") {
      if (extended === null) extended = paramValue;
    } else {
      const m = /^\*(\d{1,3})(\*?)$/.exec(rest);
      if (m === null) return;
      const index = Number(m[1]);
      if (pieces[index] === undefined) pieces[index] = { value: paramValue, extended: m[2] === "*" };
    }
  });
  if (extended !== null) return joinPieces([{ value: extended, extended: true }], problems, parameter);
  if (pieces[0] !== undefined) {
    let count = 0;
    while (pieces[count] !== undefined) count++;
    if (count < pieces.length) problems?.push(`the ${parameter} parameter skips continuation ${count}: read up to it`);
    return joinPieces(pieces.slice(0, count), problems, parameter);
  }
  return plain === null ? null : decodeHeaderValue(plain, problems);
}
