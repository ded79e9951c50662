// The fault soak, short (the long run is `npm run soak`): the alarm app against the simulator
// with every kind of fault, then the invariants of issue #8 on what the SMTP server received.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { soakUsers } from "./rig.ts";
import { FAULT_KINDS, runSoak, type SoakReport } from "./soak.ts";

let servers: MailServers;
const soak = suite("soak: the alarm app under random faults, seeded");

soak.before(async () => {
  servers = await startMailServers({ users: soakUsers(["ops"]) });
});
soak.after(async () => {
  await servers.stop();
});

/** The plan of a run without its timings (which fault, how many mails, commands ...). */
function outcome(report: SoakReport) {
  const { heap: _heap, realSeconds: _real, ...rest } = report;
  return rest;
}

soak("40 events under a fault per event: none lost, in order, no command obeyed twice, heap flat", async () => {
  const report = await runSoak({ servers, recipient: "ops", seed: 11, events: 40, faultsPerEvent: 1, commandsPerEvent: 0.2 });
  for (const kind of FAULT_KINDS) assert.ok(report.faults[kind] > 0, `the run injected ${kind} (${JSON.stringify(report.faults)})`);
  assert.ok(report.commands.duplicated > 0 && report.commands.replays > 0, `commands were duplicated and replayed (${JSON.stringify(report.commands)})`);
  assert.is(report.recorded + report.cutWhileRecording, 40, "every event was recorded or its write cut");
  assert.equal(report.lost, [], "no recorded event lost");
  assert.is(report.outOfOrder, 0, "first deliveries in sequence order");
  assert.equal(report.mismatches, [], "every delivered number is the one recorded");
  assert.equal(report.commands.obeyedTwice, [], "no command obeyed twice");
  assert.ok(report.commands.obeyed >= 1 && report.commands.obeyed <= report.commands.sent, `obeyed ${report.commands.obeyed} of ${report.commands.sent}`);
  assert.ok(report.commands.refused >= report.commands.duplicated + report.commands.replays, "every duplicate and replay refused");
  const { byFate, copies } = report.commands.fates;
  const total = (table: Record<string, number>) => Object.values(table).reduce((a, b) => a + b, 0);
  assert.is(total(byFate), report.commands.sent, `one fate per command sent (${JSON.stringify(byFate)})`);
  assert.is(byFate.obeyed ?? 0, report.commands.obeyed, "every obey is one command's");
  const unrecognisable = Object.entries(copies).filter(([name]) => name.endsWith("sender unrecognisable")).reduce((a, [, n]) => a + n, 0);
  assert.ok((byFate["no verdict traced to it"] ?? 0) <= unrecognisable, `a command without a verdict of its own had its sender garbled (${JSON.stringify(copies)})`);
  assert.ok(total(copies) >= report.commands.duplicated + report.commands.replays, `a verdict on every copy (${JSON.stringify(copies)})`);
  // Bounded, not a leak per event; `npm run soak` measures the drift over long runs.
  assert.ok(report.heap.driftMb < 8, `heap drift ${report.heap.driftMb} MB (${report.heap.samplesMb.join(", ")})`);
});

soak("the same invariants with the modem as in the field (boot lines anywhere, odd echoes and lines, noise at resets)", async () => {
  const report = await runSoak({ servers, recipient: "ops", seed: 16, events: 30, faultsPerEvent: 1, commandsPerEvent: 0.2, field: true });
  assert.ok(report.faults["modem-reset"] > 0, `the run reset the modem (${JSON.stringify(report.faults)})`);
  assert.is(report.recorded + report.cutWhileRecording, 30, "every event was recorded or its write cut");
  assert.equal(report.lost, [], "no recorded event lost");
  assert.is(report.outOfOrder, 0, "first deliveries in sequence order");
  assert.equal(report.mismatches, [], "every delivered number is the one recorded");
  assert.equal(report.commands.obeyedTwice, [], "no command obeyed twice");
  assert.ok(report.commands.obeyed >= 1, `obeyed ${report.commands.obeyed} of ${report.commands.sent}`);
});

soak("a junk-mail flood mixed in (no faults): every signed command obeyed once, within two poll cycles of arrival; the outbox never full; none lost", async () => {
  const report = await runSoak({ servers, recipient: "ops", seed: 3, events: 20, faultsPerEvent: 0, commandsPerEvent: 0.3, flood: 150 });
  const flood = report.flood!;
  assert.is(flood.sent, 150);
  assert.ok(Object.keys(flood.kinds).length >= 6, `assorted junk (${JSON.stringify(flood.kinds)})`);
  assert.ok((flood.refusals.oversize ?? 0) > 0, `oversize mails deleted unread (${JSON.stringify(flood.refusals)})`);
  assert.is(flood.refusals.accepted, undefined, "no junk obeyed");
  assert.equal(flood.outboxFull, [], "the outbox never full");
  assert.equal(flood.late, [], "every command obeyed within two poll cycles of its arrival");
  assert.ok(report.commands.sent > 0);
  assert.equal(report.commands.fates.byFate, { obeyed: report.commands.sent }, "every signed command obeyed");
  assert.equal(report.commands.obeyedTwice, []);
  assert.equal(report.lost, []);
});

soak("the same seed plays the same run", async () => {
  const first = await runSoak({ servers, recipient: "ops", seed: 5, events: 10, faultsPerEvent: 1, commandsPerEvent: 0.3 });
  const again = await runSoak({ servers, recipient: "ops", seed: 5, events: 10, faultsPerEvent: 1, commandsPerEvent: 0.3 });
  assert.equal(outcome(again), outcome(first));
  assert.ok(Object.values(first.faults).reduce((a, b) => a + b, 0) > 5, "with faults");
});

soak.run();
