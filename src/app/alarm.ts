// The alarm mailer: inputs → outbox on flash → mail through the modem; authenticated commands
// back by POP3. One supervisor loop owns the modem: it brings it up (with backoff), sends what
// the sender policy decides, polls for commands, and sleeps on one re-armable timer.

import type { SerialPort } from "../transport/ports.ts";
import { AtEngine, type AtTracer } from "../transport/engine.ts";
import { AtAbortedError } from "../transport/errors.ts";
import { Modem, type BringUpOptions, type Dialect } from "../modem/modem.ts";
import { ModemError } from "../modem/errors.ts";
import { probeEmail } from "../modem/probe.ts";
import type { DialectCapabilities, MailDialect } from "../mail/dialect.ts";
import { openMailDialect } from "../mail/dialects.ts";
import type { ByteSource, MailMessage } from "../mail/message.ts";
import type { Security, SecuritySettings, TlsVersion } from "../mail/security.ts";
import { HeaderReader } from "../mail/codec/header-reader.ts";
import { countBoot, Outbox, type AlarmEvent, type StoredEvent } from "./outbox.ts";
import { eventLine } from "./event-log-text.ts";
import { InputMonitor } from "./inputs.ts";
import { SenderPolicy, type SenderDecision } from "./sender-policy.ts";
import { ALARM_DEFAULTS, checkAlarmConfig, type AlarmConfig } from "./alarm-config.ts";
import { CommandLedger, isUid } from "./command-ledger.ts";
import { CommandVerifier, secretFromText, type RemoteCommand } from "./remote-command.ts";
import { NetworkWallClock, seededRandom } from "./wall-clock.ts";
import { StatusPattern, type LedState } from "./status-led.ts";
import { Recovery, recoveryFor } from "./recovery.ts";
import type {
  ClockPort, Crypto, Deadline, DigitalInputPort, KeyValueStore, LogStore, StatusLed, TimerPort,
} from "./ports.ts";

export type { AlarmConfig } from "./alarm-config.ts";

export interface AlarmPlatform {
  serial: SerialPort;
  /** Connects the engine to the serial callbacks. */
  attachSerial(engine: AtEngine): void;
  timers: TimerPort;
  clock: ClockPort;
  log: LogStore;
  store: KeyValueStore;
  crypto: Crypto;
  inputs: Record<string, DigitalInputPort>;
  led?: StatusLed;
  /** Pulses the modem's PWRKEY (switches it on or off); absent when the modem is always on. */
  powerKey?: () => Promise<void>;
  /** Traces (never given a secret). */
  trace?: (text: string) => void;
}

export interface AlarmStatus {
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

const ARMED_KEY = "armed";
/** The sender's decision while mail sending is halted. */
const NEVER: SenderDecision = { action: "wait", until: null };
const MIN_BACKOFF_MS = 5_000;
/** Time a restarted modem needs to boot (RDY, +CPIN: READY, SMS Ready) before the bring-up. */
const RESTART_BOOT_MS = 5_000;

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
  commandsObeyed = 0;
  commandsRefused = 0;
  /** Called after each supervisor step (tests and the host runner watch progress). */
  onProgress: ((what: string) => void) | null = null;

  private readonly dialect: Dialect;
  /** The mail dialect, picked from the first bring-up's probe; it serves every mail and poll. */
  private mail: MailDialect | null = null;
  private readonly verifier: CommandVerifier | null;
  /** One reader for every command mail's From and Subject (the poll never reads a body). */
  private readonly commandHeaders: HeaderReader | null;
  private readonly led: StatusPattern | null;
  private readonly sleepTimer: Deadline;
  private wake: (() => void) | null = null;
  private modemReady = false;
  /** A mail or poll ended without the modem's verdict: it may still hold that session, so restart it first. */
  private restartModem = false;
  private bringUpFailures = 0;
  private sendingHalted = "";
  private pollingHalted = "";
  private nextPollAt = 0;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(config: AlarmConfig, platform: AlarmPlatform) {
    checkAlarmConfig(config); // before anything is opened: a config that could never send is refused
    this.config = config;
    this.platform = platform;
    const { timers, clock, crypto } = platform;
    this.dialect = config.modem.dialect ?? "sim7000";

    const bootId = countBoot(platform.store);
    this.wall = new NetworkWallClock(clock);
    this.outbox = Outbox.open(platform.log, { bootId, uptime: clock, wall: this.wall });
    if (this.outbox.report.repaired) this.trace(`outbox repaired: ${this.outbox.report.skippedBytes} torn bytes skipped`);
    const seed = crypto.randomBytes(4);
    this.policy = new SenderPolicy(clock.now(), { ...config.sender, random: seededRandom(seed[0] | (seed[1] << 8) | (seed[2] << 16) | (seed[3] << 24)) });

    const armed = platform.store.get(ARMED_KEY);
    this.inputs = new InputMonitor(
      config.inputs.map((input) => {
        const port = platform.inputs[input.name];
        if (port === undefined) throw new RangeError(`input "${input.name}" has no pin in the platform`);
        return { ...input, port };
      }),
      {
        timers, clock, recorder: this.outbox,
        armed: armed === null ? true : armed[0] === 1,
        onEvent: () => this.poke(),
        onError: (error, input) => this.fail(`recording ${input} failed: ${describe(error)}`),
      },
    );

    this.engine = new AtEngine({ serial: platform.serial, timers, syncAttempts: 4 });
    if (platform.trace) this.engine.tracer = lineTracer(platform.trace);
    platform.attachSerial(this.engine);
    this.modem = new Modem(this.engine, timers, this.dialect);
    this.engine.onModemReset = (error) => this.modemLost(error.message);
    this.modem.onBearerLost = (error) => this.modemLost(error.message);
    const pop3 = config.pop3;
    this.verifier = pop3 === null ? null : new CommandVerifier({
      crypto,
      secret: secretFromText(pop3.secret),
      deviceId: config.deviceId,
      allowlist: pop3.allowlist,
      ledger: new CommandLedger(platform.store),
      ...(pop3.windowSeconds !== undefined ? { windowSeconds: pop3.windowSeconds } : {}),
    });
    this.commandHeaders = pop3 === null ? null : new HeaderReader({ fields: ["From", "Subject"] });
    this.led = platform.led ? new StatusPattern(platform.led, timers) : null;
    this.sleepTimer = timers.deadline(() => this.poke());
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
    this.poke();
    this.engine.abortAll(new AtAbortedError("the alarm mailer is stopping"));
    // Closed before the supervisor winds down: what it still tries (a POP3 logout, the next
    // bring-up step, a pause) fails at once instead of waiting for the modem.
    this.engine.close();
    this.modem.close();
    await this.running?.catch(() => {});
    this.inputs.close();
    this.mail?.close();
    this.sleepTimer.close();
    this.led?.close();
  }

  /** Records an event as the inputs do (the TEST input, the host CLI). */
  record(event: AlarmEvent): number {
    const seq = this.outbox.append(event);
    this.poke();
    return seq;
  }

  get armed(): boolean {
    return this.inputs.armed;
  }

  status(): AlarmStatus {
    return {
      armed: this.inputs.armed,
      modemReady: this.modemReady,
      outboxDepth: this.outbox.depth,
      lastError: this.lastError,
      sendingHalted: this.sendingHalted,
      pollingHalted: this.pollingHalted,
      mailsSent: this.mailsSent,
      commandsObeyed: this.commandsObeyed,
      commandsRefused: this.commandsRefused,
    };
  }

  // ---- supervisor ---------------------------------------------------------------------

  private async supervise(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.modemReady) {
          await this.bringUp();
          continue;
        }
        const now = this.platform.clock.now();
        const decision = this.sendingHalted === "" ? this.policy.next(now, this.outbox.depth) : NEVER;
        if (decision.action !== "wait") {
          await this.send(decision);
          continue;
        }
        const polling = this.verifier !== null && this.pollingHalted === "";
        if (polling && now >= this.nextPollAt) {
          const mailsLeft = await this.pollCommands();
          // Mails left behind are read right after whatever the sender has to do first.
          this.nextPollAt = mailsLeft ? 0 : this.platform.clock.now() + (this.config.pop3?.pollIntervalMs ?? ALARM_DEFAULTS.pollIntervalMs);
          continue;
        }
        const until = Math.min(decision.until ?? Infinity, polling ? this.nextPollAt : Infinity);
        await this.sleep(until === Infinity ? 3_600_000 : Math.max(0, until - now));
      } catch (error) {
        // Anything unexpected: note it, give the modem a fresh start, never stop guarding.
        this.fail(describe(error));
        this.modemReady = false;
        await this.sleep(MIN_BACKOFF_MS);
      }
    }
  }

  private async bringUp(): Promise<void> {
    this.showState();
    const modemConfig = this.config.modem;
    try {
      if (this.restartModem) {
        // Once: a modem that cannot even restart is left to the sync and PWRKEY below.
        this.restartModem = false;
        this.trace("restarting the modem: it may still hold an unfinished mail or POP3 session");
        try {
          await this.modem.restart();
          await this.sleepFully(RESTART_BOOT_MS);
        } catch (error) {
          this.trace(`modem restart failed: ${describe(error)}`);
        }
      }
      try {
        await this.modem.sync();
      } catch (error) {
        if (!(error instanceof ModemError) || this.platform.powerKey === undefined) throw error;
        // No answer: the modem is off. Switch it on and give it time to report RDY.
        this.trace("modem silent: pulsing PWRKEY");
        await this.platform.powerKey();
        await this.sleepFully(RESTART_BOOT_MS);
        await this.modem.sync();
      }
      // The probe picks the dialect, which opens the bearer: it comes first (it needs no network).
      const capabilities = await probeEmail(this.engine, this.dialect);
      const mail = (this.mail ??= openMailDialect(capabilities, this.modem, this.platform.timers));
      mail.adopt(capabilities);
      const options: BringUpOptions = {
        skipTime: modemConfig.skipTime === true,
        onStep: (step, detail) => this.trace(`modem ${step}: ${detail}`),
        bearer: (bearer) => mail.openBearer(bearer),
      };
      for (const key of ["apn", "apnUser", "apnPassword", "cid", "ntpServer", "timezoneQuarters"] as const) {
        if (modemConfig[key] !== undefined) (options as Record<string, unknown>)[key] = modemConfig[key];
      }
      const status = await this.modem.bringUp(options);
      const clock = status.clock ?? (await this.modem.clock());
      if (clock !== null && this.wall.now() === null) this.setTime(clock.epochMs);
      this.modemReady = true;
      this.bringUpFailures = 0;
      this.trace(`modem ready: ${status.operator || "network"}, ${status.bearerIp}`);
      this.showState();
      this.progress("modem-ready");
    } catch (error) {
      this.bringUpFailures++;
      this.fail(`modem bring-up failed: ${describe(error)}`);
      const base = Math.min(MIN_BACKOFF_MS * 2 ** (this.bringUpFailures - 1), this.config.maxBringUpBackoffMs ?? ALARM_DEFAULTS.maxBringUpBackoffMs);
      const seed = this.platform.crypto.randomBytes(1)[0] / 255;
      await this.sleep(base * (0.8 + 0.4 * seed));
    }
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

  // ---- sending --------------------------------------------------------------------------

  private async send(decision: Exclude<SenderDecision, { action: "wait" }>): Promise<void> {
    this.showState("sending");
    let throughSeq = -1;
    let message: MailMessage;
    if (decision.action === "status") {
      message = await this.statusMessage(decision.heartbeat);
    } else {
      const events = this.readPending(decision.count);
      if (events.length === 0) {
        this.policy.succeeded(this.platform.clock.now());
        return;
      }
      throughSeq = events[events.length - 1].seq;
      message = decision.action === "events" ? this.eventsMessage(events) : this.summaryMessage(events);
    }
    try {
      await this.deliver(message);
      if (throughSeq >= 0) this.outbox.markDelivered(throughSeq);
      this.policy.succeeded(this.platform.clock.now());
      this.mailsSent++;
      this.trace(`mail sent: ${message.subject}`);
      this.progress("mail-sent");
    } catch (error) {
      const delay = this.policy.failed(this.platform.clock.now());
      const recovery = recoveryFor(error);
      if (recovery === Recovery.Halt) {
        this.sendingHalted = describe(error);
        this.fail(`mail sending halted until the device restarts (the events stay in the outbox): ${this.sendingHalted}`);
      } else {
        this.fail(`sending failed (retry in ${Math.round(delay / 1000)} s): ${describe(error)}`);
      }
      this.recover(recovery);
    } finally {
      this.showState();
    }
  }

  /** The security settings of one server, only those given (the mail API's defaults hold otherwise). */
  private security(server: { security?: Security; tlsVersion?: TlsVersion; sni?: string }): SecuritySettings {
    const settings: SecuritySettings = {};
    if (server.security !== undefined) settings.security = server.security;
    if (server.tlsVersion !== undefined) settings.tlsVersion = server.tlsVersion;
    if (server.sni !== undefined) settings.sni = server.sni;
    if (this.config.requireSecureCredentials !== undefined) settings.requireSecureCredentials = this.config.requireSecureCredentials;
    return settings;
  }

  private readPending(count: number): StoredEvent[] {
    const cursor = this.outbox.pending();
    const events: StoredEvent[] = [];
    for (let event = cursor.read(); event !== null && events.length < count; event = cursor.read()) events.push(event);
    return events;
  }

  private async deliver(message: MailMessage): Promise<void> {
    const smtp = this.config.smtp;
    const server = { host: smtp.host, port: smtp.port ?? ALARM_DEFAULTS.smtpPort, ...(smtp.user !== undefined ? { user: smtp.user, password: smtp.password ?? "" } : {}) };
    const mail = this.mail!;
    await mail.send({ server, cid: this.config.modem.cid ?? ALARM_DEFAULTS.cid, timeoutSeconds: smtp.timeoutSeconds ?? ALARM_DEFAULTS.timeoutSeconds, ...this.security(smtp) }, fitted(message, mail.can));
  }

  private envelope(subject: string, body: string, attachment?: { name: string; source: ByteSource }): MailMessage {
    const smtp = this.config.smtp;
    const message: MailMessage = { from: smtp.from, to: smtp.to, subject, body };
    if (smtp.cc !== undefined) message.cc = smtp.cc;
    if (attachment !== undefined) message.attachment = { name: attachment.name, type: "binary", source: attachment.source };
    return message;
  }

  private eventsMessage(events: StoredEvent[]): MailMessage {
    const alarms = events.filter((e) => e.alarm);
    const first = alarms[0] ?? events[0];
    const more = events.length > 1 ? ` (+${events.length - 1} more)` : "";
    const subject = `${this.config.siteName}: ${subjectText(first)}${more}`;
    const body = [
      `${this.config.siteName} (${this.config.deviceId}) reports ${events.length} event${events.length === 1 ? "" : "s"}:`,
      "",
      ...events.map(eventLine),
      "",
      `Armed: ${this.inputs.armed ? "yes" : "no"}. Undelivered events after this mail: ${Math.max(0, this.outbox.depth - events.length)}.`,
      "The log of the day is attached.",
    ].join("\r\n");
    return this.envelope(subject, body, { name: `${this.config.deviceId}-log.txt`, source: this.outbox.dayLog({ title: `${this.config.siteName}: events of the last 24 hours` }) });
  }

  private summaryMessage(events: StoredEvent[]): MailMessage {
    const from = events[0].seq;
    const through = events[events.length - 1].seq;
    const subject = `${this.config.siteName}: ${events.length} events held back by the mail rate cap`;
    const body = [
      `${events.length} events (numbers ${from} to ${through}) happened while the hourly mail cap was reached.`,
      `Alarms among them: ${events.filter((e) => e.alarm).length}. All of them are in the attached log.`,
    ].join("\r\n");
    return this.envelope(subject, body, { name: `${this.config.deviceId}-events-${from}-${through}.txt`, source: this.outbox.eventLog({ fromSeq: from, throughSeq: through }) });
  }

  private async statusMessage(heartbeat: boolean): Promise<MailMessage> {
    const lines = [
      `${this.config.siteName} (${this.config.deviceId}) ${heartbeat ? "daily status" : "status"}:`,
      `Armed: ${this.inputs.armed ? "yes" : "no"}`,
      `Uptime: ${Math.round(this.platform.clock.now() / 1000)} s`,
      `Undelivered events: ${this.outbox.depth}`,
      `Last error: ${this.lastError || "none"}`,
    ];
    try {
      const signal = await this.modem.signal();
      lines.push(`Signal: ${signal.dbm === null ? "unknown" : `${signal.dbm} dBm`} (rssi ${signal.rssi})`);
      const battery = await this.modem.battery();
      lines.push(`Battery: ${battery.percent}% (${battery.millivolts} mV)`);
    } catch (error) {
      lines.push(`Modem readings unavailable: ${describe(error)}`);
    }
    for (const input of this.inputs.states()) {
      lines.push(`Input ${input.name}: ${input.level === null ? "unknown" : input.active ? "ACTIVE" : "normal"}`);
    }
    return this.envelope(`${this.config.siteName}: ${heartbeat ? "daily status" : "status"}`, lines.join("\r\n"));
  }

  // ---- remote commands ------------------------------------------------------------------

  /** Reads the command mailbox; resolves true when mails were left for the next poll. */
  private async pollCommands(): Promise<boolean> {
    let mailsLeft = false;
    const pop3 = this.config.pop3!;
    const verifier = this.verifier!;
    const server = { host: pop3.host, port: pop3.port ?? ALARM_DEFAULTS.pop3Port, user: pop3.user, password: pop3.password };
    const mail = this.mail!;
    const client = mail.mailbox;
    try {
      await client.login({ server, cid: this.config.modem.cid ?? ALARM_DEFAULTS.cid, ...this.security(pop3) });
      // STAT, then one mail at a time: memory stays the same however full the mailbox is.
      const { count } = await client.stat();
      const limit = Math.min(count, this.config.pop3?.maxMailsPerPoll ?? ALARM_DEFAULTS.maxMailsPerPoll);
      let gaveWay = false;
      let kept = 0;
      for (let n = 1; n <= limit; n++) {
        // Events that are due go out before the rest is read: a mail flood cannot hold up an alarm.
        if (this.sendingHalted === "" && this.policy.eventsDue(this.platform.clock.now(), this.outbox.depth)) {
          gaveWay = true;
          break;
        }
        // A server's UID outside the spec (empty, overlong) cannot go in the ledger; the nonce still can.
        const answer = mail.can.uidl ? await client.uid(n) : null;
        const uid = answer !== null && isUid(answer) ? answer : undefined;
        const headers = this.commandHeaders!;
        headers.reset();
        await client.headers(n, headers);
        headers.end();
        const verdict = verifier.verify({
          from: headers.raw("From") ?? "",
          subject: headers.get("Subject") ?? "",
          fromFields: headers.count("From"),
          fromTruncated: headers.isTruncated("From"),
          subjectTruncated: headers.isTruncated("Subject"),
          ...(uid !== undefined ? { uid } : {}),
        }, this.wall.now());
        if (!verdict.accepted && verdict.reason === "clock-unknown") {
          kept++;
          continue;
        }
        // Acted on before the DELE: the verdict is in the ledger already, so a DELE that fails
        // (modem reset, bearer lost) must not lose an accepted command; the mail read again is
        // refused as already processed.
        if (verdict.accepted) {
          this.commandsObeyed++;
          this.obey(verdict.command, verdict.sender);
        } else {
          this.commandsRefused++;
          this.outbox.append({ type: "command", source: "pop3", state: 0, alarm: false, notify: false, text: `refused ${verdict.reason} from ${verdict.sender || "?"}: ${verdict.detail}` });
          this.trace(`command mail refused: ${verdict.reason}`);
        }
        await client.delete(n);
      }
      // Mails kept until the clock is set are not read again before the next poll.
      mailsLeft = gaveWay || (count > limit && kept === 0);
    } catch (error) {
      this.pollFailed("command poll failed", error);
    } finally {
      if (client.loggedIn) {
        await client.logout().catch((error: unknown) => {
          // Without QUIT the server keeps every mail: read them again only at the next interval.
          mailsLeft = false;
          this.pollFailed("POP3 logout failed", error);
        });
      }
      this.progress("poll-done");
    }
    return mailsLeft;
  }

  private obey(command: RemoteCommand, sender: string): void {
    this.trace(`command ${command} from ${sender}`);
    if (command === "ARM" || command === "DISARM") {
      const armed = command === "ARM";
      this.inputs.armed = armed;
      this.platform.store.put(ARMED_KEY, new Uint8Array([armed ? 1 : 0]));
    }
    if (command === "TEST") {
      this.outbox.append({ type: "test", source: sender, state: 1, alarm: false, text: `remote test from ${sender}` });
    } else {
      this.outbox.append({ type: "command", source: sender, state: 1, alarm: false, notify: false, text: `${command} by ${sender}` });
    }
    // Every obeyed command is answered with a status mail.
    this.policy.requestStatus();
    this.showState();
  }

  // ---- helpers --------------------------------------------------------------------------

  private pollFailed(what: string, error: unknown): void {
    const recovery = recoveryFor(error);
    if (recovery === Recovery.Halt) {
      this.pollingHalted = describe(error);
      this.fail(`command polling halted until the device restarts: ${this.pollingHalted}`);
    } else {
      this.fail(`${what}: ${describe(error)}`);
    }
    this.recover(recovery);
  }

  /** After a failed mail or poll: what the modem needs before the next try (./recovery.ts). */
  private recover(recovery: Recovery): void {
    if (recovery === Recovery.BringUp || recovery === Recovery.Restart) this.modemReady = false;
    if (recovery === Recovery.Restart) this.restartModem = true;
  }

  private modemLost(reason: string): void {
    if (!this.modemReady) return;
    this.modemReady = false;
    this.fail(reason);
    this.poke();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer.arm(ms);
    });
  }

  /** Sleeps `ms` even if events arrive meanwhile (a booting modem must not be spoken to); stop ends it. */
  private async sleepFully(ms: number): Promise<void> {
    const until = this.platform.clock.now() + ms;
    for (let left = ms; left > 0 && !this.stopped; left = until - this.platform.clock.now()) await this.sleep(left);
  }

  /** Ends the current sleep at once (a new event, a lost modem, stop). */
  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    this.sleepTimer.disarm();
    wake?.();
  }

  private showState(activity?: LedState): void {
    if (this.led === null) return;
    this.led.show(activity ?? (!this.modemReady ? "offline" : this.outbox.depth > 0 ? "pending" : this.inputs.armed ? "armed" : "disarmed"));
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

/**
 * The event as a subject names it: its text, with ALARM or TEST in front unless the text says so
 * already, as the inputs' default texts do ("door: ALARM", "door: test").
 */
function subjectText(event: StoredEvent): string {
  const kind = event.alarm ? "ALARM" : event.type === "test" ? "TEST" : null;
  if (kind === null || containsWord(event.text, kind)) return event.text;
  return `${kind}: ${event.text}`;
}

/** Whether `word` (upper case) appears in `text` as a whole word, in any case. */
function containsWord(text: string, word: string): boolean {
  return text.toUpperCase().split(/[^A-Z0-9]+/).includes(word);
}

/**
 * The mail as the dialect can carry it: where the body goes inline, its lines joined by " | ";
 * where attachments are the modem's own files, the log (bytes from flash) is left out.
 */
function fitted(message: MailMessage, can: DialectCapabilities): MailMessage {
  if (!can.inlineBody && can.attachments === "bytes") return message;
  const { attachment, ...rest } = message;
  const fit: MailMessage = can.inlineBody ? { ...rest, body: rest.body.replace(/\r?\n/g, " | ") } : rest;
  if (attachment !== undefined && can.attachments === "bytes") fit.attachment = attachment;
  return fit;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function lineTracer(trace: (text: string) => void): AtTracer {
  return {
    line: (direction, text) => trace(`${direction === "tx" ? ">" : "<"} ${text}`),
    data: (direction, length) => trace(`${direction === "tx" ? ">" : "<"} [${length} bytes]`),
  };
}

