// The status LED: one blink pattern per app state, driven by one re-armable timer.

import type { Deadline, StatusLed, TimerPort } from "./ports.ts";

export type LedState = "offline" | "pending" | "sending" | "armed" | "disarmed";

/** On/off durations in ms, repeated; an empty list means steady on. */
const PATTERNS: Record<LedState, readonly number[]> = {
  offline: [120, 120, 120, 1640], // double blink: no modem
  pending: [250, 250], // fast blink: events waiting to go out
  sending: [], // steady: a mail is on its way
  armed: [60, 2940], // short blip: guarding
  disarmed: [60, 9940], // rare blip: alive, not guarding
};

export class StatusPattern {
  state: LedState | null = null;
  private readonly led: StatusLed;
  private readonly timer: Deadline;
  private pattern: readonly number[] = [];
  private step = 0;

  constructor(led: StatusLed, timers: TimerPort) {
    this.led = led;
    this.timer = timers.deadline(() => this.advance());
  }

  show(state: LedState): void {
    if (state === this.state) return;
    this.state = state;
    this.pattern = PATTERNS[state];
    this.step = 0;
    this.timer.disarm();
    this.led.set(true);
    if (this.pattern.length > 0) this.timer.arm(this.pattern[0]);
  }

  close(): void {
    this.timer.close();
    this.led.set(false);
  }

  private advance(): void {
    this.step = (this.step + 1) % this.pattern.length;
    this.led.set(this.step % 2 === 0);
    this.timer.arm(this.pattern[this.step]);
  }
}
