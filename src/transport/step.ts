// AT conversations as data. A step is one request and how its reply is read, written as an
// entry of a const table at the top of the module that speaks it (after Zephyr's modem_chat
// script chats: a request, the matches that fill the result, a timeout). `runStep` runs an
// ordinary step and hands back the fields of the lines it matched. The hot-path kinds
// (SMTPFT, POP3READ, SMTPBODY's payload) take their request, matches and timeout from the same
// kind of entry and keep their own AtCommand class, resubmitted without allocating.

import type { Line } from "./bytes.ts";
import { AtCommand, Verdict } from "./command.ts";
import type { AtEngine } from "./engine.ts";
import { ascii } from "./bytes.ts";
import { AtCommandError } from "./errors.ts";
import { table, type MatchTable } from "./match.ts";
import type { CommandBuffer } from "./tx.ts";

export interface StepSpec {
  /**
   * The request as an AT manual writes it: `<name>` a whole number, `"<name>"` quoted text (the
   * name is the field an error names), `[...]` a tail left out when its values are absent.
   * E.g. `AT+SMTPFROM="<sender address>"[,"<sender name>"]`.
   */
  readonly request: string;
  /** Prefixes of the lines that fill the reply (a trailing `$`: the whole line), in match order. */
  readonly lines?: readonly string[];
  /** "ok" (default): OK ends the step. "result": OK and a line of `lines`, in either order. */
  readonly ends?: "ok" | "result";
  /** Lines that only say the step is under way (the classic `+SMTP: OK`). */
  readonly progress?: readonly string[];
  /**
   * A positive reply (first field `positive`) with fewer than `fields` fields has the last one
   * on the next line, whatever it looks like (a UID on some firmwares, POP3GET's saved path).
   */
  readonly continued?: { readonly positive: string; readonly fields: number };
  /** A space separates fields too (the application note's `+POP3: 2 2134`). */
  readonly spaced?: boolean;
  /** Every line up to OK is the reply (ATI's free text). */
  readonly text?: boolean;
  /** The modem asks for the payload with this (e.g. "DOWNLOAD"): a hot-path kind sends it. */
  readonly prompt?: string;
  /** The quoted value that is a secret: masked in traces and errors. */
  readonly secret?: string;
  /** Longest silence while the step runs. */
  readonly timeoutMs: number;
  /** The step waits on a mail server: the session's server timeout comes on top of `timeoutMs`. */
  readonly server?: boolean;
  /**
   * The step runs or reads an SMTP/POP3 session (AT+SMTPSEND, AT+POP3IN ...): refused, it means
   * the modem still holds a session the host lost track of (AtCommandError "session-refused").
   */
  readonly session?: boolean;
}

export type StepArgument = string | number | null | undefined;

const Part = { Literal: 0, Number: 1, Quoted: 2, Optional: 3 } as const;
type Part =
  | { kind: typeof Part.Literal; text: string }
  | { kind: typeof Part.Number; name: string; arg: number }
  | { kind: typeof Part.Quoted; name: string; arg: number; secret: boolean }
  | { kind: typeof Part.Optional; parts: Part[]; args: number[] };

/** A compiled step: its request as parts, its lines as one match table. */
export class Step implements StepSpec {
  readonly request: string;
  readonly lines: readonly string[];
  readonly ends: "ok" | "result";
  readonly progress: readonly string[];
  readonly continued: { readonly positive: string; readonly fields: number } | undefined;
  readonly spaced: boolean;
  readonly text: boolean;
  readonly prompt: string | undefined;
  readonly secret: string | undefined;
  readonly timeoutMs: number;
  readonly server: boolean;
  readonly session: boolean;
  /** `lines` with ids 0.., `progress` with ids from `lines.length` (matched first); null when neither. */
  readonly table: MatchTable | null;
  readonly promptBytes: Uint8Array | null;
  /** How many values the request takes. */
  readonly arity: number;
  private readonly parts: Part[];
  private readonly literalLength: number;

  constructor(spec: StepSpec) {
    this.request = spec.request;
    this.lines = spec.lines ?? [];
    this.ends = spec.ends ?? "ok";
    this.progress = spec.progress ?? [];
    this.continued = spec.continued;
    this.spaced = spec.spaced === true;
    this.text = spec.text === true;
    this.prompt = spec.prompt;
    this.secret = spec.secret;
    this.timeoutMs = spec.timeoutMs;
    this.server = spec.server === true;
    this.session = spec.session === true;
    // Progress lines first: `+SMTP: OK` must not be taken for a `+SMTP: ` result.
    const entries = [
      ...this.progress.map((text, i) => [text, this.lines.length + i] as const),
      ...this.lines.map((text, i) => [text, i] as const),
    ];
    this.table = entries.length > 0 ? table(entries) : null;
    this.promptBytes = spec.prompt === undefined ? null : ascii(spec.prompt);
    const compiled = compile(spec.request, spec.secret);
    this.parts = compiled.parts;
    this.arity = compiled.arity;
    this.literalLength = compiled.literalLength;
    if (this.ends === "result" && this.lines.length === 0) throw new Error(`${spec.request}: a step ending with a result line needs its lines`);
  }

  /** Bytes the request can take with these values (for sizing a one-off command's buffer). */
  capacity(args: ArrayLike<StepArgument>): number {
    let n = this.literalLength + 1;
    for (let i = 0; i < args.length; i++) {
      const value = args[i];
      n += typeof value === "string" ? value.length + 2 : 24;
    }
    return n;
  }

  /** Writes the request with `args` (in placeholder order) into `text`; allocates nothing. */
  write(text: CommandBuffer, args: ArrayLike<StepArgument>): void {
    if (args.length !== this.arity) throw new Error(`${this.request}: ${this.arity} values expected, ${args.length} given`);
    text.reset();
    writeParts(text, this.parts, args);
    text.end();
  }
}

/** Compiles a table of step specs once, at module load. */
export function steps<K extends string>(specs: { readonly [key in K]: StepSpec }): { readonly [key in K]: Step } {
  const out = {} as { [key in K]: Step };
  for (const key in specs) out[key] = new Step(specs[key]);
  return out;
}

function writeParts(text: CommandBuffer, parts: readonly Part[], args: ArrayLike<StepArgument>): void {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.kind === Part.Literal) text.raw(part.text);
    else if (part.kind === Part.Number) text.int(args[part.arg] as number, part.name);
    else if (part.kind === Part.Quoted) text.quoted(args[part.arg] as string, part.name, part.secret);
    else if (present(part.args, args)) writeParts(text, part.parts, args);
  }
}

function present(indexes: readonly number[], args: ArrayLike<StepArgument>): boolean {
  for (let i = 0; i < indexes.length; i++) if (args[indexes[i]] === undefined || args[indexes[i]] === null) return false;
  return true;
}

function compile(request: string, secret: string | undefined): { parts: Part[]; arity: number; literalLength: number } {
  const top: Part[] = [];
  let group: { parts: Part[]; args: number[] } | null = null;
  let arity = 0;
  let literalLength = 0;
  let literal = "";
  const flush = () => {
    if (literal !== "") (group?.parts ?? top).push({ kind: Part.Literal, text: literal });
    literalLength += literal.length;
    literal = "";
  };
  for (let i = 0; i < request.length; i++) {
    const c = request[i];
    const quoted = c === '"' && request[i + 1] === "<";
    if (c === "<" || quoted) {
      const close = request.indexOf(quoted ? '>"' : ">", i);
      if (close < 0) throw new Error(`${request}: unclosed placeholder`);
      flush();
      const name = request.slice(i + (quoted ? 2 : 1), close);
      (group?.parts ?? top).push(quoted ? { kind: Part.Quoted, name, arg: arity, secret: name === secret } : { kind: Part.Number, name, arg: arity });
      group?.args.push(arity);
      arity++;
      i = close + (quoted ? 1 : 0);
    } else if (c === "[") {
      if (group !== null) throw new Error(`${request}: optional parts do not nest`);
      flush();
      group = { parts: [], args: [] };
    } else if (c === "]") {
      if (group === null) throw new Error(`${request}: "]" without "["`);
      flush();
      top.push({ kind: Part.Optional, parts: group.parts, args: group.args });
      group = null;
    } else literal += c;
  }
  if (group !== null) throw new Error(`${request}: "[" without "]"`);
  flush();
  return { parts: top, arity, literalLength };
}

/** One line a step matched: which of its `lines` (-1: a `text` step's line), the text after the pattern, the fields. */
export interface ReplyLine {
  readonly match: number;
  readonly text: string;
  readonly fields: string[];
}

/** What the modem answered to one step. */
export class Reply {
  readonly lines: ReplyLine[] = [];
  /** The line that ended a step ending with a result, or null. */
  result: ReplyLine | null = null;

  /** The first line matched by the step's `lines[match]`, or null. */
  line(match = 0): ReplyLine | null {
    for (const line of this.lines) if (line.match === match) return line;
    return null;
  }

  /** Field `index` of the first line of `lines[match]`: "" when absent. */
  field(index: number, match = 0): string {
    return this.line(match)?.fields[index] ?? "";
  }

  /** That field as a whole number, NaN when absent or not one. */
  int(index: number, match = 0): number {
    return wholeNumber(this.field(index, match));
  }

  /** The lines of a `text` step, blank ones left out, joined by spaces. */
  joined(): string {
    return this.lines.filter((l) => l.text !== "").map((l) => l.text).join(" ").trim();
  }
}

/** A decimal field read as a number; NaN unless it is a whole (safe) number. */
export function wholeNumber(field: string): number {
  if (!/^-?\d+$/.test(field)) return NaN;
  const n = Number(field);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Runs an ordinary step: one command, allocated per run (never in a per-chunk loop). */
class StepCommand extends AtCommand {
  readonly reply = new Reply();
  private readonly step: Step;
  private taking = false;

  constructor(step: Step, args: readonly StepArgument[], timeoutMs: number) {
    super(step.capacity(args));
    this.step = step;
    step.write(this.text, args);
    this.timeoutMs = timeoutMs;
    this.responses = step.table;
    this.awaitsResult = step.ends === "result";
    this.rawLines = step.text;
    this.session = step.session;
  }

  override onMatch(id: number, line: Line): Verdict {
    const step = this.step;
    if (id >= step.lines.length) return Verdict.Continue;
    const text = line.rest().trim();
    const fields: string[] = [];
    while (!line.atEnd()) fields.push(line.str(step.spaced));
    const entry = { match: id, text, fields };
    this.reply.lines.push(entry);
    const continued = step.continued;
    if (continued !== undefined && fields[0] === continued.positive && fields.length < continued.fields) {
      this.taking = true;
      return Verdict.TakeLine;
    }
    return this.settle(entry);
  }

  override onLine(line: Line): Verdict {
    if (this.taking) {
      this.taking = false;
      const last = this.reply.lines[this.reply.lines.length - 1];
      last.fields.push(line.text().trim());
      return this.settle(last);
    }
    this.reply.lines.push({ match: -1, text: line.text(), fields: [] });
    return Verdict.Continue;
  }

  /** An error keeps what the modem had answered: a result line says what went wrong, an information line what it saw. */
  override onError(line: Line): Verdict {
    const said = this.reply.lines.filter((l) => l.text !== "").map((l) => (l.match >= 0 ? `${this.step.lines[l.match]} ${l.text}` : l.text));
    this.error = new AtCommandError(this.text.describe(), line.text(), this.session, this.reply.result, said.join("; "));
    return Verdict.Fail;
  }

  private settle(entry: ReplyLine): Verdict {
    if (this.step.ends !== "result") return Verdict.Continue;
    this.reply.result = entry;
    return Verdict.Result;
  }
}

/**
 * Runs `step` with `args` (in placeholder order); resolves with the reply. `serverMs`: the mail
 * server's response timeout, added for steps that wait on the server.
 */
export async function runStep(engine: AtEngine, step: Step, args: readonly StepArgument[] = [], serverMs = 0): Promise<Reply> {
  const cmd = new StepCommand(step, args, step.timeoutMs + (step.server ? serverMs : 0));
  await engine.run(cmd);
  return cmd.reply;
}
