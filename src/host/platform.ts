// The alarm mailer's platform on Node: a real serial port, files for the flash, node:crypto,
// and inputs a program (or a test) sets by name.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AlarmPlatform } from "../app/alarm.ts";
import type { DigitalInputPort } from "../app/ports.ts";
import { nodeCrypto } from "./crypto.ts";
import type { HostSerial } from "./serial.ts";
import { FileKeyValueStore, FileLogStore } from "./storage.ts";
import { nodeClock, nodeTimers } from "./timers.ts";

/** An input whose level is set from outside (a button in a UI, a test, the demo). */
export class SettableInput implements DigitalInputPort {
  level: 0 | 1;
  constructor(level: 0 | 1) {
    this.level = level;
  }
  read(): 0 | 1 {
    return this.level;
  }
}

export function hostPlatform(options: {
  serial: HostSerial;
  dataDir: string;
  inputs: Record<string, SettableInput>;
  trace?: (text: string) => void;
}): AlarmPlatform {
  mkdirSync(options.dataDir, { recursive: true });
  const platform: AlarmPlatform = {
    serial: options.serial,
    attachSerial: (engine) => options.serial.attach(engine),
    timers: nodeTimers,
    clock: nodeClock,
    log: new FileLogStore(join(options.dataDir, "outbox.log")),
    store: new FileKeyValueStore(join(options.dataDir, "state")),
    crypto: nodeCrypto,
    inputs: options.inputs,
  };
  if (options.trace) platform.trace = options.trace;
  return platform;
}
