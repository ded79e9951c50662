// The application note's text output (AT+POP3HDR, AT+POP3READ): the modem prints the saved
// text after an empty line and ends it with an empty line and OK:
//
//   AT+POP3READ  →  \r\n <text lines, each with CRLF> \r\n OK \r\n
//
// So a line OK or ERROR ends the output only where it follows an empty line (or comes first);
// anywhere else it is mail text, as is a line that looks like a result (`+POP3: SUCCESS`,
// `+SMTP: OK`). A result line stands only in place of the text, before its first line
// (`\r\n+POP3: SERVER ERROR\r\n\r\nOK`), whichever final code follows it. The one text the
// framing cannot tell apart is an empty line then OK (or ERROR) inside the mail: the output
// ends there (SECURITY.md, "Known limits").
//
// Per line nothing is allocated: the lines that matter are told by one match table, the text
// goes to the sink as (buffer, offset, length).

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import { AtCommandError } from "../transport/errors.ts";
import { table } from "../transport/match.ts";
import type { Step, StepArgument } from "../transport/step.ts";
import { Pop3Error } from "./errors.ts";
import type { MailSink } from "./pop3.ts";

/** The lines the framing rule looks at; every other line is text. */
const Mark = { Ok: 0, Error: 1, CmeError: 2, CmsError: 3, Result: 4 } as const;
const MARKS = table([["OK$", Mark.Ok], ["ERROR$", Mark.Error], ["+CME ERROR:", Mark.CmeError], ["+CMS ERROR:", Mark.CmsError], ["+POP3: ", Mark.Result]]);

/** Where the output is. */
const State = {
  /** Nothing yet: the empty line that opens the output is framing. */
  Start: 0,
  /** The opening empty line came; no text line yet. */
  Opened: 1,
  /** Text lines are coming. */
  Text: 2,
  /** A `+POP3: <result>` came instead of the text: its final code ends the command. */
  Result: 3,
} as const;
type State = (typeof State)[keyof typeof State];

const CRLF = new Uint8Array([13, 10]);

/** POP3 text output: every text line goes to the sink with its CRLF, the framing left out. */
export class TextOutputCommand extends AtCommand {
  sink: MailSink | null = null;
  delivered = 0;
  /** Past this many bytes the rest of the output is read and dropped (the note has no way to stop it). */
  maxBytes = Infinity;
  /** Bytes the output held, those dropped included. */
  received = 0;
  outcome = "";
  private state: State = State.Start;
  /** Empty lines not yet delivered: the last one before the final OK is framing, not text. */
  private heldBlankLines = 0;

  /** `capacity`: the longest request of the steps it runs. */
  constructor(capacity: number) {
    super(capacity);
    this.rawLines = true;
    this.responses = MARKS;
  }

  /** Readies the reused command for a text step. */
  use(step: Step, args: StepArgument[], timeoutMs: number, sink: MailSink, maxBytes = Infinity): void {
    this.maxBytes = maxBytes;
    step.write(this.text, args);
    this.timeoutMs = timeoutMs;
    this.session = step.session;
    this.sink = sink;
  }

  override prepare(): void {
    super.prepare();
    this.delivered = 0;
    this.received = 0;
    this.outcome = "";
    this.state = State.Start;
    this.heldBlankLines = 0;
  }

  override onMatch(id: number, line: Line): Verdict {
    const state = this.state;
    if (state === State.Result) return id === Mark.Ok || id === Mark.Error ? this.failWithResult() : Verdict.Continue;
    // A final code right after an empty line (or first of all) ends the output.
    const afterEmptyLine = state === State.Start || state === State.Opened || this.heldBlankLines > 0;
    if (afterEmptyLine && id === Mark.Ok) return this.finish();
    if (afterEmptyLine && id === Mark.Error) return this.refuse(line);
    if (state !== State.Text && this.heldBlankLines === 0) {
      if (id === Mark.Result) {
        this.outcome = line.rest().trim();
        this.state = State.Result;
        return Verdict.Continue;
      }
      if (id === Mark.CmeError || id === Mark.CmsError) return this.refuse(line);
    }
    return this.onLine(line);
  }

  override onLine(line: Line): Verdict {
    if (this.state === State.Result) return Verdict.Continue;
    if (line.length === 0) {
      if (this.state === State.Start) this.state = State.Opened;
      else this.heldBlankLines++;
      return Verdict.Continue;
    }
    const sink = this.sink!;
    this.state = State.Text;
    for (; this.heldBlankLines > 0; this.heldBlankLines--) this.emit(sink, CRLF, 0, 2);
    this.emit(sink, line.buf, 0, line.length);
    this.emit(sink, CRLF, 0, 2);
    return Verdict.Continue;
  }

  /** OK after an empty line: that line was framing, any before it were text. */
  private finish(): Verdict {
    const sink = this.sink!;
    for (; this.heldBlankLines > 1; this.heldBlankLines--) this.emit(sink, CRLF, 0, 2);
    this.heldBlankLines = 0;
    return Verdict.Done;
  }

  private refuse(line: Line): Verdict {
    const after = this.delivered > 0 ? ` after ${this.delivered} bytes of text` : "";
    this.error = new AtCommandError(`${this.text.describe()}${after}`, line.text(), this.session);
    return Verdict.Fail;
  }

  /** The result line, whichever final code followed it (OK or ERROR). */
  private failWithResult(): Verdict {
    this.error = new Pop3Error(0, this.outcome);
    return Verdict.Fail;
  }

  private emit(sink: MailSink, buf: Uint8Array, offset: number, length: number): void {
    this.received += length;
    if (this.received > this.maxBytes) return;
    this.delivered += length;
    sink.write(buf, offset, length);
  }
}
