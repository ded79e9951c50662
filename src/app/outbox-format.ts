// The outbox's on-flash record format: its layout, and how a record is written. Reading it back
// (the record scanner, event decoding) is ./outbox-reader.ts.
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

import { encodeCodePoint, readCodePoint, utf8SequenceLength } from "../mail/codec/utf8.ts";
import { crc32 } from "./crc32.ts";

export const MAGIC_0 = 0xff;
export const MAGIC_1 = 0xa7;
export const HEADER_BYTES = 22;
export const CRC_BYTES = 4;
export const MIN_RECORD = HEADER_BYTES + CRC_BYTES;
/** Source names and texts are cut to these many UTF-8 bytes. */
export const MAX_SOURCE_BYTES = 64;
export const MAX_TEXT_BYTES = 400;
export const EVENT_FIXED_PAYLOAD = 5;
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

/** What happened, as the app records it. */
export interface AlarmEvent {
  type: EventType;
  /** An input name, or who else caused the event ("system", a command's sender ...). */
  source: string;
  /** 0-255: for inputs the level after the change. */
  state: number;
  /** True when the event is an alarm (an input entered its alarm level while armed). */
  alarm: boolean;
  /** False: kept for the day log only, never mailed (e.g. input changes while disarmed). Default true. */
  notify?: boolean;
  text: string;
}

/**
 * Writes the sealed EVENT record of `event` (see checkEvent) at `buf[0..]` (MAX_RECORD bytes)
 * and returns its length; source and text are cut to their limits between characters. `wall`:
 * `time` is UTC ms, else uptime ms.
 */
export function writeEvent(view: DataView, buf: Uint8Array, event: AlarmEvent, seq: number, bootId: number, wall: boolean, time: number): number {
  buf[AT_TYPE] = EVENT_TYPES.indexOf(event.type) + 1;
  buf[AT_STATE] = event.state;
  const sourceLength = encodeCut(event.source, buf, AT_SOURCE, MAX_SOURCE_BYTES);
  buf[AT_SOURCE_LENGTH] = sourceLength;
  const textAt = AT_SOURCE + sourceLength;
  const textLength = encodeCut(event.text, buf, textAt + 2, MAX_TEXT_BYTES);
  writeU16(buf, textAt, textLength);
  const length = textAt + 2 + textLength + CRC_BYTES;
  const flags = (wall ? FLAG_WALL : 0) | (event.alarm ? FLAG_ALARM : 0) | ((event.notify ?? true) ? FLAG_NOTIFY : 0);
  writeHeader(view, buf, length, KIND_EVENT, flags, seq, bootId, time);
  sealRecord(buf, length);
  return length;
}

/** Copies at most `max` bytes of UTF-8 for `text` into `out[offset..]`, cutting only between characters. */
function encodeCut(text: string, out: Uint8Array, offset: number, max: number): number {
  let at = offset;
  const end = offset + max;
  for (let i = 0; i < text.length; i++) {
    const codePoint = readCodePoint(text, i);
    if (at + utf8SequenceLength(codePoint) > end) break;
    if (codePoint >= 0x10000) i++;
    at += encodeCodePoint(codePoint, out, at);
  }
  return at - offset;
}

/** Refuses an event a record cannot hold. */
export function checkEvent(event: AlarmEvent): void {
  if (event === null || typeof event !== "object") throw new TypeError("Outbox.append: the event must be an object");
  if (!EVENT_TYPES.includes(event.type)) throw new TypeError(`Outbox.append: event type "${String(event.type)}" is not one of ${EVENT_TYPES.join(", ")}`);
  if (typeof event.source !== "string") throw new TypeError("Outbox.append: the event source must be text");
  if (typeof event.text !== "string") throw new TypeError("Outbox.append: the event text must be text");
  if (!Number.isInteger(event.state) || event.state < 0 || event.state > 255) throw new RangeError(`Outbox.append: event state ${event.state} is not an integer 0-255`);
  if (typeof event.alarm !== "boolean") throw new TypeError("Outbox.append: event.alarm must be true or false");
}
