// Declarative match tables compiled to bytes once, looked up per line without building strings.

import { ascii, type Line } from "./bytes.ts";

export interface MatchSpec {
  /** The text a line starts with (prefix match) or equals (`exact: true`). */
  text: string;
  exact?: boolean;
  /** Handed back to the owner of the table when the line matches. */
  id: number;
}

export class MatchTable {
  readonly patterns: Uint8Array[];
  readonly exact: boolean[];
  readonly ids: number[];
  /** First byte of each pattern, for a cheap reject before comparing. */
  private readonly firsts: Uint8Array;

  constructor(specs: readonly MatchSpec[]) {
    this.patterns = specs.map((s) => ascii(s.text));
    this.exact = specs.map((s) => s.exact === true);
    this.ids = specs.map((s) => s.id);
    this.firsts = new Uint8Array(specs.length);
    for (let i = 0; i < specs.length; i++) this.firsts[i] = this.patterns[i][0];
  }

  /** Index of the first entry that matches `line`, or -1. Leaves the line's cursor after the pattern. */
  find(line: Line): number {
    if (line.length === 0) return -1;
    const first = line.buf[0];
    const firsts = this.firsts;
    for (let i = 0; i < firsts.length; i++) {
      if (firsts[i] !== first) continue;
      const pattern = this.patterns[i];
      if (this.exact[i] ? line.equals(pattern) : line.startsWith(pattern)) {
        line.pos = pattern.length;
        return i;
      }
    }
    return -1;
  }

  /** The id of the entry that matches `line`, or -1. */
  match(line: Line): number {
    const i = this.find(line);
    return i < 0 ? -1 : this.ids[i];
  }
}

/** Shorthand for building a table from `[text, id]` pairs; a trailing `$` means exact. */
export function table(entries: ReadonlyArray<readonly [string, number]>): MatchTable {
  return new MatchTable(
    entries.map(([text, id]) =>
      text.endsWith("$") ? { text: text.slice(0, -1), exact: true, id } : { text, id },
    ),
  );
}
