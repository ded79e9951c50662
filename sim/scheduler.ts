// The time source of every host test: a deterministic virtual clock (no real time passes) and
// a real clock with the same interface for tests that talk to real servers.

import type { ClockPort, Deadline, TimerPort } from "../src/transport/ports.ts";

/** Identifies one pending `setTimer`; only meaningful to the scheduler that issued it. */
export type TimerHandle = number & { readonly __timerHandle: true };

export interface Scheduler extends ClockPort, TimerPort {
  /** Calls `callback` once after `ms` (0 = as soon as possible, after work already due). */
  setTimer(callback: () => void, ms: number): TimerHandle;
  /** Cancels a pending timer; harmless when it already ran or was cleared. */
  clearTimer(handle: TimerHandle): void;
}

function checkDelay(ms: number, who: string): void {
  if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
    throw new RangeError(`${who}: ${String(ms)} ms is not a delay (a finite number of ms, 0 or more)`);
  }
}

/** A re-armable one-shot timer built on any Scheduler: one closure for its whole life. */
class SchedulerDeadline implements Deadline {
  private handle: TimerHandle | null = null;
  private closed = false;
  private readonly scheduler: Scheduler;
  private readonly callback: () => void;
  private readonly fire = () => {
    this.handle = null;
    this.callback();
  };

  constructor(scheduler: Scheduler, callback: () => void) {
    this.scheduler = scheduler;
    this.callback = callback;
  }

  arm(ms: number): void {
    if (this.closed) throw new Error("Deadline.arm: this deadline was closed");
    checkDelay(ms, "Deadline.arm");
    if (this.handle !== null) this.scheduler.clearTimer(this.handle);
    this.handle = this.scheduler.setTimer(this.fire, ms);
  }

  disarm(): void {
    if (this.handle === null) return;
    this.scheduler.clearTimer(this.handle);
    this.handle = null;
  }

  close(): void {
    this.disarm();
    this.closed = true;
  }
}

interface TimerEvent {
  at: number;
  /** Scheduling order: breaks ties between events due at the same time (FIFO). */
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** More events than this at one instant means a zero-delay loop, not a test. */
const RUNAWAY_EVENTS = 1_000_000;
const DEFAULT_IDLE_LIMIT_MS = 600_000;

/**
 * Deterministic time: `now()` moves only when the test advances it, and timers run in due
 * order (ties in scheduling order). Timers scheduled while others run are honoured in the
 * same call when they fall due inside its window.
 */
export class VirtualClock implements Scheduler {
  private time: number;
  private seq = 0;
  private readonly heap: TimerEvent[] = [];
  private readonly live = new Map<number, TimerEvent>();
  /** Cancelled events still in `heap`. */
  private cancelledInHeap = 0;
  private running = false;

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new RangeError(`VirtualClock: start time ${startMs} is not a finite number of ms`);
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    checkDelay(ms, "VirtualClock.setTimer");
    const event: TimerEvent = { at: this.time + ms, seq: ++this.seq, callback, cancelled: false };
    this.push(event);
    this.live.set(event.seq, event);
    return event.seq as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    const event = this.live.get(handle);
    if (event === undefined) return;
    event.cancelled = true;
    this.live.delete(handle);
    // Re-armed deadlines leave cancelled events behind: drop them once they outnumber the
    // live ones, so a long run holds memory for its live timers only.
    if (++this.cancelledInHeap > this.live.size) this.dropCancelled();
  }

  deadline(callback: () => void): Deadline {
    return new SchedulerDeadline(this, callback);
  }

  /** Timers scheduled and not yet run or cleared. */
  pending(): number {
    return this.live.size;
  }

  /** When the next timer is due, or null when none is pending. */
  nextDueAt(): number | null {
    const next = this.peek();
    return next === null ? null : next.at;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    checkDelay(ms, "VirtualClock.advance");
    const end = this.time + ms;
    this.exclusive(() => {
      while (this.runInstant(end)) { /* every instant up to `end` */ }
    });
    this.time = end;
  }

  /**
   * Runs timers one at a time until `predicate()` holds (checked first and after each timer).
   * Stops with false when no timer is left or the next one is due more than `limitMs` from
   * now; time then stays at the last timer that ran (it never jumps to the limit).
   * Promise continuations do not run in between: see `runUntilAsync`.
   */
  runUntil(predicate: () => boolean, limitMs: number): boolean {
    checkDelay(limitMs, "VirtualClock.runUntil");
    const end = this.time + limitMs;
    return this.exclusive(() => {
      let sameInstant = 0;
      let lastAt = this.time;
      for (;;) {
        if (predicate()) return true;
        const event = this.peek();
        if (event === null || event.at > end) return false;
        sameInstant = event.at === lastAt ? sameInstant + 1 : 0;
        lastAt = event.at;
        this.checkRunaway(sameInstant);
        this.runNext();
      }
    });
  }

  /**
   * Runs timers until none is left. Throws when timers are still pending `limitMs` from now
   * (default 10 minutes of virtual time): a periodic timer never lets the clock go idle.
   */
  runUntilIdle(limitMs = DEFAULT_IDLE_LIMIT_MS): void {
    checkDelay(limitMs, "VirtualClock.runUntilIdle");
    const end = this.time + limitMs;
    this.exclusive(() => {
      while (this.runInstant(end)) { /* until idle or past the limit */ }
    });
    const next = this.peek();
    if (next !== null) {
      throw new Error(`VirtualClock.runUntilIdle: ${this.live.size} timer(s) still pending after ${limitMs} ms (next due at ${next.at} ms): a periodic timer?`);
    }
  }

  /**
   * Like `runUntil`, but lets Promise continuations settle (a macrotask turn) after every
   * instant, so code that awaits between steps makes progress in virtual time. When no timer
   * is left it still gives pending continuations one more turn before giving up.
   */
  async runUntilAsync(predicate: () => boolean, limitMs: number): Promise<boolean> {
    checkDelay(limitMs, "VirtualClock.runUntilAsync");
    const end = this.time + limitMs;
    for (;;) {
      await settle();
      if (predicate()) return true;
      const next = this.peek();
      if (next === null || next.at > end) {
        await settle();
        if (predicate()) return true;
        const later = this.peek();
        if (later === null || later.at > end) return false;
      }
      this.exclusive(() => this.runInstant(end));
    }
  }

  /** `advance(ms)`, letting Promise continuations settle after every instant. */
  async advanceAsync(ms: number): Promise<void> {
    checkDelay(ms, "VirtualClock.advanceAsync");
    const end = this.time + ms;
    for (;;) {
      await settle();
      if (!this.exclusive(() => this.runInstant(end))) break;
    }
    this.time = end;
    await settle();
  }

  /** Runs every timer due at the earliest pending instant, if that is not after `end`. */
  private runInstant(end: number): boolean {
    const first = this.peek();
    if (first === null || first.at > end) return false;
    const at = first.at;
    let count = 0;
    for (let event: TimerEvent | null = first; event !== null && event.at === at; event = this.peek()) {
      this.checkRunaway(count++);
      this.runNext();
    }
    return true;
  }

  private runNext(): void {
    const event = this.pop();
    this.live.delete(event.seq);
    this.time = event.at;
    event.callback();
  }

  private checkRunaway(sameInstant: number): void {
    if (sameInstant >= RUNAWAY_EVENTS) {
      throw new Error(`VirtualClock: over ${RUNAWAY_EVENTS} timers ran at ${this.time} ms without time passing: a zero-delay loop?`);
    }
  }

  /** Timer callbacks may schedule timers, but may not drive the clock themselves. */
  private exclusive<T>(body: () => T): T {
    if (this.running) throw new Error("VirtualClock: advance/runUntil called from inside a timer callback");
    this.running = true;
    try {
      return body();
    } finally {
      this.running = false;
    }
  }

  // Binary min-heap on (at, seq); cancelled events are dropped lazily when they reach the top.

  private peek(): TimerEvent | null {
    const heap = this.heap;
    while (heap.length > 0 && heap[0].cancelled) {
      this.pop();
      this.cancelledInHeap--;
    }
    return heap.length > 0 ? heap[0] : null;
  }

  /** Rebuilds the heap from the live events (a sorted array is a valid heap). */
  private dropCancelled(): void {
    const heap = this.heap;
    let kept = 0;
    for (const event of heap) if (!event.cancelled) heap[kept++] = event;
    heap.length = kept;
    heap.sort((a, b) => (before(a, b) ? -1 : 1));
    this.cancelledInHeap = 0;
  }

  private push(event: TimerEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): TimerEvent {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right], heap[left]) ? right : left;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: TimerEvent, b: TimerEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** One macrotask turn: every queued Promise continuation has run when it resolves. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Real time (`performance.now()`, `setTimeout`; 0 ms uses `setImmediate`). */
export class RealClock implements Scheduler {
  private nextId = 0;
  private readonly timers = new Map<number, { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout }>();

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    checkDelay(ms, "RealClock.setTimer");
    const id = ++this.nextId;
    const fire = () => {
      this.timers.delete(id);
      callback();
    };
    this.timers.set(id, ms === 0 ? { immediate: setImmediate(fire) } : { timeout: setTimeout(fire, ms) });
    return id as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    const timer = this.timers.get(handle);
    if (timer === undefined) return;
    if ("immediate" in timer) clearImmediate(timer.immediate);
    else clearTimeout(timer.timeout);
    this.timers.delete(handle);
  }

  deadline(callback: () => void): Deadline {
    return new SchedulerDeadline(this, callback);
  }

  /** Timers scheduled and not yet run or cleared. */
  pending(): number {
    return this.timers.size;
  }

  /** Clears every pending timer (test cleanup). */
  cancelAll(): void {
    for (const handle of [...this.timers.keys()]) this.clearTimer(handle as TimerHandle);
  }
}
