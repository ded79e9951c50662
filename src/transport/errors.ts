// Typed errors of the transport layer. Each says what happened in words a user can act on, and
// has a stable `code` that callers decide by (the app's recovery table: src/app/recovery.ts).

export type AtErrorCode =
  | "timeout"
  /** The modem refused an ordinary command (a setting, a query). */
  | "command-refused"
  /** The modem refused a command of an SMTP/POP3 session (`StepSpec.session`). */
  | "session-refused"
  | "modem-reset"
  | "serial-write"
  | "queue-full"
  | "bad-parameter"
  | "aborted";

export class AtError extends Error {
  override readonly name: string = "AtError";
  readonly code: AtErrorCode;
  constructor(code: AtErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The modem did not answer a command in time. */
export class AtTimeoutError extends AtError {
  override readonly name: string = "AtTimeoutError";
  readonly command: string;
  readonly timeoutMs: number;
  constructor(command: string, timeoutMs: number) {
    super("timeout", `no answer from the modem to ${command} within ${timeoutMs} ms`);
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/** The modem answered ERROR, +CME ERROR or +CMS ERROR. */
export class AtCommandError extends AtError {
  override readonly name: string = "AtCommandError";
  readonly command: string;
  /** The modem's error line, e.g. "ERROR" or "+CME ERROR: 10". */
  readonly reply: string;
  /** The result line the step had matched before the error (the classic `+SMTP: NETWORK ERROR`), or null. */
  readonly result: { readonly text: string; readonly fields: readonly string[] } | null;
  /** `session`: the command belongs to an SMTP/POP3 session (its code is then "session-refused"). */
  constructor(command: string, reply: string, session = false, result: AtCommandError["result"] = null) {
    super(session ? "session-refused" : "command-refused", `the modem refused ${command}: ${reply}`);
    this.command = command;
    this.reply = reply;
    this.result = result;
  }
}

export type ModemResetKind = "reset" | "sim-not-ready" | "power-down" | "under-voltage";

const RESET_WORDS: Record<ModemResetKind, string> = {
  reset: "the modem restarted (RDY): its settings and any transfer in progress are lost",
  "sim-not-ready": "the modem restarted (+CPIN: NOT READY): its settings and any transfer in progress are lost",
  "power-down": "the modem powered down (NORMAL POWER DOWN)",
  "under-voltage": "the modem powered down for low supply voltage (UNDER-VOLTAGE POWER DOWN)",
};

/** A reset or power-down report aborted work in flight. */
export class ModemResetError extends AtError {
  override readonly name: string = "ModemResetError";
  readonly reset: ModemResetKind;
  constructor(reset: ModemResetKind) {
    super("modem-reset", RESET_WORDS[reset]);
    this.reset = reset;
  }
}

/** The serial port refused a write for another reason than "output full" (e.g. a closed port). */
export class SerialWriteError extends AtError {
  override readonly name: string = "SerialWriteError";
  constructor(cause: unknown) {
    super("serial-write", `writing to the modem's serial port failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** More commands were submitted than the queue holds. */
export class AtQueueFullError extends AtError {
  override readonly name: string = "AtQueueFullError";
  constructor(capacity: number) {
    super("queue-full", `the AT command queue is full (${capacity} commands)`);
  }
}

/** A parameter cannot be put on the wire safely (would break quoting or inject a command). */
export class AtParameterError extends AtError {
  override readonly name: string = "AtParameterError";
  readonly field: string;
  constructor(field: string, problem: string) {
    super("bad-parameter", `${field}: ${problem}`);
    this.field = field;
  }
}

/** Work was cancelled by the caller or by the engine closing. */
export class AtAbortedError extends AtError {
  override readonly name: string = "AtAbortedError";
  constructor(reason: string) {
    super("aborted", reason);
  }
}
