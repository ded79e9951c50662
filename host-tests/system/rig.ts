// One simulated device for the soak and the power-cut sweep: AlarmApp on a MockFlash, the mock
// UART, the simulated SIM7000 and the real mail servers, in virtual time that waits for the
// servers. `powerCycle()` is a power cut of the whole device: the running app is abandoned,
// the modem restarts (its RTC, on the backup cell, keeps time), the flash keeps what it had,
// and a new AlarmApp boots on it.

import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { simpleParser } from "mailparser";
import { createUartPair } from "../kit/mock-uart.ts";
import { VirtualClock } from "../../sim/scheduler.ts";
import type { MailServers, MailUser } from "../../sim/servers/index.ts";
import { SimModem } from "../../sim/modem/modem.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";
import { runWithNetwork } from "../kit/virtual-time.ts";
import { MockFlash, PowerCut } from "../kit/mock-flash.ts";
import { AlarmApp, type AlarmConfig } from "../../src/app/alarm.ts";
import type { AlarmEvent } from "../../src/app/outbox.ts";
import type { Crypto } from "../../src/app/ports.ts";
import type { CommandPoll } from "../../src/app/command-poll.ts";
import type { CommandVerifier, RefusalReason } from "../../src/app/remote-command.ts";
import { seededRandom } from "../../src/app/wall-clock.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SettableInput } from "../../src/host/platform.ts";

export const SOAK_SECRET = "soak secret: correct horse battery staple";
export const DEVICE_ID = "soak-device-1";
export const MAIL_HOST = "mail.simmail.test";
/** The modem's RTC at power-on (fixed, so runs are reproducible). */
export const MODEM_EPOCH_MS = Date.UTC(2026, 5, 17, 8, 0, 0);

/** The accounts the rig needs on the mail servers: the device's and the recipients'. */
export function soakUsers(recipients: string[]): MailUser[] {
  return ["alarm", ...recipients].map((name) => ({ name, password: `${name}-secret`, address: `${name}@simmail.test` }));
}

/** Address of the allowlisted operator who sends command number `id` (one per command, so every obey is attributable). */
export function operatorAddress(id: number): string {
  return `ops-${id}@simmail.test`;
}

/** Empties a user's maildir (between runs on the same servers). */
export async function clearMailbox(servers: MailServers, user: string): Promise<void> {
  const maildir = join(servers.dir, "mail", user, "Maildir");
  for (const folder of ["new", "cur"]) {
    for (const name of await readdir(join(maildir, folder))) await rm(join(maildir, folder, name), { force: true });
  }
}

/** `nodeCrypto` with a seeded random generator: jitter and nonces repeat from run to run. */
export function seededCrypto(seed: number): Crypto {
  const random = seededRandom(seed);
  return {
    hmacSha256: nodeCrypto.hmacSha256,
    randomBytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(random.random() * 256);
      return out;
    },
  };
}

/** The soak's events: the text carries the harness's own number, the app adds its sequence number. */
export function soakEvent(n: number): AlarmEvent {
  return { type: "input", source: "door", state: n % 2, alarm: n % 4 === 1, text: `soak ${n}` };
}

export interface RigOptions {
  servers: MailServers;
  recipient: string;
  seed: number;
  /** Seeds the flash's torn prefixes and old/new choices after a cut. Default: `seed`. */
  flashSeed?: number;
  /** Number of operators on the allowlist (ops-1 .. ops-n). */
  operators: number;
  /** The modem behaves as modems in the field do (sim/modem/field.ts), its seed `seed`. */
  field?: boolean;
  /** More allowlisted senders (the flood's allowlisted junk sender). */
  extraAllowlist?: string[];
  pollIntervalMs: number;
  /** Called after each power cut, before the new app boots. */
  onPowerCut?: () => Promise<void>;
  /** The simulator's debug log (its "fault: ..." lines tell which triggers fired). */
  simTrace?: (line: string) => void;
  trace?: (line: string) => void;
}

/** One verdict of the app's command verifier on a mail it read (clock-unknown aside: that mail is kept). */
export type Verdict =
  | { kind: "accepted"; sender: string; uid: string | null; atMs: number }
  | { kind: "refused"; sender: string; uid: string | null; reason: RefusalReason; detail: string; atMs: number };

/** Virtual time an app may take to stop. */
const STOP_LIMIT_MS = 300_000;

export class SoakRig {
  readonly clock = new VirtualClock(0);
  readonly sim: SimModem;
  readonly flash: MockFlash;
  app!: AlarmApp;
  /** Power cuts so far: at a flash write (the write torn or not), at any other moment, and those that hit the boot itself. */
  cutsAtWrite = 0;
  cutsAnytime = 0;
  cutsDuringBoot = 0;
  /** Obeyed commands by operator address, over every life (from the app's trace). */
  readonly obeyed = new Map<string, number>();
  /** When each operator's command was first obeyed (virtual ms). */
  readonly obeyedAt = new Map<string, number>();
  /**
   * When each poll cycle ended (virtual ms): an interval's poll and the polls right after it
   * while mails were left (a flood's backlog is one cycle however many polls it takes).
   */
  readonly pollCycleEnds: number[] = [];
  /** Traced lines that say the outbox was full (goal: none). */
  readonly outboxFull: string[] = [];
  /** The verifier's verdicts over every life, in order (the obeys are in `obeyed`). */
  readonly verdicts: Verdict[] = [];
  /** commandsObeyed / commandsRefused summed over finished lives. */
  readonly totals = { obeyed: 0, refused: 0 };
  private readonly options: RigOptions;
  private readonly host: ReturnType<typeof createUartPair>["host"];
  private readonly config: AlarmConfig;
  private lives = 0;

  constructor(options: RigOptions) {
    this.options = options;
    const { host, modem } = createUartPair({ scheduler: this.clock, baud: 921_600 });
    this.host = host;
    this.sim = new NodeSimModem({
      hosts: { [MAIL_HOST]: "127.0.0.1" }, clock: { startMs: MODEM_EPOCH_MS }, timeoutScale: 0.01,
      ...(options.field === true ? { field: { seed: options.seed } } : {}),
      ...(options.simTrace ? { trace: options.simTrace } : {}),
    });
    this.sim.attach(modem);
    this.sim.powerOn({ quiet: true });
    this.flash = new MockFlash({ seed: options.flashSeed ?? options.seed });
    const { servers } = options;
    this.config = {
      deviceId: DEVICE_ID,
      siteName: "Soak",
      modem: { apn: "internet", skipTime: true },
      smtp: {
        host: MAIL_HOST, port: servers.smtpPort, user: "alarm", password: "alarm-secret",
        from: { address: "alarm@simmail.test", name: "Soak" },
        to: [{ address: `${options.recipient}@simmail.test`, name: "Ops" }],
      },
      pop3: {
        host: MAIL_HOST, port: servers.pop3Port, user: "alarm", password: "alarm-secret",
        pollIntervalMs: options.pollIntervalMs,
        allowlist: [...Array.from({ length: Math.max(1, options.operators) }, (_, i) => operatorAddress(i + 1)), ...(options.extraAllowlist ?? [])],
        secret: SOAK_SECRET,
      },
      // A door that stays shut: the soak records its events directly (as the TEST input does).
      inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50 }],
      sender: { heartbeatAtMinute: null, heartbeatIntervalMs: 30 * 86_400_000 },
    };
  }

  /** The modem's clock now (what the device learns at bring-up): the RTC never loses time here. */
  wallNow(): number {
    return MODEM_EPOCH_MS + this.clock.now();
  }

  /** Boots a new AlarmApp on the flash (again after a cut that hits the boot's own writes). */
  boot(): void {
    for (;;) {
      if (this.flash.dead) this.flash.reboot();
      try {
        this.app = this.newApp();
        break;
      } catch (error) {
        if (!(error instanceof PowerCut)) throw error;
        this.cutsDuringBoot++;
      }
    }
    this.lives++;
    void this.app.start();
  }

  /** A power cut of the whole device now (or after a cut at a flash write): the app dies, the modem restarts, a new app boots. */
  async powerCycle(): Promise<void> {
    const old = this.app;
    this.totals.obeyed += old.commandsObeyed;
    this.totals.refused += old.commandsRefused;
    if (this.flash.dead) this.cutsAtWrite++;
    else this.cutsAnytime++;
    this.flash.dead = true; // from this instant the dying app writes nothing more
    await this.stopApp(old);
    this.sim.reset();
    await this.options.onPowerCut?.();
    this.boot();
  }

  /** Records event `n` as an input would. Returns its sequence number, or null when the power was cut during the write. */
  async record(n: number): Promise<number | null> {
    try {
      return this.app.record(soakEvent(n));
    } catch (error) {
      if (!(error instanceof PowerCut)) throw error;
      await this.powerCycle();
      return null;
    }
  }

  /** Runs virtual time until `at`; a power cut at a flash write meanwhile reboots the device. */
  async advanceTo(at: number): Promise<void> {
    const timer = this.clock.setTimer(() => {}, Math.max(0, at - this.clock.now()));
    for (;;) {
      const reached = await runWithNetwork(this.clock, this.sim, () => this.flash.dead || this.clock.now() >= at, at - this.clock.now() + 1);
      if (this.flash.dead) {
        await this.powerCycle();
        continue;
      }
      if (!reached) throw new Error(`soak: virtual time stopped at ${this.clock.now()} ms before ${at} ms`);
      break;
    }
    this.clock.clearTimer(timer);
  }

  /** Runs until `predicate` holds (power cuts reboot on the way); false after `limitMs` of virtual time. */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    while (this.clock.now() < end) {
      if (predicate()) return true;
      await this.advanceTo(Math.min(end, this.clock.now() + 1_000));
    }
    return predicate();
  }

  async stop(): Promise<void> {
    this.totals.obeyed += this.app.commandsObeyed;
    this.totals.refused += this.app.commandsRefused;
    await this.stopApp(this.app);
    this.sim.close();
  }

  /**
   * Stops an app with virtual time running: a wait inside the app that ends only on one of
   * its timers ends as it would in real time, instead of hanging the run.
   */
  private async stopApp(app: AlarmApp): Promise<void> {
    let done = false;
    const stopping = app.stop().then(() => {
      done = true;
    });
    const limit = this.clock.now() + STOP_LIMIT_MS;
    const timer = this.clock.setTimer(() => {}, STOP_LIMIT_MS);
    await runWithNetwork(this.clock, this.sim, () => done, STOP_LIMIT_MS + 1);
    this.clock.clearTimer(timer);
    if (!done) throw new Error(`soak: the alarm app did not stop within ${STOP_LIMIT_MS / 1000} s of virtual time (at ${limit} ms)`);
    await stopping;
  }

  private newApp(): AlarmApp {
    const life = this.lives + 1;
    const app = new AlarmApp(this.config, {
      serial: this.host,
      attachSerial: (engine) => this.host.attach(engine),
      timers: this.clock,
      clock: this.clock,
      log: this.flash.log("outbox"),
      store: this.flash.kv,
      crypto: seededCrypto(this.options.seed * 1000 + life),
      inputs: { door: new SettableInput(0) },
      trace: (text) => {
        const obey = /^command [A-Z]+ from (\S+)$/.exec(text);
        if (obey !== null) {
          this.obeyed.set(obey[1], (this.obeyed.get(obey[1]) ?? 0) + 1);
          if (!this.obeyedAt.has(obey[1])) this.obeyedAt.set(obey[1], this.clock.now());
        }
        if (/outbox full/.test(text)) this.outboxFull.push(text);
        this.options.trace?.(`[${this.clock.now()}] ${text}`);
      },
    });
    // A poll that leaves no mails for right after (the next poll is an interval away) ends a cycle.
    const poll = (app as unknown as { poll: CommandPoll }).poll;
    const run = poll.run.bind(poll);
    poll.run = async (mail) => {
      const mailsLeft = await run(mail);
      if (!mailsLeft) this.pollCycleEnds.push(this.clock.now());
      return mailsLeft;
    };
    // Every verdict, with the UIDL it was given: a mail read again after a failed session is
    // refused as already processed, and its UIDL leads back to the verdict it first had.
    const verifier = (app as unknown as { poll: { verifier: CommandVerifier } }).poll.verifier;
    const verify = verifier.verify.bind(verifier);
    verifier.verify = (mail, wallNowMs) => {
      const verdict = verify(mail, wallNowMs);
      const atMs = this.clock.now();
      const uid = mail.uid ?? null;
      if (verdict.accepted) this.verdicts.push({ kind: "accepted", sender: verdict.sender, uid, atMs });
      else if (verdict.reason !== "clock-unknown") this.verdicts.push({ kind: "refused", sender: verdict.sender, uid, reason: verdict.reason, detail: verdict.detail, atMs });
      return verdict;
    };
    // And the verdicts given before a mail is read: known by its UIDL, or too large.
    const processedBefore = verifier.processedBefore.bind(verifier);
    verifier.processedBefore = (uid) => {
      const verdict = processedBefore(uid);
      if (verdict !== null && !verdict.accepted) this.verdicts.push({ kind: "refused", sender: verdict.sender, uid: uid ?? null, reason: verdict.reason, detail: verdict.detail, atMs: this.clock.now() });
      return verdict;
    };
    const refuseUnread = verifier.refuseUnread.bind(verifier);
    verifier.refuseUnread = (reason, detail, uid, wallNowMs) => {
      const verdict = refuseUnread(reason, detail, uid, wallNowMs);
      this.verdicts.push({ kind: "refused", sender: verdict.sender, uid: uid ?? null, reason: verdict.reason, detail: verdict.detail, atMs: this.clock.now() });
      return verdict;
    };
    return app;
  }
}

/** One mail the recipient received, as far as the checks need it. */
export interface DeliveredMail {
  subject: string;
  /** Outbox sequence numbers the mail carries, in the order listed. */
  seqs: number[];
  /** seq → the harness's event number (`soak N`). */
  soak: Map<number, number>;
}

const EVENT_LINE = /#(\d+)  \S+  \S+(?:  (.*))?$/;

/**
 * The recipient's mails, oldest first, with the events each carries: the listed events of an
 * event mail, or every event in the attached log of a rate-cap summary.
 */
export async function readDeliveries(servers: MailServers, user: string): Promise<DeliveredMail[]> {
  const mails: DeliveredMail[] = [];
  for (const raw of await servers.messages(user)) {
    const mail = await simpleParser(raw);
    const subject = mail.subject ?? "";
    let lines: string[];
    if (/events held back by the mail rate cap/.test(subject)) {
      lines = mail.attachments.length === 1 ? mail.attachments[0].content.toString("utf8").split(/\r?\n/) : [];
    } else {
      lines = (mail.text ?? "").split(/\r?\n/);
    }
    const seqs: number[] = [];
    const soak = new Map<number, number>();
    for (const line of lines) {
      const match = EVENT_LINE.exec(line);
      if (match === null) continue;
      const seq = Number(match[1]);
      seqs.push(seq);
      const n = /^soak (\d+)$/.exec(match[2] ?? "");
      if (n !== null) soak.set(seq, Number(n[1]));
    }
    mails.push({ subject, seqs, soak });
  }
  return mails;
}

export interface DeliveryCheck {
  /** Harness numbers of recorded events never delivered. */
  lost: number[];
  /** First deliveries that came after a higher sequence number. */
  outOfOrder: number;
  /** Deliveries of an event beyond its first. */
  duplicates: number;
  /** Mails that only repeated events delivered before. */
  duplicateMails: number;
  /** Index (in `mails`) of the mail that first carried each event that came again. */
  firstCarrierOfDuplicates: Set<number>;
  /** Delivered numbers that disagree with what was recorded. */
  mismatches: string[];
}

/** Checks the mails against the events recorded (harness number → sequence number). */
export function checkDeliveries(mails: DeliveredMail[], recorded: Map<number, number>): DeliveryCheck {
  const firstMail = new Map<number, number>();
  const mismatches: string[] = [];
  const firstCarrierOfDuplicates = new Set<number>();
  let highest = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  let duplicateMails = 0;
  mails.forEach((mail, index) => {
    let fresh = 0;
    for (const seq of mail.seqs) {
      const first = firstMail.get(seq);
      if (first !== undefined) {
        duplicates++;
        firstCarrierOfDuplicates.add(first);
        continue;
      }
      firstMail.set(seq, index);
      fresh++;
      if (seq < highest) outOfOrder++;
      highest = Math.max(highest, seq);
    }
    if (mail.seqs.length > 0 && fresh === 0) duplicateMails++;
    for (const [seq, n] of mail.soak) {
      const expected = recorded.get(n);
      if (expected !== undefined && expected !== seq) mismatches.push(`soak ${n} recorded as #${expected}, delivered as #${seq}`);
    }
  });
  const lost = [...recorded].filter(([, seq]) => !firstMail.has(seq)).map(([n]) => n);
  return { lost, outOfOrder, duplicates, duplicateMails, firstCarrierOfDuplicates, mismatches };
}

/** Heap after a full collection, in bytes. */
export function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

let gc: (() => void) | null = null;
function collectGarbage(): void {
  if (gc === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === "function") {
      gc = exposed;
    } else {
      // Not started with --expose-gc: switch it on and fetch the function from a fresh context.
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
  }
  gc();
}
