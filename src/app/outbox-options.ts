// What the outbox (./outbox.ts) is opened with, what opening found, and the error of a full outbox.

import type { ClockPort, WallClock } from "./ports.ts";

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
