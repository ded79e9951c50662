// The application note's dialect behind the MailDialect interface (src/mail/dialects.ts picks
// it). Its own module so that a device build for the SIM7000 dialect leaves it out whole.

import type { Modem } from "../modem/modem.ts";
import { ClassicPop3Client, ClassicSmtpClient, openClassicBearer } from "./classic.ts";
import type { BearerOptions, DialectCapabilities, MailDialect } from "./dialect.ts";
import type { MailMessage } from "./message.ts";
import type { SmtpSettings } from "./smtp.ts";

/** The application note's: socket PDP context, inline one-line body, modem files attached, no UIDL, no TLS. */
export class ClassicMail implements MailDialect {
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
