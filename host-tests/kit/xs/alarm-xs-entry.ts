// What host-tests/firmware/alarm.xs.test.ts loads into XS (bundled to an IIFE that defines globalThis.alarmXs): the
// alarm mailer as the device runs it, on the mock flash and the kit's mock UART with the XS
// stand-in SIM7000 at its far end, virtual time, and the plain-JS HMAC for the Crypto port.

import { AlarmApp, type AlarmConfig } from "../../../src/app/alarm.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import type { Deadline, TimerPort } from "../../../src/transport/ports.ts";
import { createUartPair } from "../mock-uart.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { MockFlash } from "../mock-flash.ts";
import { mockPlatform } from "../mock-platform.ts";
import { pureJsCrypto } from "./sha256.ts";
import { XsSim7000 } from "./xs-sim7000.ts";

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
  const modem = new XsSim7000(modemSide, options.wallAtZero);
  const flash = new MockFlash();
  const door = { level: 0 as 0 | 1, read(): 0 | 1 { return this.level; } };
  const config: AlarmConfig = {
    deviceId: "pump-house-1",
    siteName: "Pump house",
    modem: { apn: "internet", skipTime: true },
    smtp: {
      host: "mail.example.net", port: 587, user: "alarm", password: "alarm-secret",
      from: { address: "alarm@example.net", name: "Pump house" },
      to: [{ address: "ops@example.net", name: "Ops" }],
    },
    pop3: { host: "mail.example.net", port: 110, user: "alarm", password: "alarm-secret", pollIntervalMs: options.pollIntervalMs ?? 60_000, allowlist: options.allowlist, secret: options.secret },
    inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50 }],
    sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: 7 * 86_400_000, mailsPerHour: 1000 },
  };
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

  /** The next mail the app sends, once the app took its `+SMTPSEND: 1` (within `limitMs`). */
  async function nextMail(limitMs = 60_000) {
    const before = app.mailsSent;
    if (!(await runUntil(() => modem.sent.length > 0 && app.mailsSent > before, limitMs))) throw new Error(`no mail within ${limitMs} ms (last error: ${app.lastError || "none"})`);
    return modem.sent.shift()!;
  }

  /** One alarm and its all-clear, each mailed: what the heap test repeats. */
  async function alarmCycle(): Promise<void> {
    door.level = 1;
    const alarm = await nextMail();
    if (!alarm.subject.includes("ALARM")) throw new Error(`an alarm mail was expected, not "${alarm.subject}"`);
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
    modem.mailbox.push({ uid: `poll-${n}-${nonce}`, text: `From: ops@example.net\r\nTo: alarm@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${n}.${nonce}@example.net>\r\n\r\ncommand\r\n` });
    if (!(await runUntil(() => modem.mailbox.length === 0 && app.commandsObeyed === obeyed + 1, 180_000))) throw new Error(`poll ${n}: the command was not obeyed (last error: ${app.lastError || "none"})`);
    const answer = await nextMail();
    if (!answer.subject.endsWith(": status")) throw new Error(`poll ${n}: a status mail was expected, not "${answer.subject}"`);
  }

  return { clock, modem, app, door, steps, timers, runUntil, nextMail, alarmCycle, commandCycle };
}
