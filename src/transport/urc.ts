// Unsolicited result codes: handlers, each with a table of the lines it takes, asked in the
// order they were added.

import type { Line } from "./bytes.ts";
import { Verdict, type LineOwner } from "./command.ts";
import type { MatchTable } from "./match.ts";

/** Unsolicited result codes: a table and what to do with its lines. */
export interface UrcHandler extends LineOwner {
  readonly table: MatchTable;
  /** A line of `table` matched (cursor after the pattern); returns a Verdict. */
  onUrc(id: number, line: Line): Verdict;
}

export class UrcHandlers {
  private readonly handlers: UrcHandler[] = [];

  add(handler: UrcHandler): void {
    if (this.handlers.indexOf(handler) < 0) this.handlers.push(handler);
  }

  remove(handler: UrcHandler): void {
    const i = this.handlers.indexOf(handler);
    if (i >= 0) this.handlers.splice(i, 1);
  }

  /** What the handler `claim` returned said about the line. */
  verdict: Verdict = Verdict.NotMine;

  /** The first handler whose table matches `line` and that claims it (its answer in `verdict`), or null. */
  claim(line: Line): UrcHandler | null {
    const handlers = this.handlers;
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i];
      const id = handler.table.match(line);
      if (id < 0) continue;
      const verdict = handler.onUrc(id, line);
      if (verdict === Verdict.NotMine) continue;
      this.verdict = verdict;
      return handler;
    }
    return null;
  }
}
