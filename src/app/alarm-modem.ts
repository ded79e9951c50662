// The alarm mailer's modem: its AT engine, the Modem, and the mail dialect the first probe picks
// (it serves every mail and poll); the work of bringing it up, and the readings a status mail
// reports. The supervisor (./alarm.ts) decides when each step runs.

import type { AtTracer } from "../transport/engine.ts";
import { AtEngine } from "../transport/engine.ts";
import { Modem, type Battery, type BringUpOptions, type Dialect, type ModemClock, type ModemStatus, type Signal } from "../modem/modem.ts";
import { probeEmail } from "../modem/probe.ts";
import type { MailDialect } from "../mail/dialect.ts";
import { openMailDialect } from "../mail/dialects.ts";
import { ALARM_DEFAULTS, type AlarmConfig } from "./alarm-config.ts";
import type { AlarmPlatform } from "./ports.ts";
import { detail } from "../transport/detail.ts";

/** Time a restarted or switched-on modem needs to boot (RDY, +CPIN: READY, SMS Ready) before the bring-up. */
const BOOT_MS = 5_000;
/** The wait after the first failed bring-up; it doubles with each failure in a row. */
const FIRST_BACKOFF_MS = 5_000;

export interface ModemReadings {
  signal: Signal | null;
  battery: Battery | null;
  /** Why a reading is missing, "" when none is. */
  unavailable: string;
}

export class AlarmModem {
  readonly engine: AtEngine;
  readonly modem: Modem;
  private readonly platform: AlarmPlatform;
  private readonly config: AlarmConfig["modem"];
  /** As configured; undefined: the first probe tells it by the test commands. */
  private readonly dialect: Dialect | undefined;
  private readonly trace: (text: string) => void;
  private picked: MailDialect | null = null;
  /** Failed bring-ups in a row. */
  private failures = 0;

  constructor(config: AlarmConfig["modem"], platform: AlarmPlatform) {
    this.config = config;
    this.platform = platform;
    this.dialect = config.dialect;
    this.trace = platform.trace ?? (() => {});
    this.engine = new AtEngine({ serial: platform.serial, timers: platform.timers, syncAttempts: 4, bootWindowMs: config.bootWindowMs ?? ALARM_DEFAULTS.bootWindowMs });
    if (platform.trace) this.engine.tracer = lineTracer(platform.trace);
    platform.attachSerial(this.engine);
    this.modem = new Modem(this.engine, platform.timers);
  }

  /** The mail dialect; only after a bring-up. */
  get mail(): MailDialect {
    if (this.picked === null) throw new Error("AlarmModem.mail: the modem was never brought up");
    return this.picked;
  }

  /** Whether the board can switch the modem on (a PWRKEY is wired). */
  get canPowerOn(): boolean {
    return this.platform.powerKey !== undefined;
  }

  /** AT+CFUN=1,1, then the boot's wait: `wait` must not end early (nothing may speak to a booting modem). */
  async restart(wait: (ms: number) => Promise<void>): Promise<void> {
    this.trace("restarting the modem" + detail(": it may still hold an unfinished mail or POP3 session"));
    await this.modem.restart();
    await wait(BOOT_MS);
  }

  /** A PWRKEY pulse, the boot's wait (as for `restart`), then AT until OK. */
  async powerOn(wait: (ms: number) => Promise<void>): Promise<void> {
    this.trace("modem silent: pulsing PWRKEY");
    await this.platform.powerKey!();
    await wait(BOOT_MS);
    await this.modem.sync();
  }

  /** The probe (it picks the dialect, which opens the bearer: it comes first, needing no network), the bring-up, the modem's clock. */
  async bringUp(): Promise<{ status: ModemStatus; clock: ModemClock | null }> {
    const trace = this.trace;
    const capabilities = await probeEmail(this.engine, this.dialect);
    const mail = (this.picked ??= openMailDialect(capabilities, this.modem, this.platform.timers, this.config.baud ?? ALARM_DEFAULTS.baud));
    mail.adopt(capabilities);
    const config = this.config;
    const options: BringUpOptions = {
      skipTime: config.skipTime === true,
      onStep: (step, detail) => trace(`modem ${step}: ${detail}`),
      bearer: (bearer) => mail.openBearer(bearer),
    };
    for (const key of ["apn", "apnUser", "apnPassword", "cid", "ntpServer", "timezoneQuarters"] as const) {
      if (config[key] !== undefined) (options as Record<string, unknown>)[key] = config[key];
    }
    const status = await this.modem.bringUp(options);
    const clock = status.clock ?? (await this.modem.clock());
    this.failures = 0;
    trace(`modem ready: ${status.operator || "network"}, ${status.bearerIp}`);
    return { status, clock };
  }

  /** Counts a failed bring-up; returns the wait before the next: doubling up to `maxMs`, ±20 % jitter. */
  failedBringUp(maxMs: number): number {
    this.failures++;
    const base = Math.min(FIRST_BACKOFF_MS * 2 ** (this.failures - 1), maxMs);
    const seed = this.platform.crypto.randomBytes(1)[0] / 255;
    return base * (0.8 + 0.4 * seed);
  }

  /** Signal and battery for a status mail; what the modem does not answer is left out, with the reason. */
  async readings(): Promise<ModemReadings> {
    const readings: ModemReadings = { signal: null, battery: null, unavailable: "" };
    try {
      readings.signal = await this.modem.signal();
      readings.battery = await this.modem.battery();
    } catch (error) {
      readings.unavailable = error instanceof Error ? error.message : String(error);
    }
    return readings;
  }

  /** Ends the engine's work and timers: what still runs fails at once. */
  close(): void {
    this.engine.close();
    this.modem.close();
  }

  /** Releases the mail dialect's timers, once nothing runs any more. */
  closeMail(): void {
    this.picked?.close();
  }
}

function lineTracer(trace: (text: string) => void): AtTracer {
  return {
    line: (direction, text) => trace(`${direction === "tx" ? ">" : "<"} ${text}`),
    data: (direction, length) => trace(`${direction === "tx" ? ">" : "<"} [${length} bytes]`),
  };
}
