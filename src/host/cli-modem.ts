// The CLI's first words with the modem: AT until it answers (a modem just switched on may be
// silent for its whole boot window: a person on a terminal is told it is being waited for, and
// when it never answers, what to check), and the SIM and network a mail needs, in plain words.

import { AtTimeoutError } from "../transport/errors.ts";
import type { Modem, Signal } from "../modem/modem.ts";
import { ModemError } from "../modem/errors.ts";
import { simProblem, type Registration } from "../modem/sim-network.ts";

/** A sync still running after this long is a modem that is starting (or not there): say so. */
const NOTICE_AFTER_MS = 1500;
/** How long `send` and `inbox` wait for a modem still searching for a network. */
const REGISTRATION_WAIT_MS = 30_000;

export interface StartOptions {
  bootSeconds: number;
  baud: number;
  /** Tell the person waiting (stderr is a terminal). */
  notice: boolean;
  /** How to sync (default `modem.sync()`): the CLI's also pays a data phase a killed run left owed. */
  sync?: () => Promise<void>;
}

/** `AT` until `OK` and echo off, with the boot window; a modem that never answers gets a message saying what to check. */
export async function startModem(modem: Modem, options: StartOptions): Promise<void> {
  const timer = options.notice
    ? setTimeout(() => process.stderr.write(`waiting for the modem to start (up to ${options.bootSeconds} s)...\n`), NOTICE_AFTER_MS)
    : null;
  try {
    await (options.sync ?? (() => modem.sync()))();
  } catch (error) {
    if (!(error instanceof ModemError && error.step === "sync" && error.cause instanceof AtTimeoutError)) throw error;
    throw new ModemError("sync", `the modem did not answer AT within ${options.bootSeconds} s: check that it is powered and switched on (PWRKEY), that its TX and RX lines are not swapped, and the baud rate (${options.baud}; --baud)`, error.cause);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** Before a bearer is opened: the SIM is READY and the modem registered (home or roaming), else a ModemError saying which. */
export async function requireService(modem: Modem): Promise<void> {
  await modem.requireSim();
  await modem.requireRegistration(REGISTRATION_WAIT_MS);
}

export interface ServiceReport {
  /** The `+CPIN:` state, or "" when the query was refused. */
  sim: string;
  /** What is wrong with the SIM in words, "" when it is READY. */
  simProblem: string;
  registration: Registration | null;
  signal: Signal;
}

/** What `probe` shows of the SIM, the network and the signal: a refused SIM query is reported, not thrown. */
export async function serviceReport(modem: Modem): Promise<ServiceReport> {
  let sim = "";
  let problem = "";
  try {
    sim = await modem.simStatus();
    problem = simProblem(sim);
  } catch (error) {
    if (!(error instanceof ModemError && error.step === "sim")) throw error;
    problem = error.message;
  }
  const registration = await modem.registration();
  return { sim, simProblem: problem, registration, signal: await modem.signal() };
}

/** The probe's SIM and registration lines. */
export function serviceLines(report: ServiceReport): string[] {
  const { registration } = report;
  return [
    `SIM:      ${report.simProblem === "" ? report.sim : report.sim === "" ? report.simProblem : `${report.sim}: ${report.simProblem}`}`,
    `network:  ${registration === null ? "registration unknown (no +CEREG/+CGREG answer)" : `${registration.text} (stat ${registration.stat})`}`,
  ];
}
