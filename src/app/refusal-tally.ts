// A command poll's refusals counted by reason, for its one note in the event log: a flood of
// junk mail costs one outbox record per poll, whatever the number of mails. Fixed storage: one
// counter per reason, and the last refusal's sender and detail.

import type { RefusalReason } from "./remote-command.ts";

/** Every reason, in the order a note names them. */
const REASONS: readonly RefusalReason[] = [
  "forged-sender", "malformed-subject", "unknown-command", "bad-token", "stale-token", "replayed-token",
  "out-of-order", "already-processed", "oversize", "clock-unknown",
];

export class RefusalTally {
  total = 0;
  private readonly counts = new Array<number>(REASONS.length).fill(0);
  private lastReason: RefusalReason = "forged-sender";
  private lastSender = "";
  private lastDetail = "";

  reset(): void {
    this.total = 0;
    this.counts.fill(0);
    this.lastSender = this.lastDetail = "";
  }

  add(reason: RefusalReason, sender: string, detail: string): void {
    this.counts[REASONS.indexOf(reason)]++;
    this.total++;
    this.lastReason = reason;
    this.lastSender = sender;
    this.lastDetail = detail;
  }

  /** How many of `reason`. */
  count(reason: RefusalReason): number {
    return this.counts[REASONS.indexOf(reason)];
  }

  /** `refused 3 command mails: forged-sender 2, bad-token 1; last: bad-token from a@b: <detail>` (the log cuts it to its text limit). */
  describe(): string {
    const parts: string[] = [];
    REASONS.forEach((reason, i) => {
      if (this.counts[i] > 0) parts.push(`${reason} ${this.counts[i]}`);
    });
    const from = this.lastSender !== "" ? ` from ${this.lastSender}` : "";
    return `refused ${this.total} command mail${this.total === 1 ? "" : "s"}: ${parts.join(", ")}; last: ${this.lastReason}${from}: ${this.lastDetail}`;
  }
}
