// The fault soak as a command (the engine: host-tests/system/):
//
//   npm run soak -- --seed 1 --events 500            one seeded run
//   npm run soak -- --seed 1,2,3,4,5 --events 500    several seeds
//   npm run soak -- --field --seed 1 --events 500    the modem as in the field (sim/modem/field.ts)
//   npm run soak -- --power-cuts --events 200        a power cut at every flash write, through the app
//   npm run soak -- --power-cuts --events 200 --cuts 1-40
//   npm run soak -- --flood 2000 --events 200        N junk mails mixed in (no faults unless --faults R)
//   ... --markdown FILE                             also write the figures as a markdown table
//
// Prints a summary per run and in total; exits 1 when an invariant broke (an event lost or out
// of order, a command obeyed twice, a duplicate other than the mail in flight at a power cut;
// with --flood also: the outbox full, a signed command not obeyed, or obeyed later than the
// second poll cycle after it arrived).

import { writeFileSync } from "node:fs";
import { startMailServers } from "../sim/servers/index.ts";
import { soakUsers } from "../host-tests/system/rig.ts";
import { FAULT_KINDS, runSoak, type SoakReport } from "../host-tests/system/soak.ts";
import { runPowerCutSweep, type SweepReport } from "../host-tests/system/power-cuts.ts";

interface Args {
  seeds: number[];
  events: number | null;
  powerCuts: boolean;
  cuts: number[] | null;
  markdown: string | null;
  trace: boolean;
  field: boolean;
  flood: number;
  /** Faults per event; null: the soak's default (0.5), or none with --flood. */
  faults: number | null;
}

function usage(problem: string): never {
  console.error(`soak: ${problem}\nusage: npm run soak -- [--seed N[,N...]] [--events M] [--flood N] [--field] [--faults R] [--markdown FILE] [--trace]\n       npm run soak -- --power-cuts [--events M] [--cuts FROM-TO] [--markdown FILE]`);
  process.exit(2);
}

function positive(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1) usage(`${flag} needs a whole number of 1 or more, not ${text === undefined ? "nothing" : `"${text}"`}`);
  return value;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: [1], events: null, powerCuts: false, cuts: null, markdown: null, trace: false, field: false, flood: 0, faults: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case "--seed": {
        const text = value();
        args.seeds = (text ?? "").split(",").map((part) => positive("--seed", part));
        break;
      }
      case "--events": args.events = positive("--events", value()); break;
      case "--power-cuts": args.powerCuts = true; break;
      case "--cuts": {
        const text = value() ?? "";
        const range = /^(\d+)-(\d+)$/.exec(text);
        if (range === null || Number(range[1]) < 1 || Number(range[2]) < Number(range[1])) usage(`--cuts needs FROM-TO (e.g. 1-40), not "${text}"`);
        args.cuts = Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, k) => Number(range[1]) + k);
        break;
      }
      case "--markdown": args.markdown = value() ?? usage("--markdown needs a file name"); break;
      case "--trace": args.trace = true; break;
      case "--field": args.field = true; break;
      case "--flood": args.flood = positive("--flood", value()); break;
      case "--faults": {
        const text = value();
        const rate = Number(text);
        if (text === undefined || !Number.isFinite(rate) || rate < 0 || rate > 10) usage(`--faults needs faults per event from 0 to 10, not ${text === undefined ? "nothing" : `"${text}"`}`);
        args.faults = rate;
        break;
      }
      default: usage(`unknown argument "${flag}"`);
    }
  }
  return args;
}

function soakSummary(report: SoakReport): string {
  const faults = FAULT_KINDS.map((kind) => `${kind} ${report.faults[kind]}`).join(", ");
  const c = report.commands;
  return [
    `seed ${report.seed}: ${report.events} events (${report.recorded} recorded, ${report.cutWhileRecording} cut while recording), ${report.mails} mails, ${report.virtualHours} h virtual, ${report.realSeconds} s real`,
    `  faults: ${faults}`,
    `  lost ${report.lost.length}${report.lost.length ? ` (${report.lost.join(", ")})` : ""}, out of order ${report.outOfOrder}, duplicates ${report.duplicates} (${report.duplicateMails} mails), mismatches ${report.mismatches.length}`,
    `  commands: ${c.sent} sent (+${c.duplicated} duplicated, ${c.replays} replays), ${c.obeyed} obeyed, ${c.refused} refused, obeyed twice ${c.obeyedTwice.length}`,
    `  each command sent: ${fateList(c.fates.byFate)}${c.fates.staleAfterS ? ` (the stale ones first read ${c.fates.staleAfterS.min}-${c.fates.staleAfterS.max} s after sending)` : ""}`,
    `  copies and mails read again: ${fateList(c.fates.copies) || "none"}`,
    `  heap after GC (MB): ${report.heap.samplesMb.join(" ")}; drift ${report.heap.driftMb} MB`,
    ...(report.flood ? floodSummary(report) : []),
  ].join("\n");
}

function floodSummary(report: SoakReport): string[] {
  const f = report.flood!;
  return [
    `  flood: ${f.sent} junk mails (${fateList(f.kinds)}); verdicts on them: ${fateList(f.refusals as Record<string, number>)}`,
    `  flood: outbox full ${f.outboxFull.length} times, at most ${f.outboxPeakBytes} bytes; signed commands obeyed within ${f.maxCyclesToObey + 1} poll cycle(s) of arrival at worst, ${f.late.length} later`,
  ];
}

/** Fates in a fixed order (obeyed first, then by count), "name n, name n". */
function fateList(table: Record<string, number>): string {
  return Object.entries(table).sort(([a, x], [b, y]) => (a === "obeyed" ? -1 : b === "obeyed" ? 1 : y - x || a.localeCompare(b))).map(([fate, n]) => `${fate} ${n}`).join(", ");
}

/** Sums the fate tables of every run. */
function sumFates(tables: Array<Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const table of tables) for (const [fate, n] of Object.entries(table)) total[fate] = (total[fate] ?? 0) + n;
  return total;
}

/** One table, a row per run and a total row, a column per fate (those seen in any run). */
function fateTable(reports: SoakReport[], pick: (r: SoakReport) => Record<string, number>, last: string): string[] {
  const total = sumFates(reports.map(pick));
  const fates = Object.keys(total).sort((a, b) => (a === "obeyed" ? -1 : b === "obeyed" ? 1 : total[b] - total[a] || a.localeCompare(b)));
  const sumOf = (table: Record<string, number>) => Object.values(table).reduce((t, n) => t + n, 0);
  return [
    `| seed | ${fates.join(" | ")} | ${last} |`,
    `|---:|${fates.map(() => "---:").join("|")}|---:|`,
    ...reports.map((r) => `| ${r.seed} | ${fates.map((fate) => pick(r)[fate] ?? 0).join(" | ")} | ${sumOf(pick(r))} |`),
    `| **all** | ${fates.map((fate) => `**${total[fate]}**`).join(" | ")} | **${sumOf(total)}** |`,
  ];
}

function soakMarkdown(reports: SoakReport[]): string {
  const sum = (f: (r: SoakReport) => number) => reports.reduce((total, r) => total + f(r), 0);
  const lines = [
    "| seed | events | recorded | cut while recording | mails | lost | out of order | duplicates | commands sent / obeyed / refused | obeyed twice | heap drift (MB) | virtual h | real s |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ...reports.map((r) => `| ${r.seed} | ${r.events} | ${r.recorded} | ${r.cutWhileRecording} | ${r.mails} | ${r.lost.length} | ${r.outOfOrder} | ${r.duplicates} | ${r.commands.sent} (+${r.commands.duplicated} dup, ${r.commands.replays} replays) / ${r.commands.obeyed} / ${r.commands.refused} | ${r.commands.obeyedTwice.length} | ${r.heap.driftMb} | ${r.virtualHours} | ${r.realSeconds} |`),
    `| **all** | ${sum((r) => r.events)} | ${sum((r) => r.recorded)} | ${sum((r) => r.cutWhileRecording)} | ${sum((r) => r.mails)} | ${sum((r) => r.lost.length)} | ${sum((r) => r.outOfOrder)} | ${sum((r) => r.duplicates)} | ${sum((r) => r.commands.sent)} / ${sum((r) => r.commands.obeyed)} / ${sum((r) => r.commands.refused)} | ${sum((r) => r.commands.obeyedTwice.length)} | max ${Math.max(...reports.map((r) => r.heap.driftMb))} | ${Math.round(sum((r) => r.virtualHours) * 10) / 10} | ${Math.round(sum((r) => r.realSeconds))} |`,
    "",
    "Faults injected, by kind (those that took effect):",
    "",
    `| ${FAULT_KINDS.join(" | ")} | total |`,
    `|${FAULT_KINDS.map(() => "---:").join("|")}|---:|`,
    ...reports.map((r) => `| ${FAULT_KINDS.map((kind) => r.faults[kind]).join(" | ")} | ${FAULT_KINDS.reduce((t, kind) => t + r.faults[kind], 0)} |`),
    `| ${FAULT_KINDS.map((kind) => `**${sum((r) => r.faults[kind])}**`).join(" | ")} | **${sum((r) => FAULT_KINDS.reduce((t, kind) => t + r.faults[kind], 0))}** |`,
    "",
    "What became of each command sent (one fate per command, whatever its copies; the fates add up to the commands sent):",
    "",
    ...fateTable(reports, (r) => r.commands.fates.byFate, "sent"),
    "",
    "Stale commands, first read after sending (s): " + reports.map((r) => `seed ${r.seed}: ${r.commands.fates.staleAfterS ? `${r.commands.fates.staleAfterS.min}-${r.commands.fates.staleAfterS.max}` : "none"}`).join("; "),
    "",
    "Verdicts on the duplicated and replayed copies and on mails read again (the first verdict of each command aside):",
    "",
    ...fateTable(reports, (r) => r.commands.fates.copies, "total"),
    "",
    "Heap after GC along each run (MB): " + reports.map((r) => `seed ${r.seed}: ${r.heap.samplesMb.join(", ")}`).join("; "),
    ...floodMarkdown(reports),
  ];
  return lines.join("\n") + "\n";
}

function floodMarkdown(reports: SoakReport[]): string[] {
  const flooded = reports.filter((r) => r.flood !== null);
  if (flooded.length === 0) return [];
  return [
    "",
    "The flood: junk mails by kind, the app's verdicts on them, the outbox, and how soon each signed command was obeyed:",
    "",
    "| seed | junk mails | kinds | verdicts on junk | outbox full | outbox peak (bytes) | worst poll cycle of an obey | obeyed later |",
    "|---:|---:|---|---|---:|---:|---:|---:|",
    ...flooded.map((r) => {
      const f = r.flood!;
      return `| ${r.seed} | ${f.sent} | ${fateList(f.kinds)} | ${fateList(f.refusals as Record<string, number>)} | ${f.outboxFull.length} | ${f.outboxPeakBytes} | ${f.maxCyclesToObey + 1} | ${f.late.length} |`;
    }),
  ];
}

function soakViolations(report: SoakReport): string[] {
  return [
    ...report.lost.map((n) => `seed ${report.seed}: event ${n} lost`),
    ...(report.outOfOrder > 0 ? [`seed ${report.seed}: ${report.outOfOrder} first deliveries out of order`] : []),
    ...report.mismatches.map((m) => `seed ${report.seed}: ${m}`),
    ...report.commands.obeyedTwice.map((who) => `seed ${report.seed}: command of ${who} obeyed twice`),
    ...(Object.values(report.commands.fates.byFate).reduce((t, n) => t + n, 0) !== report.commands.sent ? [`seed ${report.seed}: the command fates do not add up to the ${report.commands.sent} sent`] : []),
    ...floodViolations(report),
  ];
}

/** With a flood and no faults, every signed command must be obeyed, and soon; the outbox never full. */
function floodViolations(report: SoakReport): string[] {
  const f = report.flood;
  if (f === null) return [];
  const unobeyed = report.faultsPerEvent === 0 ? Object.entries(report.commands.fates.byFate).filter(([fate]) => fate !== "obeyed") : [];
  return [
    ...f.outboxFull.slice(0, 5).map((line) => `seed ${report.seed}: ${line}`),
    ...f.late.map((line) => `seed ${report.seed}: ${line}`),
    ...unobeyed.map(([fate, n]) => `seed ${report.seed}: ${n} signed command(s) not obeyed: ${fate}`),
  ];
}

function sweepSummary(report: SweepReport): string {
  const kinds = Object.entries(report.cutsByKind).map(([kind, n]) => `${kind} ${n}`).join(", ");
  return [
    `power cuts through the app: ${report.events} events, ${report.writes} flash writes and ${report.mails} mails without a cut; ${report.runs} runs, ${report.realSeconds} s`,
    `  cuts by write: ${kinds}; torn appends ${report.tornAppends}`,
    `  lost ${report.lost}; runs where the mail in flight went twice ${report.runsWithInFlightDuplicate} (${report.duplicatedEvents} events); violations ${report.violations.length}`,
    ...report.violations.slice(0, 20).map((v) => `  ! ${v}`),
  ].join("\n");
}

function sweepMarkdown(report: SweepReport): string {
  return [
    "| events | flash writes (run without a cut) | mails | runs (one cut each) | cuts: append / put / replace | torn appends | lost | runs with the in-flight mail sent twice | events sent twice | other duplicates or violations |",
    "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    `| ${report.events} | ${report.writes} | ${report.mails} | ${report.runs} | ${report.cutsByKind.append ?? 0} / ${report.cutsByKind.put ?? 0} / ${(report.cutsByKind["replace-write"] ?? 0) + (report.cutsByKind["replace-rename"] ?? 0)} | ${report.tornAppends} | ${report.lost} | ${report.runsWithInFlightDuplicate} | ${report.duplicatedEvents} | ${report.violations.length} |`,
  ].join("\n") + "\n";
}

const args = parseArgs(process.argv.slice(2));
const servers = await startMailServers({ users: soakUsers(["ops"]) });
let failed = false;
try {
  if (args.powerCuts) {
    const report = await runPowerCutSweep({
      servers, recipient: "ops", events: args.events ?? 200, ...(args.cuts ? { cuts: args.cuts } : {}),
      onRun: (k, total) => { if (process.stderr.isTTY) process.stderr.write(`\r  cut ${k} of ${total}`); },
    });
    if (process.stderr.isTTY) process.stderr.write("\n");
    console.log(sweepSummary(report));
    failed = report.violations.length > 0;
    if (args.markdown) writeFileSync(args.markdown, sweepMarkdown(report));
  } else {
    const reports: SoakReport[] = [];
    for (const seed of args.seeds) {
      const faultsPerEvent = args.faults ?? (args.flood > 0 ? 0 : undefined);
      const report = await runSoak({
        servers, recipient: "ops", seed, events: args.events ?? 500, field: args.field, flood: args.flood,
        ...(faultsPerEvent !== undefined ? { faultsPerEvent } : {}),
        ...(args.trace ? { trace: (line: string) => console.log(line) } : {}),
      });
      reports.push(report);
      console.log(soakSummary(report));
    }
    const violations = reports.flatMap(soakViolations);
    for (const violation of violations) console.log(`! ${violation}`);
    failed = violations.length > 0;
    console.log(`${reports.length} run(s), ${reports.reduce((t, r) => t + r.events, 0)} events: ${failed ? `${violations.length} violation(s)` : "every invariant held"}`);
    if (args.markdown) writeFileSync(args.markdown, soakMarkdown(reports));
  }
} finally {
  await servers.stop();
}
process.exit(failed ? 1 : 0);
