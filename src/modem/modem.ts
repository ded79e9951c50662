// Modem bring-up, bearer and network time: the conversations as one step table, each step
// with its own timeout, each failure a typed error naming the step.

import type { Line } from "../transport/bytes.ts";
import { Verdict } from "../transport/command.ts";
import type { AtEngine, UrcHandler } from "../transport/engine.ts";
import { AtError, AtTimeoutError } from "../transport/errors.ts";
import { MatchTable } from "../transport/match.ts";
import type { Deadline, TimerPort } from "../transport/ports.ts";
import { runStep, steps, type Reply, type Step, type StepArgument } from "../transport/step.ts";
import { BearerLostError, ModemError, type ModemStep } from "./errors.ts";
import { better, optionalQuery, registration, simProblem, simRefusal, type Registration } from "./sim-network.ts";

/** Spec sections 4 and 5.1, and the SIM7000 AT manual for the general commands. */
const AT = steps({
  ping: { request: "AT", text: true, timeoutMs: 1000 },
  echoOff: { request: "ATE0", timeoutMs: 1000 },
  identity: { request: "ATI", text: true, timeoutMs: 2000 },
  revision: { request: "AT+CGMR", text: true, timeoutMs: 2000 },
  sim: { request: "AT+CPIN?", lines: ["+CPIN:"], timeoutMs: 5000 },
  lteRegistration: { request: "AT+CEREG?", lines: ["+CEREG:"], timeoutMs: 5000 },
  gprsRegistration: { request: "AT+CGREG?", lines: ["+CGREG:"], timeoutMs: 5000 },
  signal: { request: "AT+CSQ", lines: ["+CSQ:"], timeoutMs: 2000 },
  attached: { request: "AT+CGATT?", lines: ["+CGATT:"], timeoutMs: 5000 },
  operator: { request: "AT+COPS?", lines: ["+COPS:"], timeoutMs: 5000 },
  battery: { request: "AT+CBC", lines: ["+CBC:"], timeoutMs: 2000 },
  clock: { request: "AT+CCLK?", lines: ["+CCLK:"], timeoutMs: 2000 },
  setClock: { request: 'AT+CCLK="<time>"', timeoutMs: 2000 },
  pdpContext: { request: 'AT+CGDCONT=<cid>,"IP","<APN>"', timeoutMs: 5000 },
  bearerApn: { request: 'AT+SAPBR=3,<cid>,"APN","<APN>"', timeoutMs: 5000 },
  bearerUser: { request: 'AT+SAPBR=3,<cid>,"USER","<APN user>"', timeoutMs: 5000 },
  bearerPassword: { request: 'AT+SAPBR=3,<cid>,"PWD","<APN password>"', secret: "APN password", timeoutMs: 5000 },
  bearerState: { request: "AT+SAPBR=2,<cid>", lines: ["+SAPBR:"], timeoutMs: 5000 },
  // Opening can take the network up to 85 s on SIM7000.
  bearerOpen: { request: "AT+SAPBR=1,<cid>", timeoutMs: 85_000 },
  bearerClose: { request: "AT+SAPBR=0,<cid>", timeoutMs: 65_000 },
  timeBearer: { request: "AT+CNTPCID=<cid>", timeoutMs: 5000 },
  timeServer: { request: 'AT+CNTP="<NTP server>",<time zone>', timeoutMs: 5000 },
  // OK, then `+CNTP: <code>` once the server answered.
  timeSync: { request: "AT+CNTP", lines: ["+CNTP:"], ends: "result", timeoutMs: 65_000 },
  restart: { request: "AT+CFUN=1,1", timeoutMs: 10_000 },
});

export type Dialect = "sim7000" | "classic";

export interface BringUpOptions {
  /** Access point name; without it the bearer must already be open. */
  apn?: string;
  apnUser?: string;
  apnPassword?: string;
  /** Bearer profile of AT+SAPBR / AT+EMAILCID. Default 1. */
  cid?: number;
  /** Network time: NTP server for AT+CNTP (default "pool.ntp.org"), time zone in quarter hours. */
  ntpServer?: string;
  timezoneQuarters?: number;
  /** Skip network time (the modem clock is already right). */
  skipTime?: boolean;
  /** How long to wait for packet-service attach (AT+CGATT? polled). Default 60 s. */
  attachTimeoutMs?: number;
  /** Called between steps, for progress reports. */
  onStep?: (step: ModemStep, detail: string) => void;
  /** How the bearer is opened (the mail dialect's way); resolves with its IP, "" if unknown. Default AT+SAPBR. */
  bearer?: (options: BringUpOptions) => Promise<string>;
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

/** The +CCLK text of `epochMs` in the zone `timezoneQuarters` (quarter hours east of UTC). */
export function formatClock(epochMs: number, timezoneQuarters: number): string {
  const local = new Date(epochMs + timezoneQuarters * 15 * 60_000);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const zone = `${timezoneQuarters < 0 ? "-" : "+"}${two(Math.abs(timezoneQuarters))}`;
  return `${two(local.getUTCFullYear() % 100)}/${two(local.getUTCMonth() + 1)}/${two(local.getUTCDate())},${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}${zone}`;
}

export function rssiToDbm(rssi: number): number | null {
  if (rssi === 99 || rssi < 0 || rssi > 31) return null;
  return -113 + 2 * rssi;
}

export class Modem {
  readonly engine: AtEngine;
  /** Bearer profile used for email. */
  cid = 1;
  bearerUp = false;
  /** Listeners told when the network drops the bearer. */
  onBearerLost: ((error: BearerLostError) => void) | null = null;
  private readonly deactHandler: UrcHandler;
  private readonly waitTimer: Deadline;
  private wake: (() => void) | null = null;

  constructor(engine: AtEngine, timers: TimerPort) {
    this.engine = engine;
    this.waitTimer = timers.deadline(() => {
      const wake = this.wake;
      this.wake = null;
      wake?.();
    });
    const modem = this;
    this.deactHandler = {
      table: new MatchTable([{ text: "+SAPBR ", id: SAPBR_DEACT }]),
      receiveLength: 0,
      onUrc(_id: number, line: Line): Verdict {
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
  async sync(): Promise<void> {
    await this.step("sync", AT.ping, "the modem does not answer AT");
    await this.step("echo", AT.echoOff, "the modem refused ATE0");
  }

  async identity(): Promise<{ model: string; revision: string }> {
    const ati = await runStep(this.engine, AT.identity);
    const rev = await runStep(this.engine, AT.revision);
    return { model: ati.joined(), revision: rev.joined().replace(/^Revision:\s*/, "").trim() };
  }

  /** The `+CPIN:` state ("READY" ...); a refused query (no SIM, a failed SIM) is a ModemError that says so. */
  async simStatus(): Promise<string> {
    try {
      return (await runStep(this.engine, AT.sim)).field(0);
    } catch (error) {
      throw this.stepError("sim", "SIM status query failed", simRefusal(error));
    }
  }

  /** The SIM must be READY: else a ModemError in the user's words. */
  async requireSim(): Promise<string> {
    const sim = await this.simStatus();
    const problem = simProblem(sim);
    if (problem !== "") throw new ModemError("sim", `${problem} (+CPIN: ${sim})`);
    return sim;
  }

  /** Network registration: the better of AT+CEREG? and AT+CGREG? (a firmware may lack one); null if neither answers. */
  async registration(): Promise<Registration | null> {
    const read = async (step: Step): Promise<Registration | null> => {
      const stat = (await runStep(this.engine, step).catch(optionalQuery))?.int(1);
      return stat === undefined || Number.isNaN(stat) ? null : registration(stat);
    };
    return better(await read(AT.lteRegistration), await read(AT.gprsRegistration));
  }

  /** Waits up to `waitMs` while the modem still searches; registered (home or roaming), or a ModemError saying why not. */
  async requireRegistration(waitMs: number): Promise<Registration | null> {
    for (let waited = 0; ; waited += 1000) {
      const state = await this.registration();
      if (state === null || state.registered) return state;
      if (!state.searching || waited >= waitMs) {
        throw new ModemError("attach", `not registered on a network: ${state.text} (+CEREG/+CGREG stat ${state.stat}${state.searching ? `, after ${Math.round(waited / 1000)} s` : ""})`);
      }
      await this.pause(1000);
    }
  }

  async signal(): Promise<Signal> {
    const reply = await this.step("signal", AT.signal, "signal query failed");
    const rssi = reply.int(0);
    return { rssi, ber: reply.int(1), dbm: rssiToDbm(rssi) };
  }

  async attached(): Promise<boolean> {
    return (await this.step("attach", AT.attached, "attach query failed")).field(0) === "1";
  }

  async operator(): Promise<string> {
    return (await runStep(this.engine, AT.operator)).field(2);
  }

  async battery(): Promise<Battery> {
    const reply = await runStep(this.engine, AT.battery);
    return { charging: reply.int(0), percent: reply.int(1), millivolts: reply.int(2) };
  }

  async clock(): Promise<ModemClock | null> {
    // The whole text: the time holds a comma (`"yy/MM/dd,hh:mm:ss±zz"`), quoted or not.
    return parseClock((await this.step("time", AT.clock, "clock query failed")).line(0)?.text ?? "");
  }

  /** AT+CCLK="yy/MM/dd,hh:mm:ss±zz": the RTC the modem dates mails by. */
  async setClock(epochMs: number, timezoneQuarters: number): Promise<void> {
    await this.step("time", AT.setClock, "setting the clock failed", formatClock(epochMs, timezoneQuarters));
  }

  /** AT+SAPBR=2,cid: [status, ip]; status 1 = connected. */
  async bearerState(cid = this.cid): Promise<{ status: number; ip: string }> {
    const reply = await this.step("bearer", AT.bearerState, "bearer query failed", cid);
    const status = reply.int(1);
    this.bearerUp = status === 1;
    return { status, ip: reply.field(2) };
  }

  async openBearer(options: BringUpOptions): Promise<string> {
    const cid = (this.cid = options.cid ?? 1);
    if (options.apn !== undefined) {
      const apn = options.apn;
      await this.step("apn", AT.pdpContext, "APN setup (AT+CGDCONT) failed", cid, apn);
      await this.step("apn", AT.bearerApn, "bearer APN setup failed", cid, apn);
      if (options.apnUser) await this.step("apn", AT.bearerUser, "bearer user setup failed", cid, options.apnUser);
      if (options.apnPassword) await this.step("apn", AT.bearerPassword, "bearer password setup failed", cid, options.apnPassword);
    }
    let state = await this.bearerState(cid);
    if (state.status !== 1) {
      if (options.apn === undefined) {
        throw new ModemError("bearer", `bearer ${cid} is not open and no APN was given to open it`);
      }
      await this.step("bearer", AT.bearerOpen, `opening bearer ${cid} failed`, cid);
      state = await this.bearerState(cid);
      if (state.status !== 1) throw new ModemError("bearer", `bearer ${cid} did not come up (status ${state.status})`);
    }
    this.bearerUp = true;
    return state.ip;
  }

  async closeBearer(cid = this.cid): Promise<void> {
    await this.step("bearer", AT.bearerClose, `closing bearer ${cid} failed`, cid);
    this.bearerUp = false;
  }

  /** Closes bearer `cid` and opens it again as it was set up: every session on it ends. */
  async cycleBearer(cid = this.cid): Promise<void> {
    await this.closeBearer(cid);
    await this.step("bearer", AT.bearerOpen, `opening bearer ${cid} again failed`, cid);
    this.bearerUp = true;
  }

  /** Sets the modem clock from the network (AT+CNTPCID, AT+CNTP) and reads it back. */
  async syncTime(server = "pool.ntp.org", timezoneQuarters = 0, cid = this.cid): Promise<ModemClock> {
    await this.step("time", AT.timeBearer, "AT+CNTPCID failed", cid);
    await this.step("time", AT.timeServer, "AT+CNTP setup failed", server, timezoneQuarters);
    const code = (await this.step("time", AT.timeSync, "network time failed")).int(0);
    if (code !== 1) throw new ModemError("time", `network time failed: +CNTP: ${code}`);
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
    await this.step("restart", AT.restart, "the modem refused AT+CFUN=1,1");
    this.engine.restartAccepted();
    this.bearerUp = false;
  }

  /** The whole bring-up of spec sections 4 and 5.1. */
  async bringUp(options: BringUpOptions = {}): Promise<ModemStatus> {
    const report = options.onStep ?? (() => {});
    await this.sync();
    report("sync", "modem answers");
    const sim = await this.requireSim();
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
    const bearerIp = await (options.bearer ?? ((o) => this.openBearer(o)))(options);
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

  /** Runs `at`; a failure becomes a ModemError naming `step` (a reset stays what it is). */
  private async step(step: ModemStep, at: Step, failure: string, ...args: StepArgument[]): Promise<Reply> {
    try {
      return await runStep(this.engine, at, args);
    } catch (error) {
      throw this.stepError(step, failure, error);
    }
  }

  /** A failure of `step` as a ModemError naming it (a ModemError or a reset stays what it is). */
  private stepError(step: ModemStep, failure: string, error: unknown): unknown {
    if (error instanceof ModemError) return error;
    if (error instanceof AtError && error.code === "modem-reset") return error;
    const detail = error instanceof AtTimeoutError ? "no answer in time" : error instanceof Error ? error.message : String(error);
    return new ModemError(step, `${failure}: ${detail}`, error);
  }
}
