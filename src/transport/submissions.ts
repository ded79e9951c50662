// The engine's own records of its submissions: the command, the promise to settle, and for
// the one in flight whether its OK and its result came. A fixed ring of records made once;
// nothing of this bookkeeping lives on the commands.

import type { AtCommand } from "./command.ts";

export class Submission {
  cmd: AtCommand | null = null;
  /** Settle a `run()` promise; null for `submit()`. */
  resolve: (() => void) | null = null;
  reject: ((error: Error) => void) | null = null;
  /** In flight: OK came; its result line came (`awaitsResult`). */
  okSeen = false;
  resultSeen = false;

  clear(): void {
    this.cmd = null;
    this.resolve = null;
    this.reject = null;
    this.okSeen = false;
    this.resultSeen = false;
  }

  /** Ends the submission: clears the record, then the command's onEnd and its promise. */
  finish(error: Error | null): void {
    const { cmd, resolve, reject } = this;
    this.clear();
    cmd?.onEnd(error);
    if (error) reject?.(error);
    else resolve?.();
  }
}

/** Waiting submissions in FIFO order. */
export class SubmissionQueue {
  readonly records: Submission[];
  private head = 0;
  count = 0;

  constructor(capacity: number) {
    this.records = Array.from({ length: capacity }, () => new Submission());
  }

  get full(): boolean {
    return this.count === this.records.length;
  }

  push(cmd: AtCommand, resolve: (() => void) | null, reject: ((error: Error) => void) | null): void {
    const record = this.records[(this.head + this.count) % this.records.length];
    record.clear();
    record.cmd = cmd;
    record.resolve = resolve;
    record.reject = reject;
    this.count++;
  }

  /** Takes the head's record; `spare` (a finished record) takes its place: none is ever made. */
  shift(spare: Submission): Submission {
    const record = this.records[this.head];
    this.records[this.head] = spare;
    this.head = (this.head + 1) % this.records.length;
    this.count--;
    return record;
  }

  holds(cmd: AtCommand): boolean {
    for (let i = 0; i < this.count; i++) if (this.records[(this.head + i) % this.records.length].cmd === cmd) return true;
    return false;
  }
}
