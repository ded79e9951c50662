// Small command kinds for the one-off commands of bring-up and configuration. They allocate
// per command, which is fine outside the SMTPFT/POP3READ loops.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine } from "../transport/engine.ts";
import { MatchTable } from "../transport/match.ts";

/** A command that ends with OK; info lines starting with `prefix` are kept (text after it). */
export class InfoCommand extends AtCommand {
  readonly info: string[] = [];

  constructor(build: (cmd: AtCommand) => void, timeoutMs: number, prefix: string | null = null, capacity = 160) {
    super(capacity);
    build(this);
    this.text.end();
    this.timeoutMs = timeoutMs;
    if (prefix !== null) this.responses = new MatchTable([{ text: prefix, id: 0 }]);
  }

  override onMatch(_id: number, line: Line): number {
    this.info.push(line.rest());
    return Verdict.Continue;
  }
}

/** Raw text lines (e.g. ATI's free-form answer) up to OK. */
export class TextCommand extends AtCommand {
  readonly lines: string[] = [];

  constructor(command: string, timeoutMs: number) {
    super(command.length + 2);
    this.text.raw(command).end();
    this.timeoutMs = timeoutMs;
    this.rawLines = true;
  }

  override onLine(line: Line): number {
    this.lines.push(line.text());
    return Verdict.Continue;
  }
}

/** Sends a command built by `build`; resolves with the info lines that start with `prefix`. */
export async function query(
  engine: AtEngine,
  build: (cmd: AtCommand) => void,
  timeoutMs: number,
  prefix: string | null = null,
): Promise<string[]> {
  const cmd = new InfoCommand(build, timeoutMs, prefix);
  await engine.run(cmd);
  return cmd.info;
}

/** Splits `a,"b,c",(0-2),d` into fields: quotes removed, parenthesised ranges kept whole. */
export function fields(text: string): string[] {
  const out: string[] = [];
  let field = "";
  let closer = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (closer !== "") {
      if (c === closer) {
        if (closer === ")") field += c;
        closer = "";
      } else field += c;
    } else if (c === '"') closer = '"';
    else if (c === "(") {
      closer = ")";
      field += c;
    } else if (c === ",") {
      out.push(field.trim());
      field = "";
    } else field += c;
  }
  out.push(field.trim());
  return out;
}

/** Parses `(1-65535)` or `(0,1,2)` or `(0-2)` into [min, max]. */
export function range(text: string): [number, number] | null {
  const m = /^\(?\s*(\d+)\s*(?:[-,]\s*(?:\d+\s*,\s*)*(\d+))?\s*\)?$/.exec(text.trim());
  if (!m) return null;
  const min = Number(m[1]);
  return [min, m[2] === undefined ? min : Number(m[2])];
}
