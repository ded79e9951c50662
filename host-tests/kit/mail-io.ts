// Small stand-ins around the mail API: a byte source over a buffer, a sink that keeps what it
// is given, and a serial port that only counts what the host writes.

import type { ByteSource, MailSink, SerialPort } from "../../src/index.ts";

export function bufferSource(bytes: Uint8Array): ByteSource {
  let position = 0;
  return {
    size: bytes.length,
    read(out: Uint8Array, offset: number, max: number): number {
      const n = Math.min(max, bytes.length - position);
      out.set(bytes.subarray(position, position + n), offset);
      position += n;
      return n;
    },
    rewind() {
      position = 0;
    },
  };
}

export class CollectSink implements MailSink {
  private readonly chunks: Buffer[] = [];
  write(buf: Uint8Array, offset: number, length: number): void {
    this.chunks.push(Buffer.from(buf.subarray(offset, offset + length)));
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A modem that never answers: for checks that must refuse before a byte is written. */
export class CountingSerial implements SerialPort {
  written = 0;
  read(): number {
    return 0;
  }
  write(data: Uint8Array): boolean {
    this.written += data.length;
    return true;
  }
}
