// What the supervisor sleeps on: one re-armable timer, and a poke that ends the sleep at once
// (a new event, a lost modem, stop).

import type { ClockPort, Deadline, TimerPort } from "./ports.ts";

export class Sleeper {
  private readonly clock: ClockPort;
  private readonly timer: Deadline;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(timers: TimerPort, clock: ClockPort) {
    this.clock = clock;
    this.timer = timers.deadline(() => this.poke());
  }

  /** Sleeps `ms` or until poked; at once once closed. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer.arm(ms);
    });
  }

  /** Sleeps `ms` even if poked meanwhile (a booting modem must not be spoken to); closing ends it. */
  async sleepFully(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (let left = ms; left > 0 && !this.closed; left = until - this.clock.now()) await this.sleep(left);
  }

  /** Ends the current sleep at once. */
  poke(): void {
    const wake = this.wake;
    this.wake = null;
    this.timer.disarm();
    wake?.();
  }

  /** Ends the current sleep and every later one at once. */
  stop(): void {
    this.closed = true;
    this.poke();
  }

  /** Releases the timer. */
  close(): void {
    this.stop();
    this.timer.close();
  }
}
