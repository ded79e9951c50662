// The two mail dialects behind the one interface (dialect.ts), and the one place that picks
// between them: from the probe's answer, once. Each is a thin override of what differs; the
// conversations themselves are the clients' step tables.

import type { TimerPort } from "../transport/ports.ts";
import type { Dialect, Modem } from "../modem/modem.ts";
import type { EmailCapabilities } from "../modem/probe.ts";
import { DEFAULT_LIMITS, pop3ReadLength, type EmailLimits } from "../modem/limits.ts";
import { ClassicMail } from "./classic-dialect.ts";
import type { BearerOptions, DialectCapabilities, MailDialect } from "./dialect.ts";
import { MailParameterError, ProbedLimitError } from "./errors.ts";
import type { MailMessage } from "./message.ts";
import { Pop3Client } from "./pop3.ts";
import { SmtpClient, type SendOptions, type SmtpSettings } from "./smtp.ts";

/** The SIM7000's own: SAPBR bearer, body after DOWNLOAD, attachments streamed, UIDL, TLS where the firmware has it. */
class Sim7000Mail implements MailDialect {
  readonly name = "sim7000";
  readonly can: DialectCapabilities = { uidl: true, inlineBody: false, attachments: "bytes" };
  private readonly modem: Modem;
  private readonly timers: TimerPort;
  /** The UART's speed: it sizes the POP3 reads (pop3ReadLength). */
  private readonly baud: number;
  private readonly smtp: SmtpClient;
  private pop3: Pop3Client | null = null;
  private capabilities: EmailCapabilities;
  /** A refusal since the last probe rested on a limit lower than a SIM7000's. */
  private doubted = false;
  /** A probe after such a refusal read the same limits: they are the firmware's own. */
  private believed = false;

  constructor(modem: Modem, timers: TimerPort, capabilities: EmailCapabilities, baud: number) {
    this.modem = modem;
    this.timers = timers;
    this.baud = baud;
    this.capabilities = capabilities;
    this.smtp = new SmtpClient(modem.engine, capabilities.limits);
    this.adopt(capabilities);
  }

  adopt(capabilities: EmailCapabilities): void {
    const same = sameLimits(this.capabilities.limits, capabilities.limits);
    this.believed = same && (this.believed || this.doubted);
    this.doubted = false;
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

  async send(settings: SmtpSettings, message: MailMessage, options?: SendOptions): Promise<void> {
    try {
      await this.smtp.send(settings, message, options);
    } catch (error) {
      throw this.doubt(error);
    }
  }

  /**
   * A refusal over a limit the probe read lower than a SIM7000's contradicts the probe (noise
   * garbles test-command answers): it is a ProbedLimitError, which has the modem probed again,
   * until a probe reads the same limits.
   */
  private doubt(error: unknown): unknown {
    if (this.believed || !(error instanceof MailParameterError) || error.overLimit === null) return error;
    if (!belowSim7000(this.capabilities.limits, error.overLimit)) return error;
    this.doubted = true;
    return new ProbedLimitError(error.protocol, error.field, error.problem, error.overLimit);
  }

  endSend(cid: number): Promise<void> {
    return this.modem.cycleBearer(cid);
  }

  /** Made on first use (it holds a timer): a device without a command mailbox never has one. */
  get mailbox(): Pop3Client {
    if (this.pop3 === null) {
      const limits = this.capabilities.limits;
      this.pop3 = new Pop3Client(this.modem.engine, this.timers, limits, pop3ReadLength(this.baud, limits.pop3Read));
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

/** Some limit the probe read is `limit` and lower than the SIM7000's. */
function belowSim7000(limits: EmailLimits, limit: number): boolean {
  return (Object.keys(DEFAULT_LIMITS) as Array<keyof EmailLimits>).some((key) => {
    const own = DEFAULT_LIMITS[key];
    return typeof own === "number" && limits[key] === limit && limit < own;
  });
}

function sameLimits(a: EmailLimits, b: EmailLimits): boolean {
  return (Object.keys(DEFAULT_LIMITS) as Array<keyof EmailLimits>).every((key) => String(a[key]) === String(b[key]));
}


/**
 * The one dialect a device build holds: build/build.mjs defines globalThis.SIMMAIL_BUILD_DIALECT
 * from mc/config's `modemDialect`, the switch below on it keeps only that case, and the bundler
 * drops the other dialect's modules (flash). Elsewhere it is undefined: both dialects are there.
 */
interface BuildGlobals {
  SIMMAIL_BUILD_DIALECT?: string;
}

/** The dialect the probe found (`probeEmail` checked that its commands are there); `baud`: the UART's speed. */
export function openMailDialect(capabilities: EmailCapabilities, modem: Modem, timers: TimerPort, baud: number): MailDialect {
  // The global read in the switch itself, once: the define makes it a literal there, which the
  // minifier folds; a variable holding it would not be, and the other dialect would stay in.
  switch ((globalThis as BuildGlobals).SIMMAIL_BUILD_DIALECT ?? capabilities.dialect) {
    case "sim7000":
      refuseUnlessFound("sim7000", capabilities.dialect);
      return new Sim7000Mail(modem, timers, capabilities, baud);
    case "classic":
      refuseUnlessFound("classic", capabilities.dialect);
      return new ClassicMail(modem);
    default:
      throw new DialectNotBuiltError(`no mail dialect "${String(capabilities.dialect)}"`);
  }
}

/** `held`, the dialect the build holds (or else the one found), opened only if the probe found it. */
function refuseUnlessFound(held: Dialect, found: Dialect): void {
  if (found !== held) throw new DialectNotBuiltError(`this firmware holds the ${held} mail dialect only, not ${found}: build it with mc/config modemDialect "${found}"`);
}
