// The stream through our AtEngine: a serial stub handing over one pre-cut chunk per
// onReadable, URC handlers that read fields from offsets, POP3READ data taken by byte count.
// The core comes in as a parameter (`lib`) so that the very same code runs on Node (the
// source modules) and under XS (the bundled dist/xs/simmail-core.js).

import type * as Core from "../src/index.ts";
import type { Line } from "../src/transport/bytes.ts";
import type { UrcHandler } from "../src/transport/engine.ts";
import type { MatchTable } from "../src/transport/match.ts";
import type { Deadline, SerialPort, TimerPort } from "../src/transport/ports.ts";
import type { StreamTruth } from "./modem-stream.ts";

export type CoreLib = typeof Core;

/**
 * What a parser found in the stream: the generator's truth less what only the generator knows
 * (dataBytes: byte-counted data, our engine only; line readers see the data as lines).
 */
export type Counts = Omit<StreamTruth, "noise" | "lookalikeLines" | "mails" | "uploads"> & {
  /** Mail bytes handed on after unstuffing (our engine, delivering). */
  deliveredBytes: number;
};

export function emptyCounts(): Counts {
  return { ok: 0, csq: 0, csqSum: 0, smtpft: 0, smtpftSum: 0, pop3read: 0, pop3readSum: 0, smtpsend: 0, pop3cmd: 0, dataBytes: 0, dataLineFeeds: 0, deliveredBytes: 0 };
}

const OK_ID = 0;
const CSQ_ID = 1;
const SMTPFT_ID = 2;
const POP3READ_ID = 3;
const SMTPSEND_ID = 4;
const POP3CMD_ID = 5;

/** The ECMA-419 read side over one pre-cut chunk at a time. */
class ChunkSerial implements SerialPort {
  chunk: Uint8Array | null = null;

  read(buffer: Uint8Array): number {
    const chunk = this.chunk;
    if (chunk === null) return 0;
    this.chunk = null;
    buffer.set(chunk);
    return chunk.length;
  }

  write(): boolean {
    throw new Error("the receive benchmark sends nothing");
  }
}

const idleDeadline: Deadline = { arm() {}, disarm() {}, close() {} };
export const noTimers: TimerPort = { deadline: () => idleDeadline };

/**
 * Makes `replay(chunks)`: a fresh engine per call, fed one chunk per onReadable. With
 * `scanData` (the default) the handler unstuffs the data and hands the mail bytes on, as
 * Pop3Client does; without, it only counts them (to tell the engine's own cost from that work).
 */
export function engineReplay(lib: CoreLib, scanData = true): (chunks: readonly Uint8Array[]) => Counts {
  const Verdict = lib.Verdict;

  class CountingHandler implements UrcHandler {
    readonly table: MatchTable = new lib.MatchTable([
      { text: "OK", exact: true, id: OK_ID },
      { text: "+CSQ: ", id: CSQ_ID },
      { text: "+SMTPFT: ", id: SMTPFT_ID },
      { text: "+POP3READ: ", id: POP3READ_ID },
      { text: "+SMTPSEND: ", id: SMTPSEND_ID },
      { text: "+POP3CMD: ", id: POP3CMD_ID },
    ]);
    receiveLength = 0;
    readonly counts = emptyCounts();
    private readonly unstuffer = new lib.DotUnstuffer();

    onUrc(id: number, line: Line): Core.Verdict {
      const c = this.counts;
      switch (id) {
        case OK_ID:
          c.ok++;
          return Verdict.Continue;
        case CSQ_ID:
          c.csq++;
          c.csqSum += line.int();
          return Verdict.Continue;
        case SMTPFT_ID:
          c.smtpft++;
          line.int();
          c.smtpftSum += line.int();
          return Verdict.Continue;
        case POP3READ_ID: {
          c.pop3read++;
          line.int();
          const length = line.int();
          c.pop3readSum += length;
          this.receiveLength = length;
          return length > 0 ? Verdict.Receive : Verdict.Continue;
        }
        case SMTPSEND_ID:
          c.smtpsend++;
          return Verdict.Continue;
        case POP3CMD_ID:
          c.pop3cmd++;
          return Verdict.Continue;
      }
      return Verdict.NotMine;
    }

    onLine(): Core.Verdict {
      return Verdict.NotMine;
    }

    /**
     * Takes the data as Pop3Client does: dot-stuffing undone in place (the engine's read
     * buffer holds a copy of the stream) and the mail bytes handed on, their line feeds
     * counted (what the peers' line splitting finds too).
     */
    onData(buf: Uint8Array, offset: number, length: number): void {
      const c = this.counts;
      c.dataBytes += length;
      if (!scanData) return;
      const n = this.unstuffer.push(buf, offset, length, buf, offset);
      const end = offset + n;
      let lineFeeds = 0;
      for (let i = buf.indexOf(10, offset); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) lineFeeds++;
      c.dataLineFeeds += lineFeeds;
      c.deliveredBytes += n;
      if (this.unstuffer.done) this.unstuffer.reset();
    }
  }

  return (chunks) => {
    const serial = new ChunkSerial();
    const engine = new lib.AtEngine({ serial, timers: noTimers });
    const handler = new CountingHandler();
    engine.addUrcHandler(handler);
    for (let k = 0; k < chunks.length; k++) {
      const chunk = chunks[k];
      serial.chunk = chunk;
      engine.onReadable(chunk.length);
    }
    return handler.counts;
  };
}

/**
 * The serial stub alone (the same reads into a 128-byte buffer, no engine): its cost is not
 * the engine's, and under XS it is subtracted from the engine's figure.
 */
export function serialOnly(chunks: readonly Uint8Array[]): number {
  const serial = new ChunkSerial();
  const buffer = new Uint8Array(128);
  let bytes = 0;
  for (let k = 0; k < chunks.length; k++) {
    serial.chunk = chunks[k];
    for (;;) {
      const n = serial.read(buffer);
      if (n === 0) break;
      bytes += n;
    }
  }
  return bytes;
}

/** The stream cut into reads of `size` bytes (views, no copies). */
export function cutIntoReads(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, Math.min(offset + size, bytes.length)));
  return chunks;
}
