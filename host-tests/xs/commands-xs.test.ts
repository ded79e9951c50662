// XS suite: the alarm mailer's command polls under the real XS engine, many of them, each with
// data never seen before (UIDL, nonce, Message-ID, signing time), on timers that hold what they
// reach until closed, as Moddable's do. The heap after GC must not grow with the polls, and no
// timer may be left open: a leak here is a slow death for firmware that runs for months.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runInXs, type XsStepResult } from "./run-xs.ts";

const repo = join(import.meta.dirname, "..", "..");
const WALL_AT_ZERO = Date.UTC(2026, 11, 1, 12, 0, 0);
/** More than the ledger keeps (32 nonces, 32 UIDLs): it is full before the heap is measured. */
const WARM_UP_POLLS = 40;
const POLLS = 500;
/** Polls come this often here, so a long run takes little virtual (and real) time. */
const POLL_INTERVAL_MS = 1_000;
const IDLE_MS = 120_000;

const test = suite("XS: command polls without heap growth");

test(`${POLLS} command polls, each with a new UIDL and nonce: every command obeyed, no timer left open, heap flat`, async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-commands-xs-"));
  try {
    const bundle = join(scratch, "alarm-xs.js");
    await build({
      absWorkingDir: repo,
      entryPoints: [join(import.meta.dirname, "alarm-xs-entry.ts")],
      outfile: bundle,
      bundle: true,
      format: "iife",
      globalName: "alarmXs",
      footer: { js: "globalThis.alarmXs = alarmXs;" },
      target: "es2022",
      platform: "neutral",
      minify: true,
      logLevel: "error",
    });
    const polls = (count: number) => `(async () => {
      for (let i = 0; i < ${count}; i++) await rig.commandCycle();
      // Idle long enough for every cancelled timer of the virtual clock to fall due and go.
      await rig.runUntil(() => false, ${IDLE_MS});
      report(rig.timers.open.size);
      report(rig.app.status());
    })();`;
    const { steps } = await runInXs({
      scripts: [bundle],
      steps: [
        {
          name: "set-up",
          code: `
            globalThis.rig = alarmXs.createAlarmRig({ wallAtZero: ${WALL_AT_ZERO}, secret: "correct horse battery staple 42", allowlist: ["ops@example.net"], pollIntervalMs: ${POLL_INTERVAL_MS} });
            rig.app.start();
            rig.runUntil(() => rig.steps.includes("poll-done"), 120000).then(report);`,
        },
        { name: "warm-up", code: polls(WARM_UP_POLLS), gc: true },
        { name: "idle", code: "", gc: true },
        { name: "polls", code: polls(POLLS), gc: true },
      ],
    }, 120_000);
    const step = (name: string): XsStepResult => steps.find((s) => s.name === name)!;

    assert.equal(step("set-up").reports, [true], "modem up and the first (empty) poll done");
    const [openAfterWarmUp] = step("warm-up").reports as [number];
    const [openAfterPolls, status] = step("polls").reports as [number, Record<string, unknown>];
    const commands = WARM_UP_POLLS + POLLS;
    // Every STATUS obeyed and answered by its status mail; nothing refused, nothing failed.
    assert.equal(status, { armed: true, modemReady: true, outboxDepth: 0, lastError: "", mailsSent: commands, commandsObeyed: commands, commandsRefused: 0 });
    assert.equal(step("polls").reports.length, 2);

    const before = step("idle").heapAfterGc!;
    const drift = before - step("warm-up").heapAfterGc!;
    const after = step("polls").heapAfterGc!;
    console.log(`  XS heap after GC: ${before} slots after ${WARM_UP_POLLS} polls, ${after} after ${POLLS} more (harness drift ${drift} per step); ${openAfterPolls} timers open; ${Math.round(step("polls").meterUsage.compute / POLLS)} compute per poll`);
    assert.is(openAfterPolls, openAfterWarmUp, `${POLLS} polls left ${openAfterPolls - openAfterWarmUp} more timers open (on the device each holds its owner for good)`);
    assert.ok(after - before - drift <= 0, `${POLLS} command polls grew the XS heap by ${after - before - drift} slots`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
