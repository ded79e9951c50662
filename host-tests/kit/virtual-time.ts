// Virtual time meets real servers: the simulator's mail sessions run on the real network, so
// a test on a VirtualClock must not let virtual time race ahead (and fire the host's own
// timeouts) while the modem is still waiting for a server.

import type { VirtualClock } from "../../sim/scheduler.ts";
import type { SimModem } from "../../sim/modem/modem.ts";

/** One macrotask turn: queued Promise continuations and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Like `VirtualClock.runUntilAsync`: runs timers instant by instant until `predicate()` holds
 * or nothing is due within `limitMs`; but while any of `sims` waits on a server, it waits in
 * real time for that instead of moving the clock.
 */
export async function runWithNetwork(clock: VirtualClock, sims: SimModem | SimModem[], predicate: () => boolean, limitMs: number): Promise<boolean> {
  const list = Array.isArray(sims) ? sims : [sims];
  const end = clock.now() + limitMs;
  for (;;) {
    await settle();
    if (predicate()) return true;
    const busy = list.filter((sim) => sim.networkBusy);
    if (busy.length > 0) {
      await Promise.race(busy.map((sim) => sim.networkSettled()));
      continue;
    }
    const next = clock.nextDueAt();
    if (next === null || next > end) {
      await settle();
      if (predicate()) return true;
      if (list.some((sim) => sim.networkBusy)) continue;
      const later = clock.nextDueAt();
      if (later === null || later > end) return false;
      continue;
    }
    clock.advance(next - clock.now());
  }
}
