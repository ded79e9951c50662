// Node bindings of the timer and clock ports.

import type { ClockPort, Deadline, TimerPort } from "../transport/ports.ts";

class NodeDeadline implements Deadline {
  private handle: ReturnType<typeof setTimeout> | null = null;
  private readonly callback: () => void;
  constructor(callback: () => void) {
    this.callback = callback;
  }
  arm(ms: number): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.handle = null;
      this.callback();
    }, ms);
  }
  disarm(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }
  close(): void {
    this.disarm();
  }
}

export const nodeTimers: TimerPort = {
  deadline: (callback) => new NodeDeadline(callback),
};

export const nodeClock: ClockPort = {
  now: () => performance.now(),
};
