// The mails the alarm mailer sends, as templates over what the app knows: the events mail, the
// summary of events held back by the hourly cap, and the status mail (the daily heartbeat, and
// the answer to every obeyed command); and how a mail is fitted to what the dialect carries.

import type { DialectCapabilities } from "../mail/dialect.ts";
import type { ByteSource, MailMessage } from "../mail/message.ts";
import type { AlarmConfig } from "./alarm-config.ts";
import type { ModemReadings } from "./alarm-modem.ts";
import { eventLine } from "./event-log-text.ts";
import type { InputState } from "./inputs.ts";
import type { Outbox, StoredEvent } from "./outbox.ts";
import type { SenderDecision } from "./sender-policy.ts";

/** What the templates read besides the config. */
export interface MailSources {
  config: AlarmConfig;
  outbox: Outbox;
  armed: boolean;
  /** The facts of a status mail (reads the modem). */
  statusFacts(heartbeat: boolean): Promise<StatusFacts>;
}

/**
 * The mail the sender's decision asks for, and the last event it carries (-1: none); null when
 * the pending events it counted are gone.
 */
export async function mailFor(decision: Exclude<SenderDecision, { action: "wait" }>, sources: MailSources): Promise<{ message: MailMessage; throughSeq: number } | null> {
  const { config, outbox } = sources;
  if (decision.action === "status") return { message: statusMail(config, await sources.statusFacts(decision.heartbeat)), throughSeq: -1 };
  const events: StoredEvent[] = [];
  const cursor = outbox.pending();
  for (let event = cursor.read(); event !== null && events.length < decision.count; event = cursor.read()) events.push(event);
  if (events.length === 0) return null;
  const message = decision.action === "events" ? eventsMail(config, events, outbox, sources.armed) : summaryMail(config, events, outbox);
  return { message, throughSeq: events[events.length - 1].seq };
}

/** `events` (oldest first, at least one) in one mail, with the log of the day attached. */
export function eventsMail(config: AlarmConfig, events: StoredEvent[], outbox: Outbox, armed: boolean): MailMessage {
  const alarms = events.filter((e) => e.alarm);
  const first = alarms[0] ?? events[0];
  const more = events.length > 1 ? ` (+${events.length - 1} more)` : "";
  const body = [
    `${config.siteName} (${config.deviceId}) reports ${events.length} event${events.length === 1 ? "" : "s"}:`,
    "",
    ...events.map(eventLine),
    "",
    `Armed: ${armed ? "yes" : "no"}. Undelivered events after this mail: ${Math.max(0, outbox.depth - events.length)}.`,
    "The log of the day is attached.",
  ].join("\r\n");
  const log = outbox.dayLog({ title: `${config.siteName}: events of the last 24 hours` });
  return envelope(config, `${config.siteName}: ${subjectText(first)}${more}`, body, { name: `${config.deviceId}-log.txt`, source: log });
}

/** All of `events` in one short mail, their log attached: what piled up while the hourly cap was reached. */
export function summaryMail(config: AlarmConfig, events: StoredEvent[], outbox: Outbox): MailMessage {
  const from = events[0].seq;
  const through = events[events.length - 1].seq;
  const body = [
    `${events.length} events (numbers ${from} to ${through}) happened while the hourly mail cap was reached.`,
    `Alarms among them: ${events.filter((e) => e.alarm).length}. All of them are in the attached log.`,
  ].join("\r\n");
  const log = outbox.eventLog({ fromSeq: from, throughSeq: through });
  return envelope(config, `${config.siteName}: ${events.length} events held back by the mail rate cap`, body, { name: `${config.deviceId}-events-${from}-${through}.txt`, source: log });
}

export interface StatusFacts {
  /** The daily status mail, else the answer to a command. */
  heartbeat: boolean;
  armed: boolean;
  uptimeMs: number;
  undelivered: number;
  lastError: string;
  /** Why command polling halted, "" while it runs. */
  pollingHalted: string;
  /** Why sending was held back for hours (+SMTPSEND: 65 again and again), "" when it was not. */
  sendingHeld: string;
  readings: ModemReadings;
  inputs: InputState[];
}

/** The status mail: the daily heartbeat, and the answer to every obeyed command. */
export function statusMail(config: AlarmConfig, facts: StatusFacts): MailMessage {
  const what = facts.heartbeat ? "daily status" : "status";
  const lines = [
    `${config.siteName} (${config.deviceId}) ${what}:`,
    `Armed: ${facts.armed ? "yes" : "no"}`,
    `Uptime: ${Math.round(facts.uptimeMs / 1000)} s`,
    `Undelivered events: ${facts.undelivered}`,
    `Last error: ${facts.lastError || "none"}`,
  ];
  if (facts.pollingHalted !== "") lines.push(`Commands are not read until the device restarts: ${facts.pollingHalted}`);
  if (facts.sendingHeld !== "") lines.push(`Sending held back: ${facts.sendingHeld}`);
  const { signal, battery, unavailable } = facts.readings;
  if (signal !== null) lines.push(`Signal: ${signal.dbm === null ? "unknown" : `${signal.dbm} dBm`} (rssi ${signal.rssi})`);
  if (battery !== null) lines.push(`Battery: ${battery.percent}% (${battery.millivolts} mV)`);
  if (unavailable !== "") lines.push(`Modem readings unavailable: ${unavailable}`);
  for (const input of facts.inputs) {
    lines.push(`Input ${input.name}: ${input.level === null ? "unknown" : input.active ? "ACTIVE" : "normal"}`);
  }
  return envelope(config, `${config.siteName}: ${what}`, lines.join("\r\n"));
}

/**
 * The mail as the dialect can carry it: where the body goes inline, its lines joined by " | ";
 * where attachments are the modem's own files, the log (bytes from flash) is left out.
 */
export function fitted(message: MailMessage, can: DialectCapabilities): MailMessage {
  if (!can.inlineBody && can.attachments === "bytes") return message;
  const { attachment, ...rest } = message;
  const fit: MailMessage = can.inlineBody ? { ...rest, body: rest.body.replace(/\r?\n/g, " | ") } : rest;
  if (attachment !== undefined && can.attachments === "bytes") fit.attachment = attachment;
  return fit;
}

function envelope(config: AlarmConfig, subject: string, body: string, attachment?: { name: string; source: ByteSource }): MailMessage {
  const smtp = config.smtp;
  const message: MailMessage = { from: smtp.from, to: smtp.to, subject, body };
  if (smtp.cc !== undefined) message.cc = smtp.cc;
  if (attachment !== undefined) message.attachment = { name: attachment.name, type: "binary", source: attachment.source };
  return message;
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
