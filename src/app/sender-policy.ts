// When to send which mail: pure decisions from explicit `now` values (uptime ms), so the
// sender's behaviour is deterministic in tests. The app asks `next(now, pending)` whenever
// something changed (an event was recorded, a timer it was told to set fired, a mail ended)
// and reports how each mail it started ended (`succeeded` / `failed`).
//
//  - Batching: one mail carries up to `maxEventsPerMail` of the oldest pending events. The
//    first event of a burst waits `gatherMs` for the rest; events that arrive while a mail is
//    in flight go into the next mail, which starts as soon as that one ends.
//  - Retry: after a failed mail, wait retryBaseMs × 2^(failures − 1), at most retryMaxMs,
//    each delay spread by ±jitter (e.g. ±20 %), then try again. Success resets the count.
//  - Hourly cap: at most `mailsPerHour` mails in any sliding hour. When events had to wait
//    for the cap and more are pending than fit one mail, the next mail is one summary of all
//    of them (the events log attached) instead of a trail of batches.
//  - Heartbeat: a daily status mail at a fixed time of day once the wall time is known
//    (before that: every `heartbeatIntervalMs` from start); `requestStatus` asks for one now.

import type { RandomPort } from "./ports.ts";

export interface SenderPolicyOptions {
  /** Jitter source: `seededRandom(seed)` in tests, seeded from `Crypto.randomBytes` on the device. */
  random: RandomPort;
  /** Default 20. */
  maxEventsPerMail?: number;
  /** How long the first event of a burst waits for more. Default 2 s. */
  gatherMs?: number;
  /** Delay after the first failure. Default 30 s. */
  retryBaseMs?: number;
  /** Longest delay before jitter. Default 30 min. */
  retryMaxMs?: number;
  /** Spread of each delay, 0-1 (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  /** Default 10. */
  mailsPerHour?: number;
  /** Default 24 h. */
  heartbeatIntervalMs?: number;
  /** Minute of the day (0-1439, local time) for the daily status mail; null: every interval from start. Default 480 (08:00). */
  heartbeatAtMinute?: number | null;
  /** Local time minus UTC, in minutes. Default 0. */
  timezoneOffsetMinutes?: number;
}

export type MailKind = "events" | "summary" | "status";

export type SenderDecision =
  /** Send the oldest `count` pending events in one mail. */
  | { action: "events"; count: number }
  /** Send one summary of all `count` pending events (attach the log). */
  | { action: "summary"; count: number }
  /** Send a status mail: the daily heartbeat and/or a requested one. */
  | { action: "status"; heartbeat: boolean }
  /** Nothing to send before `until` (uptime ms); null: a mail is in flight, ask again when it ends. */
  | { action: "wait"; until: number | null };

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const IN_FLIGHT: SenderDecision = Object.freeze({ action: "wait", until: null });

export class SenderPolicy {
  readonly maxEventsPerMail: number;
  private readonly random: RandomPort;
  private readonly gatherMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly jitter: number;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatAtMinute: number | null;
  private readonly timezoneOffsetMs: number;
  /** Success times of the last `mailsPerHour` mails, a ring. */
  private readonly sentAt: Float64Array;
  private sentNext = 0;
  private sentCount = 0;

  private inFlight: MailKind | null = null;
  private inFlightHeartbeat = false;
  /** Status requests made, served, and covered by the status mail in flight. */
  private statusRequests = 0;
  private statusServed = 0;
  private inFlightServes = 0;
  private failureCount = 0;
  private retryAtMs = 0;
  private gatherUntil: number | null = null;
  private overflowed = false;
  private nextHeartbeat: number;
  private wallOffset: number | null = null;

  constructor(now: number, options: SenderPolicyOptions) {
    if (!options || typeof options.random?.random !== "function") throw new TypeError("SenderPolicy: a random source is needed (options.random)");
    this.random = options.random;
    this.maxEventsPerMail = count("maxEventsPerMail", options.maxEventsPerMail ?? 20);
    this.gatherMs = duration("gatherMs", options.gatherMs ?? 2000, true);
    this.retryBaseMs = duration("retryBaseMs", options.retryBaseMs ?? 30_000, false);
    this.retryMaxMs = duration("retryMaxMs", options.retryMaxMs ?? 1_800_000, false);
    if (this.retryMaxMs < this.retryBaseMs) throw new RangeError(`SenderPolicy: retryMaxMs (${this.retryMaxMs}) is below retryBaseMs (${this.retryBaseMs})`);
    const jitter = options.jitter ?? 0.2;
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`SenderPolicy: jitter ${jitter} is not a fraction 0-1`);
    this.jitter = jitter;
    this.sentAt = new Float64Array(count("mailsPerHour", options.mailsPerHour ?? 10));
    this.heartbeatIntervalMs = duration("heartbeatIntervalMs", options.heartbeatIntervalMs ?? DAY_MS, false);
    const minute = options.heartbeatAtMinute === undefined ? 480 : options.heartbeatAtMinute;
    if (minute !== null && !(Number.isInteger(minute) && minute >= 0 && minute < 1440)) throw new RangeError(`SenderPolicy: heartbeatAtMinute ${minute} is not a minute of the day (0-1439)`);
    this.heartbeatAtMinute = minute;
    const zone = options.timezoneOffsetMinutes ?? 0;
    if (!(Number.isInteger(zone) && zone >= -840 && zone <= 840)) throw new RangeError(`SenderPolicy: time zone offset ${zone} min is not within ±14 h`);
    this.timezoneOffsetMs = zone * 60_000;
    this.nextHeartbeat = checkNow(now) + this.heartbeatIntervalMs;
  }

  /** Consecutive failed mails. */
  get failures(): number {
    return this.failureCount;
  }

  /** Uptime of the next daily status mail. */
  get nextHeartbeatAt(): number {
    return this.nextHeartbeat;
  }

  /** The kind of mail in flight, or null. */
  get sending(): MailKind | null {
    return this.inFlight;
  }

  /** Mails sent in the hour up to `now`. */
  mailsInLastHour(now: number): number {
    let n = 0;
    for (let i = 0; i < this.sentCount; i++) if (this.sentAt[i] > now - HOUR_MS) n++;
    return n;
  }

  /**
   * What to do now, given the number of pending events. A decision to send marks that mail
   * as in flight until `succeeded` or `failed`.
   */
  next(now: number, pending: number): SenderDecision {
    checkNow(now);
    if (!(Number.isInteger(pending) && pending >= 0)) throw new RangeError(`SenderPolicy.next: ${pending} is not a count of pending events`);
    if (this.inFlight !== null) return IN_FLIGHT;
    if (pending === 0) this.gatherUntil = null;
    else if (this.gatherUntil === null) this.gatherUntil = now + this.gatherMs;
    const heartbeatDue = now >= this.nextHeartbeat;
    const statusDue = heartbeatDue || this.statusRequests > this.statusServed;
    if (pending === 0 && !statusDue) return wait(this.nextHeartbeat);
    if (now < this.retryAtMs) return wait(this.retryAtMs);
    const capFree = this.capFreeAt(now);
    if (capFree > now) {
      if (pending > 0) this.overflowed = true;
      return wait(capFree);
    }
    if (pending > 0) {
      const gatherUntil = this.gatherUntil!;
      if (now < gatherUntil) return wait(gatherUntil);
      if (this.overflowed && pending > this.maxEventsPerMail) {
        this.inFlight = "summary";
        return { action: "summary", count: pending };
      }
      this.inFlight = "events";
      return { action: "events", count: pending < this.maxEventsPerMail ? pending : this.maxEventsPerMail };
    }
    this.inFlight = "status";
    this.inFlightHeartbeat = heartbeatDue;
    this.inFlightServes = this.statusRequests;
    return { action: "status", heartbeat: heartbeatDue };
  }

  /**
   * Whether next() would start a mail of events now, without starting it: a long mailbox poll
   * asks between mails and gives way (status mails wait for the poll). Like next(), the first
   * look at pending events starts their gather time.
   */
  eventsDue(now: number, pending: number): boolean {
    if (this.inFlight !== null || pending === 0) return false;
    if (this.gatherUntil === null) this.gatherUntil = now + this.gatherMs;
    return now >= this.gatherUntil && now >= this.retryAtMs && this.capFreeAt(now) <= now;
  }

  /** The mail in flight went out (`+SMTPSEND: 1`). */
  succeeded(now: number): void {
    checkNow(now);
    const kind = this.endFlight("succeeded");
    this.sentAt[this.sentNext] = now;
    this.sentNext = (this.sentNext + 1) % this.sentAt.length;
    if (this.sentCount < this.sentAt.length) this.sentCount++;
    this.failureCount = 0;
    this.retryAtMs = 0;
    if (kind === "status") {
      this.statusServed = this.inFlightServes;
      if (this.inFlightHeartbeat) this.nextHeartbeat = this.heartbeatAfter(now);
    } else {
      this.overflowed = false;
      // What piled up meanwhile has waited long enough.
      this.gatherUntil = now;
    }
  }

  /** The mail in flight failed; returns the delay before the next try (`atLeastMs`: a hold the caller needs). */
  failed(now: number, atLeastMs = 0): number {
    checkNow(now);
    this.endFlight("failed");
    this.failureCount++;
    const exponent = this.failureCount - 1 < 30 ? this.failureCount - 1 : 30;
    const base = this.retryBaseMs * 2 ** exponent;
    const capped = base < this.retryMaxMs ? base : this.retryMaxMs;
    const jittered = Math.round(capped * (1 + this.jitter * (2 * this.random.random() - 1)));
    const delay = jittered > atLeastMs ? jittered : atLeastMs;
    this.retryAtMs = now + delay;
    this.gatherUntil = now;
    return delay;
  }

  /** Asks for a status mail as soon as possible (a STATUS command, a start-up notice). */
  requestStatus(): void {
    this.statusRequests++;
  }

  /**
   * The wall time became known: wall time = uptime + `offsetMs`. Moves the next daily status
   * mail to its time of day.
   */
  setWallOffset(now: number, offsetMs: number): void {
    checkNow(now);
    if (!Number.isFinite(offsetMs)) throw new RangeError(`SenderPolicy.setWallOffset: ${offsetMs} is not a time offset`);
    this.wallOffset = offsetMs;
    // A heartbeat already due (waiting for a retry or the cap) still goes out.
    if (this.heartbeatAtMinute !== null && now < this.nextHeartbeat) this.nextHeartbeat = this.heartbeatAfter(now);
  }

  private endFlight(what: string): MailKind {
    const kind = this.inFlight;
    if (kind === null) throw new Error(`SenderPolicy.${what}: no mail is in flight`);
    this.inFlight = null;
    return kind;
  }

  /** When the hourly cap lets the next mail go (`now` when it does already). */
  private capFreeAt(now: number): number {
    if (this.sentCount < this.sentAt.length) return now;
    const oldest = this.sentAt[this.sentNext];
    return oldest + HOUR_MS > now ? oldest + HOUR_MS : now;
  }

  /** The first heartbeat time after `now`. */
  private heartbeatAfter(now: number): number {
    if (this.heartbeatAtMinute === null || this.wallOffset === null) return now + this.heartbeatIntervalMs;
    const local = now + this.wallOffset + this.timezoneOffsetMs;
    let target = Math.floor(local / DAY_MS) * DAY_MS + this.heartbeatAtMinute * 60_000;
    if (target <= local) target += DAY_MS;
    return target - this.wallOffset - this.timezoneOffsetMs;
  }
}

function wait(until: number): SenderDecision {
  return { action: "wait", until };
}

function checkNow(now: number): number {
  if (!Number.isFinite(now)) throw new RangeError(`SenderPolicy: now (${now}) is not a time in ms`);
  return now;
}

function count(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`SenderPolicy: ${name} must be a whole number of 1 or more, not ${value}`);
  return value;
}

function duration(name: string, value: number, zeroAllowed: boolean): number {
  if (!(Number.isFinite(value) && (zeroAllowed ? value >= 0 : value > 0))) throw new RangeError(`SenderPolicy: ${name} must be a duration in ms${zeroAllowed ? " (0 or more)" : " above 0"}, not ${value}`);
  return value;
}
