// A whole retrieved message, streamed: the header reader, then the body reader on the bytes
// after the blank line, in the same chunk. Shaped as a MailSink (`write`), so it can be
// handed straight to the POP3 reader; one instance is reusable through reset().

import { BodyReader, type BodyReaderOptions } from "./body-reader.ts";
import { HeaderReader, type HeaderReaderOptions } from "./header-reader.ts";

export interface MessageReaderOptions {
  headers?: HeaderReaderOptions;
  body?: BodyReaderOptions;
}

export class MessageReader {
  readonly headers: HeaderReader;
  readonly body: BodyReader;
  private bodyStarted = false;

  constructor(options: MessageReaderOptions = {}) {
    const fields = options.headers?.fields;
    if (fields !== undefined) {
      for (const needed of ["Content-Type", "Content-Transfer-Encoding"]) {
        if (!fields.some((field) => field.toLowerCase() === needed.toLowerCase())) {
          throw new RangeError(`MessageReader: the header fields must include ${needed}, which the body reader needs`);
        }
      }
    }
    this.headers = new HeaderReader(options.headers);
    this.body = new BodyReader(options.body);
  }

  /** Both the text and the headers are read; later bytes would be ignored. */
  get done(): boolean {
    return this.bodyStarted && this.body.done;
  }

  write(buf: Uint8Array, offset: number, length: number): void {
    if (!this.bodyStarted) {
      const used = this.headers.push(buf, offset, length);
      if (!this.headers.done) return;
      this.startBody();
      offset += used;
      length -= used;
    }
    if (length > 0) this.body.push(buf, offset, length);
  }

  /** End of the message. */
  end(): void {
    if (!this.bodyStarted) {
      this.headers.end();
      this.startBody();
    }
    this.body.end();
  }

  reset(): void {
    this.headers.reset();
    this.bodyStarted = false;
  }

  private startBody(): void {
    this.bodyStarted = true;
    this.body.begin(this.headers.contentType(), this.headers.transferEncoding());
  }
}
