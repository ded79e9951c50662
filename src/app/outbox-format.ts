// The outbox's on-flash record format and a windowed scanner that finds valid records.
//
// Record (little-endian), L bytes in all:
//   0  u8[2] magic FF A7      0xFF never occurs in UTF-8, so text inside a record can never
//                             look like the start of another record
//   2  u16   L                total length, MIN_RECORD..MAX_RECORD
//   4  u8    kind             EVENT / DELIVERED / TIME_FIX
//   5  u8    flags            WALL (time is UTC ms, else uptime ms), ALARM, NOTIFY
//   6  u32   seq              EVENT: its number; DELIVERED: delivered through this number
//  10  u32   boot id          the boot that wrote the record
//  14  f64   time             EVENT, DELIVERED: wall or uptime ms; TIME_FIX: wall minus uptime
//  22  payload                EVENT only: u8 type, u8 state, u8 n, n bytes source (UTF-8),
//                             u16 m, m bytes text (UTF-8)
// L-4  u32   CRC-32 of bytes 0 .. L-4
// A record that fails any check (a torn tail after a power cut, a flipped bit) is skipped; the
// scanner then looks for the next valid record byte by byte.

import { crc32 } from "./crc32.ts";
import type { LogStore } from "./ports.ts";

export const MAGIC_0 = 0xff;
export const MAGIC_1 = 0xa7;
export const HEADER_BYTES = 22;
export const CRC_BYTES = 4;
export const MIN_RECORD = HEADER_BYTES + CRC_BYTES;
/** Source names and texts are cut to these many UTF-8 bytes. */
export const MAX_SOURCE_BYTES = 64;
export const MAX_TEXT_BYTES = 400;
const EVENT_FIXED_PAYLOAD = 5;
export const MAX_RECORD = HEADER_BYTES + EVENT_FIXED_PAYLOAD + MAX_SOURCE_BYTES + MAX_TEXT_BYTES + CRC_BYTES;

export const KIND_EVENT = 1;
export const KIND_DELIVERED = 2;
export const KIND_TIME_FIX = 3;

export const FLAG_WALL = 1;
export const FLAG_ALARM = 2;
export const FLAG_NOTIFY = 4;

export type EventType = "input" | "test" | "command" | "system";
export const EVENT_TYPES: readonly EventType[] = ["input", "test", "command", "system"];

/** Byte offsets inside a record. */
export const AT_LENGTH = 2;
export const AT_KIND = 4;
export const AT_FLAGS = 5;
export const AT_SEQ = 6;
export const AT_BOOT = 10;
export const AT_TIME = 14;
export const AT_TYPE = 22;
export const AT_STATE = 23;
export const AT_SOURCE_LENGTH = 24;
export const AT_SOURCE = 25;

export function readU16(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

export function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
}

export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 16) & 0xff;
  buf[at + 3] = (value >>> 24) & 0xff;
}

/** Writes the header fields common to all kinds at `buf[0..]`. */
export function writeHeader(view: DataView, buf: Uint8Array, length: number, kind: number, flags: number, seq: number, bootId: number, time: number): void {
  buf[0] = MAGIC_0;
  buf[1] = MAGIC_1;
  writeU16(buf, AT_LENGTH, length);
  buf[AT_KIND] = kind;
  buf[AT_FLAGS] = flags;
  writeU32(buf, AT_SEQ, seq);
  writeU32(buf, AT_BOOT, bootId);
  view.setFloat64(AT_TIME, time, true);
}

/** Seals a record of `length` bytes at `buf[0..]` with its CRC. */
export function sealRecord(buf: Uint8Array, length: number): void {
  writeU32(buf, length - CRC_BYTES, crc32(buf, 0, length - CRC_BYTES));
}

/** Offset of the text length field of the event record at `buf[at..]`. */
export function textLengthAt(buf: Uint8Array, at: number): number {
  return at + AT_SOURCE + buf[at + AT_SOURCE_LENGTH];
}

/**
 * Reads records of one file through a fixed window (2 × MAX_RECORD bytes), from a start
 * position up to an end fixed when scanning starts. After `next()` returns true, the record is
 * at `buf[at .. at + length)` and starts at file position `position`; it stays valid until the
 * next call.
 */
export class RecordScanner {
  readonly buf = new Uint8Array(2 * MAX_RECORD);
  readonly view = new DataView(this.buf.buffer);
  private readonly store: LogStore;
  private windowStart = 0;
  private windowLength = 0;
  /** Next file position to examine. */
  cursor = 0;
  end = 0;
  /** The current record. */
  position = 0;
  length = 0;
  at = 0;
  /** Bytes passed over because they were not part of a valid record. */
  skippedBytes = 0;
  /** File position of the first skipped byte (-1 when none). */
  firstSkipped = -1;

  constructor(store: LogStore) {
    this.store = store;
  }

  /** Starts scanning at `start` up to `end` (default: the current file size). */
  reset(start: number, end = this.store.size()): void {
    this.cursor = start;
    this.end = end;
    this.windowStart = 0;
    this.windowLength = 0;
    this.skippedBytes = 0;
    this.firstSkipped = -1;
  }

  /** Moves to the next valid record; false at the end. */
  next(): boolean {
    while (this.cursor < this.end) {
      const length = this.validAt(this.cursor);
      if (length > 0) {
        this.position = this.cursor;
        this.length = length;
        this.cursor += length;
        return true;
      }
      if (this.firstSkipped < 0) this.firstSkipped = this.cursor;
      this.skippedBytes++;
      this.cursor++;
    }
    return false;
  }

  get kind(): number {
    return this.buf[this.at + AT_KIND];
  }

  get flags(): number {
    return this.buf[this.at + AT_FLAGS];
  }

  get seq(): number {
    return readU32(this.buf, this.at + AT_SEQ);
  }

  get bootId(): number {
    return readU32(this.buf, this.at + AT_BOOT);
  }

  get time(): number {
    return this.view.getFloat64(this.at + AT_TIME, true);
  }

  /** Length of the record starting at file position `position`, or 0 when none is valid there. */
  private validAt(position: number): number {
    const remaining = this.end - position;
    if (remaining < MIN_RECORD) return 0;
    let at = this.window(position, MIN_RECORD);
    if (at < 0) return 0;
    const buf = this.buf;
    if (buf[at] !== MAGIC_0 || buf[at + 1] !== MAGIC_1) return 0;
    const length = readU16(buf, at + AT_LENGTH);
    if (length < MIN_RECORD || length > MAX_RECORD || length > remaining) return 0;
    const kind = buf[at + AT_KIND];
    if (kind === KIND_EVENT) {
      if (length < HEADER_BYTES + EVENT_FIXED_PAYLOAD + CRC_BYTES) return 0;
    } else if (kind === KIND_DELIVERED || kind === KIND_TIME_FIX) {
      if (length !== MIN_RECORD) return 0;
    } else {
      return 0;
    }
    at = this.window(position, length);
    if (at < 0) return 0;
    if (kind === KIND_EVENT) {
      const type = buf[at + AT_TYPE];
      if (type < 1 || type > EVENT_TYPES.length) return 0;
      const sourceLength = buf[at + AT_SOURCE_LENGTH];
      if (sourceLength > MAX_SOURCE_BYTES) return 0;
      const textLength = readU16(buf, at + AT_SOURCE + sourceLength);
      if (textLength > MAX_TEXT_BYTES) return 0;
      if (HEADER_BYTES + EVENT_FIXED_PAYLOAD + sourceLength + textLength + CRC_BYTES !== length) return 0;
    }
    if (crc32(buf, at, length - CRC_BYTES) !== readU32(buf, at + length - CRC_BYTES)) return 0;
    this.at = at;
    return length;
  }

  /**
   * Makes file bytes [position, position + count) available in the window; returns their
   * offset, or -1 when the file holds fewer bytes than expected (then the scan ends there).
   */
  private window(position: number, count: number): number {
    if (position >= this.windowStart && position + count <= this.windowStart + this.windowLength) {
      return position - this.windowStart;
    }
    const buf = this.buf;
    const want = this.end - position < buf.length ? this.end - position : buf.length;
    let filled = 0;
    while (filled < want) {
      const n = this.store.read(position + filled, buf, filled, want - filled);
      if (n <= 0) break;
      filled += n;
    }
    this.windowStart = position;
    this.windowLength = filled;
    if (filled < count) {
      this.end = position + filled;
      return -1;
    }
    return 0;
  }
}
