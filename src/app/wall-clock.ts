// Wall time derived from the uptime clock plus an offset learned from the network, and a small
// seeded random generator for retry jitter.

import type { ClockPort, RandomPort, WallClock } from "./ports.ts";
import { detail } from "../transport/detail.ts";

/** Earliest time accepted as real (2020-01-01): anything before is a clock that was never set. */
export const EARLIEST_VALID_TIME_MS = 1_577_836_800_000;

/**
 * Unknown until `set` is called with network time; then uptime + a fixed offset, so it never
 * jumps when the platform clock is adjusted and costs nothing to read.
 */
export class NetworkWallClock implements WallClock {
  private readonly uptime: ClockPort;
  private offsetMs: number | null = null;

  constructor(uptime: ClockPort) {
    this.uptime = uptime;
  }

  /** Sets the time from a network source (AT+CNTP / AT+CCLK): UTC milliseconds since 1970. */
  set(epochMs: number): void {
    if (!Number.isFinite(epochMs) || epochMs < EARLIEST_VALID_TIME_MS) {
      throw new RangeError(`NetworkWallClock.set: ${epochMs} is not a plausible UTC time${detail(" (before 2020 or not a number)")}`);
    }
    this.offsetMs = epochMs - this.uptime.now();
  }

  now(): number | null {
    return this.offsetMs === null ? null : this.uptime.now() + this.offsetMs;
  }

  /** Wall time minus uptime, or null while unknown. */
  offset(): number | null {
    return this.offsetMs;
  }
}

/** mulberry32: a tiny deterministic generator, good enough for jitter (not for secrets). */
export function seededRandom(seed: number): RandomPort {
  let state = seed >>> 0;
  return {
    random(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
