// A part's Content-Transfer-Encoding undone through one fixed scratch buffer: quoted-printable
// and base64 decoded piece by piece, 7bit, 8bit and binary (and any encoding it does not know)
// passed as they are. The caller cuts its input with pieceLength() and takes each piece's
// decoded bytes from `scratch`.

import { Base64Decoder } from "./base64-decode.ts";
import { QuotedPrintableDecoder } from "./quoted-printable.ts";

const IDENTITY = 0;
const QUOTED_PRINTABLE = 1;
const BASE64 = 2;

export class TransferDecoder {
  /** Where decode() and finish() write. */
  readonly scratch: Uint8Array;
  private readonly base64 = new Base64Decoder();
  private readonly quotedPrintable = new QuotedPrintableDecoder();
  private transfer = IDENTITY;

  constructor(scratchBytes: number) {
    this.scratch = new Uint8Array(scratchBytes);
  }

  /** A new part in `encoding` (lowercase); false when it is none of the five RFC 2045 names (the content is then as written). */
  begin(encoding: string): boolean {
    this.transfer = encoding === "quoted-printable" ? QUOTED_PRINTABLE : encoding === "base64" ? BASE64 : IDENTITY;
    this.base64.reset();
    this.quotedPrintable.reset();
    return this.transfer !== IDENTITY || encoding === "7bit" || encoding === "8bit" || encoding === "binary";
  }

  /** The content needs no decoding: hand it on as it is, without decode(). */
  get identity(): boolean {
    return this.transfer === IDENTITY;
  }

  /** Characters skipped as not base64 in this part so far. */
  get invalidBase64(): number {
    return this.transfer === BASE64 ? this.base64.invalid : 0;
  }

  /**
   * How many of `available` input bytes the next piece takes: what decodes into the scratch
   * buffer, and for base64 with `room` (decoded bytes still wanted) no more than fills it, one
   * character at a time near the end, so decoding stops right after the byte that did not fit.
   */
  pieceLength(available: number, room?: number): number {
    let most: number;
    if (this.transfer === QUOTED_PRINTABLE) {
      most = this.scratch.length - QuotedPrintableDecoder.maxDecodedLength(0);
    } else {
      most = Math.floor((this.scratch.length * 4) / 3) - 3;
      if (room !== undefined) {
        const fits = Math.floor((room * 4) / 3) - 3;
        most = Math.min(most, fits > 1 ? fits : 1);
      }
    }
    return available < most ? available : most;
  }

  /** Decodes one piece (at most pieceLength() bytes) into `scratch`; returns the bytes written. */
  decode(src: Uint8Array, start: number, length: number): number {
    return this.transfer === QUOTED_PRINTABLE
      ? this.quotedPrintable.decode(src, start, length, this.scratch, 0)
      : this.base64.decode(src, start, length, this.scratch, 0);
  }

  /** The end of the part: what the decoder still held, into `scratch`; returns the bytes written. */
  finish(): number {
    if (this.transfer === QUOTED_PRINTABLE) return this.quotedPrintable.finish(this.scratch, 0);
    if (this.transfer === BASE64) return this.base64.finish(this.scratch, 0);
    return 0;
  }
}
