// Typed errors of the transport layer. Each says what happened in words a user can act on, and
// has a stable `code` that callers decide by (the app's recovery table: src/app/recovery.ts).

import { detail } from "./detail.ts";

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
  /** `info`: the information lines the modem sent before the error line, if any. */
  constructor(command: string, reply: string, session = false, result: AtCommandError["result"] = null, info = "") {
    super(session ? "session-refused" : "command-refused", `the modem refused ${command}: ${refusalText(reply)}${info !== "" ? ` (after ${info})` : ""}`);
    this.command = command;
    this.reply = reply;
    this.result = result;
    this.info = info;
  }

  readonly info: string;

  /** The refusal's 3GPP error number (`+CME ERROR: 10`, or the verbose text's number), or -1. */
  get errorNumber(): number {
    return refusalNumber(this.reply);
  }
}

// 3GPP TS 27.007 9.2 (+CME) and 27.005 3.2.5 (+CMS): the codes a modem user meets, by number
// (numeric form, AT+CMEE=1) and by text (verbose form, AT+CMEE=2). Maps: the text comes from
// the modem (see src/mail/errors.ts on XS property keys).
const CME_ERRORS: ReadonlyMap<number, string> = new Map([
  [3, "operation not allowed"], [4, "operation not supported"], [10, "SIM not inserted"],
  [11, "SIM PIN required"], [12, "SIM PUK required"], [13, "SIM failure"], [14, "SIM busy"],
  [15, "SIM wrong"], [16, "incorrect password"], [17, "SIM PIN2 required"], [18, "SIM PUK2 required"],
  [30, "no network service"], [31, "network timeout"], [50, "incorrect parameters"], [100, "unknown"],
]);
const CMS_ERRORS: ReadonlyMap<number, string> = new Map([
  [300, "ME failure"], [302, "operation not allowed"], [303, "operation not supported"],
  [310, "SIM not inserted"], [311, "SIM PIN required"], [313, "SIM failure"], [314, "SIM busy"],
  [330, "SMSC address unknown"], [331, "no network service"], [500, "unknown error"],
]);
const CME_NUMBERS: ReadonlyMap<string, number> = new Map([...CME_ERRORS].map(([n, text]) => [text.toLowerCase(), n]));

/** `+CME ERROR` / `+CMS ERROR` and what follows the colon, or null for other lines. */
function splitRefusal(reply: string): { kind: "CME" | "CMS"; detail: string } | null {
  const m = /^\+(CME|CMS) ERROR:?\s*(.*)$/.exec(reply);
  return m === null ? null : { kind: m[1] as "CME" | "CMS", detail: m[2].trim() };
}

function refusalNumber(reply: string): number {
  const split = splitRefusal(reply);
  if (split === null) return -1;
  if (/^\d+$/.test(split.detail)) return Number(split.detail);
  return split.kind === "CME" ? CME_NUMBERS.get(split.detail.toLowerCase()) ?? -1 : -1;
}

/** The modem's error line with its meaning: `+CME ERROR: 10 (SIM not inserted)`; a code-less `+CMS ERROR:` says so. */
export function refusalText(reply: string): string {
  const split = splitRefusal(reply);
  if (split === null) return reply;
  if (split.detail === "") return `${reply.trim()} (no error code given)`;
  if (!/^\d+$/.test(split.detail)) return reply;
  const meaning = (split.kind === "CME" ? CME_ERRORS : CMS_ERRORS).get(Number(split.detail));
  return meaning === undefined ? reply : `${reply} (${meaning})`;
}

export type ModemResetKind = "reset" | "sim-not-ready" | "power-down" | "under-voltage";

const RESET_WORDS: Record<ModemResetKind, string> = {
  reset: "the modem restarted (RDY)" + detail(": its settings and any transfer in progress are lost"),
  "sim-not-ready": "the modem restarted (+CPIN: NOT READY)" + detail(": its settings and any transfer in progress are lost"),
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
