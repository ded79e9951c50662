// A streaming MIME part walker with fixed memory: a whole message goes in, in chunks of any
// size; out come its leaf parts, one after the other, each described by its headers (type,
// charset, disposition, decoded file name) and, when the handler wants it, its content with
// the transfer encoding undone (quoted-printable, base64; 7bit, 8bit and binary as they are).
// Multiparts are opened to `maxDepth` levels; one nested deeper, or without a usable boundary,
// is handed over whole as a leaf with `unopened` saying why.
//
// Delimiter lines follow RFC 2046 as mailsplit (mailparser) reads them: "--" boundary, then
// "--" for the last one, spaces or tabs, and the line end; the line break before a delimiter
// belongs to it, not to the part. A delimiter of any open multipart ends the parts inside it.
// A line that may be a delimiter is held (at most DELIMITER_HOLD bytes) until it is known.

import { Base64Decoder } from "./base64.ts";
import { contentParameter, dispositionType } from "./content-type.ts";
import { HeaderReader } from "./header-reader.ts";
import { QuotedPrintableDecoder } from "./quoted-printable.ts";

/** Multipart levels opened by default (mixed → alternative → related → text is 3). */
export const MAX_PART_DEPTH = 8;
/** RFC 2046 allows 70; a little more is accepted from careless mailers. */
export const MAX_PART_BOUNDARY = 100;
/** Spaces, tabs and stray CRs a delimiter line may carry after its boundary (and "--"). */
export const MAX_DELIMITER_PADDING = 32;
/** Line break + "--" + boundary + "--" + padding + LF. */
const DELIMITER_HOLD = 2 + 2 + MAX_PART_BOUNDARY + 2 + MAX_DELIMITER_PADDING + 1;

export interface PartWalkerOptions {
  /** Multipart levels opened. Default MAX_PART_DEPTH. */
  maxDepth?: number;
  /** Bytes kept per part header field (Content-Type, Content-Disposition ...). Default 512. */
  partHeaderBytes?: number;
  /** The decoding buffer; decoded content is handed over in pieces up to this size. Default 256. */
  scratchBytes?: number;
}

/** What a leaf part is; one object, refilled for each part. */
export class MimePart {
  /** 1 for the message's first leaf part, then in order. */
  index = 0;
  /** Multipart levels around the part (0: the message is this one part). */
  depth = 0;
  /** "type/subtype", lowercase (text/plain when absent or unreadable). */
  mimeType = "text/plain";
  type = "text";
  /** The charset parameter, lowercase ("us-ascii" for text/* without one). */
  charset = "us-ascii";
  /** Content-Transfer-Encoding, lowercase ("7bit" when absent). */
  transferEncoding = "7bit";
  /** The Content-Disposition type, lowercase ("attachment", "inline"; "" when absent). */
  disposition = "";
  /** Content-Disposition filename, else Content-Type name, decoded (RFC 2231, RFC 2047); "" when none. */
  filename = "";
  /** Why a multipart is handed over whole instead of opened; "" for every other part. */
  unopened = "";
  /** What in the part's headers could not be read as written, one sentence each. */
  readonly problems: string[] = [];
  /** Bytes handed to partData so far. */
  size = 0;
  /** Characters skipped as not base64 (base64 parts). */
  invalidBase64 = 0;

  /** An attachment rather than text to show: said so, or named, or neither text/plain nor text/html. */
  get isAttachment(): boolean {
    if (this.disposition === "attachment" || this.filename !== "") return true;
    return this.mimeType !== "text/plain" && this.mimeType !== "text/html";
  }
}

export interface PartHandler {
  /** A leaf part's headers were read; true to be given its content. */
  partBegin(part: MimePart): boolean;
  /** Content of the current part (only when partBegin said true), decoded, in pieces of any size. */
  partData(src: Uint8Array, offset: number, length: number): void;
  /** The part ended: a delimiter, or the end of the message. Every partBegin gets one. */
  partEnd(part: MimePart): void;
}

const CR = 13;
const LF = 10;
const DASH = 45;
const SPACE = 32;
const TAB = 9;

// What content bytes are.
const HEADERS = 0;
/** Preamble or epilogue of a multipart: ignored. */
const SKIP = 1;
const LEAF_WANTED = 2;
const LEAF_UNWANTED = 3;
/** After the message's last delimiter: nothing more is looked at. */
const DONE = 4;

// Line scanner.
const IN_LINE = 0;
/** A CR ended content; an LF would make it a line break. */
const AFTER_CR = 1;
/** Holding a line break and what may be a delimiter line after it. */
const HOLDING = 2;

// Transfer encodings.
const IDENTITY = 0;
const QUOTED_PRINTABLE = 1;
const BASE64 = 2;

export class PartWalker {
  readonly handler: PartHandler;
  readonly part = new MimePart();
  readonly maxDepth: number;
  /** False when the message ended inside a multipart, before its last delimiter. */
  complete = true;
  private readonly headers: HeaderReader;
  private readonly scratch: Uint8Array;
  private readonly base64 = new Base64Decoder();
  private readonly quotedPrintable = new QuotedPrintableDecoder();
  /** "--" + boundary of each open multipart, outermost first. */
  private readonly delimiters: Uint8Array[] = [];
  private readonly delimiterLengths: Uint8Array;
  private readonly held = new Uint8Array(DELIMITER_HOLD);
  private heldLength = 0;
  /** Bytes of `held` that are the line break before the possible delimiter. */
  private heldBreak = 0;
  /** Bit k: level k's delimiter still fits the held line. */
  private candidates = 0;
  /** The delimiter delimiterLevel() found has the closing "--". */
  private closing = false;
  private depth = 0;
  private phase = HEADERS;
  private line = IN_LINE;
  private transfer = IDENTITY;
  private leaves = 0;

  constructor(handler: PartHandler, options: PartWalkerOptions = {}) {
    const maxDepth = options.maxDepth ?? MAX_PART_DEPTH;
    const scratchBytes = options.scratchBytes ?? 256;
    if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 30) {
      throw new RangeError(`PartWalker maxDepth must be an integer from 0 to 30, got ${maxDepth}`);
    }
    if (!Number.isInteger(scratchBytes) || scratchBytes < 128) {
      throw new RangeError(`PartWalker scratchBytes must be an integer of at least 128, got ${scratchBytes}`);
    }
    this.handler = handler;
    this.maxDepth = maxDepth;
    this.scratch = new Uint8Array(scratchBytes);
    this.headers = new HeaderReader({
      fields: ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition"],
      maxFieldBytes: options.partHeaderBytes ?? 512,
    });
    for (let k = 0; k < maxDepth; k++) this.delimiters.push(new Uint8Array(2 + MAX_PART_BOUNDARY));
    this.delimiterLengths = new Uint8Array(maxDepth);
  }

  /** A new message; the handler's calls for the last one are over. */
  reset(): void {
    this.headers.reset();
    this.complete = true;
    this.heldLength = 0;
    this.heldBreak = 0;
    this.candidates = 0;
    this.depth = 0;
    this.phase = HEADERS;
    this.line = IN_LINE;
    this.leaves = 0;
  }

  /** Message bytes (MailSink shape). */
  write(src: Uint8Array, offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`PartWalker.write: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    if (this.phase === DONE || length === 0) return;
    if (this.depth === 0 && this.phase !== HEADERS) {
      // A single-part message: no delimiter to look for.
      if (this.heldLength > 0) this.releaseHeld();
      this.line = IN_LINE;
      this.content(src, offset, offset + length);
    } else {
      this.scan(src, offset, offset + length);
    }
  }

  /** End of the message: the part still open ends with what arrived. */
  end(): void {
    if (this.phase === DONE) return;
    if (this.line === HOLDING && this.heldLength > this.heldBreak) {
      const level = this.delimiterLevel(true);
      if (level >= 0) this.delimiter(level);
    }
    if (this.phase !== DONE) {
      if (this.heldLength > 0) this.releaseHeld();
      this.line = IN_LINE;
      if (this.phase === HEADERS) {
        this.headers.end();
        this.headersEnded();
      }
      if (this.phase === LEAF_WANTED || this.phase === LEAF_UNWANTED) this.endLeaf();
      if (this.depth > 0) this.complete = false;
    }
    this.phase = DONE;
  }

  private scan(src: Uint8Array, offset: number, end: number): void {
    let runStart = offset;
    for (let i = offset; i < end; i++) {
      if (this.phase === DONE) return;
      const byte = src[i];
      switch (this.line) {
        case IN_LINE:
          if (byte === LF) {
            if (this.phase === HEADERS) {
              // Header lines go out whole: the header reader must see its blank line.
              this.content(src, runStart, i + 1);
            } else {
              if (i > runStart) this.content(src, runStart, i);
              this.held[0] = LF;
              this.heldLength = 1;
            }
            runStart = i + 1;
            this.lineStart();
          } else if (byte === CR && this.phase !== HEADERS) {
            if (i > runStart) this.content(src, runStart, i);
            runStart = i + 1;
            this.held[0] = CR;
            this.heldLength = 1;
            this.line = AFTER_CR;
          }
          break;
        case AFTER_CR:
          if (byte === LF) {
            this.held[1] = LF;
            this.heldLength = 2;
            runStart = i + 1;
            this.lineStart();
          } else {
            this.releaseHeld(); // a bare CR is content
            this.line = IN_LINE;
            runStart = i;
            i--;
          }
          break;
        default: // HOLDING
          if (byte === LF && this.heldLength > this.heldBreak) {
            const level = this.delimiterLevel(false);
            if (level >= 0) {
              this.delimiter(level);
            } else {
              this.lineNotDelimiter();
            }
            runStart = i + 1;
          } else if (this.fits(byte)) {
            this.held[this.heldLength++] = byte;
            runStart = i + 1;
          } else {
            this.releaseHeld();
            this.line = IN_LINE;
            runStart = i;
            i--;
          }
          break;
      }
    }
    if (this.line === IN_LINE && end > runStart && this.phase !== DONE) this.content(src, runStart, end);
  }

  /** After a line break: the next line may be a delimiter of an open multipart. */
  private lineStart(): void {
    this.heldBreak = this.heldLength;
    this.candidates = (1 << this.depth) - 1;
    this.line = this.depth > 0 ? HOLDING : IN_LINE;
    if (this.depth === 0 && this.heldLength > 0 && this.phase !== HEADERS) {
      // Nothing can follow as a delimiter: the break is content (a single-part message).
      this.releaseHeld();
    }
  }

  /** Whether the held line, with `byte` after it, may still become a delimiter line; narrows the candidates. */
  private fits(byte: number): boolean {
    const position = this.heldLength - this.heldBreak;
    let still = 0;
    for (let k = 0; k < this.depth; k++) {
      if ((this.candidates & (1 << k)) === 0) continue;
      const length = this.delimiterLengths[k];
      if (position < length) {
        if (this.delimiters[k][position] === byte) still |= 1 << k;
      } else if (position < length + 2 + MAX_DELIMITER_PADDING && (byte === DASH || byte === SPACE || byte === TAB || byte === CR)) {
        still |= 1 << k;
      }
    }
    this.candidates = still;
    return still !== 0;
  }

  /**
   * The level whose delimiter the held line is exactly (innermost first), or -1. At the end
   * of the input, with no line end, only a closing delimiter counts.
   */
  private delimiterLevel(atEnd: boolean): number {
    const held = this.held;
    const end = this.heldLength;
    for (let k = this.depth - 1; k >= 0; k--) {
      if ((this.candidates & (1 << k)) === 0) continue;
      let i = this.heldBreak + this.delimiterLengths[k];
      if (i > end) continue;
      let close = false;
      if (i < end && held[i] === DASH) {
        if (i + 1 >= end || held[i + 1] !== DASH) continue;
        close = true;
        i += 2;
      }
      while (i < end && (held[i] === SPACE || held[i] === TAB)) i++;
      while (i < end && held[i] === CR) i++;
      if (i === end && (close || !atEnd)) {
        this.closing = close;
        return k;
      }
    }
    return -1;
  }

  /** The held line ended with LF and is not a delimiter: content, and the LF a new held break. */
  private lineNotDelimiter(): void {
    if (this.phase === HEADERS) {
      this.held[this.heldLength++] = LF;
      this.releaseHeld();
    } else {
      // A CR right before the LF is part of the line break, as it would be on any line.
      const crlf = this.held[this.heldLength - 1] === CR && this.heldLength - 1 > this.heldBreak;
      const keep = crlf ? this.heldLength - 1 : this.heldLength;
      this.deliverHeld(keep);
      this.held[0] = crlf ? CR : LF;
      this.held[1] = LF;
      this.heldLength = crlf ? 2 : 1;
    }
    this.lineStart();
  }

  /** Hands the held bytes to the content, as content. */
  private releaseHeld(): void {
    this.deliverHeld(this.heldLength);
  }

  private deliverHeld(length: number): void {
    this.heldLength = 0;
    this.heldBreak = 0;
    if (length > 0) this.content(this.held, 0, length);
  }

  /** A delimiter of level `level` (its line already read): ends what is open inside it. */
  private delimiter(level: number): void {
    const close = this.closing;
    this.heldLength = 0;
    this.heldBreak = 0;
    if (this.phase === HEADERS) {
      // A part whose header never ended: it has no content.
      this.headers.end();
      this.headersEnded();
    }
    if (this.phase === LEAF_WANTED || this.phase === LEAF_UNWANTED) this.endLeaf();
    if (close) {
      this.depth = level;
      this.phase = level === 0 ? DONE : SKIP; // the epilogue, then more of the enclosing part
    } else {
      this.depth = level + 1;
      this.phase = HEADERS;
      this.headers.reset();
    }
    this.lineStart();
  }

  /** Content bytes of the current part (or its header lines). */
  private content(src: Uint8Array, start: number, end: number): void {
    switch (this.phase) {
      case HEADERS: {
        const used = this.headers.push(src, start, end - start);
        if (this.headers.done) {
          this.headersEnded();
          if (start + used < end) this.content(src, start + used, end);
        }
        break;
      }
      case LEAF_WANTED:
        this.decode(src, start, end);
        break;
      default:
        break;
    }
  }

  /** The current part's header ended: a multipart to open, or a leaf for the handler. */
  private headersEnded(): void {
    const headers = this.headers;
    const contentType = headers.contentType();
    const part = this.part;
    part.unopened = "";
    if (contentType.type === "multipart") {
      const boundary = contentType.boundary;
      if (this.depth >= this.maxDepth) part.unopened = `a multipart nested deeper than ${this.maxDepth} levels`;
      else if (boundary === "") part.unopened = "a multipart without a boundary";
      else if (!this.openMultipart(boundary)) part.unopened = `a multipart whose boundary is not up to ${MAX_PART_BOUNDARY} ASCII characters`;
      if (part.unopened === "") {
        this.phase = SKIP; // the preamble
        return;
      }
    }
    part.index = ++this.leaves;
    part.depth = this.depth;
    part.mimeType = contentType.mimeType;
    part.type = contentType.type;
    part.charset = contentType.charset;
    part.transferEncoding = headers.transferEncoding();
    part.problems.length = 0;
    const disposition = headers.raw("Content-Disposition");
    part.disposition = dispositionType(disposition);
    part.filename = contentParameter(disposition, "filename", part.problems)
      ?? contentParameter(headers.raw("Content-Type"), "name", part.problems) ?? "";
    for (const field of headers.fields) {
      if (headers.isTruncated(field)) part.problems.push(`its ${field} is longer than ${headers.maxFieldBytes} bytes and was cut`);
    }
    part.size = 0;
    part.invalidBase64 = 0;
    const encoding = part.transferEncoding;
    this.transfer = encoding === "quoted-printable" ? QUOTED_PRINTABLE : encoding === "base64" ? BASE64 : IDENTITY;
    if (this.transfer === IDENTITY && encoding !== "7bit" && encoding !== "8bit" && encoding !== "binary") {
      part.problems.push(`its transfer encoding "${encoding}" is not one simmail knows: the content is as written`);
    }
    this.base64.reset();
    this.quotedPrintable.reset();
    this.phase = this.handler.partBegin(part) ? LEAF_WANTED : LEAF_UNWANTED;
  }

  private openMultipart(boundary: string): boolean {
    if (boundary.length > MAX_PART_BOUNDARY) return false;
    const delimiter = this.delimiters[this.depth];
    delimiter[0] = DASH;
    delimiter[1] = DASH;
    for (let i = 0; i < boundary.length; i++) {
      const c = boundary.charCodeAt(i);
      if (c > 126 || c < 32) return false;
      delimiter[2 + i] = c;
    }
    this.delimiterLengths[this.depth] = 2 + boundary.length;
    this.depth++;
    return true;
  }

  private decode(src: Uint8Array, start: number, end: number): void {
    const part = this.part;
    if (this.transfer === IDENTITY) {
      part.size += end - start;
      this.handler.partData(src, start, end - start);
      return;
    }
    const scratch = this.scratch;
    const most = this.transfer === QUOTED_PRINTABLE
      ? scratch.length - QuotedPrintableDecoder.maxDecodedLength(0)
      : Math.floor((scratch.length * 4) / 3) - 3;
    while (start < end) {
      const n = end - start < most ? end - start : most;
      const written = this.transfer === QUOTED_PRINTABLE
        ? this.quotedPrintable.decode(src, start, n, scratch, 0)
        : this.base64.decode(src, start, n, scratch, 0);
      this.hand(written);
      start += n;
    }
  }

  private hand(length: number): void {
    if (length === 0) return;
    this.part.size += length;
    this.handler.partData(this.scratch, 0, length);
  }

  private endLeaf(): void {
    const part = this.part;
    if (this.phase === LEAF_WANTED) {
      if (this.transfer === QUOTED_PRINTABLE) this.hand(this.quotedPrintable.finish(this.scratch, 0));
      else if (this.transfer === BASE64) {
        this.hand(this.base64.finish(this.scratch, 0));
        part.invalidBase64 = this.base64.invalid;
      }
    }
    this.phase = SKIP;
    this.handler.partEnd(part);
  }
}
