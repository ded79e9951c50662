// The AlarmPlatform of the test rigs (Node and XS): the host end of the kit's mock UART, a
// virtual clock for timers and uptime, the outbox and the key-value store on the mock flash.
import type { AlarmPlatform } from "../../src/app/alarm.ts";
import type { Crypto, DigitalInputPort } from "../../src/app/ports.ts";
import type { HostSerial } from "./mock-uart.ts";
import type { VirtualClock } from "../../sim/scheduler.ts";
import { MockKeyValueStore, MockLogStore, type MockFlash } from "./mock-flash.ts";

export interface MockPlatformParts {
  host: HostSerial;
  clock: VirtualClock;
  flash: MockFlash;
  crypto: Crypto;
  inputs: Record<string, DigitalInputPort>;
  trace?: (text: string) => void;
  /** The outbox's size limit (AlarmPlatform.logBytes). */
  logBytes?: number;
}

export function mockPlatform(parts: MockPlatformParts): AlarmPlatform {
  const { host, clock, flash } = parts;
  return {
    serial: host,
    attachSerial: (engine) => host.attach(engine),
    timers: clock,
    clock,
    log: new MockLogStore(flash, "outbox"),
    ...(parts.logBytes !== undefined ? { logBytes: parts.logBytes } : {}),
    store: new MockKeyValueStore(flash),
    crypto: parts.crypto,
    inputs: parts.inputs,
    ...(parts.trace !== undefined ? { trace: parts.trace } : {}),
  };
}
