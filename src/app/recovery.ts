// What the alarm mailer does after a mail or a command poll failed: one table, keyed on the
// error's typed code (every error class of the core has one), so each rule is written once and
// a new code cannot be added without deciding what it means here.

import { AtError, type AtErrorCode } from "../transport/errors.ts";
import { ModemError, type ModemErrorCode } from "../modem/errors.ts";
import { MailError, SmtpError, type MailErrorCode } from "../mail/errors.ts";
import { OutboxFullError, type OutboxErrorCode } from "./outbox-options.ts";

/** Ordered: where a poll meets two failures, the later one in this list wins. */
export const Recovery = {
  /** Try again when the sender policy's retry delay or the poll interval says. */
  Retry: 0,
  /** The modem needs a fresh bring-up (sync, probe, bearer) first. */
  BringUp: 1,
  /** The modem may still hold a session the host lost: restart it (AT+CFUN=1,1), then bring it up. */
  Restart: 2,
  /** Trying again can only fail the same way: that duty (mail sending, command polling) halts until the device restarts. */
  Halt: 3,
} as const;
export type Recovery = (typeof Recovery)[keyof typeof Recovery];

export type ErrorCode = AtErrorCode | ModemErrorCode | MailErrorCode | OutboxErrorCode;

const { Retry, BringUp, Restart, Halt } = Recovery;

export const RECOVERY: { readonly [code in ErrorCode]: Recovery } = {
  // No answer: the modem may still be inside the mail or POP3 session, which only a restart ends.
  timeout: Restart,
  // AT+SMTPSEND, AT+POP3IN ... refused: the modem holds a session the host lost track of.
  "session-refused": Restart,
  // A refused setting (AT+SMTPRCPT, AT+CSSLCFG ...) would be refused again after a restart.
  "command-refused": Retry,
  "modem-reset": BringUp,
  "serial-write": Retry,
  "queue-full": Retry,
  // Refused before it reached the modem (a setting the probed firmware cannot take, a value that
  // cannot be quoted, a mail over the modem's limits): the same next time.
  "bad-parameter": Halt,
  // Over a limit the probe read lower than a SIM7000's: noise may have garbled it; the bring-up probes again.
  "probed-limit": BringUp,
  aborted: Retry,
  "bring-up": Retry,
  "no-email-support": Retry,
  "bearer-lost": BringUp,
  network: BringUp,
  dns: Retry,
  connection: Retry,
  "server-timeout": Retry,
  server: Retry,
  auth: Retry,
  recipient: Retry,
  busy: Retry,
  "modem-files": Retry,
  "modem-parameter": Retry,
  refused: Retry,
  // requireSecureCredentials on a firmware without TLS: no retry ever makes the session secure.
  "insecure-credentials": Halt,
  "modem-protocol": Retry,
  transfer: Retry,
  "lines-lost": Retry,
  // The poll stopped a read itself (too large, an alarm due) and logs out: nothing to repair.
  "read-stopped": Retry,
  "outbox-full": Retry,
};

/** What `error` calls for; an error of no core class (a bug, a platform failure) is retried. */
export function recoveryFor(error: unknown): Recovery {
  const typed = error instanceof AtError || error instanceof ModemError || error instanceof MailError || error instanceof OutboxFullError;
  return typed ? RECOVERY[error.code] : Retry;
}

export type Duty = "mail sending" | "command polling";

/**
 * Many SIM7000G firmwares accept every email command and answer every send `+SMTPSEND: 65`:
 * after this many in a row with the bearer up, sending is held back for NO_EMAIL_HOLD_MS
 * rather than spend the data plan retrying.
 */
export const NO_EMAIL_SENDS = 3;
export const NO_EMAIL_HOLD_MS = 6 * 3_600_000;

/** The failures of the mail or poll under way, and the duties halted for good (with the reason). */
export class Failures {
  /** What the failures since `begin` call for: the most severe. */
  recovery: Recovery = Retry;
  /** Why each duty halted, "" while it runs. */
  sendingHalted = "";
  pollingHalted = "";

  /** Why sending is held back for hours (the status mail says it), "" when it is not. */
  sendingHeld = "";
  /** Sends answered +SMTPSEND: 65 in a row with the bearer up. */
  private noEmailRun = 0;

  /** A mail or poll starts. */
  begin(): void {
    this.recovery = Retry;
  }

  /** A mail failed with `error`: the least wait before the next (0: the sender policy decides alone). */
  mailFailed(error: unknown, bearerUp: boolean): number {
    this.noEmailRun = error instanceof SmtpError && error.resultCode === 65 && bearerUp ? this.noEmailRun + 1 : 0;
    if (this.noEmailRun < NO_EMAIL_SENDS) return 0;
    this.sendingHeld = `${this.noEmailRun} sends in a row were answered +SMTPSEND: 65 with the bearer up: this firmware likely has no email support; sending is held back for ${NO_EMAIL_HOLD_MS / 3_600_000} h at a time`;
    return NO_EMAIL_HOLD_MS;
  }

  /** A mail went out: the run of 65s is over; the hold is forgotten once a status mail has reported it. */
  mailSent(status: boolean): void {
    this.noEmailRun = 0;
    if (status) this.sendingHeld = "";
  }

  /** Notes a failure of `duty` (`what`: the step that failed); returns the line that reports it. */
  note(duty: Duty, what: string, error: unknown): string {
    const recovery = recoveryFor(error);
    if (recovery > this.recovery) this.recovery = recovery;
    const reason = error instanceof Error ? error.message : String(error);
    if (recovery !== Halt) return `${what}: ${reason}`;
    if (duty === "mail sending") this.sendingHalted = reason;
    else this.pollingHalted = reason;
    return `${duty} halted until the device restarts${duty === "mail sending" ? " (the events stay in the outbox)" : ""}: ${reason}`;
  }
}
