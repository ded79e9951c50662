// The fault soak (issue #8): a seeded plan of events, signed commands (some replayed) and
// faults — modem resets, bearer drops, server outages, silent, hanging-up and slow servers,
// garbage and dropped bytes toward the host, a shrinking SMTPFT <maxLength>, power cuts at a
// flash write or at any moment — played against one simulated device (rig.ts). At the end every
// fault is lifted, the device drains its outbox, and the recipient's mails are checked:
// every event delivered at least once, first deliveries in sequence order, no command obeyed
// twice, and the Node heap after GC sampled along the run. Same seed, same plan.

import type { MailServers } from "../../sim/servers/index.ts";
import type { FaultTrigger, SimFaults } from "../../sim/modem/modem.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { seededRandom } from "../../src/app/wall-clock.ts";
import { checkDeliveries, clearMailbox, DEVICE_ID, heapAfterGc, operatorAddress, readDeliveries, seededCrypto, SOAK_SECRET, SoakRig, type Verdict } from "./rig.ts";
import { cyclesBetween, isJunkVerdict, JUNK_OPERATOR, junkMail, planFlood, type FloodReport } from "./flood.ts";

export const FAULT_KINDS = [
  "modem-reset", "bearer-drop", "server-outage", "server-silent", "server-hangup", "server-slow",
  "wire-noise", "ft-shrink", "power-cut-at-write", "power-cut",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  servers: MailServers;
  /** The mailbox the device mails to (emptied first). */
  recipient: string;
  seed: number;
  events: number;
  /** Faults planned per event, on average. Default 0.5. */
  faultsPerEvent?: number;
  /** Signed commands per event, on average. Default 0.1. */
  commandsPerEvent?: number;
  /** Mean virtual time between events (bursts aside). Default 30 s. */
  meanGapMs?: number;
  /** Heap samples over the run. Default 10. */
  heapSamples?: number;
  /** Junk mails mixed into the run, in bursts (./flood.ts). Default 0. */
  flood?: number;
  trace?: (line: string) => void;
  /** The modem behaves as modems in the field do (sim/modem/field.ts). */
  field?: boolean;
}

export interface SoakReport {
  seed: number;
  events: number;
  faultsPerEvent: number;
  /** Events whose record() returned (the ones that must arrive). */
  recorded: number;
  /** Events whose write a power cut hit (may or may not arrive). */
  cutWhileRecording: number;
  mails: number;
  /** Faults that took effect, by kind. */
  faults: Record<FaultKind, number>;
  /** Harness numbers of recorded events never delivered (goal: none). */
  lost: number[];
  /** First deliveries that came after a higher sequence number (goal: 0). */
  outOfOrder: number;
  /** Deliveries of an event beyond its first. */
  duplicates: number;
  /** Mails that only repeated events delivered before. */
  duplicateMails: number;
  /** Delivered sequence numbers that disagree with what the harness recorded (goal: none). */
  mismatches: string[];
  commands: { sent: number; duplicated: number; replays: number; obeyed: number; refused: number; obeyedTwice: string[]; fates: CommandFates };
  heap: { samplesMb: number[]; driftMb: number };
  /** With `flood`: what the junk met and what the signed commands did meanwhile. */
  flood: FloodReport | null;
  virtualHours: number;
  realSeconds: number;
}

/**
 * What became of each command sent, counted once per command (not per copy): `byFate` adds up
 * to the commands sent. A fate is "obeyed"; "accepted, never obeyed" (its nonce went into the
 * ledger, the obey never came); "refused <reason>" (the first verdict on its copies, none
 * accepted); "in the mailbox at the end"; or "no verdict traced to it" (its mail's sender was
 * garbled past recognition: that verdict is among the copies, "sender unrecognisable"). `copies` are the
 * other verdicts: on the duplicated and replayed copies, on mails read again after a failed
 * session, and on mails whose sender noise made unrecognisable.
 */
export interface CommandFates {
  byFate: Record<string, number>;
  copies: Record<string, number>;
  /** For the commands refused as stale: how long after sending they were first read (s), lowest and highest. */
  staleAfterS: { min: number; max: number } | null;
}

type Action =
  | { at: number; kind: "event"; n: number }
  | { at: number; kind: "fault"; fault: FaultKind }
  | { at: number; kind: "end-window"; window: "server" | "noise" | "shrink"; token: number }
  | { at: number; kind: "command"; id: number; duplicated: boolean }
  | { at: number; kind: "replay"; id: number }
  | { at: number; kind: "junk"; n: number };

const TRIGGER_COMMANDS = ["AT+SMTPSEND", "AT+SMTPFT", "AT+SMTPBODY", "AT+POP3IN", "AT+POP3READ", "AT+POP3NUM", "AT+SAPBR", "AT+EMAILCID"];
const COMMANDS = ["ARM", "DISARM", "STATUS", "TEST"] as const;
const DRAIN_LIMIT_MS = 12 * 3_600_000;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const { servers, recipient, seed, events } = options;
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.random() * list.length)];
  const between = (low: number, high: number) => low + Math.floor(random.random() * (high - low + 1));
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;

  // ---- the plan --------------------------------------------------------------------------
  const plan: Action[] = [];
  const meanGap = options.meanGapMs ?? 30_000;
  let commandCount = 0;
  let t = 0;
  for (let n = 1; n <= events; n++) {
    const gap = random.random() < 0.25 ? between(0, 500) : Math.round(-Math.log(1 - random.random()) * meanGap);
    if (random.random() < (options.faultsPerEvent ?? 0.5)) plan.push({ at: t + Math.floor(random.random() * gap), kind: "fault", fault: pick(FAULT_KINDS) });
    if (random.random() < (options.commandsPerEvent ?? 0.1)) {
      const id = ++commandCount;
      const at = t + Math.floor(random.random() * gap);
      plan.push({ at, kind: "command", id, duplicated: random.random() < 0.2 });
      if (random.random() < 0.3) plan.push({ at: at + between(1_000, 1_200_000), kind: "replay", id });
    }
    t += gap;
    plan.push({ at: t, kind: "event", n });
  }
  const flood = options.flood ?? 0;
  planFlood(seed, flood, t).at.forEach((at, k) => plan.push({ at, kind: "junk", n: k + 1 }));
  plan.sort((a, b) => a.at - b.at);

  // ---- the device ------------------------------------------------------------------------
  await clearMailbox(servers, recipient);
  await clearMailbox(servers, "alarm");
  const rig = new SoakRig({
    servers, recipient, seed, operators: commandCount, pollIntervalMs: 60_000, field: options.field === true,
    ...(flood > 0 ? { extraAllowlist: [JUNK_OPERATOR] } : {}),
    simTrace: (line) => {
      if (line === "fault: reset") faults["modem-reset"]++;
      else if (line === "fault: drop-bearer") faults["bearer-drop"]++;
    },
    ...(options.trace ? { trace: options.trace } : {}),
  });
  const { sim, flash } = rig;
  rig.boot();
  if (!(await rig.runUntil(() => rig.app.status().modemReady, 600_000))) throw new Error(`soak seed ${seed}: the modem never came up (${rig.app.lastError})`);

  const seqOf = new Map<number, number>();
  let cutWhileRecording = 0;
  const commandMails = new Map<number, string>();
  const commandSentAt = new Map<number, number>();
  const commandCrypto = seededCrypto(seed ^ 0x5eed);
  const secret = secretFromText(SOAK_SECRET);
  let commandsSent = 0;
  let duplicated = 0;
  let replays = 0;
  const windows = { server: 0, noise: 0, shrink: 0 };
  const heapEvery = Math.max(1, Math.ceil(events / (options.heapSamples ?? 10)));
  const heap: number[] = [];
  const junkKinds: Record<string, number> = {};
  let outboxPeakBytes = 0;

  const openWindow = (window: "server" | "noise" | "shrink", change: Partial<SimFaults>, at: number) => {
    sim.setFaults(change);
    const token = ++windows[window];
    insert({ at: at + between(20_000, 600_000), kind: "end-window", window, token });
  };
  const insert = (action: Action) => {
    let i = plan.length;
    while (i > 0 && plan[i - 1].at > action.at) i--;
    plan.splice(i, 0, action);
  };

  for (let i = 0; i < plan.length; i++) {
    const action = plan[i];
    await rig.advanceTo(action.at);
    outboxPeakBytes = Math.max(outboxPeakBytes, rig.app.outbox.store.size());
    switch (action.kind) {
      case "junk": {
        const { raw, kind } = junkMail(seed, action.n);
        junkKinds[kind] = (junkKinds[kind] ?? 0) + 1;
        await servers.deliver("alarm", raw);
        break;
      }
      case "event": {
        const seq = await rig.record(action.n);
        if (seq === null) cutWhileRecording++;
        else seqOf.set(action.n, seq);
        if (action.n % heapEvery === 0) heap.push(heapAfterGc());
        break;
      }
      case "command": {
        const subject = signCommandSubject(commandCrypto, secret, DEVICE_ID, pick(COMMANDS), Math.floor(rig.wallNow() / 1000));
        const mail = (copy: string) => `From: Ops <${operatorAddress(action.id)}>\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <cmd-${action.id}-${copy}@soak.test>\r\n\r\ncommand\r\n`;
        commandMails.set(action.id, subject);
        commandSentAt.set(action.id, rig.clock.now());
        await servers.deliver("alarm", mail("1"));
        commandsSent++;
        if (action.duplicated) {
          await servers.deliver("alarm", mail("2"));
          duplicated++;
        }
        break;
      }
      case "replay": {
        const subject = commandMails.get(action.id)!;
        await servers.deliver("alarm", `From: Ops <${operatorAddress(action.id)}>\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <cmd-${action.id}-replay@soak.test>\r\n\r\ncommand\r\n`);
        replays++;
        break;
      }
      case "end-window": {
        if (windows[action.window] !== action.token) break; // a later window of the same kind replaced it
        if (action.window === "server") sim.setFaults({ server: null });
        if (action.window === "noise") sim.setFaults({ outputNoise: null });
        if (action.window === "shrink") sim.setFaults({ ftShrink: null });
        break;
      }
      case "fault":
        if (action.fault === "power-cut") await rig.powerCycle();
        else inject(action.fault, action.at);
        break;
    }
  }

  function inject(fault: FaultKind, at: number): void {
    switch (fault) {
      case "modem-reset":
      case "bearer-drop": {
        const action = fault === "modem-reset" ? "reset" : "drop-bearer";
        // Half at once, half at the next command of a kind (in the middle of a send or a poll).
        if (random.random() < 0.5) {
          if (action === "reset") sim.reset();
          else sim.dropBearer(1);
          faults[fault]++;
        } else {
          const trigger: FaultTrigger = { command: pick(TRIGGER_COMMANDS), action };
          sim.setFaults({ triggers: [trigger] }); // counted when it fires (simulator trace)
        }
        break;
      }
      case "server-outage":
        openWindow("server", { server: { kind: "refuse" } }, at);
        faults[fault]++;
        break;
      case "server-silent":
        openWindow("server", { server: { kind: "silent", afterLines: between(0, 8) } }, at);
        faults[fault]++;
        break;
      case "server-hangup":
        openWindow("server", { server: { kind: "hangup", afterLines: between(0, 8) } }, at);
        faults[fault]++;
        break;
      case "server-slow":
        openWindow("server", { server: { kind: "slow", delayMs: between(5, 30) } }, at);
        faults[fault]++;
        break;
      case "wire-noise":
        openWindow("noise", { outputNoise: { seed: between(1, 1 << 30), dropRate: 0.002, corruptRate: 0.002, insertRate: 0.002 } }, at);
        faults[fault]++;
        break;
      case "ft-shrink":
        openWindow("shrink", { ftShrink: { afterChunks: between(0, 3), maxLength: between(16, 1000) } }, at);
        faults[fault]++;
        break;
      case "power-cut-at-write":
        flash.cutAfter(between(1, 12)); // counted when it hits (rig.cutsAtWrite)
        break;
      case "power-cut":
        throw new Error("inject: a power cut at any moment is the loop's (it awaits the reboot)");
    }
  }

  // ---- drain: every fault lifted, the device delivers what is pending ----------------------
  sim.setFaults({ triggers: [], server: null, outputNoise: null, ftShrink: null });
  flash.cutAtWrite = null;
  const drainEnd = rig.clock.now() + DRAIN_LIMIT_MS;
  for (;;) {
    const drained = await rig.runUntil(() => rig.app.outbox.depth === 0, drainEnd - rig.clock.now());
    const waiting = (await servers.messages("alarm")).length;
    if (drained && waiting === 0) break;
    if (rig.clock.now() >= drainEnd) throw new Error(`soak seed ${seed}: not drained after ${DRAIN_LIMIT_MS / 3_600_000} h: ${rig.app.outbox.depth} events pending, ${waiting} command mails unread (${rig.app.lastError})`);
    await rig.advanceTo(rig.clock.now() + 60_000);
  }
  heap.push(heapAfterGc());
  await rig.stop();
  const junkVerdicts = flood > 0 ? rig.verdicts.filter(isJunkVerdict) : [];
  const commandVerdicts = flood > 0 ? rig.verdicts.filter((verdict) => !isJunkVerdict(verdict)) : rig.verdicts;
  const fates = commandFates(commandVerdicts, rig.obeyed, commandSentAt, (await servers.messages("alarm")).map((raw) => raw.toString("latin1")));
  let floodReport: FloodReport | null = null;
  if (flood > 0) {
    const refusals: FloodReport["refusals"] = {};
    for (const verdict of junkVerdicts) {
      const key = verdict.kind === "accepted" ? "accepted" : verdict.reason;
      refusals[key] = (refusals[key] ?? 0) + 1;
    }
    let maxCyclesToObey = 0;
    const late: string[] = [];
    for (const [id, sentAt] of commandSentAt) {
      const obeyedAt = rig.obeyedAt.get(operatorAddress(id));
      if (obeyedAt === undefined) continue; // not obeyed: its fate says why
      const cycles = cyclesBetween(rig.pollCycleEnds, sentAt, obeyedAt);
      maxCyclesToObey = Math.max(maxCyclesToObey, cycles);
      if (cycles > 1) late.push(`command ${id}: ${cycles + 1} poll cycles after it arrived (${Math.round((obeyedAt - sentAt) / 1000)} s)`);
    }
    floodReport = { sent: flood, kinds: junkKinds, refusals, maxCyclesToObey, late, outboxFull: rig.outboxFull, outboxPeakBytes };
  }

  // ---- checks ----------------------------------------------------------------------------
  const mails = await readDeliveries(servers, recipient);
  const { lost, outOfOrder, duplicates, duplicateMails, mismatches } = checkDeliveries(mails, seqOf);
  faults["power-cut-at-write"] = rig.cutsAtWrite;
  faults["power-cut"] = rig.cutsAnytime;
  const obeyedTwice = [...rig.obeyed].filter(([, count]) => count > 1).map(([who, count]) => `${who} x${count}`);
  const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 100) / 100;
  const baseline = heap[Math.min(heap.length - 1, Math.floor(heap.length / 5))];
  return {
    seed, events, faultsPerEvent: options.faultsPerEvent ?? 0.5, recorded: seqOf.size, cutWhileRecording, mails: mails.length, faults, lost, outOfOrder, duplicates, duplicateMails, mismatches,
    commands: { sent: commandsSent, duplicated, replays, obeyed: rig.totals.obeyed, refused: rig.totals.refused, obeyedTwice, fates },
    heap: { samplesMb: heap.map(mb), driftMb: mb(heap[heap.length - 1] - baseline) },
    flood: floodReport,
    virtualHours: Math.round((rig.clock.now() / 3_600_000) * 10) / 10,
    realSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

/** A verdict as a fate name; a refusal of a sender garbled on the wire is named so. */
function verdictName(verdict: Verdict, garbled: boolean): string {
  if (verdict.kind === "accepted") return "accepted";
  return `refused ${verdict.reason}${garbled ? " (From garbled on the wire)" : ""}`;
}

/**
 * Sorts each command sent (by id, with its virtual send time) into one fate, from the
 * verifier's verdicts and the obeys the rig saw. A mail read again after a session that failed
 * before QUIT is refused as already processed: its UIDL leads back to its first verdict, which
 * is what counts. A sender garbled by wire noise is traced back to its command by its number.
 */
export function commandFates(verdicts: Verdict[], obeyed: Map<string, number>, sentAt: Map<number, number>, leftInMailbox: string[]): CommandFates {
  const byFate: Record<string, number> = {};
  const copies: Record<string, number> = {};
  const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
  const commandOf = (sender: string): number | null => {
    const id = Number(/^ops-(\d+)@/.exec(sender)?.[1]);
    return sentAt.has(id) ? id : null;
  };
  const firstByUid = new Map<string, Verdict>();
  const byCommand = new Map<number, Array<{ name: string; verdict: Verdict }>>();
  for (const verdict of verdicts) {
    if (verdict.kind === "refused" && verdict.reason === "already-processed") {
      const earlier = verdict.uid === null ? undefined : firstByUid.get(verdict.uid);
      if (earlier !== undefined) {
        count(copies, "read again after a failed session (already processed)");
        continue;
      }
      // No verdict was seen for that UIDL: a power cut hit the write that recorded it.
    } else if (verdict.uid !== null && !firstByUid.has(verdict.uid)) {
      firstByUid.set(verdict.uid, verdict);
    }
    const id = commandOf(verdict.sender);
    const garbled = id !== null && verdict.sender !== operatorAddress(id);
    const name = verdict.kind === "refused" && verdict.reason === "already-processed" ? "already processed, its first verdict cut at the ledger write" : verdictName(verdict, garbled);
    if (id === null) {
      count(copies, `${name}, sender unrecognisable`);
      continue;
    }
    const list = byCommand.get(id);
    if (list === undefined) byCommand.set(id, [{ name, verdict }]);
    else list.push({ name, verdict });
  }
  let stale: { min: number; max: number } | null = null;
  for (const [id, at] of sentAt) {
    const sender = operatorAddress(id);
    const seen = byCommand.get(id) ?? [];
    const accepted = seen.findIndex((entry) => entry.verdict.kind === "accepted");
    const deciding = accepted >= 0 ? accepted : 0;
    seen.forEach((entry, i) => i !== deciding && count(copies, entry.name));
    if ((obeyed.get(sender) ?? 0) > 0) {
      count(byFate, "obeyed");
    } else if (accepted >= 0) {
      // The nonce went into the ledger, the obey never came: the command is lost.
      count(byFate, "accepted, never obeyed");
    } else if (seen.length > 0) {
      const { name, verdict } = seen[0];
      count(byFate, name);
      if (verdict.kind === "refused" && verdict.reason === "stale-token") {
        const after = Math.round((verdict.atMs - at) / 1000);
        stale = stale === null ? { min: after, max: after } : { min: Math.min(stale.min, after), max: Math.max(stale.max, after) };
      }
    } else if (leftInMailbox.some((raw) => raw.includes(`<${sender}>`))) {
      count(byFate, "in the mailbox at the end");
    } else {
      count(byFate, "no verdict traced to it");
    }
  }
  return { byFate, copies, staleAfterS: stale };
}
