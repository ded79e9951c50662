// A streaming MIME part walker with fixed memory: a whole message goes in, in chunks of any
// size; out come its leaf parts, one after the other, each described by its headers (type,
// charset, disposition, decoded file name) and, when the handler wants it, its content with
// the transfer encoding undone (quoted-printable, base64; 7bit, 8bit and binary as they are).
// Multiparts are opened to `maxDepth` levels; one nested deeper, or without a usable boundary,
// is handed over whole as a leaf with `unopened` saying why.
//
// Delimiter lines follow RFC 2046 as mailsplit (mailparser) reads them (delimiters.ts); the
// line break before a delimiter belongs to it, not to the part. A delimiter of any open
// multipart ends the parts inside it. A line that may be a delimiter is held (at most
// DELIMITER_HOLD bytes) until it is known. A body whose message header was read elsewhere
// starts with beginBody() (the body reader does so).

import { contentParameter, dispositionType, type ContentType } from "./content-type.ts";
import { MAX_DELIMITER_PADDING, MAX_PART_BOUNDARY, MultipartDelimiters } from "./delimiters.ts";
import { HeaderReader } from "./header-reader.ts";
import { MimePart, type PartHandler } from "./mime-part.ts";
import { TransferDecoder } from "./transfer-decoder.ts";

export { MAX_DELIMITER_PADDING, MAX_PART_BOUNDARY, MimePart, type PartHandler };

/** Multipart levels opened by default (mixed → alternative → related → text is 3). */
export const MAX_PART_DEPTH = 8;
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

const CR = 13;
const LF = 10;

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

export class PartWalker {
  readonly handler: PartHandler;
  readonly part = new MimePart();
  readonly maxDepth: number;
  /** False when the message ended inside a multipart, before its last delimiter. */
  complete = true;
  private readonly headers: HeaderReader;
  private readonly transfer: TransferDecoder;
  /** "--" + boundary of each open multipart, outermost first. */
  private readonly delimiters: MultipartDelimiters;
  private readonly held = new Uint8Array(DELIMITER_HOLD);
  private heldLength = 0;
  /** Bytes of `held` that are the line break before the possible delimiter. */
  private heldBreak = 0;
  /** Bit k: level k's delimiter still fits the held line. */
  private candidates = 0;
  private depth = 0;
  private phase = HEADERS;
  private line = IN_LINE;
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
    this.transfer = new TransferDecoder(scratchBytes);
    this.headers = new HeaderReader({
      fields: ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition"],
      maxFieldBytes: options.partHeaderBytes ?? 512,
    });
    this.delimiters = new MultipartDelimiters(maxDepth);
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

  /**
   * A new message whose header was read elsewhere: what follows is its body, described by the
   * header's Content-Type and Content-Transfer-Encoding (the message is then one leaf part,
   * or a multipart to open).
   */
  beginBody(contentType: ContentType, transferEncoding: string): void {
    this.reset();
    this.describePart(contentType, transferEncoding.toLowerCase(), null, null);
    this.lineStart();
  }

  /** The message's last delimiter, or end(), was met: nothing more is looked at. */
  get done(): boolean {
    return this.phase === DONE;
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
      const level = this.delimiters.level(this.held, this.heldBreak, this.heldLength, this.depth, this.candidates, true);
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
            const level = this.delimiters.level(this.held, this.heldBreak, this.heldLength, this.depth, this.candidates, false);
            if (level >= 0) {
              this.delimiter(level);
            } else {
              this.lineNotDelimiter();
            }
            runStart = i + 1;
          } else if ((this.candidates = this.delimiters.narrow(this.heldLength - this.heldBreak, byte, this.depth, this.candidates)) !== 0) {
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
    const close = this.delimiters.closing;
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
    this.describePart(headers.contentType(), headers.transferEncoding(), headers.raw("Content-Disposition"), headers.raw("Content-Type"));
  }

  private describePart(contentType: ContentType, transferEncoding: string, disposition: string | null, contentTypeField: string | null): void {
    const headers = this.headers;
    const part = this.part;
    part.unopened = "";
    if (contentType.type === "multipart") {
      const boundary = contentType.boundary;
      if (this.depth >= this.maxDepth) part.unopened = `a multipart nested deeper than ${this.maxDepth} levels`;
      else if (boundary === "") part.unopened = "a multipart without a boundary";
      else if (this.delimiters.open(this.depth, boundary)) this.depth++;
      else part.unopened = `a multipart whose boundary is not up to ${MAX_PART_BOUNDARY} ASCII characters`;
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
    part.transferEncoding = transferEncoding;
    part.problems.length = 0;
    part.disposition = dispositionType(disposition);
    part.filename = contentParameter(disposition, "filename", part.problems)
      ?? contentParameter(contentTypeField, "name", part.problems) ?? "";
    for (const field of headers.fields) {
      if (headers.isTruncated(field)) part.problems.push(`its ${field} is longer than ${headers.maxFieldBytes} bytes and was cut`);
    }
    part.size = 0;
    part.invalidBase64 = 0;
    if (!this.transfer.begin(transferEncoding)) {
      part.problems.push(`its transfer encoding "${transferEncoding}" is not one simmail knows: the content is as written`);
    }
    this.phase = this.handler.partBegin(part) ? LEAF_WANTED : LEAF_UNWANTED;
  }

  private decode(src: Uint8Array, start: number, end: number): void {
    const transfer = this.transfer;
    if (transfer.identity) {
      this.hand(src, start, end - start);
      return;
    }
    const handler = this.handler;
    while (start < end && this.phase === LEAF_WANTED) {
      const n = transfer.pieceLength(end - start, handler.partRoom?.());
      const written = transfer.decode(src, start, n);
      this.part.invalidBase64 = transfer.invalidBase64;
      this.hand(transfer.scratch, 0, written);
      start += n;
    }
  }

  private hand(src: Uint8Array, offset: number, length: number): void {
    if (length === 0) return;
    this.part.size += length;
    if (this.handler.partData(src, offset, length) === false) this.phase = LEAF_UNWANTED;
  }

  private endLeaf(): void {
    const part = this.part;
    if (this.phase === LEAF_WANTED) {
      const written = this.transfer.finish();
      part.invalidBase64 = this.transfer.invalidBase64;
      this.hand(this.transfer.scratch, 0, written);
    }
    this.phase = SKIP;
    this.handler.partEnd(part);
  }
}
