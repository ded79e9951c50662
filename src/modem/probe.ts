// Capability probe: the email test commands tell which limits this firmware has, whether it
// has working email commands at all, and whether it can secure them with TLS (AT+EMAILSSL,
// AT+CSSLCFG: SIM7080 and SIM800 firmwares; a plain SIM7000 firmware answers ERROR).

import type { AtEngine } from "../transport/engine.ts";
import { AtCommandError } from "../transport/errors.ts";
import { runStep, Step, wholeNumber, type Reply } from "../transport/step.ts";
import { DEFAULT_LIMITS, type EmailLimits } from "./limits.ts";
import { NoEmailSupportError } from "./errors.ts";
import type { Dialect } from "./modem.ts";

/** The test command `AT+<name>=?`: its info line, or the sign of a firmware without email. */
function testStep(name: string): Step {
  // Some SIM7000G firmwares answer every email command with "+SMTPSEND: 65".
  return new Step({ request: `AT+${name}=?`, lines: [`+${name}:`, "+SMTPSEND:"], timeoutMs: 3000 });
}
const BROKEN = 1;

/** What AT+EMAILSSL=? and AT+CSSLCFG=? said. */
export interface TlsCapabilities {
  /** The AT+EMAILSSL modes: 0 clear text, 1 TLS from the first byte, 2 STARTTLS/STLS. */
  modes: [number, number];
  /** The `<ctxindex>` range of the SIM7080 form, or null for SIM800's `AT+EMAILSSL=<n>`. */
  contexts: [number, number] | null;
  /** AT+CSSLCFG exists: the TLS version and the SNI name can be set. */
  sslConfig: boolean;
}

export interface EmailCapabilities {
  dialect: Dialect;
  /** The probe told the dialect by its test commands (false: the caller named it). */
  detected: boolean;
  limits: EmailLimits;
  /** null: no AT+EMAILSSL (credentials can only go in clear text). */
  tls: TlsCapabilities | null;
  /** The raw test-command answers, for reports. */
  answers: Record<string, string>;
}

/** The test commands of each dialect, made once. */
const TESTS: Record<Dialect, Record<string, Step>> = { sim7000: {}, classic: {} };
for (const name of [
  "EMAILCID", "EMAILTO", "SMTPSRV", "SMTPAUTH", "SMTPFROM", "SMTPRCPT", "SMTPSUB", "SMTPBODY",
  "SMTPFILE", "SMTPCS", "POP3SRV", "POP3READ",
]) TESTS.sim7000[name] = testStep(name);
for (const name of ["SMTPSRV", "POP3SRV"]) TESTS.classic[name] = testStep(name);
const TLS_TESTS = { EMAILSSL: testStep("EMAILSSL"), CSSLCFG: testStep("CSSLCFG") };

/** A length limit: a positive whole number, else the default. */
function number(value: string | undefined, fallback: number): number {
  const n = wholeNumber(value ?? "");
  return n > 0 ? n : fallback;
}

/** Parses `(1-65535)` or `(0,1,2)` or `(0-2)` into [min, max]. */
export function range(text: string): [number, number] | null {
  const m = /^\(?\s*(\d+)\s*(?:[-,]\s*(?:\d+\s*,\s*)*(\d+))?\s*\)?$/.exec(text.trim());
  if (!m) return null;
  const min = Number(m[1]);
  return [min, m[2] === undefined ? min : Number(m[2])];
}

/**
 * The dialect by its test commands: a SIM7000 answers AT+EMAILCID=? (its first test), the
 * application note's firmware has no such command and answers ERROR. Resolves with that first
 * reply when it is the SIM7000's.
 */
async function detectDialect(engine: AtEngine): Promise<{ dialect: Dialect; reply: Reply | null }> {
  try {
    return { dialect: "sim7000", reply: await runStep(engine, TESTS.sim7000.EMAILCID) };
  } catch (error) {
    if (error instanceof AtCommandError) return { dialect: "classic", reply: null };
    throw error;
  }
}

/**
 * Reads the limits of the dialect's email commands; throws NoEmailSupportError when there are
 * none. Without `dialect` the test commands tell which it is (`detected`).
 */
export async function probeEmail(engine: AtEngine, asked?: Dialect): Promise<EmailCapabilities> {
  const answers: Record<string, string> = {};
  const replies: Record<string, Reply> = {};
  const detection = asked === undefined ? await detectDialect(engine) : null;
  const dialect = asked ?? detection!.dialect;
  const detected = detection !== null;
  if (detection?.reply) replies.EMAILCID = detection.reply;
  for (const [name, step] of Object.entries(TESTS[dialect])) {
    let reply: Reply;
    try {
      reply = replies[name] ?? (await runStep(engine, step));
    } catch (error) {
      if (error instanceof AtCommandError) {
        const neither = detected ? "AT+EMAILCID=? answered ERROR (not the SIM7000 dialect) and " : "";
        throw new NoEmailSupportError(`${neither}AT+${name}=? answered ${error.reply}`);
      }
      throw error;
    }
    if (reply.line(BROKEN) !== null) throw new NoEmailSupportError(`AT+${name}=? answered +SMTPSEND: 65 (email stack not working in this firmware)`);
    answers[name] = reply.line(0)?.text ?? "";
    replies[name] = reply;
  }
  if (dialect !== "sim7000") return { dialect, detected, limits: { ...DEFAULT_LIMITS }, tls: null, answers };
  const tls = await probeTls(engine, answers);

  const f = (name: string) => replies[name].line(0)?.fields ?? [];
  const d = DEFAULT_LIMITS;
  const auth = f("SMTPAUTH");
  const from = f("SMTPFROM");
  const rcpt = f("SMTPRCPT");
  const pop3 = f("POP3SRV");
  const limits: EmailLimits = {
    cid: range(answers.EMAILCID) ?? d.cid,
    timeout: range(answers.EMAILTO) ?? d.timeout,
    smtpServer: number(f("SMTPSRV")[0], d.smtpServer),
    smtpUser: number(auth[1], d.smtpUser),
    smtpPassword: number(auth[2], d.smtpPassword),
    senderAddress: number(from[0], d.senderAddress),
    senderName: number(from[1], d.senderName),
    recipientIndex: range(rcpt[1] ?? "") ?? d.recipientIndex,
    recipientAddress: number(rcpt[2], d.recipientAddress),
    recipientName: number(rcpt[3], d.recipientName),
    subject: number(answers.SMTPSUB, d.subject),
    body: number(answers.SMTPBODY, d.body),
    fileName: number(f("SMTPFILE")[1], d.fileName),
    charset: number(answers.SMTPCS, d.charset),
    pop3Server: number(pop3[0], d.pop3Server),
    pop3User: number(pop3[1], d.pop3User),
    pop3Password: number(pop3[2], d.pop3Password),
    pop3Read: (range(answers.POP3READ) ?? [1, d.pop3Read])[1],
  };
  return { dialect, detected, limits, tls, answers };
}

/** The fields of the optional test command's answer, or null when the firmware lacks it (ERROR). */
async function optionalTest(engine: AtEngine, name: keyof typeof TLS_TESTS, answers: Record<string, string>): Promise<string[] | null> {
  let reply: Reply;
  try {
    reply = await runStep(engine, TLS_TESTS[name]);
  } catch (error) {
    if (error instanceof AtCommandError) return null;
    throw error;
  }
  answers[name] = reply.line(0)?.text ?? "";
  return reply.line(0)?.fields ?? [];
}

async function probeTls(engine: AtEngine, answers: Record<string, string>): Promise<TlsCapabilities | null> {
  const emailSsl = await optionalTest(engine, "EMAILSSL", answers);
  if (emailSsl === null) return null;
  const [modes, contexts] = emailSsl;
  const sslConfig = (await optionalTest(engine, "CSSLCFG", answers)) !== null;
  return { modes: range(modes ?? "") ?? [0, 2], contexts: contexts === undefined ? null : range(contexts), sslConfig };
}
