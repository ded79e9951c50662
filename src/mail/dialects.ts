// The two mail dialects behind the one interface (dialect.ts), and the one place that picks
// between them: from the probe's answer, once. Each is a thin override of what differs; the
// conversations themselves are the clients' step tables.

import type { TimerPort } from "../transport/ports.ts";
import type { Modem } from "../modem/modem.ts";
import type { EmailCapabilities } from "../modem/probe.ts";
import { ClassicPop3Client, ClassicSmtpClient, openClassicBearer } from "./classic.ts";
import type { BearerOptions, DialectCapabilities, MailDialect } from "./dialect.ts";
import type { MailMessage } from "./message.ts";
import { Pop3Client } from "./pop3.ts";
import { SmtpClient, type SendOptions, type SmtpSettings } from "./smtp.ts";

/** The SIM7000's own: SAPBR bearer, body after DOWNLOAD, attachments streamed, UIDL, TLS where the firmware has it. */
class Sim7000Mail implements MailDialect {
  readonly name = "sim7000";
  readonly can: DialectCapabilities = { uidl: true, inlineBody: false, attachments: "bytes" };
  private readonly modem: Modem;
  private readonly timers: TimerPort;
  private readonly smtp: SmtpClient;
  private pop3: Pop3Client | null = null;
  private capabilities: EmailCapabilities;

  constructor(modem: Modem, timers: TimerPort, capabilities: EmailCapabilities) {
    this.modem = modem;
    this.timers = timers;
    this.capabilities = capabilities;
    this.smtp = new SmtpClient(modem.engine, capabilities.limits);
    this.adopt(capabilities);
  }

  adopt(capabilities: EmailCapabilities): void {
    this.capabilities = capabilities;
    this.smtp.limits = capabilities.limits;
    this.smtp.tls = capabilities.tls;
    this.smtp.forget();
    if (this.pop3 !== null) {
      this.pop3.limits = capabilities.limits;
      this.pop3.tls = capabilities.tls;
    }
  }

  openBearer(options: BearerOptions): Promise<string> {
    return this.modem.openBearer(options);
  }

  bearerState(cid: number): Promise<{ status: number; ip: string }> {
    return this.modem.bearerState(cid);
  }

  send(settings: SmtpSettings, message: MailMessage, options?: SendOptions): Promise<void> {
    return this.smtp.send(settings, message, options);
  }

  endSend(cid: number): Promise<void> {
    return this.modem.cycleBearer(cid);
  }

  /** Made on first use (it holds a timer): a device without a command mailbox never has one. */
  get mailbox(): Pop3Client {
    if (this.pop3 === null) {
      this.pop3 = new Pop3Client(this.modem.engine, this.timers, this.capabilities.limits);
      this.pop3.tls = this.capabilities.tls;
    }
    return this.pop3;
  }

  close(): void {
    this.pop3?.close();
  }
}

/** The application note's: socket PDP context, inline one-line body, modem files attached, no UIDL, no TLS. */
class ClassicMail implements MailDialect {
  readonly name = "classic";
  readonly can: DialectCapabilities = { uidl: false, inlineBody: true, attachments: "modem-file" };
  readonly mailbox: ClassicPop3Client;
  private readonly modem: Modem;
  private readonly smtp: ClassicSmtpClient;

  constructor(modem: Modem) {
    this.modem = modem;
    this.smtp = new ClassicSmtpClient(modem.engine);
    this.mailbox = new ClassicPop3Client(modem.engine);
  }

  /** The note's commands report no limits and it has no TLS; nothing is kept of the modem's settings. */
  adopt(): void {}

  /** The socket PDP context; its address is known only once a session brought it up. */
  async openBearer(options: BearerOptions): Promise<string> {
    if (options.apn !== undefined) await openClassicBearer(this.modem.engine, options.apn);
    return "";
  }

  /** No query: the context comes up with the first session. */
  async bearerState(): Promise<null> {
    return null;
  }

  send(settings: SmtpSettings, message: MailMessage): Promise<void> {
    return this.smtp.send(settings, message);
  }

  endSend(): Promise<void> {
    return this.smtp.abort();
  }

  close(): void {}
}

/** The dialect the probe found (`probeEmail` checked that its commands are there). */
export function openMailDialect(capabilities: EmailCapabilities, modem: Modem, timers: TimerPort): MailDialect {
  return capabilities.dialect === "sim7000" ? new Sim7000Mail(modem, timers, capabilities) : new ClassicMail(modem);
}
