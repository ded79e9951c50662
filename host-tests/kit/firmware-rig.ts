// The firmware core against the simulator: a virtual clock, the kit's mock UART, a powered-on
// SimModem resolving mail.simmail.test to the loopback servers, and an AtEngine on the host
// end. `run` drives an operation to its end in virtual time that waits for the servers.

import { createUartPair, type UartOptions } from "./mock-uart.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";
import { runWithNetwork } from "./virtual-time.ts";
import { AtEngine } from "../../src/index.ts";

export interface FirmwareRigOptions {
  /** Simulator options, over the mail.simmail.test host entry. */
  sim?: SimOptions;
  /** Mock UART options (default 921,600 baud). */
  uart?: Omit<UartOptions, "scheduler">;
  /** The engine's receive line buffer (default: the engine's). */
  lineCapacity?: number;
}

export function firmwareRig(options: FirmwareRigOptions = {}) {
  const clock = new VirtualClock();
  const uart = createUartPair({ scheduler: clock, baud: 921_600, ...options.uart });
  const sim = new NodeSimModem({ hosts: { "mail.simmail.test": "127.0.0.1" }, ...options.sim });
  sim.attach(uart.modem);
  sim.powerOn({ quiet: true });
  const engine = new AtEngine({ serial: uart.host, timers: clock, ...(options.lineCapacity !== undefined ? { lineCapacity: options.lineCapacity } : {}) });
  uart.host.attach(engine);
  /** Runs an operation in virtual time that waits for the real servers when it must. */
  async function run<T>(operation: Promise<T>, limitMs = 300_000): Promise<T> {
    let settled = false;
    operation.then(() => (settled = true), () => (settled = true));
    await runWithNetwork(clock, sim, () => settled, limitMs);
    return operation;
  }
  return { clock, uart, sim, engine, run };
}
