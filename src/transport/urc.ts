// Unsolicited result codes: handlers, each with a table of the lines it takes, asked in the
// order they were added.

import type { Line } from "./bytes.ts";
import { Verdict, type LineOwner } from "./command.ts";
import { MatchTable } from "./match.ts";

/**
 * What modems print unasked at boot and later, by family (SIM7000, SIM800, SIM7600, A7670):
 * never the text of an ordinary command's reply (ATI, AT+CGMR), wherever it lands. Mail text
 * (a session's raw lines) is never filtered: a body line may read the same.
 */
const UNSOLICITED = new MatchTable([
  { text: "RDY", exact: true, id: 0 },
  { text: "+CFUN: ", id: 0 },
  { text: "+CPIN: ", id: 0 },
  { text: "SMS Ready", exact: true, id: 0 },
  { text: "Call Ready", exact: true, id: 0 },
  { text: "SMS DONE", exact: true, id: 0 },
  { text: "PB DONE", exact: true, id: 0 },
  { text: "DST: ", id: 0 },
  { text: "*PSUTTZ: ", id: 0 },
  { text: "*ATREADY: ", id: 0 },
  { text: "+CMTI: ", id: 0 },
  { text: "+APP PDP: ", id: 0 },
  { text: "+CTZV: ", id: 0 },
  { text: "+CTZE: ", id: 0 },
  { text: "+CGREG: ", id: 0 },
  { text: "+CEREG: ", id: 0 },
  { text: "+CREG: ", id: 0 },
]);

/** Whether `line` is one of the lines modems print unasked (its cursor moves). */
export function isUnsolicited(line: Line): boolean {
  return UNSOLICITED.find(line) >= 0;
}

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
