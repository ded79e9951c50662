// Typed mail errors carrying the modem's result code and the spec's meaning of it, and a stable
// `code` that callers decide by (see src/transport/errors.ts).

import { detail } from "../transport/detail.ts";

export type MailErrorCode =
  /** Over a limit the probe read lower than the SIM7000's (ProbedLimitError): probe again. */
  | "probed-limit"
  /** The modem's network is down (result 61, NETWORK ERROR). */
  | "network"
  | "dns"
  | "connection"
  /** The server did not answer in time (64; POP3 69). */
  | "server-timeout"
  /** The server failed or refused the operation, or a result the spec does not list. */
  | "server"
  | "auth"
  | "recipient"
  /** Another e-mail is being sent (classic ONGOING). */
  | "busy"
  /** The modem's file system failed or is full (classic). */
  | "modem-files"
  /** The modem found a parameter invalid (classic PARAM ERROR). */
  | "modem-parameter"
  /** The POP3 server answered -ERR. */
  | "refused"
  /** A message or setting refused before anything was written (MailParameterError). */
  | "bad-parameter"
  | "insecure-credentials"
  /** The modem's answer broke the spec's conversation (an unasked confirmation, a missing dotline). */
  | "modem-protocol"
  /** An attachment transfer ended early for another reason (its `cause`). */
  | "transfer"
  /** Text output lines were longer than the engine's line buffer (classic POP3). */
  | "lines-lost"
  /** A read was stopped by its caller's limit: too many bytes, or other work due (MailReadStoppedError). */
  | "read-stopped";

export const SMTP_CODES: Record<number, string> = {
  1: "sent",
  61: "network error",
  62: "DNS resolve error",
  63: "SMTP TCP connection error",
  64: "timeout of SMTP server response",
  // Many SIM7000G firmwares take every email command, then answer every send with 65.
  65: "SMTP server response error; on SIM7000G this usually means the firmware has no email support",
  66: "not authenticated (the server requires authentication)",
  67: "authentication failed (user name or password may be wrong)",
  68: "bad recipient",
};

export const POP3_CODES: Record<number, string> = {
  1: "done",
  61: "network error",
  62: "DNS resolve error",
  63: "POP3 TCP connection error",
  64: "timeout of POP3 server response",
  65: "POP3 server response error",
  66: "POP3 server refused the login",
  67: "incorrect user name",
  68: "incorrect user name or password",
  69: "timeout reading data",
};

/**
 * The classic dialect's `+SMTP: <text>` / `+POP3: <text>` results. A Map, not an object: the
 * text comes from the modem, and XS keeps every string ever used as a property key for good.
 */
export const CLASSIC_RESULTS: ReadonlyMap<string, string> = new Map([
  ["SUCCESS", "success"],
  ["ONGOING", "another e-mail is being sent"],
  ["PARAM ERROR", "a mandatory parameter is invalid"],
  ["NETWORK ERROR", "network is unavailable or the server cannot be reached"],
  ["SERVER ERROR", "the server released the session, rejected the operation or did not answer in time"],
  ["AUTH REQUIRED", "the server requires authentication"],
  ["AUTH ERROR", "the server rejected the user name and password"],
  ["BAD RCPT", "invalid recipient address"],
  ["FAILURE", "the e-mail could not be retrieved"],
  ["INVALID UN", "invalid user name"],
  ["INVALID UN/PWD", "invalid user name and password combination"],
  ["FILE SYSTEM ERROR", "the modem file system failed or is full"],
]);

/** Set in a one-dialect device build (build/build.mjs; src/mail/dialects.ts). */
interface BuildGlobals {
  SIMMAIL_BUILD_DIALECT?: string;
}

/** The code of a numeric result (61 ...): the same for SMTP and POP3 but for 66-69. */
const RESULT_CODES: Record<number, MailErrorCode> = { 61: "network", 62: "dns", 63: "connection", 64: "server-timeout", 65: "server" };
const SMTP_RESULT_CODES: Record<number, MailErrorCode> = { 66: "auth", 67: "auth", 68: "recipient" };
const POP3_RESULT_CODES: Record<number, MailErrorCode> = { 66: "auth", 67: "auth", 68: "auth", 69: "server-timeout" };
/** The code of a classic result text (a Map for the reason given at CLASSIC_RESULTS). */
const CLASSIC_RESULT_CODES: ReadonlyMap<string, MailErrorCode> = new Map([
  ["ONGOING", "busy"],
  ["PARAM ERROR", "modem-parameter"],
  ["NETWORK ERROR", "network"],
  ["AUTH REQUIRED", "auth"],
  ["AUTH ERROR", "auth"],
  ["BAD RCPT", "recipient"],
  ["INVALID UN", "auth"],
  ["INVALID UN/PWD", "auth"],
  ["FILE SYSTEM ERROR", "modem-files"],
] as const);

export class MailError extends Error {
  override readonly name: string = "MailError";
  /** Which exchange failed: "smtp" or "pop3". */
  readonly protocol: "smtp" | "pop3";
  readonly code: MailErrorCode;
  constructor(protocol: "smtp" | "pop3", code: MailErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.protocol = protocol;
    this.code = code;
  }
}

/** What the modem reported: a result code (SIM7000 dialect) or a result text (classic), and what it means. */
class ModemResultError extends MailError {
  override readonly name: string = "ModemResultError";
  /** The modem's numeric result (sim7000 dialect) or 0. */
  readonly resultCode: number;
  /** The classic dialect's result text, or "". */
  readonly result: string;
  readonly meaning: string;
  /** `known`: the part of a result text its meaning is looked up by. */
  constructor(protocol: "smtp" | "pop3", codes: Record<number, string>, resultCode: number, result: string, known: string, detail: string) {
    // Only the classic dialect passes a result text: a SIM7000 device build leaves its tables out.
    const classic = (globalThis as BuildGlobals).SIMMAIL_BUILD_DIALECT !== "sim7000" && result !== "";
    const meaning = classic ? CLASSIC_RESULTS.get(known) ?? "unknown result" : codes[resultCode] ?? "unknown code";
    const code = classic ? CLASSIC_RESULT_CODES.get(known)
      : RESULT_CODES[resultCode] ?? (protocol === "smtp" ? SMTP_RESULT_CODES : POP3_RESULT_CODES)[resultCode];
    super(protocol, code ?? "server", `${protocol.toUpperCase()} failed: ${result !== "" ? result : resultCode} ${meaning}${detail ? ` (${detail})` : ""}`);
    this.resultCode = resultCode;
    this.result = result;
    this.meaning = meaning;
  }
}

/** `+SMTPSEND: <code>` other than 1, or a classic `+SMTP: <error>`. */
export class SmtpError extends ModemResultError {
  override readonly name: string = "SmtpError";
  constructor(code: number, result = "", detail = "") {
    // "BAD RCPT a@b" means what "BAD RCPT" means.
    super("smtp", SMTP_CODES, code, result, result.replace(/ .*@.*$/, ""), detail);
  }
}

/** `+POP3IN/+POP3OUT: <code>` other than 1, a negative server answer, or a classic `+POP3: <error>`. */
export class Pop3Error extends ModemResultError {
  override readonly name: string = "Pop3Error";
  constructor(code: number, result = "", detail = "") {
    super("pop3", POP3_CODES, code, result, result, detail);
  }
}

/** The POP3 server answered -ERR (`+POP3xxx: 0`): e.g. no such message. */
export class Pop3NegativeError extends MailError {
  override readonly name: string = "Pop3NegativeError";
  readonly command: string;
  constructor(command: string, detail = "") {
    super("pop3", "refused", `the POP3 server refused ${command}${detail ? `: ${detail}` : ""}`);
    this.command = command;
  }
}

/** A message or parameter was refused before anything was written to the modem. */
export class MailParameterError extends MailError {
  override readonly name: string = "MailParameterError";
  readonly field: string;
  /** What is wrong with the field's value (the message after "<field>: "). */
  readonly problem: string;
  /** The modem's limit the value is over ("this modem takes at most <n>"), or null for other problems. */
  readonly overLimit: number | null;
  constructor(protocol: "smtp" | "pop3", field: string, problem: string, overLimit: number | null = null) {
    super(protocol, "bad-parameter", `${field}: ${problem}`);
    this.field = field;
    this.problem = problem;
    this.overLimit = overLimit;
  }
}

/**
 * A value over a limit the capability probe read below the SIM7000's: noise may have garbled
 * the probe, so the modem is probed again before the refusal is believed (`code`
 * "probed-limit"; the same refusal after a probe that read the same limits is a plain
 * MailParameterError).
 */
export class ProbedLimitError extends MailParameterError {
  override readonly name: string = "ProbedLimitError";
  override readonly code: MailErrorCode = "probed-limit";
  constructor(protocol: "smtp" | "pop3", field: string, problem: string, overLimit: number | null) {
    super(protocol, field, `${problem}${detail(" (less than a SIM7000 takes: noise may have garbled the probe, which is made again)")}`, overLimit);
  }
}

/**
 * `requireSecureCredentials`: the password would have crossed the network in clear text.
 * Thrown before any AT command that carries it.
 */
export class InsecureCredentialsError extends MailError {
  override readonly name: string = "InsecureCredentialsError";
  readonly reason: string;
  constructor(protocol: "smtp" | "pop3", reason: string) {
    super(protocol, "insecure-credentials", `refusing to send the ${protocol.toUpperCase()} password in clear text: ${reason} (requireSecureCredentials)`);
    this.reason = reason;
  }
}

/**
 * A mail read stopped by the caller's `ReadLimit`: it passed `maxBytes` ("too-large"), or
 * `interrupt()` asked for the modem ("interrupted"). `sessionEnded`: the dialect could only stop
 * the answer part way, and the modem takes no other POP3 command until the session is closed
 * (SIM7000 3.2.19: log out); otherwise the answer was read to its end and discarded.
 */
export class MailReadStoppedError extends MailError {
  override readonly name: string = "MailReadStoppedError";
  readonly why: "too-large" | "interrupted";
  readonly received: number;
  readonly sessionEnded: boolean;
  constructor(what: string, why: "too-large" | "interrupted", received: number, maxBytes: number, sessionEnded: boolean) {
    super("pop3", "read-stopped", `${what} stopped after ${received} bytes: ${why === "too-large" ? `more than the ${maxBytes} allowed` : "other work is due"}${sessionEnded ? "; log out before the next command" : ""}`);
    this.why = why;
    this.received = received;
    this.sessionEnded = sessionEnded;
  }
}
