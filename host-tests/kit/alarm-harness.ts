// AlarmApp on the mock flash, the mock UART, the simulated SIM7000 and the real mail servers,
// in virtual time that waits for the servers: the set-up the end-to-end suites share.
import { createUartPair } from "./mock-uart.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import type { MailServers } from "../../sim/servers/index.ts";
import { SimModem } from "../../sim/modem/modem.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";
import { runWithNetwork } from "./virtual-time.ts";
import { MockFlash } from "./mock-flash.ts";
import { mockPlatform } from "./mock-platform.ts";
import { AlarmApp, type AlarmConfig, type AlarmPlatform } from "../../src/app/alarm.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SettableInput } from "../../src/host/platform.ts";

export const SECRET = "correct horse battery staple 42";

export interface AlarmSetupOptions {
  /** Replaces parts of the default configuration (sender policy, pop3: null ...). */
  config?: Partial<AlarmConfig>;
  /** Simulator options (battery, network). */
  sim?: ConstructorParameters<typeof SimModem>[0];
  /** Keep every byte on the UART in `transcript`. */
  record?: boolean;
  /** The app's trace (default: console.log when TRACE is set). */
  trace?: (text: string) => void;
  /** The modem is switched on as the app starts (its boot lines, a field modem's silence), not long up. */
  boot?: boolean;
  /** The outbox's size limit (AlarmPlatform.logBytes; default 256 KiB). */
  logBytes?: number;
  /** A previous set-up's `storage`: the device boots again on what it stored (a reboot). Default blank flash. */
  storage?: AlarmStorage;
}

/** The device's flash and what lives on it: the outbox and the key-value store. */
export interface AlarmStorage {
  flash: MockFlash;
  log: AlarmPlatform["log"];
  store: AlarmPlatform["store"];
}

/** The default configuration: one door input, alarms mailed to `user`@simmail.test, commands polled. */
export function alarmConfig(servers: MailServers, user: string): AlarmConfig {
  return {
    deviceId: "pump-house-1",
    siteName: "Pump house",
    modem: { apn: "internet", skipTime: true },
    smtp: {
      host: "mail.simmail.test", port: servers.smtpPort, user: "alarm", password: "alarm-secret",
      from: { address: "alarm@simmail.test", name: "Pump house" },
      to: [{ address: `${user}@simmail.test`, name: "Ops" }],
    },
    pop3: {
      host: "mail.simmail.test", port: servers.pop3Port, user: "alarm", password: "alarm-secret",
      pollIntervalMs: 60_000, allowlist: ["ops@simmail.test"], secret: SECRET,
    },
    inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50 }],
    sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: 7 * 86_400_000 },
  };
}

/** The app with one door input, mailing `user`@simmail.test; `until` runs virtual time. */
export function setupAlarm(servers: MailServers, user: string, options: AlarmSetupOptions = {}) {
  const clock = new VirtualClock(1_000);
  const { host, modem, transcript } = createUartPair({ scheduler: clock, baud: 921_600, record: options.record ?? false });
  const sim = new NodeSimModem({ hosts: { "mail.simmail.test": "127.0.0.1" }, clock: { startMs: Date.now() }, ...options.sim });
  sim.attach(modem);
  sim.powerOn({ quiet: options.boot !== true });
  const flash = options.storage?.flash ?? new MockFlash();
  const door = new SettableInput(0);
  const config: AlarmConfig = { ...alarmConfig(servers, user), ...options.config };
  const platform: AlarmPlatform = {
    ...mockPlatform({
      host, clock, flash, crypto: nodeCrypto, inputs: { door },
      ...(options.logBytes !== undefined ? { logBytes: options.logBytes } : {}),
      ...(options.trace !== undefined ? { trace: options.trace } : process.env.TRACE ? { trace: (t: string) => console.log(t) } : {}),
    }),
    ...(options.storage !== undefined ? { log: options.storage.log, store: options.storage.store } : {}),
  };
  const app = new AlarmApp(config, platform);
  const storage: AlarmStorage = { flash, log: platform.log, store: platform.store };
  const steps: string[] = [];
  app.onProgress = (step) => steps.push(step);
  const until = (predicate: () => boolean, limitMs = 600_000) => runWithNetwork(clock, sim, predicate, limitMs);
  return { clock, sim, app, door, steps, until, transcript, storage };
}
