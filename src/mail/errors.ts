// Typed mail errors carrying the modem's result code and the spec's meaning of it.

export const SMTP_CODES: Record<number, string> = {
  1: "sent",
  61: "network error",
  62: "DNS resolve error",
  63: "SMTP TCP connection error",
  64: "timeout of SMTP server response",
  65: "SMTP server response error",
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

export class MailError extends Error {
  override readonly name: string = "MailError";
  /** Which exchange failed: "smtp" or "pop3". */
  readonly protocol: "smtp" | "pop3";
  constructor(protocol: "smtp" | "pop3", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.protocol = protocol;
  }
}

/** What the modem reported: a result code (SIM7000 dialect) or a result text (classic), and what it means. */
class ModemResultError extends MailError {
  override readonly name: string = "ModemResultError";
  /** The numeric code (sim7000 dialect) or 0. */
  readonly code: number;
  /** The classic dialect's result text, or "". */
  readonly result: string;
  readonly meaning: string;
  /** `known`: the part of a result text its meaning is looked up by. */
  constructor(protocol: "smtp" | "pop3", codes: Record<number, string>, code: number, result: string, known: string, detail: string) {
    const meaning = result !== "" ? CLASSIC_RESULTS.get(known) ?? "unknown result" : codes[code] ?? "unknown code";
    super(protocol, `${protocol.toUpperCase()} failed: ${result !== "" ? result : code} ${meaning}${detail ? ` (${detail})` : ""}`);
    this.code = code;
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
    super("pop3", `the POP3 server refused ${command}${detail ? `: ${detail}` : ""}`);
    this.command = command;
  }
}

/** A message or parameter was refused before anything was written to the modem. */
export class MailParameterError extends MailError {
  override readonly name: string = "MailParameterError";
  readonly field: string;
  constructor(protocol: "smtp" | "pop3", field: string, problem: string) {
    super(protocol, `${field}: ${problem}`);
    this.field = field;
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
    super(protocol, `refusing to send the ${protocol.toUpperCase()} password in clear text: ${reason} (requireSecureCredentials)`);
    this.reason = reason;
  }
}
