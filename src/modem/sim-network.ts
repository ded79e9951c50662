// The SIM and the network registration: what AT+CPIN? and AT+CEREG?/AT+CGREG? answer, in words a
// user can act on. Field firmwares answer a missing or failed SIM with `ERROR`,
// `+CME ERROR: 10` or `+CME ERROR: SIM failure` rather than a `+CPIN:` line; these tables say
// what each means, once.

import { AtCommandError, AtError } from "../transport/errors.ts";
import { ModemError } from "./errors.ts";

/** `+CPIN: <code>` other than READY: what the user must do. */
const SIM_STATES: ReadonlyMap<string, string> = new Map([
  ["SIM PIN", "the SIM needs its PIN (unlock it in a phone, or switch the PIN off)"],
  ["SIM PUK", "the SIM is blocked (PUK required): unblock it in a phone"],
  ["PH_SIM PIN", "the modem is locked to another SIM (PH-SIM PIN)"],
  ["SIM PIN2", "the SIM needs its PIN2"],
  ["SIM PUK2", "the SIM needs its PUK2"],
  ["NOT INSERTED", "no SIM card found: check that it is inserted and seated"],
  ["NOT READY", "the SIM is not ready yet"],
]);

/** 3GPP error numbers of a refused AT+CPIN? (27.007 9.2.1), as a SIM problem. */
const SIM_ERRORS: ReadonlyMap<number, string> = new Map([
  [10, "no SIM card found: check that it is inserted and seated"],
  [11, "the SIM needs its PIN (unlock it in a phone, or switch the PIN off)"],
  [12, "the SIM is blocked (PUK required): unblock it in a phone"],
  [13, "the SIM failed: check the card and its contacts, or try another SIM"],
  [14, "the SIM is busy: try again in a few seconds"],
  [15, "the SIM is the wrong kind for this modem"],
]);

/** What a `+CPIN:` state means for the user; "" for READY. */
export function simProblem(state: string): string {
  if (state === "READY") return "";
  return SIM_STATES.get(state) ?? `the SIM is not ready (+CPIN: ${state})`;
}

/** A refused AT+CPIN? (no SIM, a failed SIM) as a ModemError that says so; other errors unchanged. */
export function simRefusal(error: unknown): unknown {
  if (!(error instanceof AtCommandError)) return error;
  const known = SIM_ERRORS.get(error.errorNumber);
  const why = known ?? "the SIM could not be read: check that a SIM card is inserted";
  return new ModemError("sim", `${why} (AT+CPIN? answered ${error.reply})`, error);
}

/** `<stat>` of +CREG/+CGREG/+CEREG (27.007 7.2, 10.1.22): its words and whether data can flow. */
export interface Registration {
  stat: number;
  /** "registered (home network)", "registered, roaming", "searching" ... */
  text: string;
  registered: boolean;
  roaming: boolean;
  /** Worth waiting for: the modem is still looking for a network. */
  searching: boolean;
}

// 5 is 27.007's "registered, roaming"; field SIM7000 logs show 11 for roaming too (what 27.007
// lists as RLOS access), so it counts as roaming here.
const REGISTRATION: ReadonlyMap<number, Omit<Registration, "stat">> = new Map([
  [0, { text: "not registered, not searching (check the antenna and that the SIM has a data plan)", registered: false, roaming: false, searching: false }],
  [1, { text: "registered (home network)", registered: true, roaming: false, searching: false }],
  [2, { text: "searching for a network", registered: false, roaming: false, searching: true }],
  [3, { text: "registration denied by the network (the SIM may have no service here)", registered: false, roaming: false, searching: false }],
  [4, { text: "registration unknown (out of coverage?)", registered: false, roaming: false, searching: true }],
  [5, { text: "registered, roaming", registered: true, roaming: true, searching: false }],
  [6, { text: "registered for SMS only (home network)", registered: false, roaming: false, searching: false }],
  [7, { text: "registered for SMS only, roaming", registered: false, roaming: true, searching: false }],
  [8, { text: "attached for emergency services only", registered: false, roaming: false, searching: false }],
  [9, { text: "registered (home network, CSFB not preferred)", registered: true, roaming: false, searching: false }],
  [10, { text: "registered, roaming (CSFB not preferred)", registered: true, roaming: true, searching: false }],
  [11, { text: "registered, roaming", registered: true, roaming: true, searching: false }],
]);

export function registration(stat: number): Registration {
  const known = REGISTRATION.get(stat);
  return { stat, ...(known ?? { text: `unknown registration state ${stat}`, registered: false, roaming: false, searching: false }) };
}

/** The better of two answers (LTE's +CEREG and GPRS's +CGREG): a registered one, else one still searching. */
export function better(a: Registration | null, b: Registration | null): Registration | null {
  if (a === null || b === null) return a ?? b;
  if (a.registered !== b.registered) return a.registered ? a : b;
  if (a.searching !== b.searching) return a.searching ? a : b;
  return a;
}

/** An AT error that only says the query is not there (a firmware without +CEREG): null, not a failure. */
export function optionalQuery(error: unknown): null {
  if (error instanceof AtError && error.code === "command-refused") return null;
  throw error;
}
