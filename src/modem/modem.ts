// Modem bring-up, bearer and network time. Each step has its own timeout and a typed error.

import type { Line } from "../transport/bytes.ts";
import { AtCommand, Verdict } from "../transport/command.ts";
import type { AtEngine, UrcHandler } from "../transport/engine.ts";
import { AtError, AtTimeoutError } from "../transport/errors.ts";
import { MatchTable } from "../transport/match.ts";
import type { Deadline, TimerPort } from "../transport/ports.ts";
import { fields, query, TextCommand } from "./basic.ts";
import { BearerLostError, ModemError, type ModemStep } from "./errors.ts";

export type Dialect = "sim7000" | "classic";

export interface BringUpOptions {
  /** Access point name; without it the bearer must already be open. */
  apn?: string;
  apnUser?: string;
  apnPassword?: string;
  /** Bearer profile of AT+SAPBR / AT+EMAILCID. Default 1. */
  cid?: number;
  /** AT+IPR: switch the modem to this fixed baud rate (the binding then follows). */
  baudRate?: number;
  /** Network time: NTP server for AT+CNTP (default "pool.ntp.org"), time zone in quarter hours. */
  ntpServer?: string;
  timezoneQuarters?: number;
  /** Skip network time (the modem clock is already right). */
  skipTime?: boolean;
  /** How long to wait for packet-service attach (AT+CGATT? polled). Default 60 s. */
  attachTimeoutMs?: number;
  /** Called between steps, for progress reports. */
  onStep?: (step: ModemStep, detail: string) => void;
}

export interface Signal {
  /** 0-31, 99 = unknown. */
  rssi: number;
  ber: number;
  /** Signal in dBm, or null when unknown. */
  dbm: number | null;
}

export interface ModemClock {
  /** UTC milliseconds since 1970. */
  epochMs: number;
  /** Offset from UTC in quarter hours, as the modem reports it. */
  timezoneQuarters: number;
  /** The modem's own text, e.g. "18/12/26,10:36:57+32". */
  text: string;
}

export interface ModemStatus {
  sim: string;
  signal: Signal;
  operator: string;
  bearerIp: string;
  clock: ModemClock | null;
}

export interface Battery {
  charging: number;
  percent: number;
  millivolts: number;
}

const SAPBR_DEACT = 0;

/** Parses the +CCLK text `yy/MM/dd,hh:mm:ss±zz` (zz in quarter hours). */
export function parseClock(text: string): ModemClock | null {
  const clean = text.trim().replace(/"/g, "");
  const m = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d?)?$/.exec(clean);
  if (!m) return null;
  // Two-digit years: the modem's unset clock reads 1980 (80/01/06), network time is 20xx.
  const yy = Number(m[1]);
  const tz = m[7] === undefined ? 0 : Number(m[7]);
  const local = Date.UTC(yy >= 70 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return { epochMs: local - tz * 15 * 60_000, timezoneQuarters: tz, text: clean };
}

export function rssiToDbm(rssi: number): number | null {
  if (rssi === 99 || rssi < 0 || rssi > 31) return null;
  return -113 + 2 * rssi;
}

/** AT+CNTP: OK, then `+CNTP: <code>[,"<time>"]`. */
class NetworkTimeCommand extends AtCommand {
  code = 0;
  constructor(timeoutMs: number) {
    super(12);
    this.text.raw("AT+CNTP").end();
    this.okIsFinal = false;
    this.timeoutMs = timeoutMs;
    this.responses = new MatchTable([{ text: "+CNTP:", id: 0 }]);
  }
  override onMatch(_id: number, line: Line): number {
    this.code = line.int();
    return this.result();
  }
}

export class Modem {
  readonly engine: AtEngine;
  readonly dialect: Dialect;
  /** Bearer profile used for email. */
  cid = 1;
  bearerUp = false;
  /** Listeners told when the network drops the bearer. */
  onBearerLost: ((error: BearerLostError) => void) | null = null;
  private readonly deactHandler: UrcHandler;
  private readonly waitTimer: Deadline;
  private wake: (() => void) | null = null;

  constructor(engine: AtEngine, timers: TimerPort, dialect: Dialect = "sim7000") {
    this.engine = engine;
    this.dialect = dialect;
    this.waitTimer = timers.deadline(() => {
      const wake = this.wake;
      this.wake = null;
      wake?.();
    });
    const modem = this;
    this.deactHandler = {
      table: new MatchTable([{ text: "+SAPBR ", id: SAPBR_DEACT }]),
      receiveLength: 0,
      onUrc(_id: number, line: Line): number {
        // "+SAPBR 1: DEACT": the cid sits between the space and the colon.
        const cid = line.int();
        if (!line.text().endsWith("DEACT")) return Verdict.NotMine;
        modem.bearerReleased(Number.isNaN(cid) ? modem.cid : cid);
        return Verdict.Continue;
      },
      onLine: () => Verdict.NotMine,
      onData() {},
    };
    engine.addUrcHandler(this.deactHandler);
  }

  /** `AT` until `OK` (the engine syncs first), echo off, optional fixed baud rate. */
  async sync(baudRate?: number): Promise<void> {
    await this.step("sync", () => this.engine.run(new TextCommand("AT", 1000)), "the modem does not answer AT");
    await this.step("echo", () => query(this.engine, (c) => c.text.raw("ATE0"), 1000), "the modem refused ATE0");
    if (baudRate !== undefined) {
      await this.step("baud", () => query(this.engine, (c) => c.text.raw("AT+IPR=").int(baudRate, "baud rate"), 1000), `the modem refused baud rate ${baudRate}`);
    }
  }

  async identity(): Promise<{ model: string; revision: string }> {
    const ati = new TextCommand("ATI", 2000);
    await this.engine.run(ati);
    const rev = new TextCommand("AT+CGMR", 2000);
    await this.engine.run(rev);
    return {
      model: ati.lines.filter((l) => l !== "").join(" ").trim(),
      revision: rev.lines.filter((l) => l !== "").join(" ").replace(/^Revision:\s*/, "").trim(),
    };
  }

  async simStatus(): Promise<string> {
    const info = await this.step("sim", () => query(this.engine, (c) => c.text.raw("AT+CPIN?"), 5000, "+CPIN:"), "SIM status query failed");
    return (info[0] ?? "").trim();
  }

  async signal(): Promise<Signal> {
    const info = await this.step("signal", () => query(this.engine, (c) => c.text.raw("AT+CSQ"), 2000, "+CSQ:"), "signal query failed");
    const [rssi, ber] = fields(info[0] ?? "").map(Number);
    return { rssi, ber, dbm: rssiToDbm(rssi) };
  }

  async attached(): Promise<boolean> {
    const info = await this.step("attach", () => query(this.engine, (c) => c.text.raw("AT+CGATT?"), 5000, "+CGATT:"), "attach query failed");
    return (info[0] ?? "").trim() === "1";
  }

  async operator(): Promise<string> {
    const info = await query(this.engine, (c) => c.text.raw("AT+COPS?"), 5000, "+COPS:");
    const f = fields(info[0] ?? "");
    return f[2] ?? "";
  }

  async battery(): Promise<Battery> {
    const info = await query(this.engine, (c) => c.text.raw("AT+CBC"), 2000, "+CBC:");
    const [charging, percent, millivolts] = fields(info[0] ?? "").map(Number);
    return { charging, percent, millivolts };
  }

  async clock(): Promise<ModemClock | null> {
    const info = await this.step("time", () => query(this.engine, (c) => c.text.raw("AT+CCLK?"), 2000, "+CCLK:"), "clock query failed");
    return parseClock(info[0] ?? "");
  }

  /** AT+SAPBR=2,cid: [status, ip]; status 1 = connected. */
  async bearerState(cid = this.cid): Promise<{ status: number; ip: string }> {
    const info = await this.step("bearer", () => query(this.engine, (c) => c.text.raw("AT+SAPBR=2,").int(cid, "cid"), 5000, "+SAPBR:"), "bearer query failed");
    const f = fields(info[0] ?? "");
    const status = Number(f[1]);
    this.bearerUp = status === 1;
    return { status, ip: f[2] ?? "" };
  }

  async openBearer(options: BringUpOptions): Promise<string> {
    const cid = (this.cid = options.cid ?? 1);
    const engine = this.engine;
    if (options.apn !== undefined) {
      const apn = options.apn;
      await this.step("apn", () => query(engine, (c) => c.text.raw("AT+CGDCONT=").int(cid, "cid").raw(',"IP",').quoted(apn, "APN"), 5000), "APN setup (AT+CGDCONT) failed");
      await this.step("apn", () => query(engine, (c) => c.text.raw("AT+SAPBR=3,").int(cid, "cid").raw(',"APN",').quoted(apn, "APN"), 5000), "bearer APN setup failed");
      if (options.apnUser) {
        const user = options.apnUser;
        await this.step("apn", () => query(engine, (c) => c.text.raw("AT+SAPBR=3,").int(cid, "cid").raw(',"USER",').quoted(user, "APN user"), 5000), "bearer user setup failed");
      }
      if (options.apnPassword) {
        const pwd = options.apnPassword;
        await this.step("apn", () => query(engine, (c) => c.text.raw("AT+SAPBR=3,").int(cid, "cid").raw(',"PWD",').quoted(pwd, "APN password", true), 5000), "bearer password setup failed");
      }
    }
    let state = await this.bearerState(cid);
    if (state.status !== 1) {
      if (options.apn === undefined) {
        throw new ModemError("bearer", `bearer ${cid} is not open and no APN was given to open it`);
      }
      // Opening can take the network up to 85 s on SIM7000.
      await this.step("bearer", () => query(engine, (c) => c.text.raw("AT+SAPBR=1,").int(cid, "cid"), 85_000), `opening bearer ${cid} failed`);
      state = await this.bearerState(cid);
      if (state.status !== 1) throw new ModemError("bearer", `bearer ${cid} did not come up (status ${state.status})`);
    }
    this.bearerUp = true;
    return state.ip;
  }

  async closeBearer(cid = this.cid): Promise<void> {
    await this.step("bearer", () => query(this.engine, (c) => c.text.raw("AT+SAPBR=0,").int(cid, "cid"), 65_000), `closing bearer ${cid} failed`);
    this.bearerUp = false;
  }

  /** Sets the modem clock from the network (AT+CNTPCID, AT+CNTP) and reads it back. */
  async syncTime(server = "pool.ntp.org", timezoneQuarters = 0, cid = this.cid): Promise<ModemClock> {
    const engine = this.engine;
    await this.step("time", () => query(engine, (c) => c.text.raw("AT+CNTPCID=").int(cid, "cid"), 5000), "AT+CNTPCID failed");
    await this.step("time", () => query(engine, (c) => c.text.raw("AT+CNTP=").quoted(server, "NTP server").raw(",").int(timezoneQuarters, "time zone"), 5000), "AT+CNTP setup failed");
    const ntp = new NetworkTimeCommand(65_000);
    await this.step("time", () => engine.run(ntp), "network time failed");
    if (ntp.code !== 1) throw new ModemError("time", `network time failed: +CNTP: ${ntp.code}`);
    const clock = await this.clock();
    if (clock === null) throw new ModemError("time", "the modem clock answer could not be read");
    return clock;
  }

  /**
   * Restarts the modem (AT+CFUN=1,1); it boots (RDY ...) within seconds, with every setting,
   * bearer and transfer gone. The one way to end a mail the modem still holds after the host
   * lost track of it (the SIM7000 has no command that aborts a send).
   */
  async restart(): Promise<void> {
    this.engine.expectBoot();
    await this.step("restart", () => query(this.engine, (c) => c.text.raw("AT+CFUN=1,1"), 10_000), "the modem refused AT+CFUN=1,1");
    this.bearerUp = false;
  }

  /** The whole bring-up of spec sections 4 and 5.1. */
  async bringUp(options: BringUpOptions = {}): Promise<ModemStatus> {
    const report = options.onStep ?? (() => {});
    await this.sync(options.baudRate);
    report("sync", "modem answers");
    const sim = await this.simStatus();
    if (sim !== "READY") throw new ModemError("sim", `the SIM is not ready (+CPIN: ${sim})`);
    report("sim", sim);
    const signal = await this.signal();
    report("signal", signal.dbm === null ? "unknown" : `${signal.dbm} dBm`);
    const deadline = options.attachTimeoutMs ?? 60_000;
    let waited = 0;
    while (!(await this.attached())) {
      if (waited >= deadline) throw new ModemError("attach", `not attached to packet service after ${Math.round(waited / 1000)} s (AT+CGATT? = 0)`);
      await this.pause(1000);
      waited += 1000;
    }
    report("attach", "attached");
    const operator = await this.operator();
    const bearerIp = await this.openBearer(options);
    report("bearer", bearerIp);
    let clock: ModemClock | null = null;
    if (!options.skipTime) {
      clock = await this.syncTime(options.ntpServer, options.timezoneQuarters ?? 0);
      report("time", clock.text);
    }
    return { sim, signal, operator, bearerIp, clock };
  }

  close(): void {
    this.engine.removeUrcHandler(this.deactHandler);
    this.waitTimer.close();
    // A pause in progress ends now (its caller's next command fails on the closed engine).
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private bearerReleased(cid: number): void {
    if (cid !== this.cid) return;
    this.bearerUp = false;
    const error = new BearerLostError(cid);
    // A command in its data phase runs to its end (the modem then fails the mail or read with 61).
    if (this.engine.busy && !this.engine.exchangingData) {
      this.engine.abortAll(error);
      this.engine.requestSync();
    }
    this.onBearerLost?.(error);
  }

  /** Waits `ms` on the modem's own re-armable timer. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.waitTimer.arm(ms);
    });
  }

  private async step<T>(step: ModemStep, action: () => Promise<T>, failure: string): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof ModemError) throw error;
      if (error instanceof AtError && error.kind === "modem-reset") throw error;
      const detail = error instanceof AtTimeoutError ? "no answer in time" : error instanceof Error ? error.message : String(error);
      throw new ModemError(step, `${failure}: ${detail}`, error);
    }
  }
}
