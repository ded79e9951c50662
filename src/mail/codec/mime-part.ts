// What the part walker (part-walker.ts) says about each leaf part, and what it calls for them.

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
  /** Characters skipped as not base64 so far (base64 parts). */
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
  /**
   * Content of the current part (only when partBegin said true), decoded, in pieces of any
   * size. False: the rest of the part is not wanted (partEnd still comes).
   */
  partData(src: Uint8Array, offset: number, length: number): boolean | void;
  /**
   * Decoded bytes the handler can still take, for one that keeps a bounded amount: base64 is
   * then decoded no further than that, so what was decoded when it stops does not depend on
   * how the message was cut. Without it, no bound.
   */
  partRoom?(): number;
  /** The part ended: a delimiter, or the end of the message. Every partBegin gets one. */
  partEnd(part: MimePart): void;
}
