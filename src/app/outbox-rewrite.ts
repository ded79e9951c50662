// Rewriting the outbox file (./outbox.ts decides when): what repairing, compacting and
// squeezing keep, written through the store's atomic replace.

import { FLAG_NOTIFY, FLAG_WALL, KIND_DELIVERED, KIND_TIME_FIX, MIN_RECORD, sealRecord, writeHeader } from "./outbox-format.ts";
import type { OutboxFile, RecordScanner } from "./outbox-reader.ts";

/** How `rewrite` treats records: keep every valid one. */
export const REPAIR = 0;
/** Drop delivered events older than the day window. */
export const COMPACT = 1;
/** The outbox is full: drop every delivered event (the log of the day yields to new alarms). */
export const SQUEEZE = 2;
export type RewriteMode = typeof REPAIR | typeof COMPACT | typeof SQUEEZE;

export class OutboxRewriter {
  private readonly file: OutboxFile;
  private readonly scanner: RecordScanner;
  private readonly dayWindowMs: number;
  /** The DELIVERED record that heads a compacted file (the outbox's record buffer may hold an event meanwhile). */
  private readonly marker = new Uint8Array(MIN_RECORD);
  private readonly markerView = new DataView(this.marker.buffer);

  constructor(file: OutboxFile, scanner: RecordScanner, dayWindowMs: number) {
    this.file = file;
    this.scanner = scanner;
    this.dayWindowMs = dayWindowMs;
  }

  /**
   * Rewrites the file with its valid records, via the store's atomic replace. Compacting also
   * drops delivered events older than the day window (squeezing: all delivered events) and
   * folds the DELIVERED records into one; the newest event (`lastSeq`) always stays, so
   * sequence numbers never restart. Readers started before see a new generation.
   */
  rewrite(mode: RewriteMode, lastSeq: number): void {
    const compacting = mode !== REPAIR;
    const { file, scanner } = this;
    const bootId = file.bootId;
    const wallNow = file.wall.now();
    const uptimeNow = file.uptime.now();
    /** Boots with kept uptime-stamped events: their TIME_FIX records are kept too. */
    const keptUnfixedBoots = new Set<number>();
    const delivered = file.delivered;
    file.store.replace((append) => {
      if (compacting && delivered > 0) {
        const wallFlag = wallNow !== null ? FLAG_WALL : 0;
        writeHeader(this.markerView, this.marker, MIN_RECORD, KIND_DELIVERED, wallFlag, delivered, bootId, wallNow ?? uptimeNow);
        sealRecord(this.marker, MIN_RECORD);
        append(this.marker, 0, MIN_RECORD);
      }
      scanner.reset(0);
      while (scanner.next()) {
        const kind = scanner.kind;
        if (compacting) {
          if (kind === KIND_DELIVERED) continue;
          if (kind === KIND_TIME_FIX) {
            if (!keptUnfixedBoots.has(scanner.bootId) && scanner.bootId !== bootId) continue;
          } else {
            const pending = (scanner.flags & FLAG_NOTIFY) !== 0 && scanner.seq > delivered;
            const recent = mode === COMPACT && file.isRecent(scanner, this.dayWindowMs, wallNow, uptimeNow);
            const keep = pending || recent || scanner.seq === lastSeq;
            if (!keep) continue;
            if ((scanner.flags & FLAG_WALL) === 0) keptUnfixedBoots.add(scanner.bootId);
          }
        }
        append(scanner.buf, scanner.at, scanner.length);
      }
    });
    file.generation++;
  }
}
