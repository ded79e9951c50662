// Moddable's `timer` module as the SDK implements it, on virtual time, for the device bindings'
// tests (src/device/ports.ts). Copied from the SDK (8.2.3), line for line where it matters:
// - the script layer, modules/base/timer/modTimer.c: Timer.set/repeat/schedule/clear, and
//   the callback wrapper (xs_timer_callback) that frees a one-shot timer after it fired;
// - lin, modules/base/timer/lin/timer.c: one glib timeout source per scheduling. The source
//   calls modTimerExecuteOne, which after the callback either keeps the source firing at its
//   own period (delay equal to interval), or starts a new source for the interval and ends
//   itself (delay different from interval), or frees a one-shot timer. A Timer.schedule made
//   inside the callback replaces `g_timer`, so the source it started is forgotten when the
//   code after the callback replaces `g_timer` again: it keeps firing, and neither
//   Timer.schedule(t) nor Timer.clear(t) can reach it. This model has that defect, as the SDK does.
// - esp32, modules/base/timer/mc/timer.c: a list of timers with trigger times, serviced by
//   modTimersExecute when one is due (timers added meanwhile wait for the next pass).
//
// glib's timeout source is modelled as glib 2 implements it: `g_timeout_add(ms)` first fires
// after `ms`, then every `ms` for as long as its callback returns TRUE (G_SOURCE_CONTINUE);
// g_source_remove destroys it, also while it dispatches (its return value is then ignored).

import type { VirtualClock } from "../../sim/scheduler.ts";

/** A timer record (modTimerRecord) with the script layer's refcon (modTimerScriptRecord). */
interface TimerRecord {
  /** The script callback; null once Timer.clear ran (ts->callback = NULL). */
  callback: ((timer: ScriptTimer) => void) | null;
  self: ScriptTimer;
}

/** The host object Timer.set returns: its host data is the platform's timer, null once freed. */
export interface ScriptTimer {
  readonly id: number;
}

/** The platform half (modTimer.h) that both timer.c files implement. */
interface ModTimerPlatform<T> {
  add(first: number, interval: number, record: TimerRecord): T;
  reschedule(timer: T, first: number, interval: number): void;
  unschedule(timer: T): void;
  /** modTimerGetSecondInterval. */
  secondInterval(timer: T): number;
  remove(timer: T): void;
  /** Timers not freed (modInstrumentationAdjust(Timers)). */
  readonly live: number;
}

export interface ModdableTimerModule {
  set(callback: (timer: ScriptTimer) => void, interval?: number, repeat?: number): ScriptTimer;
  repeat(callback: (timer: ScriptTimer) => void, interval: number): ScriptTimer;
  schedule(timer: ScriptTimer, interval?: number, repeat?: number): void;
  clear(timer: ScriptTimer | undefined | null): void;
  delay(ms: number): void;
}

/** xsmcToInteger: ToNumber, then toward zero; NaN is 0. */
function toInteger(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? n | 0 : 0;
}

/** The script layer, modTimer.c, over one platform. */
class ScriptTimers<T> implements ModdableTimerModule {
  private readonly platform: ModTimerPlatform<T>;
  /** Host data of each script timer (xsmcSetHostData): its platform timer; absent once freed. */
  private readonly hostData = new Map<ScriptTimer, { timer: T; record: TimerRecord }>();
  private nextId = 1;
  /** Script callbacks called so far. */
  fired = 0;

  constructor(platform: ModTimerPlatform<T>) {
    this.platform = platform;
  }

  /** xs_timer_callback, called by the platform with the record it was given. */
  readonly call = (timer: T, record: TimerRecord): void => {
    const callback = record.callback;
    if (callback === null) return;
    this.fired++;
    callback.call(globalThis, record.self);
    if (record.callback !== null && this.platform.secondInterval(timer) === 0) {
      // A one-shot timer that fired: the script's handle is dead from now on.
      this.hostData.delete(record.self);
    }
  };

  set(callback: (timer: ScriptTimer) => void, interval?: number, repeat?: number): ScriptTimer {
    return this.create(callback, interval === undefined ? 0 : toInteger(interval), repeat === undefined ? 0 : toInteger(repeat));
  }

  repeat(callback: (timer: ScriptTimer) => void, interval: number): ScriptTimer {
    const ms = toInteger(interval);
    return this.create(callback, ms, ms);
  }

  schedule(timer: ScriptTimer, interval?: number, repeat?: number): void {
    const platformTimer = this.validate(timer).timer;
    if (arguments.length === 1) this.platform.unschedule(platformTimer);
    else this.platform.reschedule(platformTimer, toInteger(interval), arguments.length > 2 ? toInteger(repeat) : 0);
  }

  clear(timer: ScriptTimer | undefined | null): void {
    if (timer === undefined || timer === null) return;
    const data = this.hostData.get(timer);
    if (data === undefined) return;
    data.record.callback = null;
    this.platform.remove(data.timer);
    this.hostData.delete(timer);
  }

  delay(_ms: number): void {
    // The SDK sleeps (usleep, modDelayMilliseconds) with the whole machine stopped: virtual time cannot.
    throw new Error("Timer.delay blocks the machine; nothing in the firmware may use it");
  }

  private create(callback: (timer: ScriptTimer) => void, interval: number, repeat: number): ScriptTimer {
    if (typeof callback !== "function") throw new TypeError("Timer.set: callback is not a function");
    const self: ScriptTimer = Object.freeze({ id: this.nextId++ });
    const record: TimerRecord = { callback, self };
    this.hostData.set(self, { timer: this.platform.add(interval, repeat, record), record });
    return self;
  }

  /** xsmcGetHostDataValidate: a freed timer's host object has lost its hooks. */
  private validate(timer: ScriptTimer): { timer: T; record: TimerRecord } {
    const data = this.hostData.get(timer);
    if (data === undefined) throw new SyntaxError("C: xsGetHostData: invalid host data");
    return data;
  }
}

// ---- lin: modules/base/timer/lin/timer.c on a model of glib's timeout sources ------------------

/** A glib timeout source: fires every `interval` ms while its callback returns true. */
class GlibTimeout {
  destroyed = false;
  private handle: ReturnType<VirtualClock["setTimer"]>;
  private readonly clock: VirtualClock;
  private readonly interval: number;
  private readonly callback: () => boolean;
  private readonly sources: Set<GlibTimeout>;

  constructor(clock: VirtualClock, sources: Set<GlibTimeout>, interval: number, callback: () => boolean) {
    this.clock = clock;
    this.sources = sources;
    this.interval = interval;
    this.callback = callback;
    sources.add(this);
    this.handle = clock.setTimer(this.dispatch, interval);
  }

  private readonly dispatch = (): void => {
    if (this.destroyed) return;
    const keep = this.callback();
    if (this.destroyed) return; // removed while it ran: glib drops it whatever it returned
    if (keep) this.handle = this.clock.setTimer(this.dispatch, this.interval);
    else this.destroy();
  };

  /** g_source_remove. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.clock.clearTimer(this.handle);
    this.sources.delete(this);
  }
}

interface LinTimer {
  /** The source the record tracks (0 in C: null here). */
  gTimer: GlibTimeout | null;
  /** 0 once removed: "can't be found again by script". */
  id: number;
  useCount: number;
  first: number;
  interval: number;
  record: TimerRecord;
}

class LinPlatform implements ModTimerPlatform<LinTimer> {
  /** Every glib source alive, tracked by a timer or not. */
  readonly sources = new Set<GlibTimeout>();
  private readonly clock: VirtualClock;
  private readonly timers: LinTimer[] = [];
  private lastId = 1;
  call: (timer: LinTimer, record: TimerRecord) => void = () => undefined;

  constructor(clock: VirtualClock) {
    this.clock = clock;
  }

  get live(): number {
    return this.timers.length;
  }

  /** Sources alive that no timer tracks (`g_timer`): they fire on and nothing can remove them. */
  get strays(): number {
    let tracked = 0;
    for (const timer of this.timers) if (timer.gTimer !== null && !timer.gTimer.destroyed) tracked++;
    return this.sources.size - tracked;
  }

  /** modTimerExecuteOne: what each glib source calls; its result keeps or ends that source. */
  private executeOne(timer: LinTimer): boolean {
    if (timer.id === 0) {
      // A source that outlived its timer (in C the record is freed memory by now; its id reads 0).
      this.remove(timer);
      return false;
    }
    timer.useCount++;
    this.call(timer, timer.record);
    timer.useCount--;
    if (timer.useCount <= 0 || timer.interval === 0) {
      this.remove(timer);
      return false;
    }
    if (timer.first !== timer.interval) {
      timer.gTimer = this.timeout(timer.interval, timer);
      timer.first = timer.interval;
      return false;
    }
    return true;
  }

  private timeout(ms: number, timer: LinTimer): GlibTimeout {
    return new GlibTimeout(this.clock, this.sources, ms, () => this.executeOne(timer));
  }

  add(first: number, interval: number, record: TimerRecord): LinTimer {
    const timer: LinTimer = { gTimer: null, id: ++this.lastId, useCount: 1, first, interval, record };
    timer.gTimer = this.timeout(first, timer);
    this.timers.push(timer);
    return timer;
  }

  reschedule(timer: LinTimer, first: number, interval: number): void {
    timer.gTimer?.destroy();
    timer.first = first;
    timer.interval = interval;
    timer.gTimer = this.timeout(first, timer);
  }

  unschedule(timer: LinTimer): void {
    if (timer.id === 0) return;
    timer.gTimer?.destroy();
    timer.gTimer = null;
  }

  secondInterval(timer: LinTimer): number {
    return timer.gTimer !== null ? timer.interval : -1;
  }

  remove(timer: LinTimer): void {
    if (timer.gTimer !== null) {
      timer.gTimer.destroy();
      timer.gTimer = null;
    }
    const index = this.timers.indexOf(timer);
    if (index < 0) return;
    timer.id = 0; // and cb = NULL: nothing calls the script again
    timer.useCount--;
    if (timer.useCount <= 0) this.timers.splice(index, 1);
  }
}

// ---- esp32: modules/base/timer/mc/timer.c ------------------------------------------------------

const FLAG_FIRE = 1;
const FLAG_UNSCHEDULED = 2;

interface McTimer {
  triggerTime: number;
  repeatInterval: number;
  flags: number;
  useCount: number;
  record: TimerRecord;
}

class McPlatform implements ModTimerPlatform<McTimer> {
  private readonly clock: VirtualClock;
  private timers: McTimer[] = [];
  private wake: ReturnType<VirtualClock["setTimer"]> | null = null;
  call: (timer: McTimer, record: TimerRecord) => void = () => undefined;

  constructor(clock: VirtualClock) {
    this.clock = clock;
  }

  get live(): number {
    return this.timers.length;
  }

  /** Timers due to fire (not unscheduled). */
  get scheduled(): number {
    return this.timers.filter((timer) => !(timer.flags & FLAG_UNSCHEDULED)).length;
  }

  /** When the main loop will next run modTimersExecute (modTimersNext), or null. */
  private plan(): void {
    if (this.wake !== null) this.clock.clearTimer(this.wake);
    this.wake = null;
    let next: number | null = null;
    for (const timer of this.timers) {
      if (timer.flags & FLAG_UNSCHEDULED) continue;
      const delta = timer.triggerTime - this.clock.now();
      if (next === null || delta < next) next = delta;
    }
    if (next !== null) this.wake = this.clock.setTimer(() => this.execute(), next > 0 ? next : 0);
  }

  /** modTimersExecute. */
  private execute(): void {
    this.wake = null;
    const now = this.clock.now();
    for (const timer of this.timers) {
      if (timer.flags & (FLAG_UNSCHEDULED | FLAG_FIRE)) continue;
      if (timer.triggerTime - now <= 0) timer.flags |= FLAG_FIRE;
    }
    for (let i = 0; i < this.timers.length;) {
      const timer = this.timers[i];
      if (!(timer.flags & FLAG_FIRE)) {
        i++;
        continue;
      }
      timer.flags &= ~FLAG_FIRE;
      timer.triggerTime += timer.repeatInterval;
      timer.useCount++;
      this.call(timer, timer.record);
      timer.useCount--;
      if (timer.useCount <= 0 || timer.repeatInterval === 0) {
        this.remove(timer);
        i = 0;
        continue;
      }
      i++;
    }
    this.plan();
  }

  add(first: number, interval: number, record: TimerRecord): McTimer {
    const timer: McTimer = { triggerTime: this.clock.now() + first, repeatInterval: interval, flags: 0, useCount: 1, record };
    this.timers.push(timer);
    this.plan();
    return timer;
  }

  reschedule(timer: McTimer, first: number, interval: number): void {
    timer.triggerTime = this.clock.now() + first;
    timer.repeatInterval = interval;
    timer.flags &= ~FLAG_UNSCHEDULED;
    this.plan();
  }

  unschedule(timer: McTimer): void {
    timer.flags |= FLAG_UNSCHEDULED;
    timer.flags &= ~FLAG_FIRE;
    timer.repeatInterval = -1;
    this.plan();
  }

  secondInterval(timer: McTimer): number {
    return timer.repeatInterval;
  }

  remove(timer: McTimer): void {
    const index = this.timers.indexOf(timer);
    if (index < 0) return;
    timer.flags = FLAG_UNSCHEDULED;
    timer.useCount--;
    if (timer.useCount <= 0) this.timers.splice(index, 1);
    this.plan();
  }
}

export type TimerPlatformName = "lin" | "esp32";

export interface ModdableTimers extends ModdableTimerModule {
  readonly platform: TimerPlatformName;
  /** Script callbacks called so far. */
  readonly fired: number;
  /** Timer records not yet freed. */
  readonly live: number;
  /** lin: glib timeout sources alive, tracked by a timer or stray; esp32: timers scheduled. */
  readonly scheduled: number;
  /** lin: glib sources that no timer tracks any more (the SDK's flaw); esp32: always 0. */
  readonly strays: number;
}

/** The `timer` module of `platform` on `clock`. */
export function moddableTimers(platform: TimerPlatformName, clock: VirtualClock): ModdableTimers {
  if (platform === "lin") {
    const lin = new LinPlatform(clock);
    const timers = new ScriptTimers(lin);
    lin.call = timers.call;
    return withCounts(bindAll(timers), platform, timers, () => lin.live, () => lin.sources.size, () => lin.strays);
  }
  const mc = new McPlatform(clock);
  const timers = new ScriptTimers(mc);
  mc.call = timers.call;
  return withCounts(bindAll(timers), platform, timers, () => mc.live, () => mc.scheduled, () => 0);
}

function withCounts(module: ModdableTimerModule, platform: TimerPlatformName, timers: { fired: number }, live: () => number, scheduled: () => number, strays: () => number): ModdableTimers {
  return Object.defineProperties(module, {
    platform: { value: platform, enumerable: true },
    fired: { get: () => timers.fired, enumerable: true },
    live: { get: live, enumerable: true },
    scheduled: { get: scheduled, enumerable: true },
    strays: { get: strays, enumerable: true },
  }) as ModdableTimers;
}

function bindAll<T>(timers: ScriptTimers<T>): ModdableTimerModule {
  return {
    set: (...args) => timers.set(...args),
    repeat: (callback, interval) => timers.repeat(callback, interval),
    // Timer.schedule tells "unschedule" from "reschedule" by its argument count.
    schedule: (...args: [ScriptTimer, number?, number?]) => (timers.schedule as (...a: unknown[]) => void).apply(timers, args),
    clear: (timer) => timers.clear(timer),
    delay: (ms) => timers.delay(ms),
  };
}
