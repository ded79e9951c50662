// The alarm mailer: inputs → outbox on flash → mail through the modem; authenticated commands
// back by POP3. AlarmApp is a supervisor: one loop owns the modem and moves through the states
// of its transition table (./alarm-states.ts), one handler per state, sleeping on one
// re-armable timer. The work is its collaborators': the outbox (./outbox.ts), the sender
// policy (./sender-policy.ts), the mail templates (./alarm-mails.ts), the command poll
// (./command-poll.ts), and the recovery table (./recovery.ts) that says where a failed mail or
// poll leads; the modem's bring-up is ./alarm-modem.ts.

import type { AtEngine } from "../transport/engine.ts";
import { AtAbortedError } from "../transport/errors.ts";
import type { Modem } from "../modem/modem.ts";
import { ModemError } from "../modem/errors.ts";
import { countBoot, Outbox, type AlarmEvent } from "./outbox.ts";
import { InputMonitor } from "./inputs.ts";
import { SenderPolicy, type SenderDecision } from "./sender-policy.ts";
import { ALARM_DEFAULTS, checkAlarmConfig, smtpSettings, type AlarmConfig } from "./alarm-config.ts";
import { fitted, mailFor, type MailSources } from "./alarm-mails.ts";
import { AlarmModem } from "./alarm-modem.ts";
import { CommandPoll, storedArmed } from "./command-poll.ts";
import { Failures, Recovery } from "./recovery.ts";
import { Sleeper } from "./sleeper.ts";
import { NetworkWallClock, seededRandom } from "./wall-clock.ts";
import { StatusPattern } from "./status-led.ts";
import type { AlarmPlatform } from "./ports.ts";
import { checkTransition, type AppState } from "./alarm-states.ts";

export type { AlarmConfig } from "./alarm-config.ts";
export type { AlarmPlatform } from "./ports.ts";

export interface AlarmStatus {
  state: AppState;
  armed: boolean;
  modemReady: boolean;
  outboxDepth: number;
  lastError: string;
  /** Why mail sending halted until the device restarts (a setting the modem cannot take ...), "" while it runs. */
  sendingHalted: string;
  /** Why command polling halted, "" while it runs. */
  pollingHalted: string;
  mailsSent: number;
  commandsObeyed: number;
  commandsRefused: number;
}

const MIN_BACKOFF_MS = 5_000;
/** The sender's decision while mail sending is halted. */
const NEVER: SenderDecision = { action: "wait", until: null };

export class AlarmApp {
  readonly config: AlarmConfig;
  readonly platform: AlarmPlatform;
  readonly engine: AtEngine;
  readonly modem: Modem;
  readonly outbox: Outbox;
  readonly wall: NetworkWallClock;
  readonly policy: SenderPolicy;
  readonly inputs: InputMonitor;
  lastError = "";
  mailsSent = 0;
  /** Called after each supervisor step (tests and the host runner watch progress). */
  onProgress: ((what: string) => void) | null = null;

  private state: AppState = "Offline";
  private readonly handlers: { readonly [state in AppState]: () => Promise<AppState> };
  private readonly link: AlarmModem;
  private readonly poll: CommandPoll | null;
  private readonly led: StatusPattern | null;
  private readonly sleeper: Sleeper;
  /** A reset or bearer loss was reported since the bring-up: the next stop is Offline. */
  private lost = false;
  private readonly failures = new Failures();
  /** The sender's decision that took the supervisor to Sending. */
  private decision: SenderDecision = NEVER;
  private backoffMs = 0;
  private nextPollAt = 0;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(config: AlarmConfig, platform: AlarmPlatform) {
    checkAlarmConfig(config); // before anything is opened: a config that could never send is refused
    this.config = config;
    this.platform = platform;
    const { timers, clock, crypto } = platform;

    const bootId = countBoot(platform.store);
    this.wall = new NetworkWallClock(clock);
    const logBytes = platform.logBytes;
    this.outbox = Outbox.open(platform.log, { bootId, uptime: clock, wall: this.wall, ...(logBytes !== undefined ? { maxBytes: logBytes, compactAtBytes: Math.min(16_384, logBytes) } : {}) });
    if (this.outbox.report.repaired) this.trace(`outbox repaired: ${this.outbox.report.skippedBytes} torn bytes skipped`);
    const seed = crypto.randomBytes(4);
    this.policy = new SenderPolicy(clock.now(), { ...config.sender, random: seededRandom(seed[0] | (seed[1] << 8) | (seed[2] << 16) | (seed[3] << 24)) });

    this.inputs = new InputMonitor(
      config.inputs.map((input) => {
        const port = platform.inputs[input.name];
        if (port === undefined) throw new RangeError(`input "${input.name}" has no pin in the platform`);
        return { ...input, port };
      }),
      {
        timers, clock, recorder: this.outbox,
        armed: storedArmed(platform.store),
        onEvent: () => this.sleeper.poke(),
        onError: (error, input) => this.fail(`recording ${input} failed: ${describe(error)}`),
      },
    );

    this.link = new AlarmModem(config.modem, platform);
    this.engine = this.link.engine;
    // The configured secrets never reach a trace, even in a line the modem sends unasked.
    for (const secret of [config.modem.apnPassword, config.smtp.password, config.pop3?.password, config.pop3?.secret]) if (secret !== undefined) this.engine.redact(secret);
    this.modem = this.link.modem;
    this.engine.onModemReset = (error) => this.modemLost(error.message);
    this.modem.onBearerLost = (error) => this.modemLost(error.message);
    const pop3 = config.pop3;
    this.poll = pop3 === null ? null : new CommandPoll({
      config, pop3, crypto, store: platform.store, wall: this.wall, outbox: this.outbox, inputs: this.inputs, policy: this.policy,
      eventsDue: () => this.failures.sendingHalted === "" && this.policy.eventsDue(clock.now(), this.outbox.depth),
      failed: (what, error) => this.fail(this.failures.note("command polling", what, error)),
      trace: (text) => this.trace(text),
    });
    this.led = platform.led ? new StatusPattern(platform.led, timers) : null;
    this.sleeper = new Sleeper(timers, clock);
    this.handlers = {
      Offline: () => this.offline(),
      Restarting: () => this.restarting(),
      PoweringOn: () => this.poweringOn(),
      BringingUp: () => this.bringingUp(),
      Ready: () => this.ready(),
      Sending: () => this.sending(),
      Polling: () => this.polling(),
      Backoff: () => this.backoff(),
      Stopped: () => Promise.resolve("Stopped"),
    };
  }

  /** Starts the inputs and the supervisor; resolves when `stop` was called and work ended. */
  start(): Promise<void> {
    this.inputs.start();
    this.showState();
    this.running = this.supervise();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.stop();
    this.engine.abortAll(new AtAbortedError("the alarm mailer is stopping"));
    // Closed before the supervisor winds down: what it still tries (a POP3 logout, the next
    // bring-up step, a pause) fails at once instead of waiting for the modem.
    this.link.close();
    await this.running?.catch(() => {});
    this.inputs.close();
    this.link.closeMail();
    this.sleeper.close();
    this.led?.close();
  }

  /** Records an event as the inputs do (the TEST input, the host CLI). */
  record(event: AlarmEvent): number {
    const seq = this.outbox.append(event);
    this.sleeper.poke();
    return seq;
  }

  get armed(): boolean {
    return this.inputs.armed;
  }

  get commandsObeyed(): number {
    return this.poll?.obeyed ?? 0;
  }

  get commandsRefused(): number {
    return this.poll?.refused ?? 0;
  }

  status(): AlarmStatus {
    const { sendingHalted, pollingHalted } = this.failures;
    return {
      state: this.state, armed: this.inputs.armed, modemReady: this.modemUp, outboxDepth: this.outbox.depth, lastError: this.lastError,
      sendingHalted, pollingHalted, mailsSent: this.mailsSent, commandsObeyed: this.commandsObeyed, commandsRefused: this.commandsRefused,
    };
  }

  // ---- the supervisor -----------------------------------------------------------------

  private async supervise(): Promise<void> {
    while (!this.stopped) {
      let next: AppState;
      try {
        next = await this.handlers[this.state]();
      } catch (error) {
        // Anything unexpected: note it, give the modem a fresh start, never stop guarding.
        this.fail(describe(error));
        this.backoffMs = MIN_BACKOFF_MS;
        next = "Backoff";
      }
      this.enter(next);
    }
    this.enter("Stopped");
  }

  private enter(next: AppState): void {
    checkTransition(this.state, next);
    const from = this.state;
    this.state = next;
    this.showState();
    if (from === "BringingUp" && next === "Ready") this.progress("modem-ready");
  }

  /** The modem is brought up and no reset or bearer loss was reported since. */
  private get modemUp(): boolean {
    return (this.state === "Ready" || this.state === "Sending" || this.state === "Polling") && !this.lost;
  }

  private async offline(): Promise<AppState> {
    try {
      await this.modem.sync();
      return "BringingUp";
    } catch (error) {
      // No answer: the modem may be off. Switch it on where the board can.
      if (error instanceof ModemError && this.link.canPowerOn) return "PoweringOn";
      return this.bringUpFailed(error);
    }
  }

  private async restarting(): Promise<AppState> {
    // Once: a modem that cannot even restart is left to the sync and PWRKEY that follow.
    await this.link.restart((ms) => this.sleeper.sleepFully(ms)).catch((error: unknown) => this.trace(`modem restart failed: ${describe(error)}`));
    return "Offline";
  }

  private async poweringOn(): Promise<AppState> {
    try {
      await this.link.powerOn((ms) => this.sleeper.sleepFully(ms));
      return "BringingUp";
    } catch (error) {
      return this.bringUpFailed(error);
    }
  }

  private async bringingUp(): Promise<AppState> {
    try {
      const { clock } = await this.link.bringUp();
      if (clock !== null && this.wall.now() === null) this.setTime(clock.epochMs);
      this.lost = false;
      return "Ready";
    } catch (error) {
      return this.bringUpFailed(error);
    }
  }

  private bringUpFailed(error: unknown): AppState {
    this.fail(`modem bring-up failed: ${describe(error)}`);
    this.backoffMs = this.link.failedBringUp(this.config.maxBringUpBackoffMs ?? ALARM_DEFAULTS.maxBringUpBackoffMs);
    return "Backoff";
  }

  private async backoff(): Promise<AppState> {
    await this.sleeper.sleep(this.backoffMs);
    return "Offline";
  }

  private async ready(): Promise<AppState> {
    if (this.lost) return "Offline";
    const now = this.platform.clock.now();
    const decision = this.failures.sendingHalted === "" ? this.policy.next(now, this.outbox.depth) : NEVER;
    if (decision.action !== "wait") {
      this.decision = decision;
      return "Sending";
    }
    const polling = this.poll !== null && this.failures.pollingHalted === "";
    if (polling && now >= this.nextPollAt) return "Polling";
    const until = Math.min(decision.until ?? Infinity, polling ? this.nextPollAt : Infinity);
    await this.sleeper.sleep(until === Infinity ? 3_600_000 : Math.max(0, until - now));
    return "Ready";
  }

  private async sending(): Promise<AppState> {
    const decision = this.decision as Exclude<SenderDecision, { action: "wait" }>;
    this.failures.begin();
    try {
      const composed = await mailFor(decision, this.sources);
      if (composed === null) {
        this.policy.succeeded(this.platform.clock.now());
        return "Ready";
      }
      const { message, throughSeq } = composed;
      const mail = this.link.mail;
      await mail.send(smtpSettings(this.config), fitted(message, mail.can));
      if (throughSeq >= 0) this.outbox.markDelivered(throughSeq);
      this.policy.succeeded(this.platform.clock.now());
      this.failures.mailSent(decision.action === "status");
      this.mailsSent++;
      this.trace(`mail sent: ${message.subject}`);
      this.progress("mail-sent");
    } catch (error) {
      const delay = this.policy.failed(this.platform.clock.now(), this.failures.mailFailed(error, this.modem.bearerUp));
      this.fail(this.failures.note("mail sending", `sending failed (retry in ${Math.round(delay / 1000)} s)`, error));
    }
    return this.afterFailures();
  }

  private async polling(): Promise<AppState> {
    this.failures.begin();
    const mailsLeft = await this.poll!.run(this.link.mail);
    this.progress("poll-done");
    // Mails left behind are read right after whatever the sender has to do first.
    this.nextPollAt = mailsLeft ? 0 : this.platform.clock.now() + this.poll!.intervalMs;
    return this.afterFailures();
  }

  /** Where the supervisor goes after a mail or poll, by what its failures called for (./recovery.ts). */
  private afterFailures(): AppState {
    const recovery = this.failures.recovery;
    if (recovery === Recovery.Restart) return "Restarting";
    if (recovery === Recovery.BringUp || this.lost) return "Offline";
    return "Ready";
  }

  /** What the mail templates read. */
  private get sources(): MailSources {
    return {
      config: this.config, outbox: this.outbox, armed: this.inputs.armed,
      statusFacts: async (heartbeat) => ({
        heartbeat, armed: this.inputs.armed, uptimeMs: this.platform.clock.now(), undelivered: this.outbox.depth,
        lastError: this.lastError, pollingHalted: this.failures.pollingHalted, sendingHeld: this.failures.sendingHeld, readings: await this.link.readings(), inputs: this.inputs.states(),
      }),
    };
  }

  private setTime(epochMs: number): void {
    try {
      this.wall.set(epochMs);
    } catch {
      return; // an unset modem clock (year 2000 / 1980): keep uptime stamps
    }
    this.outbox.fixTime();
    this.policy.setWallOffset(this.platform.clock.now(), this.wall.offset()!);
    this.trace(`time set from the network: ${new Date(epochMs).toISOString()}`);
  }

  private modemLost(reason: string): void {
    if (!this.modemUp) return;
    this.lost = true;
    this.fail(reason);
    this.showState();
    this.sleeper.poke();
  }

  // ---- helpers --------------------------------------------------------------------------

  private showState(): void {
    if (this.led === null) return;
    this.led.show(this.state === "Sending" ? "sending" : !this.modemUp ? "offline" : this.outbox.depth > 0 ? "pending" : this.inputs.armed ? "armed" : "disarmed");
  }

  private fail(message: string): void {
    this.lastError = message;
    this.trace(message);
  }

  private trace(text: string): void {
    this.platform.trace?.(text);
  }

  private progress(what: string): void {
    this.onProgress?.(what);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
