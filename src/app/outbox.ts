// The persistent event log ("outbox"). Every event is appended to flash before anything else
// happens; it stays pending until `markDelivered` records that the mail carrying it got
// `+SMTPSEND: 1`. Records carry a sequence number and a CRC (format: ./outbox-format.ts).
// Opening scans the file, skips torn or corrupt records and rewrites the file clean.
//
// Delivery guarantee: an event whose `append` returned is never lost. After a power cut, the
// events of the one mail that was in flight (sent, but its DELIVERED record not yet written)
// are pending again and go out a second time; no other event is sent twice.

import { decodeUtf8, encodeCodePoint, readCodePoint, utf8SequenceLength } from "../mail/codec/utf8.ts";
import type { ByteSource } from "../mail/message.ts";
import { latin1 } from "../transport/bytes.ts";
import { EventLogText, type EventLogOptions } from "./event-log-text.ts";
import {
  AT_SOURCE, AT_SOURCE_LENGTH, AT_STATE, AT_TYPE, CRC_BYTES, EVENT_TYPES, FLAG_ALARM, FLAG_NOTIFY,
  FLAG_WALL, KIND_DELIVERED, KIND_EVENT, KIND_TIME_FIX, MAX_RECORD, MAX_SOURCE_BYTES,
  MAX_TEXT_BYTES, MIN_RECORD, readU16, readU32, RecordScanner, sealRecord, textLengthAt, writeHeader,
  writeU16, writeU32, type EventType,
} from "./outbox-format.ts";
import type { ClockPort, KeyValueStore, LogStore, WallClock } from "./ports.ts";

export type { EventType } from "./outbox-format.ts";

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

export interface OutboxOptions {
  /** Distinct for every boot (u32): see `countBoot`. Ties uptime stamps to their boot. */
  bootId: number;
  uptime: ClockPort;
  wall: WallClock;
  /** Compact once the file is larger than this (and twice its size after the last compaction). Default 16 KiB. */
  compactAtBytes?: number;
  /** The file never grows beyond this; appending then throws `OutboxFullError`. Default 256 KiB. */
  maxBytes?: number;
  /** Delivered events younger than this survive compaction, for the day log. Default 24 h. */
  dayWindowMs?: number;
}

/** What opening found. */
export interface OutboxOpenReport {
  /** Valid records found. */
  records: number;
  events: number;
  pending: number;
  /** Bytes skipped as torn or corrupt; when non-zero the file was rewritten without them. */
  skippedBytes: number;
  /** File position of the first skipped byte, -1 when none. */
  firstSkipped: number;
  repaired: boolean;
  compacted: boolean;
}

export type OutboxErrorCode = "outbox-full";

export class OutboxFullError extends Error {
  override readonly name: string = "OutboxFullError";
  readonly code: OutboxErrorCode = "outbox-full";
  constructor(size: number, maxBytes: number, pending: number) {
    super(`outbox full: ${size} of ${maxBytes} bytes used by ${pending} undelivered events; deliver some first`);
  }
}

const DAY_MS = 86_400_000;
/** Boot time offsets remembered for fixing up uptime stamps (the oldest is forgotten first). */
const MAX_BOOT_FIXES = 32;
const NO_POSITION = -1;
/** Room kept free for DELIVERED and TIME_FIX records when events fill the outbox. */
const RESERVED_BYTES = 8 * MIN_RECORD;

/** How `rewrite` treats records. */
const REPAIR = 0;
/** Drop delivered events older than the day window. */
const COMPACT = 1;
/** The outbox is full: drop every delivered event (the log of the day yields to new alarms). */
const SQUEEZE = 2;

/**
 * Reads the boot counter under `key`, stores it incremented and returns the new value: a boot
 * id that differs from every earlier boot's (until it wraps after 2^32 boots).
 */
export function countBoot(store: KeyValueStore, key = "boot"): number {
  const old = store.get(key);
  const previous = old !== null && old.length === 4 ? readU32(old, 0) : 0;
  const next = (previous + 1) >>> 0;
  const value = new Uint8Array(4);
  writeU32(value, 0, next);
  store.put(key, value);
  return next;
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

export class Outbox {
  readonly store: LogStore;
  readonly bootId: number;
  private readonly uptime: ClockPort;
  private readonly wall: WallClock;
  private readonly compactAtBytes: number;
  private readonly maxBytes: number;
  readonly dayWindowMs: number;
  private readonly record = new Uint8Array(MAX_RECORD);
  private readonly recordView = new DataView(this.record.buffer);
  /** The DELIVERED record that heads a compacted file (`record` may hold an event meanwhile). */
  private readonly marker = new Uint8Array(MIN_RECORD);
  private readonly markerView = new DataView(this.marker.buffer);
  private readonly scanner: RecordScanner;

  private nextSeq = 1;
  private delivered = 0;
  private pendingCount = 0;
  private firstPending = NO_POSITION;
  /** Wall minus uptime for each boot whose offset is known (insertion order = age). */
  private readonly bootFixes = new Map<number, number>();
  /** This boot appended uptime-stamped events and no TIME_FIX record for them yet. */
  private unfixed = false;
  private compactAbove: number;
  /** `delivered` at the last squeeze: squeezing again before it moves frees nothing. */
  private squeezedThrough = -1;
  /** An append failed part way: the file may end in a partial record, reload before going on. */
  private damaged = false;
  /** Changes whenever the file is rewritten: readers started before then stop with an error. */
  generation = 0;
  report: OutboxOpenReport = { records: 0, events: 0, pending: 0, skippedBytes: 0, firstSkipped: -1, repaired: false, compacted: false };

  private constructor(store: LogStore, options: OutboxOptions) {
    if (!Number.isInteger(options.bootId) || options.bootId < 0 || options.bootId > 0xffffffff) {
      throw new RangeError(`Outbox: boot id ${options.bootId} is not a 32-bit unsigned integer`);
    }
    this.store = store;
    this.bootId = options.bootId;
    this.uptime = options.uptime;
    this.wall = options.wall;
    this.compactAtBytes = positive("compactAtBytes", options.compactAtBytes ?? 16_384);
    this.maxBytes = positive("maxBytes", options.maxBytes ?? 262_144);
    if (this.maxBytes < this.compactAtBytes) throw new RangeError(`Outbox: maxBytes (${this.maxBytes}) is below compactAtBytes (${this.compactAtBytes})`);
    this.dayWindowMs = positive("dayWindowMs", options.dayWindowMs ?? DAY_MS);
    this.compactAbove = this.compactAtBytes;
    this.scanner = new RecordScanner(store);
  }

  /** Opens the outbox on `store`: scans, drops torn or corrupt records, compacts when due. */
  static open(store: LogStore, options: OutboxOptions): Outbox {
    const outbox = new Outbox(store, options);
    outbox.load();
    return outbox;
  }

  /** Undelivered events that need a mail. */
  get depth(): number {
    return this.pendingCount;
  }

  /** Every event with a sequence number up to this one has been delivered. */
  get deliveredThrough(): number {
    return this.delivered;
  }

  /** The sequence number of the newest event (0 when none was ever written). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /**
   * Appends one event, durably, and returns its sequence number. Stamped with wall time when
   * known, else with uptime (fixed up once the time is known: see `fixTime`).
   */
  append(event: AlarmEvent): number {
    this.recover();
    checkEvent(event);
    const wallNow = this.wall.now();
    if (wallNow !== null && this.unfixed) this.fixTime();
    const notify = event.notify ?? true;
    const seq = this.nextSeq;
    const buf = this.record;
    buf[AT_TYPE] = EVENT_TYPES.indexOf(event.type) + 1;
    buf[AT_STATE] = event.state;
    const sourceLength = encodeCut(event.source, buf, AT_SOURCE, MAX_SOURCE_BYTES);
    buf[AT_SOURCE_LENGTH] = sourceLength;
    const textAt = AT_SOURCE + sourceLength;
    const textLength = encodeCut(event.text, buf, textAt + 2, MAX_TEXT_BYTES);
    writeU16(buf, textAt, textLength);
    const length = textAt + 2 + textLength + CRC_BYTES;
    const flags = (wallNow !== null ? FLAG_WALL : 0) | (event.alarm ? FLAG_ALARM : 0) | (notify ? FLAG_NOTIFY : 0);
    writeHeader(this.recordView, buf, length, KIND_EVENT, flags, seq, this.bootId, wallNow ?? this.uptime.now());
    sealRecord(buf, length);
    this.makeRoom(length, RESERVED_BYTES);
    const position = this.appendRecord(length);
    this.nextSeq = seq + 1;
    if (wallNow === null) this.unfixed = true;
    if (notify) {
      this.pendingCount++;
      if (this.firstPending === NO_POSITION) this.firstPending = position;
    }
    return seq;
  }

  /**
   * Records that every event up to `throughSeq` was delivered. Call only after the mail that
   * carried them got `+SMTPSEND: 1`. Earlier or equal numbers are ignored.
   */
  markDelivered(throughSeq: number): void {
    this.recover();
    if (!Number.isInteger(throughSeq) || throughSeq < 0) throw new RangeError(`Outbox.markDelivered: ${throughSeq} is not a sequence number`);
    if (throughSeq > this.lastSeq) throw new RangeError(`Outbox.markDelivered: event ${throughSeq} was never recorded (the last is ${this.lastSeq})`);
    if (throughSeq <= this.delivered) return;
    if (this.store.size() + MIN_RECORD > this.maxBytes) {
      // No room even for the mark: squeezing writes the new mark at the head of the new file.
      const previous = this.delivered;
      this.delivered = throughSeq;
      try {
        this.rewrite(SQUEEZE);
      } catch (error) {
        this.delivered = previous;
        throw error;
      }
      return;
    }
    const wallNow = this.wall.now();
    writeHeader(this.recordView, this.record, MIN_RECORD, KIND_DELIVERED, wallNow !== null ? FLAG_WALL : 0, throughSeq, this.bootId, wallNow ?? this.uptime.now());
    sealRecord(this.record, MIN_RECORD);
    this.appendRecord(MIN_RECORD);
    this.delivered = throughSeq;
    this.advanceFirstPending();
    this.compactIfDue();
  }

  /**
   * Writes down wall minus uptime for this boot once the wall clock is set, so events stamped
   * with uptime get their UTC time. Writes nothing when there is nothing to fix. `append`
   * calls it by itself; call it right after setting the clock to fix the log at once.
   */
  fixTime(): void {
    const wallNow = this.wall.now();
    if (wallNow === null) return;
    const offset = wallNow - this.uptime.now();
    if (this.unfixed) {
      this.recover();
      writeHeader(this.recordView, this.record, MIN_RECORD, KIND_TIME_FIX, 0, 0, this.bootId, offset);
      sealRecord(this.record, MIN_RECORD);
      this.makeRoom(MIN_RECORD, 0);
      this.appendRecord(MIN_RECORD);
      this.unfixed = false;
    }
    this.rememberFix(this.bootId, offset);
  }

  /** Undelivered events to mail, oldest first, read from flash one at a time. */
  pending(): PendingCursor {
    this.recover();
    return new PendingCursor(this);
  }

  /**
   * The log of the last `dayWindowMs` as text lines (see EventLogText), streamed from flash.
   * A snapshot: events appended later are not in it; compaction makes it unreadable.
   */
  dayLog(options: EventLogOptions = {}): ByteSource {
    return this.eventLog({ ...options, windowMs: options.windowMs ?? this.dayWindowMs });
  }

  /** Events as text lines, filtered by age and/or sequence numbers (see EventLogOptions). */
  eventLog(options: EventLogOptions): ByteSource {
    this.recover();
    return new EventLogText(this, options);
  }

  /** Rewrites the file keeping only undelivered and recent events, now. */
  compact(): void {
    this.recover();
    this.rewrite(COMPACT);
  }

  // ---- used by the readers in this folder ----------------------------------------------------

  /** @internal File position of the oldest pending event, -1 when none. */
  firstPendingPosition(): number {
    return this.firstPending;
  }

  /** @internal Throws when the file was rewritten since `generation`. */
  checkGeneration(generation: number, who: string): void {
    if (generation !== this.generation) throw new Error(`${who}: the outbox was rewritten (compacted or repaired) while it was being read`);
  }

  /** @internal The event the scanner is on, decoded. */
  decodeEvent(scanner: RecordScanner): StoredEvent {
    const buf = scanner.buf;
    const at = scanner.at;
    const flags = scanner.flags;
    const sourceLength = buf[at + AT_SOURCE_LENGTH];
    const textAt = textLengthAt(buf, at);
    const time = scanner.time;
    const bootId = scanner.bootId;
    const wall = (flags & FLAG_WALL) !== 0;
    return {
      seq: scanner.seq,
      type: EVENT_TYPES[buf[at + AT_TYPE] - 1],
      source: text(buf, at + AT_SOURCE, sourceLength),
      state: buf[at + AT_STATE],
      alarm: (flags & FLAG_ALARM) !== 0,
      notify: (flags & FLAG_NOTIFY) !== 0,
      text: text(buf, textAt + 2, readU16(buf, textAt)),
      bootId,
      wallMs: wall ? time : this.fixedTime(bootId, time),
      uptimeMs: wall ? null : time,
    };
  }

  /** @internal UTC ms of the event the scanner is on, or null when unknown. */
  eventWallTime(scanner: RecordScanner): number | null {
    return (scanner.flags & FLAG_WALL) !== 0 ? scanner.time : this.fixedTime(scanner.bootId, scanner.time);
  }

  /**
   * @internal Whether the event the scanner is on happened within `windowMs` of now
   * (`wallNow`/`uptimeNow`). Events of earlier boots whose time was never known are not recent;
   * anything is recent while the wall time is unknown and cannot be compared.
   */
  isRecent(scanner: RecordScanner, windowMs: number, wallNow: number | null, uptimeNow: number): boolean {
    const wall = this.eventWallTime(scanner);
    if (wall !== null) return wallNow === null || wall >= wallNow - windowMs;
    if (scanner.bootId !== this.bootId) return false;
    return scanner.time >= uptimeNow - windowMs;
  }

  /** @internal */
  wallNow(): number | null {
    return this.wall.now();
  }

  /** @internal */
  uptimeNow(): number {
    return this.uptime.now();
  }

  // ---- internals -------------------------------------------------------------------------------

  private fixedTime(bootId: number, uptime: number): number | null {
    const offset = this.bootFixes.get(bootId);
    return offset === undefined ? null : uptime + offset;
  }

  private rememberFix(bootId: number, offset: number): void {
    this.bootFixes.delete(bootId);
    if (this.bootFixes.size >= MAX_BOOT_FIXES) {
      const oldest = this.bootFixes.keys().next().value as number;
      this.bootFixes.delete(oldest);
    }
    this.bootFixes.set(bootId, offset);
  }

  /** Makes sure `length` more bytes fit, leaving `reserve` bytes free; squeezes once if needed. */
  private makeRoom(length: number, reserve: number): void {
    const limit = this.maxBytes - reserve;
    if (this.store.size() + length <= limit) return;
    if (this.squeezedThrough !== this.delivered) this.rewrite(SQUEEZE);
    const size = this.store.size();
    if (size + length > limit) throw new OutboxFullError(size, this.maxBytes, this.pendingCount);
  }

  /** Appends the sealed record in `this.record`; returns its file position. */
  private appendRecord(length: number): number {
    const position = this.store.size();
    try {
      this.store.append(this.record, 0, length);
    } catch (error) {
      this.damaged = true;
      throw error;
    }
    return position;
  }

  private recover(): void {
    if (this.damaged) {
      this.damaged = false;
      this.load();
    }
  }

  /** Scans the whole file, repairs it when records were skipped, then compacts when due. */
  private load(): void {
    const scanner = this.scanner;
    scanner.reset(0);
    let records = 0;
    let events = 0;
    let maxSeq = 0;
    let delivered = 0;
    let unfixed = false;
    while (scanner.next()) {
      records++;
      const kind = scanner.kind;
      if (kind === KIND_EVENT) {
        events++;
        if (scanner.seq > maxSeq) maxSeq = scanner.seq;
        if ((scanner.flags & FLAG_WALL) === 0 && scanner.bootId === this.bootId) unfixed = true;
      } else if (kind === KIND_DELIVERED) {
        if (scanner.seq > delivered) delivered = scanner.seq;
      } else {
        this.rememberFix(scanner.bootId, scanner.time);
        if (scanner.bootId === this.bootId) unfixed = false;
      }
    }
    const skippedBytes = scanner.skippedBytes;
    const firstSkipped = scanner.firstSkipped;
    this.nextSeq = (maxSeq > delivered ? maxSeq : delivered) + 1;
    this.delivered = delivered;
    // Usually a new boot id; the same one when reloading after a failed append.
    this.unfixed = unfixed;
    if (skippedBytes > 0) this.rewrite(REPAIR);
    else this.countPending();
    this.report = { records, events, pending: this.pendingCount, skippedBytes, firstSkipped, repaired: skippedBytes > 0, compacted: false };
    this.report.compacted = this.compactIfDue();
    this.report.pending = this.pendingCount;
  }

  /** Finds the oldest pending event and counts the pending ones (a scan from the start). */
  private countPending(): void {
    const scanner = this.scanner;
    scanner.reset(0);
    this.firstPending = NO_POSITION;
    this.pendingCount = 0;
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0 || scanner.seq <= this.delivered) continue;
      if (this.firstPending === NO_POSITION) this.firstPending = scanner.position;
      this.pendingCount++;
    }
  }

  /** After the delivered mark moved: skips the newly delivered events at the front. */
  private advanceFirstPending(): void {
    if (this.firstPending === NO_POSITION) return;
    const scanner = this.scanner;
    scanner.reset(this.firstPending);
    this.firstPending = NO_POSITION;
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0) continue;
      if (scanner.seq > this.delivered) {
        this.firstPending = scanner.position;
        return;
      }
      this.pendingCount--;
    }
    this.pendingCount = 0;
  }

  private compactIfDue(): boolean {
    if (this.store.size() <= this.compactAbove) return false;
    this.rewrite(COMPACT);
    return true;
  }

  /**
   * Rewrites the file with its valid records, via the store's atomic replace. Compacting also
   * drops delivered events older than the day window (squeezing: all delivered events) and
   * folds the DELIVERED records into one; the newest event always stays, so sequence numbers
   * never restart. Then sets the next compaction threshold and recounts the pending events.
   */
  private rewrite(mode: number): void {
    const compacting = mode !== REPAIR;
    const scanner = this.scanner;
    const wallNow = this.wall.now();
    const uptimeNow = this.uptime.now();
    /** Boots with kept uptime-stamped events: their TIME_FIX records are kept too. */
    const keptUnfixedBoots = new Set<number>();
    const delivered = this.delivered;
    const lastSeq = this.lastSeq;
    this.store.replace((append) => {
      if (compacting && delivered > 0) {
        const wallFlag = wallNow !== null ? FLAG_WALL : 0;
        writeHeader(this.markerView, this.marker, MIN_RECORD, KIND_DELIVERED, wallFlag, delivered, this.bootId, wallNow ?? uptimeNow);
        sealRecord(this.marker, MIN_RECORD);
        append(this.marker, 0, MIN_RECORD);
      }
      scanner.reset(0);
      while (scanner.next()) {
        const kind = scanner.kind;
        if (compacting) {
          if (kind === KIND_DELIVERED) continue;
          if (kind === KIND_TIME_FIX) {
            if (!keptUnfixedBoots.has(scanner.bootId) && scanner.bootId !== this.bootId) continue;
          } else {
            const pending = (scanner.flags & FLAG_NOTIFY) !== 0 && scanner.seq > delivered;
            const recent = mode === COMPACT && this.isRecent(scanner, this.dayWindowMs, wallNow, uptimeNow);
            const keep = pending || recent || scanner.seq === lastSeq;
            if (!keep) continue;
            if ((scanner.flags & FLAG_WALL) === 0) keptUnfixedBoots.add(scanner.bootId);
          }
        }
        append(scanner.buf, scanner.at, scanner.length);
      }
    });
    this.generation++;
    if (mode === SQUEEZE) this.squeezedThrough = delivered;
    if (compacting) {
      const after = this.store.size();
      const next = after * 2 > this.compactAtBytes ? after * 2 : this.compactAtBytes;
      this.compactAbove = next < this.maxBytes ? next : this.maxBytes;
    }
    this.countPending();
  }
}

/** Undelivered events, oldest first, decoded one at a time from flash. */
export class PendingCursor implements Iterable<StoredEvent> {
  private readonly outbox: Outbox;
  private readonly scanner: RecordScanner;
  private readonly generation: number;

  constructor(outbox: Outbox) {
    this.outbox = outbox;
    this.scanner = new RecordScanner(outbox.store);
    this.generation = outbox.generation;
    const first = outbox.firstPendingPosition();
    this.scanner.reset(first < 0 ? outbox.store.size() : first, outbox.store.size());
  }

  /** The next pending event, or null when there is none left. */
  read(): StoredEvent | null {
    this.outbox.checkGeneration(this.generation, "PendingCursor.read");
    const scanner = this.scanner;
    // Events appended while reading are part of the backlog too.
    scanner.end = this.outbox.store.size();
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0) continue;
      if (scanner.seq <= this.outbox.deliveredThrough) continue;
      return this.outbox.decodeEvent(scanner);
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

/** UTF-8 to a string, without the decoder's setup for the usual plain-ASCII names and texts. */
function text(buf: Uint8Array, offset: number, length: number): string {
  for (let i = offset; i < offset + length; i++) if (buf[i] >= 0x80) return decodeUtf8(buf, offset, length);
  return latin1(buf, offset, offset + length);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Outbox: ${name} must be a positive number, not ${value}`);
  return value;
}

function checkEvent(event: AlarmEvent): void {
  if (event === null || typeof event !== "object") throw new TypeError("Outbox.append: the event must be an object");
  if (!EVENT_TYPES.includes(event.type)) throw new TypeError(`Outbox.append: event type "${String(event.type)}" is not one of ${EVENT_TYPES.join(", ")}`);
  if (typeof event.source !== "string") throw new TypeError("Outbox.append: the event source must be text");
  if (typeof event.text !== "string") throw new TypeError("Outbox.append: the event text must be text");
  if (!Number.isInteger(event.state) || event.state < 0 || event.state > 255) throw new RangeError(`Outbox.append: event state ${event.state} is not an integer 0-255`);
  if (typeof event.alarm !== "boolean") throw new TypeError("Outbox.append: event.alarm must be true or false");
}
