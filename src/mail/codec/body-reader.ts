// A text/plain body reader with fixed memory: undoes the transfer encoding (7bit, 8bit,
// binary, quoted-printable, base64; anything else is taken as is) and the charset (those of
// charset.ts; other charsets are read as Latin-1 and flagged), keeping at most `maxChars` of
// text. For multipart/* it scans the parts (nested up to MAX_DEPTH levels), reads each part's
// own headers, and takes the first text/plain part that is not an attachment; once that part
// is complete, or the text is full, the rest is ignored. (To walk every part, with the
// delimiter rules mailparser has, see part-walker.ts.)

import type { ContentType } from "./content-type.ts";
import { Base64Decoder } from "./base64.ts";
import { CHARSET_LATIN1, CHARSET_UNKNOWN, CHARSET_UTF8, CharsetDecoder, charsetOf } from "./charset.ts";
import { HeaderReader } from "./header-reader.ts";
import { QuotedPrintableDecoder } from "./quoted-printable.ts";
import { TextBuffer } from "./text-buffer.ts";

export const DEFAULT_MAX_BODY_CHARS = 2048;
/** Multipart nesting followed (mixed → alternative → text is 2). */
export const MAX_DEPTH = 4;
/** RFC 2046 allows 70; a little more is accepted from careless mailers. */
export const MAX_BOUNDARY = 100;

export interface BodyReaderOptions {
  /** Text kept, in UTF-16 code units; more is dropped and flagged. Default 2048. */
  maxChars?: number;
  /** Bytes kept per part header field (Content-Type etc.). Default 256. */
  partHeaderBytes?: number;
}

const CR = 13;
const LF = 10;
const DASH = 45;
const CRLF = new Uint8Array([CR, LF]);
const SCRATCH_BYTES = 256;
/** Bytes of an unfinished UTF-8 sequence the decoder may still turn into text (U+FFFD each). */
const UTF8_CARRY = 3;

// What happens to content bytes.
const SKIP = 0;
const PART_HEADERS = 1;
const TEXT = 2;
const FINISHED = 3;

// Line scanner states (multipart only).
const IN_LINE = 0;
/** A CR ended content; an LF would make it a line break. */
const AFTER_CR = 1;
/** At a line start, matching "--boundary"; the line break before it is held. */
const LINE_START = 2;
/** A delimiter matched; reading the rest of its line. */
const DELIMITER_LINE = 3;

// Held line break before a possible delimiter.
const EOL_NONE = 0;
const EOL_CR = 1;
const EOL_CRLF = 2;
const EOL_LF = 3;

// Transfer encodings.
const IDENTITY = 0;
const QUOTED_PRINTABLE = 1;
const BASE64 = 2;

export class BodyReader {
  readonly text: TextBuffer;
  /** A text/plain body or part was found. */
  found = false;
  /** Charset of the text found, lowercase as labelled ("" before). */
  charset = "";
  /** False when that charset is not one this reader knows; it was then read as Latin-1. */
  charsetKnown = true;
  /** Invalid base64 characters met in the text part. */
  invalidBase64 = 0;
  private readonly partHeaders: HeaderReader;
  private readonly decoder: CharsetDecoder;
  private readonly base64 = new Base64Decoder();
  private readonly quotedPrintable = new QuotedPrintableDecoder();
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly delimiters: Uint8Array[] = [];
  private readonly delimiterLengths = new Uint8Array(MAX_DEPTH);
  private depth = 0;
  private phase = FINISHED;
  private transfer = IDENTITY;
  private line = IN_LINE;
  private eol = EOL_NONE;
  private matched = 0;
  /** Bit k: level k's delimiter still matches the line start. */
  private candidates = 0;
  private delimiterLevel = 0;
  private delimiterTail = 0;
  private delimiterDashes = 0;

  constructor(options: BodyReaderOptions = {}) {
    this.text = new TextBuffer(options.maxChars ?? DEFAULT_MAX_BODY_CHARS);
    this.decoder = new CharsetDecoder(this.text);
    this.partHeaders = new HeaderReader({
      fields: ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition"],
      maxFieldBytes: options.partHeaderBytes ?? 256,
    });
    for (let k = 0; k < MAX_DEPTH; k++) this.delimiters.push(new Uint8Array(2 + MAX_BOUNDARY));
  }

  /** Nothing more will be read: the text is complete or full, or there is none to find. */
  get done(): boolean {
    return this.phase === FINISHED;
  }

  get truncated(): boolean {
    return this.text.truncated;
  }

  /** Starts a body described by the message's Content-Type and Content-Transfer-Encoding. */
  begin(contentType: ContentType, transferEncoding: string): void {
    this.text.clear();
    this.decoder.begin(CHARSET_UTF8);
    this.found = false;
    this.charset = "";
    this.charsetKnown = true;
    this.invalidBase64 = 0;
    this.depth = 0;
    this.line = LINE_START;
    this.eol = EOL_NONE;
    this.matched = 0;
    if (contentType.type === "multipart") {
      this.phase = this.pushBoundary(contentType.boundary) ? SKIP : FINISHED;
      this.candidates = (1 << this.depth) - 1;
    } else if (contentType.mimeType === "text/plain") {
      this.startText(contentType, transferEncoding);
    } else {
      this.phase = FINISHED;
    }
  }

  push(src: Uint8Array, offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`BodyReader.push: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    if (this.phase === FINISHED) return;
    if (this.depth === 0) this.content(src, offset, offset + length);
    else this.scan(src, offset, offset + length);
  }

  /** End of the body: a text part still open is completed with what arrived. */
  end(): void {
    if (this.phase === FINISHED) return;
    if (this.depth > 0) {
      if (this.line === DELIMITER_LINE) this.delimiterEnded();
      else if (this.line === LINE_START || this.line === AFTER_CR) this.releaseHeld();
    }
    if (this.phase === TEXT) this.finishText();
    this.phase = FINISHED;
  }

  toString(): string {
    return this.text.toString();
  }

  /** The first line with something other than whitespace, trimmed; "" when none. */
  firstLine(): string {
    const lines = this.text.toString().split(/\r\n|\r|\n/);
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed !== "") return trimmed;
    }
    return "";
  }

  private pushBoundary(boundary: string): boolean {
    if (boundary === "" || boundary.length > MAX_BOUNDARY || this.depth === MAX_DEPTH) return false;
    const delimiter = this.delimiters[this.depth];
    delimiter[0] = DASH;
    delimiter[1] = DASH;
    for (let i = 0; i < boundary.length; i++) {
      const c = boundary.charCodeAt(i);
      if (c > 126) return false;
      delimiter[2 + i] = c;
    }
    this.delimiterLengths[this.depth] = 2 + boundary.length;
    this.depth++;
    return true;
  }

  private startText(contentType: ContentType, transferEncoding: string): void {
    this.found = true;
    this.phase = TEXT;
    const encoding = transferEncoding.toLowerCase();
    this.transfer = encoding === "quoted-printable" ? QUOTED_PRINTABLE : encoding === "base64" ? BASE64 : IDENTITY;
    this.base64.reset();
    this.quotedPrintable.reset();
    const charset = contentType.charset;
    this.charset = charset;
    const known = charset === "" ? CHARSET_UTF8 : charsetOf(charset);
    this.charsetKnown = known !== CHARSET_UNKNOWN;
    this.decoder.begin(this.charsetKnown ? known : CHARSET_LATIN1);
  }

  /** Multipart: finds delimiter lines; everything else goes to content(). */
  private scan(src: Uint8Array, offset: number, end: number): void {
    let runStart = offset;
    for (let i = offset; i < end; i++) {
      if (this.phase === FINISHED) return;
      const byte = src[i];
      switch (this.line) {
        case IN_LINE:
          if (byte === LF) {
            if (this.phase === PART_HEADERS) {
              // Header lines go out whole: the header reader must see its blank line.
              this.content(src, runStart, i + 1);
              this.eol = EOL_NONE;
            } else {
              if (i > runStart) this.content(src, runStart, i);
              this.eol = EOL_LF;
            }
            runStart = i + 1;
            this.lineStart();
          } else if (byte === CR && this.phase !== PART_HEADERS) {
            if (i > runStart) this.content(src, runStart, i);
            runStart = i + 1;
            this.eol = EOL_CR;
            this.line = AFTER_CR;
          }
          break;
        case AFTER_CR:
          if (byte === LF) {
            this.eol = EOL_CRLF;
            runStart = i + 1;
            this.lineStart();
          } else {
            this.releaseHeld(); // a bare CR is content
            this.line = IN_LINE;
            runStart = i;
            i--;
          }
          break;
        case LINE_START: {
          const position = this.matched;
          let still = 0;
          let complete = -1;
          for (let k = 0; k < this.depth; k++) {
            if ((this.candidates & (1 << k)) === 0) continue;
            const length = this.delimiterLengths[k];
            if (position < length && this.delimiters[k][position] === byte) {
              still |= 1 << k;
              if (position + 1 === length && complete < 0) complete = k;
            }
          }
          if (still === 0) {
            this.releaseHeld();
            this.line = IN_LINE;
            runStart = i;
            i--;
            break;
          }
          this.candidates = still;
          this.matched = position + 1;
          if (complete >= 0) {
            this.delimiterLevel = complete;
            this.delimiterTail = 0;
            this.delimiterDashes = 0;
            this.line = DELIMITER_LINE;
          }
          break;
        }
        default: // DELIMITER_LINE: "--" right after the boundary closes; the rest is ignored
          if (byte === LF) {
            this.delimiterEnded();
            runStart = i + 1;
          } else {
            if (byte === DASH && this.delimiterDashes === this.delimiterTail) this.delimiterDashes++;
            this.delimiterTail++;
          }
          break;
      }
    }
    if (this.line === IN_LINE && end > runStart && this.phase !== FINISHED) this.content(src, runStart, end);
  }

  private lineStart(): void {
    this.line = LINE_START;
    this.matched = 0;
    this.candidates = (1 << this.depth) - 1;
  }

  /** The held line break and delimiter prefix were content after all. */
  private releaseHeld(): void {
    const eol = this.eol;
    this.eol = EOL_NONE;
    if (eol === EOL_CR || eol === EOL_CRLF) this.content(CRLF, 0, eol === EOL_CR ? 1 : 2);
    else if (eol === EOL_LF) this.content(CRLF, 1, 2);
    const matched = this.matched;
    this.matched = 0;
    if (matched > 0) {
      let level = 0;
      while ((this.candidates & (1 << level)) === 0) level++;
      this.content(this.delimiters[level], 0, matched);
    }
  }

  private delimiterEnded(): void {
    if (this.phase === TEXT) {
      this.finishText();
      this.phase = FINISHED;
      return;
    }
    const level = this.delimiterLevel;
    const close = this.delimiterDashes >= 2;
    this.depth = close ? level : level + 1;
    if (close) {
      // What follows is the epilogue, then more of the enclosing part (skipped either way).
      this.phase = this.depth === 0 ? FINISHED : SKIP;
    } else {
      this.phase = PART_HEADERS;
      this.partHeaders.reset();
    }
    this.eol = EOL_NONE;
    this.lineStart();
  }

  private partHeadersEnded(): void {
    const headers = this.partHeaders;
    const contentType = headers.contentType();
    if (contentType.type === "multipart") {
      this.pushBoundary(contentType.boundary);
      this.phase = SKIP;
      return;
    }
    const disposition = headers.raw("Content-Disposition");
    const attachment = disposition !== null && disposition.toLowerCase().startsWith("attachment");
    if (!this.found && contentType.mimeType === "text/plain" && !attachment) {
      this.startText(contentType, headers.transferEncoding());
    } else {
      this.phase = SKIP;
    }
  }

  /** Content bytes of the body or current part. */
  private content(src: Uint8Array, start: number, end: number): void {
    switch (this.phase) {
      case PART_HEADERS: {
        const used = this.partHeaders.push(src, start, end - start);
        if (this.partHeaders.done) {
          this.partHeadersEnded();
          if (start + used < end) this.content(src, start + used, end);
        }
        break;
      }
      case TEXT:
        this.decodeText(src, start, end);
        break;
      default:
        break;
    }
  }

  private decodeText(src: Uint8Array, start: number, end: number): void {
    const scratch = this.scratch;
    while (start < end && this.phase === TEXT) {
      let n = end - start;
      if (this.transfer === IDENTITY) {
        this.appendText(src, start, n);
      } else if (this.transfer === QUOTED_PRINTABLE) {
        const most = SCRATCH_BYTES - QuotedPrintableDecoder.maxDecodedLength(0);
        if (n > most) n = most;
        this.appendText(scratch, 0, this.quotedPrintable.decode(src, start, n, scratch, 0));
      } else {
        // Near a full text, one character at a time: decoding stops right after the character
        // whose byte did not fit, so `invalidBase64` does not depend on how the mail was cut.
        const room = this.text.capacity - this.text.length - UTF8_CARRY;
        const fits = Math.floor((room * 4) / 3) - 3;
        const most = Math.min(Math.floor((SCRATCH_BYTES * 4) / 3) - 3, fits > 1 ? fits : 1);
        if (n > most) n = most;
        this.appendText(scratch, 0, this.base64.decode(src, start, n, scratch, 0));
        this.invalidBase64 = this.base64.invalid;
      }
      start += n;
    }
  }

  private appendText(src: Uint8Array, offset: number, length: number): void {
    if (!this.decoder.write(src, offset, length)) this.phase = FINISHED;
  }

  private finishText(): void {
    const scratch = this.scratch;
    if (this.transfer === QUOTED_PRINTABLE) this.appendText(scratch, 0, this.quotedPrintable.finish(scratch, 0));
    else if (this.transfer === BASE64) {
      this.appendText(scratch, 0, this.base64.finish(scratch, 0));
      this.invalidBase64 = this.base64.invalid;
    }
    this.decoder.end();
  }
}
