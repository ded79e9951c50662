// Power-on through the simulator: the modem is switched on while the engine's first sync is
// waiting, so its RDY lands in the middle of that sync. Bring-up goes through at the first try;
// a RDY once the modem has answered is still a reset.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AtEngine, Modem, ModemResetError } from "../../src/index.ts";
import { createUartPair } from "../kit/mock-uart.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";

const test = suite("sim: power-on with RDY during the first sync");

function setup() {
  const clock = new VirtualClock();
  const { host, modem: modemSide } = createUartPair({ scheduler: clock, baud: 115200 });
  const sim = new NodeSimModem({ scheduler: clock });
  sim.attach(modemSide);
  const engine = new AtEngine({ serial: host, timers: clock, syncTimeoutMs: 500 });
  host.attach(engine);
  const modem = new Modem(engine, clock);
  /** Runs virtual time until `operation` settles; returns its error (null: it succeeded). */
  const finish = async (operation: Promise<unknown>): Promise<unknown> => {
    let settled = false;
    let error: unknown = null;
    operation.then(() => (settled = true), (e: unknown) => ((settled = true), (error = e)));
    assert.ok(await clock.runUntilAsync(() => settled, 120_000), "the operation did not end");
    return error;
  };
  return { clock, sim, engine, modem, finish };
}

test("switched on while the first AT waits: bring-up succeeds at once, RDY counted as a boot", async () => {
  const { clock, sim, engine, modem, finish } = setup();
  const bringUp = modem.bringUp({ apn: "internet", skipTime: true });
  clock.advance(700); // two sync ATs sent into a modem that is still off
  await Promise.resolve();
  assert.is(engine.stats.resyncs, 2, "two sync tries so far");
  sim.powerOn(); // RDY at once, while the sync's AT is still waiting
  assert.is(await finish(bringUp), null, "bring-up failed");
  assert.is(engine.stats.boots, 1);
  assert.is(engine.stats.resets, 0);
});

test("once the modem has answered, a restart's RDY fails the command in flight with ModemResetError", async () => {
  const { sim, engine, modem, finish } = setup();
  sim.powerOn({ quiet: true });
  assert.is(await finish(modem.bringUp({ apn: "internet", skipTime: true })), null);
  const signal = modem.signal();
  sim.reset();
  const error = await finish(signal);
  assert.instance(error, ModemResetError);
  assert.is((error as ModemResetError).reset, "reset");
  assert.is(engine.stats.resets, 1);
  assert.is(engine.stats.boots, 0);
  // And the modem comes back: the next bring-up works.
  assert.is(await finish(modem.bringUp({ apn: "internet", skipTime: true })), null);
});

test.run();
