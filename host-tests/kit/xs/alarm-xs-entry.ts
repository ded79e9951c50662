// What the XS suites load into XS (bundled to an IIFE that defines globalThis.alarmXs): the
// alarm mailer as the device runs it, on the mock flash and the kit's mock UART with the
// simulator's SIM7000 at its far end (xs-modem.ts: in-memory mail servers behind it), virtual
// time, and the plain-JS HMAC for the Crypto port.

import { AlarmApp, type AlarmConfig } from "../../../src/app/alarm.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import type { Deadline, TimerPort } from "../../../src/transport/ports.ts";
import { createUartPair } from "../mock-uart.ts";
import type { DeliveredMail } from "../../../sim/servers/memory-smtp.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { MockFlash } from "../mock-flash.ts";
import { mockPlatform } from "../mock-platform.ts";
import { pureJsCrypto } from "./sha256.ts";
import { createXsModem } from "./xs-modem.ts";

export { hmacSha256, sha256 } from "./sha256.ts";

/**
 * Deadlines held until `close()`, as on the device: Moddable's `Timer.set` keeps a repeating
 * timer, and its callback with everything that reaches, until `Timer.clear` (src/device/ports.ts).
 */
export class HeldTimers implements TimerPort {
  readonly open = new Set<Deadline>();
  private readonly inner: TimerPort;

  constructor(inner: TimerPort) {
    this.inner = inner;
  }

  deadline(callback: () => void): Deadline {
    const inner = this.inner.deadline(callback);
    const open = this.open;
    const held: Deadline = {
      arm: (ms) => inner.arm(ms),
      disarm: () => inner.disarm(),
      close: () => {
        open.delete(held);
        inner.close();
      },
    };
    open.add(held);
    return held;
  }
}

/** A delivered mail's Subject as the modem wrote it (plain ASCII here; the Node side parses whole mails). */
function subjectOf(delivered: DeliveredMail): string {
  const subject = /^Subject: (.*)$/m.exec(delivered.message);
  if (subject === null) throw new Error("a mail without a Subject line");
  return subject[1];
}

/** The app's mail servers, as its settings and the in-memory servers know them. */
const SMTP_SERVER = { host: "mail.example.net", port: 587, user: "alarm", password: "alarm-secret" };
const POP3_SERVER = { host: "mail.example.net", port: 110, user: "alarm", password: "alarm-secret" };

/** Promise turns given to the app after each instant of virtual time (its await chains are shorter). */
const SETTLE_TURNS = 32;

export interface AlarmRigOptions {
  /** UTC ms that AT+CCLK? reports at virtual time 0. */
  wallAtZero: number;
  /** Shared secret of the command tokens. */
  secret: string;
  allowlist: string[];
  /** Between command polls. Default 60 s. */
  pollIntervalMs?: number;
}

export function createAlarmRig(options: AlarmRigOptions) {
  const clock = new VirtualClock(1_000);
  // Bytes cross at once (FIFO limits still apply): far fewer instants for XS to step through.
  const { host, modem: modemSide } = createUartPair({ scheduler: clock, baud: Infinity });
  const flash = new MockFlash();
  const door = { level: 0 as 0 | 1, read(): 0 | 1 { return this.level; } };
  const config: AlarmConfig = {
    deviceId: "pump-house-1",
    siteName: "Pump house",
    modem: { apn: "internet", skipTime: true },
    smtp: {
      ...SMTP_SERVER,
      from: { address: "alarm@example.net", name: "Pump house" },
      to: [{ address: "ops@example.net", name: "Ops" }],
    },
    pop3: { ...POP3_SERVER, pollIntervalMs: options.pollIntervalMs ?? 60_000, allowlist: options.allowlist, secret: options.secret },
    inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50 }],
    sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: 7 * 86_400_000, mailsPerHour: 1000 },
  };
  const { sim, mail, refused } = createXsModem(modemSide, clock, { wallAtZero: options.wallAtZero, smtp: SMTP_SERVER, pop3: POP3_SERVER });
  sim.powerOn({ quiet: true });
  const crypto = pureJsCrypto(7);
  const timers = new HeldTimers(clock);
  const app = new AlarmApp(config, { ...mockPlatform({ host, clock, flash, crypto, inputs: { door } }), timers });
  const steps: string[] = [];
  app.onProgress = (step) => {
    if (steps.length === 64) steps.shift(); // the latest only: a long run keeps the heap flat
    steps.push(step);
  };

  /** Runs virtual time instant by instant until `predicate()` holds; false when `limitMs` passes first. */
  async function runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const end = clock.now() + limitMs;
    for (;;) {
      for (let i = 0; i < SETTLE_TURNS; i++) await undefined;
      if (predicate()) return true;
      const next = clock.nextDueAt();
      if (next === null || next > end) return false;
      clock.advance(next - clock.now());
    }
  }

  /** The next mail the SMTP server accepted, once the app took its `+SMTPSEND: 1` (within `limitMs`). */
  async function nextMail(limitMs = 60_000) {
    const before = app.mailsSent;
    if (!(await runUntil(() => mail.delivered.length > 0 && app.mailsSent > before, limitMs))) throw new Error(`no mail within ${limitMs} ms (last error: ${app.lastError || "none"})`);
    return mail.delivered.shift()!;
  }

  /** One alarm and its all-clear, each mailed: what the heap test repeats. */
  async function alarmCycle(): Promise<void> {
    door.level = 1;
    const alarm = subjectOf(await nextMail());
    if (!alarm.includes("ALARM")) throw new Error(`an alarm mail was expected, not "${alarm}"`);
    door.level = 0;
    await nextMail();
  }

  const secret = secretFromText(options.secret);
  let polls = 0;

  /**
   * One command poll that the heap test repeats: a signed STATUS mail with a UIDL and a nonce
   * never seen before, from an allowed sender, obeyed and answered by a status mail.
   */
  async function commandCycle(): Promise<void> {
    const n = ++polls;
    const obeyed = app.commandsObeyed;
    const nonce = (0x5eed0000 + n).toString(16).padStart(16, "0");
    const signedAt = Math.floor((options.wallAtZero + clock.now()) / 1000);
    const subject = signCommandSubject(crypto, secret, config.deviceId, "STATUS", signedAt, nonce);
    mail.mailbox.push({ uid: `poll-${n}-${nonce}`, text: `From: ops@example.net\r\nTo: alarm@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${n}.${nonce}@example.net>\r\n\r\ncommand\r\n` });
    if (!(await runUntil(() => mail.mailbox.length === 0 && app.commandsObeyed === obeyed + 1, 180_000))) throw new Error(`poll ${n}: the command was not obeyed (last error: ${app.lastError || "none"})`);
    const answer = subjectOf(await nextMail());
    if (!answer.endsWith(": status")) throw new Error(`poll ${n}: a status mail was expected, not "${answer}"`);
  }

  return { clock, sim, mail, refused, app, door, steps, timers, runUntil, nextMail, alarmCycle, commandCycle };
}
