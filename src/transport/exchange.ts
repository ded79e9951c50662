// The engine's command in flight (./engine.ts): its phase (the table there), who owns the next
// line or data block, what its reply lines mean, and its timeout. The engine decides what
// runs; this carries one command from its line going out to its end, then tells the engine.

import type { Line } from "./bytes.ts";
import { ascii } from "./bytes.ts";
import { Verdict, type AtCommand, type LineOwner } from "./command.ts";
import type { EngineStats } from "./engine-options.ts";
import { AtTimeoutError } from "./errors.ts";
import type { Framer } from "./framer.ts";
import { MatchTable } from "./match.ts";
import type { Deadline } from "./ports.ts";
import type { Submission } from "./submissions.ts";
import type { Transmitter } from "./transmitter.ts";
import { isUnsolicited } from "./urc.ts";

const OK = ascii("OK");
// Field firmwares write `+CMS ERROR:` with no code, or no space after the colon: prefixes.
const ERROR_TABLE = new MatchTable([
  { text: "ERROR", exact: true, id: 0 },
  { text: "+CME ERROR", id: 1 },
  { text: "+CMS ERROR", id: 2 },
]);
const Phase = { Idle: 0, Writing: 1, Awaiting: 2, SendingPayload: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export interface ExchangeEvents {
  /** The command ended (the exchange is idle again): the engine settles it and starts the next. */
  ended(cmd: AtCommand, error: Error | null): void;
  /** No line came for the command's `timeoutMs`: the link resyncs before it ends. */
  timedOut(): void;
}

export class CommandExchange {
  private readonly framer: Framer;
  private readonly tx: Transmitter;
  private readonly deadline: Deadline;
  private readonly stats: EngineStats;
  private readonly events: ExchangeEvents;

  current: AtCommand | null = null;
  /** The engine's record of `current`: whether its OK and its result came. */
  private record: Submission | null = null;
  private phase: Phase = Phase.Idle;
  private lineOwner: LineOwner | null = null;
  private dataOwner: LineOwner | null = null;
  /** The current command's payload has begun (its prompt or confirmation came). */
  private payloadBegun = false;

  constructor(framer: Framer, tx: Transmitter, deadline: Deadline, stats: EngineStats, events: ExchangeEvents) {
    this.framer = framer;
    this.tx = tx;
    this.deadline = deadline;
    this.stats = stats;
    this.events = events;
  }

  get idle(): boolean {
    return this.phase === Phase.Idle;
  }

  /** The command in flight has a data phase: a prompt, payload bytes either way. */
  get hasDataPhase(): boolean {
    const cmd = this.current;
    return cmd !== null && (cmd.prompt !== null || cmd.sendLength > 0 || this.dataOwner !== null || this.phase === Phase.SendingPayload);
  }

  /** Writes `cmd`'s line; `record` is the engine's record of it. */
  begin(cmd: AtCommand, record: Submission): void {
    this.current = cmd;
    this.record = record;
    this.payloadBegun = false;
    this.phase = Phase.Writing;
    this.deadline.arm(cmd.timeoutMs);
    this.tx.sendLine(cmd);
  }

  /** The line is out: replies may come (a line begun before now cannot be one). */
  lineSent(): void {
    const cmd = this.current!;
    this.phase = Phase.Awaiting;
    this.framer.markBoundary();
    if (cmd.prompt !== null) this.framer.armPrompt(cmd.prompt);
    this.framer.keepEmptyLines = cmd.rawLines;
    this.framer.loneCrEnds = !(cmd.rawLines && cmd.session);
  }

  payloadSent(): void {
    this.phase = Phase.Awaiting;
  }

  /** True when a handler had asked for this line (TakeLine). */
  ownedLine(line: Line): boolean {
    const owner = this.lineOwner;
    if (owner === null) return false;
    this.lineOwner = null;
    this.apply(owner, owner.onLine(line));
    return true;
  }

  /** True when the line is the awaiting command's. */
  replyLine(line: Line): boolean {
    const cmd = this.current;
    if (cmd === null || this.phase !== Phase.Awaiting) return false;
    // A line begun before the command was sent cannot be its reply (only its echo).
    return this.framer.lineIsOld ? cmd.text.isEcho(line) : this.dispatchToCommand(cmd, line);
  }

  data(buf: Uint8Array, offset: number, length: number): void {
    this.dataOwner?.onData(buf, offset, length);
  }

  dataEnd(): void {
    if (this.dataOwner === this.current && this.current !== null) this.deadline.arm(this.current.timeoutMs);
    this.dataOwner = null;
  }

  prompt(): void {
    const cmd = this.current;
    if (cmd === null || this.phase !== Phase.Awaiting) return;
    this.apply(cmd, cmd.onPrompt());
  }

  /** True when the line was the command's: its echo, a line of its table, OK, an error, raw text. */
  private dispatchToCommand(cmd: AtCommand, line: Line): boolean {
    if (cmd.text.isEcho(line)) return true;
    const record = this.record!;
    const id = cmd.responses === null ? -1 : cmd.responses.match(line);
    let verdict: Verdict = id >= 0 ? cmd.onMatch(id, line) : Verdict.NotMine;
    if (verdict === Verdict.NotMine) {
      if (line.equals(OK)) {
        record.okSeen = true;
        verdict = !cmd.awaitsResult || record.resultSeen ? Verdict.Done : Verdict.Continue;
      } else if (ERROR_TABLE.find(line) >= 0) verdict = cmd.onError(line);
      else if (cmd.rawLines && !(cmd.session === false && isUnsolicited(line))) verdict = cmd.onLine(line);
    }
    if (verdict === Verdict.NotMine) return false;
    this.apply(cmd, verdict);
    return true;
  }

  /** What `owner` (the command in flight or a URC handler) said of a line, carried out. */
  apply(owner: LineOwner, verdict: Verdict): void {
    const cmd = this.current;
    const isCurrent = owner === cmd && cmd !== null;
    switch (verdict) {
      case Verdict.NotMine:
        if (!isCurrent) this.stats.strayLines++;
        return;
      case Verdict.Continue:
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
      case Verdict.Done:
        if (isCurrent) this.complete(cmd, null);
        return;
      case Verdict.Fail:
        if (isCurrent) this.complete(cmd, cmd.error ?? new Error(`${cmd.text.describe()} failed`));
        return;
      case Verdict.Receive:
        if (owner.receiveLength > 0) {
          this.dataOwner = owner;
          this.framer.expectLength(owner.receiveLength);
        }
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
      case Verdict.Send:
        if (isCurrent && cmd.sendLength > 0) {
          this.payloadBegun = true;
          this.phase = Phase.SendingPayload;
          this.deadline.arm(cmd.timeoutMs);
          this.tx.sendPayload(cmd.sendLength);
        }
        return;
      case Verdict.TakeLine:
        this.lineOwner = owner;
        if (isCurrent) this.deadline.arm(cmd.timeoutMs);
        return;
      case Verdict.Result:
        if (!isCurrent) return;
        this.record!.resultSeen = true;
        if (this.record!.okSeen) this.complete(cmd, null);
        else this.deadline.arm(cmd.timeoutMs);
        return;
    }
  }

  /** Ends `cmd` (the command in flight), then the engine settles it. */
  complete(cmd: AtCommand, error: Error | null): void {
    this.deadline.disarm();
    this.tx.stop();
    this.framer.armPrompt(null);
    this.framer.keepEmptyLines = false;
    this.framer.loneCrEnds = true;
    if (this.lineOwner === cmd) this.lineOwner = null;
    this.current = null;
    this.record = null;
    this.phase = Phase.Idle;
    this.events.ended(cmd, error);
  }

  /** Drops the command in flight (the engine fails it) and every line or data mode; returns it. */
  abort(): AtCommand | null {
    this.framer.reset();
    this.framer.keepEmptyLines = false;
    this.framer.loneCrEnds = true;
    this.lineOwner = null;
    this.dataOwner = null;
    this.tx.stop();
    const cmd = this.current;
    this.current = null;
    this.record = null;
    this.phase = Phase.Idle;
    this.deadline.disarm();
    return cmd;
  }

  /** The deadline fired: no line for the command's `timeoutMs`. */
  timedOut(): void {
    const cmd = this.current;
    if (cmd === null) return; // disarmed too late: nothing in flight
    this.stats.timeouts++;
    this.framer.reset();
    this.lineOwner = null;
    this.dataOwner = null;
    // A prompt or confirmation lost to noise leaves the modem counting the payload's bytes: it
    // would take the syncs as data (for hours, in the soak). Pay what it may still be owed.
    const owed = this.payloadBegun ? this.tx.unsentPayload : this.phase === Phase.Awaiting ? cmd.owedIfPromptLost : 0;
    this.tx.stop();
    if (owed > 0) {
      this.stats.fillerBytes += owed;
      this.tx.owe(owed);
    }
    this.events.timedOut();
    this.complete(cmd, new AtTimeoutError(cmd.text.describe(), cmd.timeoutMs));
  }
}
