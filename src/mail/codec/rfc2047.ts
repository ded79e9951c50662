// RFC 2047 encoded words in header values: decoding for mail read through POP3, and a
// UTF-8 B-word encoder for names and subjects the mail layer sends. Header values are small
// and asked for, so these work on strings and may allocate.

import { base64OfBytes } from "./base64.ts";
import { decodeBase64Text } from "./base64-decode.ts";
import { CHARSET_UNKNOWN, CHARSET_UTF8, charsetOf, singleByteCodePoint } from "./charset.ts";
import { decodeUtf8, encodeCodePoint, isValidUtf8, readCodePoint, utf8SequenceLength } from "./utf8.ts";

/** RFC 2047 section 2: an encoded word is at most 75 characters. */
export const MAX_ENCODED_WORD = 75;

const ENCODED_WORD = "=\\?([^?\\s]+)\\?([BbQq])\\?([^?\\s]*)\\?=";
/** The start of an encoded word, to tell one that never ends from plain text. */
const WORD_START = "=\\?[^?\\s]+\\?[BbQq]\\?";
/** Characters of a word quoted in a problem note. */
const QUOTED_WORD = 60;
const WORD_PREFIX = "=?UTF-8?B?";
const WORD_SUFFIX = "?=";
/** Raw bytes per word: the base64 room (75 - 12 = 63 → 60 characters) holds 45 bytes. */
const BYTES_PER_WORD = (Math.floor((MAX_ENCODED_WORD - WORD_PREFIX.length - WORD_SUFFIX.length) / 4) * 3);

function isLinearWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Decodes Q text into `out` at `at`; returns the new end, or -1 for a broken escape. */
function decodeQ(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 95) out[at++] = 32; // "_" is a space
    else if (c === 61) {
      const high = i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
      const low = high >= 0 ? hexValue(text.charCodeAt(i + 2)) : -1;
      if (low < 0) return -1;
      out[at++] = (high << 4) | low;
      i += 2;
    } else if (c > 32 && c < 127) out[at++] = c;
    else return -1;
  }
  return at;
}

function bytesToText(kind: number, bytes: Uint8Array, length: number): string {
  if (kind === CHARSET_UTF8) return decodeUtf8(bytes, 0, length);
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(singleByteCodePoint(kind, bytes[i]));
  return text;
}

function quoted(word: string): string {
  return word.length <= QUOTED_WORD ? word : `${word.slice(0, QUOTED_WORD - 1)}…`;
}

/** Notes a decoded run that is not text in its charset (its U+FFFD are not in the mail). */
function checkRun(kind: number, bytes: Uint8Array, length: number, words: string, problems: string[] | undefined): void {
  if (problems === undefined) return;
  let valid = true;
  if (kind === CHARSET_UTF8) valid = isValidUtf8(bytes, 0, length);
  else for (let i = 0; i < length && valid; i++) valid = singleByteCodePoint(kind, bytes[i]) !== 0xfffd;
  if (!valid) problems.push(`${quoted(words)} holds bytes that are not text in its charset: shown as U+FFFD`);
}

/** Notes encoded-word starts in plain text that never end (a word cut or broken by folding). */
function checkGap(gap: string, problems: string[] | undefined): void {
  if (problems === undefined || gap.indexOf("=?") < 0) return;
  const start = new RegExp(WORD_START).exec(gap);
  if (start !== null) problems.push(`an encoded word that does not end (${quoted(gap.slice(start.index).trim())}): kept as written`);
}

/**
 * Decodes the encoded words in a header value. Whitespace between two adjacent encoded words
 * is dropped; adjacent words of one charset are decoded together, so a UTF-8 sequence split
 * across them survives. Words with an unknown charset or broken contents stay as they are.
 * Never throws. With `problems`, each thing not decoded (and each U+FFFD that stands for
 * bytes not in the word's charset) is described there in a sentence.
 */
export function decodeHeaderValue(value: string, problems?: string[]): string {
  if (value.indexOf("=?") < 0) return value;
  const bytes = new Uint8Array(value.length);
  let result = "";
  let last = 0;
  let runKind = CHARSET_UNKNOWN;
  let runLength = 0;
  /** The words of the current run, as written (for a note about them). */
  let runWords = "";
  let previousWasWord = false;
  const flush = () => {
    if (runLength === 0) return;
    checkRun(runKind, bytes, runLength, runWords, problems);
    result += bytesToText(runKind, bytes, runLength);
    runLength = 0;
  };
  // A fresh global RegExp per call: a module-level one would be frozen in a Moddable preload.
  const words = new RegExp(ENCODED_WORD, "g");
  for (let m = words.exec(value); m !== null; m = words.exec(value)) {
    const gap = value.slice(last, m.index);
    checkGap(gap, problems);
    last = m.index + m[0].length;
    const kind = charsetOf(m[1]);
    const q = m[2] === "Q" || m[2] === "q";
    const end = kind === CHARSET_UNKNOWN ? -1 : q ? decodeQ(m[3], bytes, runLength) : decodeBase64Text(m[3], bytes, runLength);
    if (end < 0) {
      flush();
      result += gap + m[0];
      previousWasWord = false;
      if (problems !== undefined) {
        problems.push(kind === CHARSET_UNKNOWN
          ? `${quoted(m[0])} is in the charset "${m[1]}", which simmail does not know: kept as written`
          : `${quoted(m[0])} is a broken encoded word (${q ? "a bad =XX escape or character" : "not base64"}): kept as written`);
      }
      continue;
    }
    const adjacent = previousWasWord && isLinearWhitespace(gap);
    if (adjacent && kind === runKind) {
      runLength = end;
      runWords += gap + m[0];
    } else {
      const start = runLength;
      flush();
      if (!adjacent) result += gap;
      bytes.copyWithin(0, start, end);
      runLength = end - start;
      runKind = kind;
      runWords = m[0];
    }
    previousWasWord = true;
  }
  flush();
  checkGap(value.slice(last), problems);
  return result + value.slice(last);
}

/**
 * `text` as UTF-8 B encoded words of at most 75 characters each, split only between
 * characters, joined by single spaces (which decoders drop between adjacent words). Lone
 * surrogates become U+FFFD. An empty text gives "".
 */
export function encodeHeaderWord(text: string): string {
  const bytes = new Uint8Array(BYTES_PER_WORD);
  let words = "";
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const codePoint = readCodePoint(text, i);
    if (codePoint >= 0x10000) i++;
    if (used + utf8SequenceLength(codePoint) > BYTES_PER_WORD) {
      words += (words === "" ? "" : " ") + WORD_PREFIX + base64OfBytes(bytes, 0, used) + WORD_SUFFIX;
      used = 0;
    }
    used += encodeCodePoint(codePoint, bytes, used);
  }
  if (used > 0) words += (words === "" ? "" : " ") + WORD_PREFIX + base64OfBytes(bytes, 0, used) + WORD_SUFFIX;
  return words;
}
