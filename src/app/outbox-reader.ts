// The outbox's reading side, which the outbox (./outbox.ts) and its text log
// (./event-log-text.ts) both use: the record scanner, what readers share with the writer
// (`OutboxFile`: the file, its generation, how far it is delivered, the time fixes of its boots),
// event decoding, and the cursor over the pending events.

import { decodeUtf8 } from "../mail/codec/utf8.ts";
import { latin1 } from "../transport/bytes.ts";
import { crc32 } from "./crc32.ts";
import {
  AT_FLAGS, AT_BOOT, AT_KIND, AT_LENGTH, AT_SEQ, AT_SOURCE, AT_SOURCE_LENGTH, AT_STATE, AT_TIME, AT_TYPE,
  CRC_BYTES, EVENT_FIXED_PAYLOAD, EVENT_TYPES, FLAG_ALARM, FLAG_NOTIFY, FLAG_WALL, HEADER_BYTES, KIND_DELIVERED,
  KIND_EVENT, KIND_TIME_FIX, MAGIC_0, MAGIC_1, MAX_RECORD, MAX_SOURCE_BYTES, MAX_TEXT_BYTES, MIN_RECORD, readU16,
  readU32, textLengthAt, type EventType,
} from "./outbox-format.ts";
import type { ClockPort, LogStore, WallClock } from "./ports.ts";

/** An event read back from the outbox. */
export interface StoredEvent {
  seq: number;
  type: EventType;
  source: string;
  state: number;
  alarm: boolean;
  notify: boolean;
  text: string;
  bootId: number;
  /** UTC ms: stamped directly, or fixed up from uptime once network time was known; null when unknown. */
  wallMs: number | null;
  /** Uptime ms when the event was stamped before network time was known; null when stamped with wall time. */
  uptimeMs: number | null;
}

/** Boot time offsets remembered for fixing up uptime stamps (the oldest is forgotten first). */
const MAX_BOOT_FIXES = 32;
export const NO_POSITION = -1;

/**
 * The outbox file as its readers see it. The outbox writes the file and keeps these fields up
 * to date; readers only read them.
 */
export class OutboxFile {
  readonly store: LogStore;
  /** The boot writing the file now. */
  readonly bootId: number;
  readonly uptime: ClockPort;
  readonly wall: WallClock;
  /** Changes whenever the file is rewritten: readers started before then stop with an error. */
  generation = 0;
  /** Every event with a sequence number up to this one has been delivered. */
  delivered = 0;
  /** File position of the oldest pending event, NO_POSITION when none. */
  firstPending = NO_POSITION;
  /** Wall minus uptime for each boot whose offset is known (insertion order = age). */
  private readonly bootFixes = new Map<number, number>();

  constructor(store: LogStore, bootId: number, uptime: ClockPort, wall: WallClock) {
    this.store = store;
    this.bootId = bootId;
    this.uptime = uptime;
    this.wall = wall;
  }

  /** Throws when the file was rewritten since `generation`. */
  checkGeneration(generation: number, who: string): void {
    if (generation !== this.generation) throw new Error(`${who}: the outbox was rewritten (compacted or repaired) while it was being read`);
  }

  /** Notes that boot `bootId`'s wall time is its uptime + `offset`. */
  rememberFix(bootId: number, offset: number): void {
    this.bootFixes.delete(bootId);
    if (this.bootFixes.size >= MAX_BOOT_FIXES) {
      const oldest = this.bootFixes.keys().next().value as number;
      this.bootFixes.delete(oldest);
    }
    this.bootFixes.set(bootId, offset);
  }

  /** UTC ms of the event the scanner is on, or null when unknown. */
  wallTime(scanner: RecordScanner): number | null {
    if ((scanner.flags & FLAG_WALL) !== 0) return scanner.time;
    const offset = this.bootFixes.get(scanner.bootId);
    return offset === undefined ? null : scanner.time + offset;
  }

  /**
   * Whether the event the scanner is on happened within `windowMs` of now (`wallNow`/`uptimeNow`).
   * Events of earlier boots whose time was never known are not recent; anything is recent while
   * the wall time is unknown and cannot be compared.
   */
  isRecent(scanner: RecordScanner, windowMs: number, wallNow: number | null, uptimeNow: number): boolean {
    const wall = this.wallTime(scanner);
    if (wall !== null) return wallNow === null || wall >= wallNow - windowMs;
    if (scanner.bootId !== this.bootId) return false;
    return scanner.time >= uptimeNow - windowMs;
  }

  /** The event the scanner is on, decoded. */
  decode(scanner: RecordScanner): StoredEvent {
    const buf = scanner.buf;
    const at = scanner.at;
    const flags = scanner.flags;
    const textAt = textLengthAt(buf, at);
    const wall = (flags & FLAG_WALL) !== 0;
    return {
      seq: scanner.seq,
      type: EVENT_TYPES[buf[at + AT_TYPE] - 1],
      source: text(buf, at + AT_SOURCE, buf[at + AT_SOURCE_LENGTH]),
      state: buf[at + AT_STATE],
      alarm: (flags & FLAG_ALARM) !== 0,
      notify: (flags & FLAG_NOTIFY) !== 0,
      text: text(buf, textAt + 2, readU16(buf, textAt)),
      bootId: scanner.bootId,
      wallMs: this.wallTime(scanner),
      uptimeMs: wall ? null : scanner.time,
    };
  }
}

/** Undelivered events, oldest first, decoded one at a time from flash. */
export class PendingCursor implements Iterable<StoredEvent> {
  private readonly file: OutboxFile;
  private readonly scanner: RecordScanner;
  private readonly generation: number;

  constructor(file: OutboxFile) {
    this.file = file;
    this.scanner = new RecordScanner(file.store);
    this.generation = file.generation;
    const size = file.store.size();
    this.scanner.reset(file.firstPending === NO_POSITION ? size : file.firstPending, size);
  }

  /** The next pending event, or null when there is none left. */
  read(): StoredEvent | null {
    const file = this.file;
    file.checkGeneration(this.generation, "PendingCursor.read");
    const scanner = this.scanner;
    // Events appended while reading are part of the backlog too.
    scanner.end = file.store.size();
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0) continue;
      if (scanner.seq <= file.delivered) continue;
      return file.decode(scanner);
    }
    return null;
  }

  [Symbol.iterator](): Iterator<StoredEvent> {
    return {
      next: (): IteratorResult<StoredEvent> => {
        const event = this.read();
        return event === null ? { value: undefined, done: true } : { value: event, done: false };
      },
    };
  }
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

/** UTF-8 to a string, without the decoder's setup for the usual plain-ASCII names and texts. */
function text(buf: Uint8Array, offset: number, length: number): string {
  for (let i = offset; i < offset + length; i++) if (buf[i] >= 0x80) return decodeUtf8(buf, offset, length);
  return latin1(buf, offset, offset + length);
}
