// What a `send` or `inbox` interrupted by SIGINT/SIGTERM must not leave behind: a modem still
// counting data bytes, or still holding the SMTP/POP3 session (a SIM7000 then refuses the next
// send for 30-45 s and every POP3 login for about a minute). On the first signal the work
// stops at its next command (a data phase under way runs to its end), the session is ended
// (`end`: the dialect's way), and the run fails with InterruptedError (exit 130 / 143). A
// second signal exits at once. And when the modem still holds a session someone else left,
// what it refuses is said as such, with how long it lasts.

import type { AtEngine } from "../transport/engine.ts";
import { AtCommandError, AtTimeoutError } from "../transport/errors.ts";
import { DEFAULT_LIMITS } from "../modem/limits.ts";
import type { Dialect, Modem } from "../modem/modem.ts";

/** How long a command in flight that moves no data may take to end after a signal before it is dropped. */
const GRACE_MS = 3000;
const STATUS: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  readonly signal: "SIGINT" | "SIGTERM";
  /** The exit status a shell expects: 128 + the signal's number. */
  readonly status: number;
  constructor(signal: "SIGINT" | "SIGTERM", what: string) {
    super(`interrupted (${signal}): ${what}`);
    this.signal = signal;
    this.status = STATUS[signal];
  }
}

/** What the guarded work is, for the messages: "the send" / "the inbox session". */
export interface Guarded {
  what: string;
  /** Ends the session the modem may hold (AT+POP3OUT, AT+SMTPSTOP, the bearer cycled). */
  end(): Promise<void>;
  /** What `end` did, for the message ("the SMTP session was ended; nothing was sent"). */
  ended: string;
}

/**
 * SIGINT and SIGTERM handled as above while a session's work runs on `engine` (made after the
 * connection, released after it): the work fails at its next command; `failed()` then ends
 * the session and turns the failure into InterruptedError.
 */
export class SessionGuard {
  private readonly engine: AtEngine;
  private readonly guarded: Guarded;
  private signalled: "SIGINT" | "SIGTERM" | null = null;
  private grace: NodeJS.Timeout | null = null;
  private readonly onSignal = (signal: "SIGINT" | "SIGTERM") => this.signal(signal);

  constructor(engine: AtEngine, guarded: Guarded) {
    this.engine = engine;
    this.guarded = guarded;
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  /** What the work's failure `error` becomes: after a signal, the session ended and InterruptedError; else `error`. */
  async failed(error: unknown): Promise<unknown> {
    const signal = this.signalled;
    if (signal === null) return error;
    await this.engine.whenIdle();
    this.engine.resume();
    let ended: string;
    try {
      await this.guarded.end();
      ended = this.guarded.ended;
    } catch (endError) {
      ended = `ending the session failed (${(endError as Error).message}); the modem may hold it for up to a minute`;
    }
    return new InterruptedError(signal, `${this.guarded.what} stopped; ${ended}`);
  }

  release(): void {
    if (this.grace !== null) clearTimeout(this.grace);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }

  private signal(signal: "SIGINT" | "SIGTERM"): void {
    if (this.signalled !== null) {
      process.stderr.write(`\nsimmail: interrupted again: exiting now; the modem may still hold ${this.guarded.what} for up to a minute\n`);
      process.exit(STATUS[signal]);
    }
    this.signalled = signal;
    process.stderr.write(`\nsimmail: ${signal}: stopping ${this.guarded.what} (again to exit at once)\n`);
    const error = new InterruptedError(signal, this.guarded.what);
    this.engine.interrupt(error);
    // A command waiting on a server (AT+SMTPSEND connecting) need not be waited for; one
    // moving data must finish, or the modem counts the missing bytes as the next commands.
    this.grace = setTimeout(() => {
      if (!this.engine.exchangingData) this.engine.abortAll(error);
    }, GRACE_MS);
  }
}

/**
 * AT until OK (`Modem.sync`); a modem silent to it may be counting the data bytes of a run
 * that was killed in the middle of a payload (AT+SMTPBODY, an AT+SMTPFT chunk), and takes the
 * ATs as data: it is paid the most such a phase can owe (the longest body), then synced again.
 */
export async function syncPayingOwed(engine: AtEngine, modem: Modem): Promise<void> {
  try {
    await modem.sync();
  } catch (error) {
    const silent = error instanceof AtTimeoutError || (error instanceof Error && error.cause instanceof AtTimeoutError);
    if (!silent || engine.stats.syncRefusals > 0) throw error;
    engine.owe(DEFAULT_LIMITS.body);
    await modem.sync();
  }
}

/**
 * `error` explained where the modem refuses because it still holds a session an interrupted
 * run left (field behaviour of the SIM7000: the send for 30-45 s, a POP3 login about 60 s,
 * unread POP3 data making even `AT` answer ERROR); else `error` itself.
 */
export function explainHeldSession(error: unknown, engine: AtEngine, dialect: Dialect | null): unknown {
  // Unknown (the probe not yet run: the sync itself was refused) is treated as a SIM7000.
  if (dialect === "classic") return error;
  if (error instanceof AtCommandError && error.reply === "ERROR") {
    if (error.command.startsWith("AT+SMTPSEND")) {
      return new HeldSessionError(`${error.message}: the modem still holds the mail of an earlier send that was interrupted; a SIM7000 gives it up 30-45 s later: try again then (restarting the modem, AT+CFUN=1,1, frees it at once)`, { cause: error });
    }
    if (error.command.startsWith("AT+POP3IN")) {
      return new HeldSessionError(`${error.message}: the modem is still logged in to POP3 from an earlier inbox that was interrupted; a SIM7000 ends that session about 60 s later: try again then`, { cause: error });
    }
  }
  const timedOut = error instanceof AtTimeoutError || (error instanceof Error && error.cause instanceof AtTimeoutError);
  if (timedOut && engine.stats.syncRefusals > 0) {
    return new HeldSessionError("the modem answers ERROR to every command, AT too: it still holds a POP3 answer an interrupted inbox left unread; a SIM7000 ends that session about 60 s later: try again then", { cause: error });
  }
  return error;
}

/** The modem is busy with a session another run left: not "no answer", and it ends by itself. */
export class HeldSessionError extends Error {
  override readonly name = "HeldSessionError";
}
