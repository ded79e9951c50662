// The charsets the mail readers know, in one place: their labels, and a streaming decoder from
// any of them to code points. UTF-8 (and US-ASCII, read as UTF-8 in bodies since 8-bit
// "ASCII" mail is UTF-8 in practice), ISO-8859-1 and Windows-1252; every other label is
// unknown, and the caller decides what to show instead (the readers keep such text as written).

import { Utf8Decoder, type CodePointSink } from "./utf8.ts";

export const CHARSET_UNKNOWN = 0;
export const CHARSET_UTF8 = 1;
export const CHARSET_US_ASCII = 2;
export const CHARSET_LATIN1 = 3;
export const CHARSET_WINDOWS_1252 = 4;

const REPLACEMENT = 0xfffd;

/**
 * Windows-1252 bytes 0x80-0x9F (the rest is Latin-1). The five bytes the code page leaves
 * unassigned are U+FFFD, as iconv and the WHATWG decoder's error mode have them.
 */
const WINDOWS_1252_HIGH = new Uint16Array([
  0x20ac, REPLACEMENT, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, REPLACEMENT, 0x017d, REPLACEMENT,
  REPLACEMENT, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, REPLACEMENT, 0x017e, 0x0178,
]);

/** The charset a label names (any case; an RFC 2231 language after "*" is ignored). */
export function charsetOf(label: string): number {
  const star = label.indexOf("*");
  const name = (star >= 0 ? label.slice(0, star) : label).trim().toLowerCase();
  switch (name) {
    case "utf-8":
    case "utf8":
      return CHARSET_UTF8;
    case "us-ascii":
    case "ascii":
      return CHARSET_US_ASCII;
    case "iso-8859-1":
    case "iso8859-1":
    case "iso_8859-1":
    case "latin1":
    case "l1":
      return CHARSET_LATIN1;
    case "windows-1252":
    case "cp1252":
    case "x-cp1252":
      return CHARSET_WINDOWS_1252;
    default:
      return CHARSET_UNKNOWN;
  }
}

/** The code point of one byte in a single-byte charset (Latin-1 for an unknown one). */
export function singleByteCodePoint(charset: number, byte: number): number {
  if (byte < 0x80) return byte;
  if (charset === CHARSET_US_ASCII) return REPLACEMENT;
  if (charset === CHARSET_WINDOWS_1252 && byte < 0xa0) return WINDOWS_1252_HIGH[byte - 0x80];
  return byte;
}

/**
 * Streaming bytes → code points into a sink, in the charset set by begin(). UTF-8 and
 * US-ASCII go through the UTF-8 decoder (invalid input becomes U+FFFD); single-byte charsets
 * map byte by byte; an unknown charset is read as Latin-1, byte for byte, so nothing is lost.
 * `replaced` counts the U+FFFD that stand for undecodable input. Nothing throws.
 */
export class CharsetDecoder {
  readonly sink: CodePointSink;
  /** U+FFFD written for input that is not text in the charset. */
  replaced = 0;
  private readonly utf8: Utf8Decoder<CodePointSink>;
  private charset = CHARSET_UTF8;

  constructor(sink: CodePointSink) {
    this.sink = sink;
    this.utf8 = new Utf8Decoder(sink);
  }

  /** Starts a text in `charset` (a CHARSET_* value). */
  begin(charset: number): void {
    this.charset = charset;
    this.replaced = 0;
    this.utf8.restart();
  }

  /** Decodes bytes; returns false once the sink takes no more. */
  write(src: Uint8Array, offset: number, length: number): boolean {
    const charset = this.charset;
    if (charset === CHARSET_UTF8 || charset === CHARSET_US_ASCII) {
      const fits = this.utf8.write(src, offset, length);
      this.replaced = this.utf8.replaced;
      return fits;
    }
    const sink = this.sink;
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      const codePoint = singleByteCodePoint(charset, src[i]);
      if (codePoint === REPLACEMENT) this.replaced++;
      if (!sink.appendCodePoint(codePoint)) return false;
    }
    return true;
  }

  /** End of the text: an unfinished UTF-8 sequence becomes U+FFFD. */
  end(): void {
    if (this.charset === CHARSET_UTF8 || this.charset === CHARSET_US_ASCII) {
      this.utf8.end();
      this.replaced = this.utf8.replaced;
    }
  }
}
