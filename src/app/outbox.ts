// The persistent event log ("outbox"). Every event is appended to flash before anything else
// happens; it stays pending until `markDelivered` records that the mail carrying it got
// `+SMTPSEND: 1`. Records carry a sequence number and a CRC (format: ./outbox-format.ts).
// Opening scans the file, skips torn or corrupt records and rewrites the file clean.
//
// Delivery guarantee: an event whose `append` returned is never lost. After a power cut, the
// events of the one mail that was in flight (sent, but its DELIVERED record not yet written)
// are pending again and go out a second time; no other event is sent twice.

import type { ByteSource } from "../mail/message.ts";
import { EventLogText, type EventLogOptions } from "./event-log-text.ts";
import {
  checkEvent, FLAG_NOTIFY, FLAG_WALL, KIND_DELIVERED, KIND_EVENT, KIND_TIME_FIX, MAX_RECORD, MIN_RECORD,
  readU32, sealRecord, writeEvent, writeHeader, writeU32, type AlarmEvent,
} from "./outbox-format.ts";
import { NO_POSITION, OutboxFile, PendingCursor, RecordScanner } from "./outbox-reader.ts";
import { COMPACT, OutboxRewriter, REPAIR, SQUEEZE, type RewriteMode } from "./outbox-rewrite.ts";
import { OutboxFullError, type OutboxOpenReport, type OutboxOptions } from "./outbox-options.ts";
import type { ClockPort, KeyValueStore, LogStore, WallClock } from "./ports.ts";

export type { AlarmEvent, EventType } from "./outbox-format.ts";
export type { PendingCursor, StoredEvent } from "./outbox-reader.ts";

const DAY_MS = 86_400_000;
/** Room kept free for DELIVERED and TIME_FIX records when events fill the outbox. */
const RESERVED_BYTES = 8 * MIN_RECORD;

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

export class Outbox {
  readonly store: LogStore;
  readonly bootId: number;
  private readonly uptime: ClockPort;
  private readonly wall: WallClock;
  /** What the readers share with this writer. */
  private readonly file: OutboxFile;
  private readonly compactAtBytes: number;
  private readonly maxBytes: number;
  readonly dayWindowMs: number;
  private readonly record = new Uint8Array(MAX_RECORD);
  private readonly recordView = new DataView(this.record.buffer);
  private readonly scanner: RecordScanner;
  private readonly rewriter: OutboxRewriter;

  private nextSeq = 1;
  private pendingCount = 0;
  /** This boot appended uptime-stamped events and no TIME_FIX record for them yet. */
  private unfixed = false;
  private compactAbove: number;
  /**
   * The file may hold records no mail is waiting for (delivered events, notes such as the
   * command log, DELIVERED and TIME_FIX records) since the last squeeze: squeezing frees room.
   * Only a squeeze clears it; anything but a pending event written after sets it again.
   */
  private squeezable = true;
  /** An append failed part way: the file may end in a partial record, reload before going on. */
  private damaged = false;
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
    this.file = new OutboxFile(store, this.bootId, this.uptime, this.wall);
    this.rewriter = new OutboxRewriter(this.file, this.scanner, this.dayWindowMs);
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
    return this.file.delivered;
  }

  /** Changes whenever the file is rewritten: readers started before then stop with an error. */
  get generation(): number {
    return this.file.generation;
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
    const seq = this.nextSeq;
    const length = writeEvent(this.recordView, this.record, event, seq, this.bootId, wallNow !== null, wallNow ?? this.uptime.now());
    this.makeRoom(length, RESERVED_BYTES);
    const position = this.appendRecord(length);
    this.nextSeq = seq + 1;
    if (wallNow === null) this.unfixed = true;
    if (event.notify ?? true) {
      this.pendingCount++;
      if (this.file.firstPending === NO_POSITION) this.file.firstPending = position;
    } else {
      this.squeezable = true;
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
    if (throughSeq <= this.file.delivered) return;
    if (this.store.size() + MIN_RECORD > this.maxBytes) {
      // No room even for the mark: squeezing writes the new mark at the head of the new file.
      const previous = this.file.delivered;
      this.file.delivered = throughSeq;
      try {
        this.rewrite(SQUEEZE);
      } catch (error) {
        this.file.delivered = previous;
        throw error;
      }
      return;
    }
    const wallNow = this.wall.now();
    writeHeader(this.recordView, this.record, MIN_RECORD, KIND_DELIVERED, wallNow !== null ? FLAG_WALL : 0, throughSeq, this.bootId, wallNow ?? this.uptime.now());
    sealRecord(this.record, MIN_RECORD);
    this.appendRecord(MIN_RECORD);
    this.file.delivered = throughSeq;
    this.squeezable = true;
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
      this.squeezable = true;
      this.unfixed = false;
    }
    this.file.rememberFix(this.bootId, offset);
  }

  /** Undelivered events to mail, oldest first, read from flash one at a time. */
  pending(): PendingCursor {
    this.recover();
    return new PendingCursor(this.file);
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
    return new EventLogText(this.file, options);
  }

  /** Rewrites the file keeping only undelivered and recent events, now. */
  compact(): void {
    this.recover();
    this.rewrite(COMPACT);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Makes sure `length` more bytes fit, leaving `reserve` bytes free; squeezes once if needed. */
  private makeRoom(length: number, reserve: number): void {
    const limit = this.maxBytes - reserve;
    if (this.store.size() + length <= limit) return;
    if (this.squeezable) this.rewrite(SQUEEZE);
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
        this.file.rememberFix(scanner.bootId, scanner.time);
        if (scanner.bootId === this.bootId) unfixed = false;
      }
    }
    const skippedBytes = scanner.skippedBytes;
    const firstSkipped = scanner.firstSkipped;
    this.squeezable = true;
    this.nextSeq = (maxSeq > delivered ? maxSeq : delivered) + 1;
    this.file.delivered = delivered;
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
    this.file.firstPending = NO_POSITION;
    this.pendingCount = 0;
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0 || scanner.seq <= this.file.delivered) continue;
      if (this.file.firstPending === NO_POSITION) this.file.firstPending = scanner.position;
      this.pendingCount++;
    }
  }

  /** After the delivered mark moved: skips the newly delivered events at the front. */
  private advanceFirstPending(): void {
    if (this.file.firstPending === NO_POSITION) return;
    const scanner = this.scanner;
    scanner.reset(this.file.firstPending);
    this.file.firstPending = NO_POSITION;
    while (scanner.next()) {
      if (scanner.kind !== KIND_EVENT || (scanner.flags & FLAG_NOTIFY) === 0) continue;
      if (scanner.seq > this.file.delivered) {
        this.file.firstPending = scanner.position;
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

  /** Rewrites the file (./outbox-rewrite.ts: what each mode keeps), then sets the next compaction threshold and recounts the pending events. */
  private rewrite(mode: RewriteMode): void {
    this.rewriter.rewrite(mode, this.lastSeq);
    if (mode === SQUEEZE) this.squeezable = false;
    if (mode !== REPAIR) {
      const after = this.store.size();
      const next = after * 2 > this.compactAtBytes ? after * 2 : this.compactAtBytes;
      this.compactAbove = next < this.maxBytes ? next : this.maxBytes;
    }
    this.countPending();
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Outbox: ${name} must be a positive number, not ${value}`);
  return value;
}
