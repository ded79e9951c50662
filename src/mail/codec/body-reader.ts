// A text/plain body reader with fixed memory: the first text/plain part that is not an
// attachment (or the body itself when it is text/plain), its transfer encoding undone and its
// charset decoded (those of charset.ts; other charsets are read as Latin-1 and flagged), at
// most `maxChars` of text. The parts are found by the part walker (part-walker.ts: delimiter
// lines as mailparser reads them, nested up to MAX_DEPTH levels); once the text part is
// complete, or the text is full, the rest is ignored.

import type { ContentType } from "./content-type.ts";
import { CHARSET_LATIN1, CHARSET_UNKNOWN, CHARSET_UTF8, CharsetDecoder, charsetOf } from "./charset.ts";
import type { MimePart, PartHandler } from "./mime-part.ts";
import { MAX_PART_BOUNDARY, PartWalker } from "./part-walker.ts";
import { TextBuffer } from "./text-buffer.ts";

export const DEFAULT_MAX_BODY_CHARS = 2048;
/** Multipart nesting followed (mixed → alternative → text is 2). */
export const MAX_DEPTH = 4;
/** RFC 2046 allows 70; a little more is accepted from careless mailers. */
export const MAX_BOUNDARY = MAX_PART_BOUNDARY;

export interface BodyReaderOptions {
  /** Text kept, in UTF-16 code units; more is dropped and flagged. Default 2048. */
  maxChars?: number;
  /** Bytes kept per part header field (Content-Type etc.). Default 256. */
  partHeaderBytes?: number;
}

const SCRATCH_BYTES = 256;
/** Bytes of an unfinished UTF-8 sequence the decoder may still turn into text (U+FFFD each). */
const UTF8_CARRY = 3;

export class BodyReader implements PartHandler {
  readonly text: TextBuffer;
  /** A text/plain body or part was found. */
  found = false;
  /** Charset of the text found, lowercase as labelled ("" before). */
  charset = "";
  /** False when that charset is not one this reader knows; it was then read as Latin-1. */
  charsetKnown = true;
  /** Invalid base64 characters met in the text part. */
  invalidBase64 = 0;
  private readonly decoder: CharsetDecoder;
  private readonly walker: PartWalker;
  /** The text is complete or full, or the body holds none: nothing more is read. */
  private finished = true;
  /** The text part is open and its text not full. */
  private reading = false;

  constructor(options: BodyReaderOptions = {}) {
    this.text = new TextBuffer(options.maxChars ?? DEFAULT_MAX_BODY_CHARS);
    this.decoder = new CharsetDecoder(this.text);
    this.walker = new PartWalker(this, { maxDepth: MAX_DEPTH, partHeaderBytes: options.partHeaderBytes ?? 256, scratchBytes: SCRATCH_BYTES });
  }

  /** Nothing more will be read: the text is complete or full, or there is none to find. */
  get done(): boolean {
    return this.finished || this.walker.done;
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
    this.finished = false;
    this.reading = false;
    this.walker.beginBody(contentType, transferEncoding);
  }

  push(src: Uint8Array, offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= src.length)) {
      throw new RangeError(`BodyReader.push: range ${offset}+${length} is outside a ${src.length}-byte buffer`);
    }
    if (!this.done) this.walker.write(src, offset, length);
  }

  /** End of the body: a text part still open is completed with what arrived. */
  end(): void {
    if (!this.done) this.walker.end();
    this.finished = true;
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

  /** PartHandler: takes the first text/plain part that is not an attachment. */
  partBegin(part: MimePart): boolean {
    if (this.finished || part.mimeType !== "text/plain" || part.disposition === "attachment") {
      // A body that is one part and not text has nothing to find.
      if (part.depth === 0) this.finished = true;
      return false;
    }
    this.found = true;
    this.reading = true;
    const charset = part.charset;
    this.charset = charset;
    const known = charset === "" ? CHARSET_UTF8 : charsetOf(charset);
    this.charsetKnown = known !== CHARSET_UNKNOWN;
    this.decoder.begin(this.charsetKnown ? known : CHARSET_LATIN1);
    return true;
  }

  /** PartHandler: decoded text bytes; false once the text is full. */
  partData(src: Uint8Array, offset: number, length: number): boolean {
    this.invalidBase64 = this.walker.part.invalidBase64;
    if (this.decoder.write(src, offset, length)) return true;
    this.reading = false;
    this.finished = true;
    return false;
  }

  /** PartHandler: base64 is decoded no further than the text has room for. */
  partRoom(): number {
    return this.text.capacity - this.text.length - UTF8_CARRY;
  }

  /** PartHandler: the text part ended; the rest of the body is ignored. */
  partEnd(part: MimePart): void {
    if (!this.reading) return;
    this.reading = false;
    this.invalidBase64 = part.invalidBase64;
    this.decoder.end();
    this.finished = true;
  }
}
