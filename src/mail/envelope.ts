// What both dialects check and write the same way: the SMTP server and authentication, the
// sender, the To/Cc/Bcc lists (each list cleared first: the modem keeps them from the last
// mail), the subject; the POP3 account and message numbers. One envelope check serves both,
// with each dialect's limits.

import type { AtEngine } from "../transport/engine.ts";
import { runStep, steps } from "../transport/step.ts";
import { encodeHeaderWord } from "./codec/rfc2047.ts";
import { isAscii } from "./codec/utf8.ts";
import { MailParameterError } from "./errors.ts";
import {
  checkAddress, checkHost, checkPort, checkSubject, checkText, type Address, type MailMessage, type ServerAccount,
} from "./message.ts";

/** The field lengths (and list sizes) a dialect takes. */
export interface EnvelopeLimits {
  smtpServer: number;
  smtpUser: number;
  smtpPassword: number;
  senderAddress: number;
  senderName: number;
  recipientAddress: number;
  recipientName: number;
  /** Recipients one To, Cc or Bcc list takes. */
  recipientsPerList: number;
}

export interface Pop3AccountLimits {
  pop3Server: number;
  pop3User: number;
  pop3Password: number;
}

export interface CheckedEnvelope {
  fromName: string | null;
  /** `[0]` To, `[1]` Cc, `[2]` Bcc. */
  recipients: CheckedRecipient[][];
}

const LIST_NAMES = ["To", "Cc", "Bcc"];

export interface CheckedRecipient {
  address: string;
  /** ASCII text (non-ASCII names arrive RFC 2047-encoded), or null for none. */
  name: string | null;
}

const SHARED = steps({
  smtpServer: { request: 'AT+SMTPSRV="<SMTP server>",<port>', timeoutMs: 5000 },
  smtpAuth: { request: 'AT+SMTPAUTH=1,"<SMTP user>","<SMTP password>"', secret: "SMTP password", timeoutMs: 5000 },
  smtpNoAuth: { request: "AT+SMTPAUTH=0", timeoutMs: 5000 },
  sender: { request: 'AT+SMTPFROM="<sender address>"[,"<sender name>"]', timeoutMs: 5000 },
  clearRecipients: { request: "AT+SMTPRCPT=<kind>", timeoutMs: 5000 },
  recipient: { request: 'AT+SMTPRCPT=<kind>,<index>,"<recipient address>"[,"<recipient name>"]', timeoutMs: 5000 },
  subject: { request: 'AT+SMTPSUB="<subject>"', timeoutMs: 5000 },
  pop3Account: { request: 'AT+POP3SRV="<POP3 server>","<POP3 user>","<POP3 password>",<port>', secret: "POP3 password", timeoutMs: 5000 },
});

/** RFC 5322 specials that could split or end a display name (the quote is refused outright). */
const ADDRESS_SPECIALS = /[(),:;<>@[\]\\]/;

/**
 * A display name as the modem gets it, or null for none: plain ASCII as is; non-ASCII text,
 * or text with address specials (so `ops@x.y, Eve <eve@z>` stays one name whatever the modem
 * does with quotes), as RFC 2047 encoded words.
 */
export function displayName(field: string, name: string | undefined, max: number): string | null {
  if (name === undefined || name === "") return null;
  // Quotes, line breaks and controls are refused even where encoding could carry them.
  checkText("smtp", field, name, Number.MAX_SAFE_INTEGER, true);
  const text = isAscii(name) && !ADDRESS_SPECIALS.test(name) ? name : encodeHeaderWord(name);
  return checkText("smtp", field, text, max);
}

/**
 * The SMTP server, the sender, the recipients and the subject's characters, checked before any
 * byte is written; the display names as the modem gets them. The dialect checks the subject's
 * length (it encodes it its own way), the body and the attachment.
 */
export function checkEnvelope(server: ServerAccount, message: MailMessage, limits: EnvelopeLimits): CheckedEnvelope {
  checkHost("smtp", "SMTP server", server.host, limits.smtpServer);
  if (server.port !== undefined) checkPort("smtp", "SMTP port", server.port);
  if (server.user !== undefined) {
    checkText("smtp", "SMTP user", server.user, limits.smtpUser);
    checkText("smtp", "SMTP password", server.password ?? "", limits.smtpPassword);
  }
  if (!message || typeof message !== "object") throw new MailParameterError("smtp", "message", "is missing");
  if (!message.from) throw new MailParameterError("smtp", "sender", "is missing");
  checkAddress("smtp", "sender address", message.from.address, limits.senderAddress);
  const fromName = displayName("sender name", message.from.name, limits.senderName);
  const recipients = [message.to ?? [], message.cc ?? [], message.bcc ?? []].map((list: Address[], kind) => {
    const name = LIST_NAMES[kind];
    if (!Array.isArray(list)) throw new MailParameterError("smtp", `${name} recipients`, "must be a list");
    if (list.length > limits.recipientsPerList) {
      throw new MailParameterError("smtp", `${name} recipients`, `${list.length} given; this modem takes at most ${limits.recipientsPerList}`, limits.recipientsPerList);
    }
    return list.map((r, i) => ({
      address: checkAddress("smtp", `${name} recipient ${i + 1} address`, r?.address, limits.recipientAddress),
      name: displayName(`${name} recipient ${i + 1} name`, r?.name, limits.recipientName),
    }));
  });
  if (recipients[0].length + recipients[1].length + recipients[2].length === 0) {
    throw new MailParameterError("smtp", "recipients", "at least one To, Cc or Bcc recipient is needed");
  }
  checkSubject("smtp", message.subject);
  return { fromName, recipients };
}

/** The POP3 server and account; returns the user and password as the modem gets them. */
export function checkPop3Account(server: ServerAccount, limits: Pop3AccountLimits): { user: string; password: string } {
  checkHost("pop3", "POP3 server", server.host, limits.pop3Server);
  if (server.port !== undefined) checkPort("pop3", "POP3 port", server.port);
  const user = checkText("pop3", "POP3 user", server.user ?? "", limits.pop3User);
  const password = checkText("pop3", "POP3 password", server.password ?? "", limits.pop3Password);
  if (user === "") throw new MailParameterError("pop3", "POP3 user", "is missing");
  return { user, password };
}

/** A POP3 message number: 1 or more. */
export function checkMessageNumber(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new MailParameterError("pop3", "message number", `${n} is not a message number (1 or more)`);
  return n;
}

export async function writeServer(engine: AtEngine, server: ServerAccount): Promise<void> {
  await runStep(engine, SHARED.smtpServer, [server.host, server.port ?? 25]);
  if (server.user !== undefined) await runStep(engine, SHARED.smtpAuth, [server.user, server.password ?? ""]);
  else await runStep(engine, SHARED.smtpNoAuth);
}

/** `recipients[0]` To, `[1]` Cc, `[2]` Bcc. */
export async function writeParties(engine: AtEngine, fromAddress: string, fromName: string | null, recipients: CheckedRecipient[][]): Promise<void> {
  await runStep(engine, SHARED.sender, [fromAddress, fromName]);
  for (let kind = 0; kind < 3; kind++) {
    await runStep(engine, SHARED.clearRecipients, [kind]);
    const list = recipients[kind];
    for (let index = 0; index < list.length; index++) {
      await runStep(engine, SHARED.recipient, [kind, index, list[index].address, list[index].name]);
    }
  }
}

/** The subject as the modem takes it (ASCII, hex or encoded words: the dialect's choice). */
export async function writeSubject(engine: AtEngine, subject: string): Promise<void> {
  await runStep(engine, SHARED.subject, [subject]);
}

/** The POP3 server and account (checked by the caller). */
export async function writePop3Account(engine: AtEngine, server: ServerAccount, user: string, password: string): Promise<void> {
  await runStep(engine, SHARED.pop3Account, [server.host, user, password, server.port ?? 110]);
}
