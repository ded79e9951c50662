// Power cuts through the app (issue #6 (d)): one fixed run — bursts of events, mails batched and
// capped, two signed commands — played once without a cut to count its flash writes, then once
// for each write k with the power cut at write k (the torn write as MockFlash makes it), the
// device rebooted (a new AlarmApp on the same flash, the modem restarted) and the run played on.
// After each run the recipient's mails must hold every recorded event, first deliveries in
// sequence order, and no event twice except those of the one mail in flight at the cut (the
// last mail the server had stored: sent, but its DELIVERED mark not yet durable).

import type { MailServers } from "../../sim/servers/index.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { checkDeliveries, clearMailbox, DEVICE_ID, operatorAddress, readDeliveries, seededCrypto, SOAK_SECRET, SoakRig } from "./rig.ts";

export interface SweepOptions {
  servers: MailServers;
  recipient: string;
  events: number;
  /** The writes to cut at (1-based); default every write of the run. */
  cuts?: number[];
  /** Called after each run (progress). */
  onRun?: (k: number, total: number) => void;
}

export interface SweepReport {
  events: number;
  /** Flash writes of the run without a cut, and its mails. */
  writes: number;
  mails: number;
  runs: number;
  /** Cuts by what they hit (append, replace-write, replace-rename, put, delete), and torn appends. */
  cutsByKind: Record<string, number>;
  tornAppends: number;
  /** Runs whose cut hit the boot after it, and runs with the in-flight mail's events sent twice. */
  runsWithInFlightDuplicate: number;
  duplicatedEvents: number;
  lost: number;
  /** Everything that broke a promise (goal: none). */
  violations: string[];
  realSeconds: number;
}

const SWEEP_SEED = 6;
const BURST = 4;
const BURST_GAP_MS = 300;
const BURSTS_EVERY_MS = 25_000;
const COMMANDS: Array<{ id: number; command: string; atEvent: number }> = [
  { id: 1, command: "DISARM", atEvent: 3 },
  { id: 2, command: "ARM", atEvent: -1 }, // at the middle of the run
];

interface RunResult {
  writes: number;
  mails: number;
  cut: { what: string; torn: boolean } | null;
  duplicated: number;
  violations: string[];
  lost: number;
}

/** One play of the fixed run; `cutAt` null: no cut. */
async function playRun(options: SweepOptions, cutAt: number | null): Promise<RunResult> {
  const { servers, recipient, events } = options;
  await clearMailbox(servers, recipient);
  await clearMailbox(servers, "alarm");
  let storedAtCut = -1;
  const rig = new SoakRig({
    servers, recipient, seed: SWEEP_SEED, flashSeed: cutAt ?? 0, operators: COMMANDS.length, pollIntervalMs: 120_000,
    onPowerCut: async () => {
      // The modem's connections are closed: give the server a moment to store a mail whose end it got.
      await new Promise((resolve) => setTimeout(resolve, 30));
      storedAtCut = (await servers.messages(recipient)).length;
    },
  });
  if (cutAt !== null) rig.flash.cutAtWrite = cutAt;
  rig.boot();
  const secret = secretFromText(SOAK_SECRET);
  const crypto = seededCrypto(SWEEP_SEED);
  const recorded = new Map<number, number>();
  for (let n = 1; n <= events; n++) {
    const burst = Math.floor((n - 1) / BURST);
    await rig.advanceTo(burst * BURSTS_EVERY_MS + ((n - 1) % BURST) * BURST_GAP_MS + 1_000);
    for (const command of COMMANDS) {
      if (n !== (command.atEvent > 0 ? command.atEvent : Math.ceil(events / 2))) continue;
      const subject = signCommandSubject(crypto, secret, DEVICE_ID, command.command, Math.floor(rig.wallNow() / 1000));
      await servers.deliver("alarm", `From: <${operatorAddress(command.id)}>\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <sweep-${command.id}@soak.test>\r\n\r\ncommand\r\n`);
    }
    const seq = await rig.record(n);
    if (seq !== null) recorded.set(n, seq);
  }
  for (;;) {
    const drained = await rig.runUntil(() => rig.app.outbox.depth === 0, 6 * 3_600_000);
    if (!drained) throw new Error(`power-cut run (cut at ${cutAt}): not drained (${rig.app.lastError})`);
    if ((await servers.messages("alarm")).length === 0) break;
    await rig.advanceTo(rig.clock.now() + 120_000);
  }
  await rig.stop();

  const where = cutAt === null ? "run without a cut" : `cut at write ${cutAt}`;
  const mails = await readDeliveries(servers, recipient);
  const check = checkDeliveries(mails, recorded);
  const violations: string[] = [];
  if (check.lost.length > 0) violations.push(`${where}: events lost: ${check.lost.join(", ")}`);
  if (check.outOfOrder > 0) violations.push(`${where}: ${check.outOfOrder} first deliveries out of sequence order`);
  for (const mismatch of check.mismatches) violations.push(`${where}: ${mismatch}`);
  for (const carrier of check.firstCarrierOfDuplicates) {
    if (carrier !== storedAtCut - 1) violations.push(`${where}: events of mail ${carrier + 1} sent twice, but the mail in flight at the cut was mail ${storedAtCut}`);
  }
  for (const [who, count] of rig.obeyed) if (count > 1) violations.push(`${where}: the command of ${who} obeyed ${count} times`);
  const cuts = rig.cutsAtWrite + rig.cutsDuringBoot;
  if (cutAt !== null && cuts !== 1) violations.push(`${where}: ${cuts} cuts happened, not 1`);
  if (cutAt === null && cuts !== 0) violations.push(`${where}: a cut happened`);
  const last = rig.flash.lastCut;
  return {
    writes: rig.flash.writes,
    mails: mails.length,
    cut: last === null ? null : { what: last.what, torn: last.what === "append" && last.kept! > 0 && last.kept! < last.length! },
    duplicated: check.duplicates,
    violations,
    lost: check.lost.length,
  };
}

export async function runPowerCutSweep(options: SweepOptions): Promise<SweepReport> {
  const started = Date.now();
  const baseline = await playRun(options, null);
  const cuts = options.cuts ?? Array.from({ length: baseline.writes }, (_, i) => i + 1);
  const report: SweepReport = {
    events: options.events, writes: baseline.writes, mails: baseline.mails, runs: 0, cutsByKind: {}, tornAppends: 0,
    runsWithInFlightDuplicate: 0, duplicatedEvents: 0, lost: baseline.lost, violations: [...baseline.violations], realSeconds: 0,
  };
  if (baseline.duplicated > 0) report.violations.push(`run without a cut: ${baseline.duplicated} events sent twice`);
  for (const k of cuts) {
    const run = await playRun(options, k);
    report.runs++;
    if (run.cut !== null) {
      report.cutsByKind[run.cut.what] = (report.cutsByKind[run.cut.what] ?? 0) + 1;
      if (run.cut.torn) report.tornAppends++;
    }
    if (run.duplicated > 0) report.runsWithInFlightDuplicate++;
    report.duplicatedEvents += run.duplicated;
    report.lost += run.lost;
    report.violations.push(...run.violations);
    options.onRun?.(k, cuts.length);
  }
  report.realSeconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}
