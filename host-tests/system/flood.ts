// The soak's junk-mail flood (issue 15.1, `npm run soak -- --flood N`): N junk mails of assorted
// sizes and senders in bursts along the run, and what the run must show with them: every signed
// command obeyed once, within two poll cycles of its arrival, and the outbox never full.

import type { RefusalReason } from "../../src/app/remote-command.ts";
import { seededRandom } from "../../src/app/wall-clock.ts";
import type { Verdict } from "./rig.ts";

/** An allowlisted sender whose mails are junk all the same (bad tokens, no token). */
export const JUNK_OPERATOR = "junk-ops@simmail.test";
/** The header reader keeps 512 bytes of a From (src/mail/codec/header-reader.ts); past that it is cut, and refused as such. */
const LONGEST_FROM = 512;
/** Over the app's default command mail cap (commandMailMaxBytes, 64 KiB): deleted unread by its LIST size. */
const OVERSIZE_BYTES = 70_000;

export interface JunkPlan {
  /** Virtual ms of each junk mail, in order. */
  at: number[];
}

/** `count` junk mails in bursts of 1-60 over `spanMs`, from their own random stream (the rest of the plan is the same with or without them). */
export function planFlood(seed: number, count: number, spanMs: number): JunkPlan {
  const random = seededRandom(seed ^ 0xf100d);
  const at: number[] = [];
  while (at.length < count) {
    const start = Math.floor(random.random() * spanMs);
    const burst = Math.min(count - at.length, 1 + Math.floor(random.random() * 60));
    for (let k = 0; k < burst; k++) at.push(start + k * Math.floor(random.random() * 2_000));
  }
  return { at: at.sort((a, b) => a - b) };
}

/** The kinds of junk, each refused for its own reason. */
const KINDS = ["long-forged", "overlong-from", "junk-operator-bad-token", "junk-operator-no-token", "two-addresses", "look-alike", "oversize", "big-headers"] as const;
export type JunkKind = (typeof KINDS)[number];

/** Junk mail number `n` (deterministic in `n` and `seed`): its raw text and kind. */
export function junkMail(seed: number, n: number): { raw: string; kind: JunkKind } {
  const random = seededRandom((seed * 7919) ^ n);
  const kind = KINDS[Math.floor(random.random() * KINDS.length)];
  const local = (length: number) => `junk${n}-${"j".repeat(Math.max(1, length - String(n).length - 5))}`;
  let from: string;
  let subject = `offer ${n}`;
  let extraHeaders = "";
  let bodyBytes = Math.floor(random.random() * 20_000);
  switch (kind) {
    case "long-forged": {
      // From values of every length up to the longest the reader keeps whole.
      const length = 20 + Math.floor(random.random() * (LONGEST_FROM - 40));
      from = `"${"n".repeat(Math.max(1, length - 220))}" <${local(Math.min(200, length))}@evil.test>`.slice(0, LONGEST_FROM);
      if (!from.endsWith(">")) from = `<${local(Math.min(200, length))}@evil.test>`;
      break;
    }
    case "overlong-from":
      from = `"${"n".repeat(LONGEST_FROM)}" <${local(60)}@evil.test>`;
      break;
    case "junk-operator-bad-token":
      from = JUNK_OPERATOR;
      subject = `SIMMAIL DISARM ${1_700_000_000 + n} 0123456789abcdef ${"0".repeat(64)}`;
      break;
    case "junk-operator-no-token":
      from = `"Ops" <${JUNK_OPERATOR}>`;
      subject = "please disarm";
      break;
    case "two-addresses":
      from = `<${local(30)}@evil.test> <${JUNK_OPERATOR}>`;
      break;
    case "look-alike":
      from = `\u212A${local(20)}@evil.test`;
      break;
    case "oversize":
      from = `<${local(40)}@evil.test>`;
      bodyBytes = OVERSIZE_BYTES + Math.floor(random.random() * 100_000);
      break;
    case "big-headers":
      from = `<${local(40)}@evil.test>`;
      extraHeaders = `X-Padding: ${"p".repeat(70)}\r\n`.repeat(1 + Math.floor(random.random() * 200));
      break;
  }
  const line = "junk body line, junk body line, junk body line\r\n";
  const body = line.repeat(Math.ceil(bodyBytes / line.length));
  return { kind, raw: `${extraHeaders}From: ${from}\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <junk-${n}@flood.test>\r\n\r\n${body}` };
}

/**
 * A verdict on a junk mail: anything but an operator's (ops-<n>, see rig.ts), or one given
 * unread for its size. A mail read again, known by its UIDL, is left to the command fates,
 * which trace it back to its first verdict. Without wire noise (a flood runs without faults
 * unless asked) an operator's sender always arrives as sent.
 */
export function isJunkVerdict(verdict: Verdict): boolean {
  if (verdict.kind === "refused" && verdict.reason === "already-processed") return false;
  return !/^ops-\d+@simmail\.test$/.test(verdict.sender) || (verdict.kind === "refused" && verdict.reason === "oversize");
}

export interface FloodReport {
  sent: number;
  /** Junk sent, by kind. */
  kinds: Record<string, number>;
  /** Verdicts on junk mails, by reason (a mail read again after a failed session counts again). */
  refusals: Partial<Record<RefusalReason | "accepted", number>>;
  /** Signed commands: poll cycles ended between arrival and obey, most seen; and those obeyed after more than one (goal: none). */
  maxCyclesToObey: number;
  late: string[];
  /** Traced "outbox full" lines (goal: none); the outbox's largest size seen. */
  outboxFull: string[];
  outboxPeakBytes: number;
}

/** Poll cycles that ended after `arrived` and before `obeyed`: 0 or 1 when the command was obeyed in the first or second cycle that could read it. */
export function cyclesBetween(cycleEnds: number[], arrived: number, obeyed: number): number {
  return cycleEnds.filter((end) => end > arrived && end < obeyed).length;
}
