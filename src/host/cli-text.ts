// What simmail prints that came from a mail or the modem, made safe for a terminal, and the
// file names attachments are saved under. Control characters are those of the core's one rule
// (isControl, src/transport/bytes.ts); here they are shown as U+FFFD, wherever they came from.

import type { CodePointSink } from "../mail/codec/utf8.ts";
import { encodeCodePoint, readCodePoint } from "../mail/codec/utf8.ts";
import { CONTROL_CHARACTERS, isControl, replaceControls } from "../transport/bytes.ts";

/** What a command prints: its human text, or with --json its data. */
export type Out = (human: string, json: Record<string, unknown>) => void;

const REPLACEMENT = 0xfffd;
const LF = 10;
const CR = 13;

const CONTROLS_AND_LINE_FEEDS = new RegExp(`[${CONTROL_CHARACTERS}\\n]`, "g");
/** Controls but a CR that ends a CRLF line. */
const CONTROLS_BUT_LINE_ENDS = new RegExp(`(?!\\r\\n)[${CONTROL_CHARACTERS}]`, "g");

/** Text with its terminal controls replaced; CRLF line ends become LF, a lone CR is replaced. */
export function printable(text: string): string {
  return replaceControls(text.replace(/\r\n/g, "\n"), "\ufffd");
}

/** One line of text (a header value, a list column): tabs are spaces, line breaks and controls replaced. */
export function printableLine(text: string): string {
  return text.replace(/\t/g, " ").replace(CONTROLS_AND_LINE_FEEDS, "\ufffd");
}

/** A header block as served, CRLF line ends kept, every other control replaced. */
export function printableBlock(text: string): string {
  return text.replace(CONTROLS_BUT_LINE_ENDS, "\ufffd");
}

/** JSON with DEL and C1 escaped too (JSON.stringify escapes only C0): the same data, safe to show. */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Decoded text on its way to stdout (or any writer): a code point sink that encodes UTF-8 into
 * one fixed buffer, passes it on when full and at flush(), and applies printable()'s rule on
 * the way (CRLF → LF, lone CR and other controls → U+FFFD). Counts the controls it replaced.
 */
export class TerminalText implements CodePointSink {
  readonly truncated = false;
  /** Control characters shown as U+FFFD. */
  controls = 0;
  /** Code points passed on (what was written, for a note that a text was empty). */
  written = 0;
  private readonly buffer: Uint8Array;
  private used = 0;
  private pendingCr = false;
  /** The last code point passed on, to tell whether the text ended with a line break. */
  private last = LF;

  constructor(private readonly write: (bytes: Uint8Array) => void, size = 4096) {
    this.buffer = new Uint8Array(size);
  }

  appendCodePoint(codePoint: number): boolean {
    if (this.pendingCr) {
      this.pendingCr = false;
      if (codePoint === LF) return this.put(LF);
      this.controls++;
      this.put(REPLACEMENT);
    }
    if (codePoint === CR) {
      this.pendingCr = true;
      return true;
    }
    if (isControl(codePoint)) {
      this.controls++;
      return this.put(REPLACEMENT);
    }
    return this.put(codePoint);
  }

  /** Appends a string (a separator between texts). */
  appendText(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const codePoint = readCodePoint(text, i);
      if (codePoint >= 0x10000) i++;
      this.appendCodePoint(codePoint);
    }
  }

  /** The text so far does not end with a line break (and is not empty). */
  get openLine(): boolean {
    return this.written > 0 && this.last !== LF;
  }

  clear(): void {
    this.used = 0;
    this.pendingCr = false;
  }

  /** Passes on what is held; a CR still waiting for an LF ends the text as a lone CR. */
  flush(): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.controls++;
      this.put(REPLACEMENT);
    }
    if (this.used > 0) this.write(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private put(codePoint: number): boolean {
    if (this.used + 4 > this.buffer.length) this.flush();
    this.used += encodeCodePoint(codePoint, this.buffer, this.used);
    this.written++;
    this.last = codePoint;
    return true;
  }
}

/** Decoded text kept whole as a string (for --json), CRLF line ends as LF; controls stay (JSON escapes them). */
export class StringText implements CodePointSink {
  readonly truncated = false;
  private text = "";
  private units: number[] = [];
  private pendingCr = false;
  private last = LF;
  private written = 0;

  appendCodePoint(codePoint: number): boolean {
    if (this.pendingCr && codePoint !== LF) this.units.push(CR);
    this.pendingCr = codePoint === CR;
    this.written++;
    this.last = codePoint;
    if (this.pendingCr) return true;
    if (codePoint >= 0x10000) {
      const v = codePoint - 0x10000;
      this.units.push(0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
    } else {
      this.units.push(codePoint);
    }
    if (this.units.length >= 4096) this.settle();
    return true;
  }

  /** The text so far does not end with a line break (and is not empty). */
  get openLine(): boolean {
    return this.written > 0 && this.last !== LF;
  }

  appendText(text: string): void {
    for (let i = 0; i < text.length; i++) this.appendCodePoint(text.charCodeAt(i));
  }

  clear(): void {
    this.text = "";
    this.units = [];
    this.pendingCr = false;
    this.written = 0;
    this.last = LF;
  }

  toString(): string {
    if (this.pendingCr) {
      this.units.push(CR);
      this.pendingCr = false;
    }
    this.settle();
    return this.text;
  }

  private settle(): void {
    for (let i = 0; i < this.units.length; i += 1024) this.text += String.fromCharCode(...this.units.slice(i, i + 1024));
    this.units = [];
  }
}

/** Bytes a file name may take (ext4, XFS and most others allow 255). */
const MAX_NAME_BYTES = 255;
/** Characters replaced in file names: path separators, controls, and bidi overrides that disguise an extension. */
const UNSAFE_IN_NAME = /[/\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd]/g;

/**
 * A mail's file name made safe to create in a folder: no path separator (so no folder above or
 * below), no control or bidi override character ("_" each), no ".." (runs of dots are one), no
 * leading dot (no hidden file) or surrounding spaces, at most 255 bytes of UTF-8 (the extension kept). ""
 * when nothing usable is left.
 */
export function safeFileName(name: string): string {
  let safe = name.replace(UNSAFE_IN_NAME, "_").replace(/\.{2,}/g, ".").trim().replace(/^[.\s]+/, "").replace(/[.\s]+$/, "");
  if (/^_*$/.test(safe)) return "";
  if (Buffer.byteLength(safe) > MAX_NAME_BYTES) {
    const dot = safe.lastIndexOf(".");
    const extension = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : "";
    let stem = safe.slice(0, safe.length - extension.length);
    while (Buffer.byteLength(stem + extension) > MAX_NAME_BYTES) stem = Array.from(stem).slice(0, -1).join("");
    safe = stem + extension;
  }
  return safe;
}
