// One interface over the modem's email dialects, after esp_modem's GenericModule: the app and
// the CLI hold a MailDialect, picked once from the probe (dialects.ts), and never ask which
// one it is; what differs and matters to them is in the capability flags.

import type { Dialect } from "../modem/modem.ts";
import type { EmailCapabilities } from "../modem/probe.ts";
import type { MailMessage } from "./message.ts";
import type { MailSink, ReadLimit } from "./pop3-reader.ts";
import type { MessageInfo, Pop3Settings } from "./pop3.ts";
import type { SendOptions, SmtpSettings } from "./smtp.ts";

export interface DialectCapabilities {
  /** The server's unique ids of the mails can be read (POP3 UIDL). */
  readonly uidl: boolean;
  /** The body goes inline in one quoted parameter: plain ASCII on one line, no line break. */
  readonly inlineBody: boolean;
  /**
   * How a mail's attachment is given: its bytes (`attachment.source`, streamed by the host), or
   * the name of a file already in the modem's file system (`attachment.name`, no source).
   */
  readonly attachments: "bytes" | "modem-file";
}

export interface BearerOptions {
  /** Access point name; without it the bearer must already be open. */
  apn?: string;
  apnUser?: string;
  apnPassword?: string;
  /** Bearer profile (AT+SAPBR / AT+EMAILCID). Default 1. */
  cid?: number;
}

/** A mailbox session: one client serves every session (a client per poll would leave a timer behind). */
export interface Mailbox {
  readonly loggedIn: boolean;
  login(settings: Pop3Settings): Promise<void>;
  /** Number of mails and their total size. */
  stat(): Promise<{ count: number; size: number }>;
  /** The size of mail `n`. */
  list(n: number): Promise<number>;
  /** Every mail's number and size, each handed to `visit` as it arrives (nothing kept: any mailbox size); resolves with their number. */
  listAll(visit: (info: MessageInfo) => void): Promise<number>;
  /** The server's unique id of mail `n`; null where the dialect has none (`can.uidl` false). */
  uid(n: number): Promise<string | null>;
  /** Every mail's unique id, each handed to `visit` as it arrives; none where the dialect has no UIDL. Resolves with their number. */
  uidlAll(visit: (number: number, uid: string) => void): Promise<number>;
  /** The header lines of mail `n` into `sink`; resolves with the bytes delivered. */
  headers(n: number, sink: MailSink, limit?: ReadLimit): Promise<number>;
  /** Mail `n` as the server sent it into `sink`. */
  retrieve(n: number, sink: MailSink): Promise<number>;
  /** Marks mail `n` for deletion (done at logout). */
  delete(n: number): Promise<void>;
  logout(): Promise<void>;
}

export interface MailDialect {
  readonly name: Dialect;
  readonly can: DialectCapabilities;
  /** After every bring-up: the probe's limits and TLS commands; the modem's settings are gone. */
  adopt(capabilities: EmailCapabilities): void;
  /** The bearer the mail sessions use: opened with `apn`, or checked to be open; resolves with its IP ("" if unknown). */
  openBearer(options: BearerOptions): Promise<string>;
  /** The bearer's state where the dialect can query it (status 1: open), else null. */
  bearerState(cid: number): Promise<{ status: number; ip: string } | null>;
  /** Sends one mail; resolves once the modem reports it sent. */
  send(settings: SmtpSettings, message: MailMessage, options?: SendOptions): Promise<void>;
  /**
   * Ends a send its host stopped following (an interrupt), so that the modem takes the next
   * one at once: AT+SMTPSTOP where the dialect has it; the SIM7000 has none, so its bearer
   * `cid` is closed (the session dies with it) and opened again.
   */
  endSend(cid: number): Promise<void>;
  readonly mailbox: Mailbox;
  /** Releases the dialect's timers. */
  close(): void;
}
