// The link-sync machine on its own: the rows of its transition table (link-sync.ts), driven
// through a host that records what the machine asks of the engine.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { AtCommandError, AtTimeoutError, LinkState, LinkSync, ModemResetError, Report } from "../../../src/transport/index.ts";

function machine(syncOnStart: boolean) {
  const clock = new VirtualClock();
  const asked: string[] = [];
  const stats = { resyncs: 0, boots: 0 };
  const link = new LinkSync({ timers: clock, syncOnStart, syncTimeoutMs: 200, syncAttempts: 2, quietMs: 50 }, {
    sendSync: () => asked.push("AT"),
    linkReady: () => asked.push("ready"),
    syncGaveUp: () => asked.push("gave up"),
  }, stats);
  return { clock, asked, stats, link };
}

const table = suite("link sync: transitions");

table("Booting → (AT) → Quiet → (silent gap) → Ready; RDY while booting is a boot", () => {
  const { clock, asked, stats, link } = machine(true);
  assert.is(link.state, LinkState.Booting);
  assert.is(link.report("reset"), Report.Boot);
  link.start();
  assert.equal(asked, ["AT"]);
  assert.is(link.state, LinkState.Booting, "RDY is still expected while the tries go on");
  link.syncEnded(null);
  assert.is(link.state, LinkState.Quiet);
  clock.advance(40);
  link.heard();
  clock.advance(49);
  assert.is(link.state, LinkState.Quiet, "a byte restarted the gap");
  clock.advance(1);
  assert.is(link.state, LinkState.Ready);
  assert.equal(asked, ["AT", "ready"]);
  assert.equal(stats, { resyncs: 1, boots: 1 });
});

table("an answer other than OK ends the boot expectation; every try failing fails the waiting work", () => {
  const { asked, link } = machine(true);
  link.start();
  link.syncEnded(new AtCommandError("AT", "ERROR"));
  assert.is(link.state, LinkState.Syncing, "the modem answered: it is up");
  assert.equal(asked, ["AT", "AT"]);
  link.syncEnded(new AtTimeoutError("AT", 200));
  assert.equal(asked, ["AT", "AT", "gave up"]);
  assert.match(link.giveUpError("AT+CSQ").message, /sync before AT\+CSQ, 2 tries/);
  assert.is(link.report("reset"), Report.Lost, "once up, a RDY is a reset");
  assert.is(link.state, LinkState.Unknown);
});

table("a gap that never falls quiet is a failed try", () => {
  const { clock, asked, link } = machine(false);
  link.requestSync();
  assert.is(link.state, LinkState.Unknown);
  link.start();
  assert.is(link.state, LinkState.Syncing);
  link.syncEnded(null);
  for (let t = 0; t < 200; t += 10) {
    clock.advance(10);
    link.heard();
  }
  assert.is(link.state, LinkState.Syncing);
  assert.equal(asked, ["AT", "AT"]);
});

table("requestSync or an abort during the gap: out of step again; power-down: booting", () => {
  const { link } = machine(false);
  link.start();
  assert.is(link.state, LinkState.Ready, "in step: nothing to send");
  link.requestSync();
  link.start();
  link.syncEnded(null);
  link.requestSync();
  assert.is(link.state, LinkState.Unknown);
  link.start();
  link.syncEnded(null);
  link.aborted();
  assert.is(link.state, LinkState.Unknown);
  assert.is(link.report("power-down"), Report.Lost);
  assert.is(link.state, LinkState.Booting);
  link.syncEnded(new ModemResetError("power-down"));
  assert.is(link.state, LinkState.Booting, "a reset's end leaves the state the report set");
});

table("an ordered restart: its RDY is that boot, once; a sync the modem answers ends the expectation", () => {
  const { link } = machine(false);
  link.expectBoot();
  assert.is(link.report("reset"), Report.OrderedBoot);
  assert.is(link.state, LinkState.Unknown);
  assert.is(link.report("reset"), Report.Lost, "a second RDY is a reset");
  link.expectBoot();
  link.start();
  link.syncEnded(null);
  assert.is(link.report("reset"), Report.Lost);
});

table.run();
