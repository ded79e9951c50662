// The alarm supervisor's states (AlarmApp, ./alarm.ts: one handler per state) and the one
// table of the moves between them.

export type AppState =
  | "Offline" | "Restarting" | "PoweringOn" | "BringingUp" | "Ready" | "Sending" | "Polling" | "Backoff" | "Stopped";

/**
 * The supervisor's transition table: each state, what its handler does, where it may go. Any
 * state goes to Stopped once `stop` was called, and to Backoff on an error no handler expected.
 */
export const TRANSITIONS: { readonly [state in AppState]: readonly AppState[] } = {
  // AT until OK. Answered: BringingUp; silent with a PWRKEY wired: PoweringOn; else a failed bring-up.
  Offline: ["BringingUp", "PoweringOn", "Backoff", "Stopped"],
  // AT+CFUN=1,1 (a mail or poll may have left the modem inside its session), then the boot's wait.
  Restarting: ["Offline", "Backoff", "Stopped"],
  // Pulse PWRKEY, wait for the boot, sync.
  PoweringOn: ["BringingUp", "Backoff", "Stopped"],
  // Probe (picks the mail dialect), bring-up (SIM, attach, bearer), network time.
  BringingUp: ["Ready", "Backoff", "Stopped"],
  // Ask the sender policy and the poll timer; sleep until either is due or something happens.
  Ready: ["Sending", "Polling", "Ready", "Offline", "Backoff", "Stopped"],
  // One mail; a failure goes where the recovery table says.
  Sending: ["Ready", "Offline", "Restarting", "Backoff", "Stopped"],
  // One read of the command mailbox; failures as for Sending.
  Polling: ["Ready", "Offline", "Restarting", "Backoff", "Stopped"],
  // Wait (growing after each failed bring-up), then try again; a new event cuts it short.
  Backoff: ["Offline", "Stopped"],
  Stopped: [],
};

/** A transition outside the table: a bug in the supervisor, never retried. */
export class IllegalTransitionError extends Error {
  override readonly name: string = "IllegalTransitionError";
}

/** Throws unless the table lets the supervisor go from `from` to `to`. */
export function checkTransition(from: AppState, to: AppState): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new IllegalTransitionError(`AlarmApp: no transition from ${from} to ${to} (src/app/alarm-states.ts TRANSITIONS allows ${TRANSITIONS[from].join(", ") || "none"})`);
  }
}
