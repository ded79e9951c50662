// The two mail dialects behind the one interface (dialect.ts), and the one place that picks
// between them: from the probe's answer, once. Each is a thin override of what differs; the
// conversations themselves are the clients' step tables.

import type { TimerPort } from "../transport/ports.ts";
import type { Modem } from "../modem/modem.ts";
import type { EmailCapabilities } from "../modem/probe.ts";
import { ClassicMail } from "./classic-dialect.ts";
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

/** mc/config asks for a dialect the firmware was not built with. */
export class DialectNotBuiltError extends Error {
  override name = "DialectNotBuiltError";
}

/**
 * The one dialect a device build holds: build/build.mjs defines globalThis.SIMMAIL_BUILD_DIALECT
 * from mc/config's `modemDialect`, the comparisons below fold, and the bundler drops the other
 * dialect's modules (flash). Elsewhere it is undefined: both dialects are there.
 */
interface BuildGlobals {
  SIMMAIL_BUILD_DIALECT?: string;
}

/** The dialect the probe found (`probeEmail` checked that its commands are there). */
export function openMailDialect(capabilities: EmailCapabilities, modem: Modem, timers: TimerPort): MailDialect {
  const built = (globalThis as BuildGlobals).SIMMAIL_BUILD_DIALECT;
  if (built !== undefined && built !== capabilities.dialect) {
    throw new DialectNotBuiltError(`this firmware holds the ${built} mail dialect only, not ${capabilities.dialect}: build it with mc/config modemDialect "${capabilities.dialect}"`);
  }
  if ((globalThis as BuildGlobals).SIMMAIL_BUILD_DIALECT !== "classic" && capabilities.dialect === "sim7000") return new Sim7000Mail(modem, timers, capabilities);
  if ((globalThis as BuildGlobals).SIMMAIL_BUILD_DIALECT !== "sim7000" && capabilities.dialect === "classic") return new ClassicMail(modem);
  throw new DialectNotBuiltError(`no mail dialect "${String(capabilities.dialect)}"`);
}
