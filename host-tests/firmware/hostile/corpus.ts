// The hostile-input corpus as data. Every case names the field it attacks, the input, and the
// one outcome it must have: refused (error class, field, the problem named) or a safe
// encoding (the exact AT line that carries it, and what the recipient's parser sees).
// Suites: outbound.test.ts (parameters → AT bytes → real SMTP server), inbound.test.ts
// (mails in Dovecot → the app's command poll and the POP3 readers), traces.test.ts.

import type { RefusalReason } from "../../../src/app/remote-command.ts";

export type Dialect = "sim7000" | "classic";
export const DIALECTS: readonly Dialect[] = ["sim7000", "classic"];

// ---- outbound: parameters of the SMTP API ---------------------------------------------------

/** Where a case puts its input in an otherwise good mail. */
export type OutboundField =
  | "SMTP server" | "SMTP user" | "SMTP password"
  | "sender address" | "sender name" | "To address" | "To name"
  | "subject" | "body" | "attachment name";

export interface Refused {
  refused: "MailParameterError";
  /** The field the error names (MailParameterError.field). */
  field: string;
  /** The problem the message must state. */
  problem: RegExp;
}

export interface SafelyEncoded {
  /** The exact command line (without CR) the value travels in. */
  wire: string;
  /** What mailparser reads from the mail delivered to the real SMTP server. */
  mail?: {
    subject?: string;
    /** `name <address>` of every mailbox of the header. */
    from?: string[];
    to?: string[];
    text?: string;
    attachment?: string;
  };
  /** The SMTP login this case uses (its password is part of the attack). */
  login?: { user: string; password: string };
}

export type OutboundOutcome = Refused | SafelyEncoded;

export interface OutboundCase {
  id: string;
  title: string;
  field: OutboundField;
  input: string;
  /** One outcome for both dialects, or one per dialect. */
  expect: OutboundOutcome | Record<Dialect, OutboundOutcome>;
}

export function outcomeFor(c: OutboundCase, dialect: Dialect): OutboundOutcome {
  return "sim7000" in c.expect ? (c.expect as Record<Dialect, OutboundOutcome>)[dialect] : (c.expect as OutboundOutcome);
}

export function isRefused(outcome: OutboundOutcome): outcome is Refused {
  return "refused" in outcome;
}

const refused = (field: string, problem: RegExp): Refused => ({ refused: "MailParameterError", field, problem });
const LINE_BREAK = /must not contain a line break \(CR or LF\)/;
const QUOTE = /must not contain a double quote/;
const NUL = /must not contain a NUL character/;
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const hex = (text: string) => Buffer.from(text, "utf8").toString("hex").toUpperCase();
/** The attachment name field is the file in the modem's file system in the classic dialect. */
const attachmentField: Record<Dialect, string> = { sim7000: "attachment name", classic: "attachment 1 name" };
const perDialectAttachment = (problem: RegExp): Record<Dialect, Refused> => ({
  sim7000: refused(attachmentField.sim7000, problem),
  classic: refused(attachmentField.classic, problem),
});

/** The good mail every case starts from. */
export const BASE_MAIL = {
  from: { address: "alarm@simmail.test", name: "Pump house" },
  to: { address: "ops@simmail.test", name: "Ops" },
  subject: "Alarm",
  body: "Level high",
  attachmentName: "log.txt",
};
export const SMTP_LOGIN = { user: "alarm", password: "alarm-secret" };
/** A server account whose password carries AT syntax (case OUT-S08). */
export const SEMICOLON_LOGIN = { user: "semi", password: "pw;AT+CFUN=0;+++" };

export const OUTBOUND: OutboundCase[] = [
  // Header injection and AT injection through the subject.
  { id: "OUT-01", title: "CRLF + Bcc header in the subject", field: "subject", input: "Hi\r\nBcc: evil@evil.test", expect: refused("subject", LINE_BREAK) },
  { id: "OUT-02", title: "bare LF + header in the subject", field: "subject", input: "Hi\nX-Evil: 1", expect: refused("subject", LINE_BREAK) },
  { id: "OUT-03", title: "bare CR + AT command in the subject", field: "subject", input: "Hi\rAT+CFUN=0", expect: refused("subject", LINE_BREAK) },
  { id: "OUT-04", title: "NUL in the subject", field: "subject", input: "Hi\0there", expect: refused("subject", NUL) },
  { id: "OUT-05", title: "lone UTF-16 surrogate (invalid UTF-8) in the subject", field: "subject", input: "bad \ud800 text", expect: refused("subject", /lone UTF-16 surrogate/) },
  { id: "OUT-06", title: "overlong ASCII subject (513)", field: "subject", input: "x".repeat(513), expect: refused("subject", /at most 512/) },
  { id: "OUT-07", title: "overlong non-ASCII subject (200 × é)", field: "subject", input: "é".repeat(200), expect: refused("subject", /at most 512/) },
  {
    id: "OUT-08", title: "AT syntax and ; in the subject stay inside the quotes", field: "subject", input: "Pump 3; AT+CFUN=0;+++",
    expect: { wire: 'AT+SMTPSUB="Pump 3; AT+CFUN=0;+++"', mail: { subject: "Pump 3; AT+CFUN=0;+++" } },
  },
  {
    id: "OUT-09", title: "an encoded word hiding CRLF + Bcc in the subject is only text", field: "subject", input: `=?UTF-8?B?${b64("Hi\r\nBcc: evil@evil.test")}?=`,
    expect: { wire: `AT+SMTPSUB="=?UTF-8?B?${b64("Hi\r\nBcc: evil@evil.test")}?="` },
  },
  {
    id: "OUT-10", title: "non-ASCII subject with a Bcc: text", field: "subject", input: "Alarm «Pumpe» Bcc: evil@evil.test",
    expect: {
      sim7000: { wire: `AT+SMTPSUB="${hex("Alarm «Pumpe» Bcc: evil@evil.test")}"`, mail: { subject: "Alarm «Pumpe» Bcc: evil@evil.test" } },
      classic: { wire: `AT+SMTPSUB="=?UTF-8?B?${b64("Alarm «Pumpe» Bcc: evil@evil.test")}?="`, mail: { subject: "Alarm «Pumpe» Bcc: evil@evil.test" } },
    },
  },
  {
    id: "OUT-11", title: "tab + Bcc: text in the subject", field: "subject", input: "Hi\tBcc: evil@evil.test",
    expect: {
      // A control character cannot go in quotes: the sim7000 dialect sends the subject as UTF-8 hex.
      sim7000: { wire: `AT+SMTPSUB="${hex("Hi\tBcc: evil@evil.test")}"` },
      classic: refused("subject", /control character 0x09/),
    },
  },

  // Display names.
  { id: "OUT-12", title: "CRLF + Bcc header in the sender name", field: "sender name", input: "Pump\r\nBcc: evil@evil.test", expect: refused("sender name", LINE_BREAK) },
  { id: "OUT-13", title: "quote ending the sender name early", field: "sender name", input: 'Pump",AT+CFUN=0,"', expect: refused("sender name", QUOTE) },
  { id: "OUT-14", title: "non-ASCII sender name with CRLF (not hidden in an encoded word)", field: "sender name", input: "José\r\nBcc: evil@evil.test", expect: refused("sender name", LINE_BREAK) },
  { id: "OUT-15", title: "overlong sender name (65)", field: "sender name", input: "n".repeat(65), expect: refused("sender name", /at most 64/) },
  {
    id: "OUT-16", title: "sender name that looks like another mailbox", field: "sender name", input: "ops@simmail.test, Eve <eve@evil.test>",
    expect: {
      wire: `AT+SMTPFROM="alarm@simmail.test","=?UTF-8?B?${b64("ops@simmail.test, Eve <eve@evil.test>")}?="`,
      mail: { from: ["ops@simmail.test, Eve <eve@evil.test> <alarm@simmail.test>"] },
    },
  },
  { id: "OUT-17", title: "LF + AT command in a recipient name", field: "To name", input: "Ops\nAT+CFUN=0", expect: refused("To recipient 1 name", LINE_BREAK) },
  { id: "OUT-18", title: "NUL in a recipient name", field: "To name", input: "Ops\0", expect: refused("To recipient 1 name", NUL) },
  { id: "OUT-19", title: "terminal escape in a recipient name", field: "To name", input: "\x1b[2JOps", expect: refused("To recipient 1 name", /control character 0x1b/) },
  {
    id: "OUT-20", title: "non-ASCII recipient name", field: "To name", input: "Zoë Ops",
    expect: { wire: `AT+SMTPRCPT=0,0,"ops@simmail.test","=?UTF-8?B?${b64("Zoë Ops")}?="`, mail: { to: ["Zoë Ops <ops@simmail.test>"] } },
  },
  {
    id: "OUT-21", title: "; and AT syntax in a recipient name", field: "To name", input: "Ops;AT+CFUN=0",
    expect: { wire: `AT+SMTPRCPT=0,0,"ops@simmail.test","=?UTF-8?B?${b64("Ops;AT+CFUN=0")}?="`, mail: { to: ["Ops;AT+CFUN=0 <ops@simmail.test>"] } },
  },

  // Addresses.
  { id: "OUT-22", title: "quote in the sender address", field: "sender address", input: 'alarm"@simmail.test', expect: refused("sender address", QUOTE) },
  { id: "OUT-23", title: "SMTP command smuggled after CRLF in the sender address", field: "sender address", input: "alarm@simmail.test\r\nRCPT TO:<evil@evil.test>", expect: refused("sender address", LINE_BREAK) },
  { id: "OUT-24", title: "a forged display form as the sender address", field: "sender address", input: "Ops <ops@simmail.test>", expect: refused("sender address", /is not an email address/) },
  { id: "OUT-25", title: "a second recipient smuggled with a comma", field: "To address", input: "ops@simmail.test,evil@evil.test", expect: refused("To recipient 1 address", /is not an email address/) },
  { id: "OUT-26", title: "; + AT command in a recipient address", field: "To address", input: "ops@simmail.test;AT+CFUN=0", expect: refused("To recipient 1 address", /is not an email address/) },
  { id: "OUT-27", title: "overlong recipient address (65)", field: "To address", input: `${"a".repeat(50)}@simmail.test.x`, expect: refused("To recipient 1 address", /at most 64/) },
  { id: "OUT-28", title: "non-ASCII recipient address", field: "To address", input: "opé@simmail.test", expect: refused("To recipient 1 address", /must be plain ASCII/) },

  // Server account.
  { id: "OUT-29", title: "quote + AT command in the server name", field: "SMTP server", input: 'mail.simmail.test",25;AT+CFUN=0;"', expect: refused("SMTP server", QUOTE) },
  { id: "OUT-30", title: "; in the server name", field: "SMTP server", input: "mail.simmail.test;AT+CFUN=0", expect: refused("SMTP server", /is not a host name/) },
  { id: "OUT-31", title: "CRLF + AT command in the password", field: "SMTP password", input: "pw\r\nAT+SMTPSEND", expect: refused("SMTP password", LINE_BREAK) },
  { id: "OUT-32", title: "quote ending the password early", field: "SMTP password", input: 'pw",1', expect: refused("SMTP password", QUOTE) },
  { id: "OUT-33", title: "overlong password (65)", field: "SMTP password", input: "p".repeat(65), expect: refused("SMTP password", /at most 64/) },
  { id: "OUT-34", title: "NUL in the user name", field: "SMTP user", input: "alarm\0", expect: refused("SMTP user", NUL) },
  {
    id: "OUT-35", title: "; and AT syntax in the password stay inside the quotes", field: "SMTP password", input: SEMICOLON_LOGIN.password,
    expect: { wire: `AT+SMTPAUTH=1,"semi","${SEMICOLON_LOGIN.password}"`, login: SEMICOLON_LOGIN, mail: { subject: "Alarm" } },
  },

  // Body.
  { id: "OUT-36", title: "NUL in the body", field: "body", input: "a\0b", expect: refused("body", NUL) },
  {
    id: "OUT-37", title: "lone surrogate (invalid UTF-8) in the body", field: "body", input: "bad \udc00",
    expect: { sim7000: refused("body", /lone UTF-16 surrogate/), classic: refused("body", /must be plain ASCII/) },
  },
  { id: "OUT-38", title: "overlong ASCII body (5121)", field: "body", input: "x".repeat(5121), expect: refused("body", /at most 5120/) },
  {
    id: "OUT-39", title: "non-ASCII body over the limit as hex (2600 × é)", field: "body", input: "é".repeat(2600),
    expect: { sim7000: refused("body", /at most 5120/), classic: refused("body", /must be plain ASCII/) },
  },
  {
    id: "OUT-40", title: "SMTP smuggling: end-of-data and a second mail in the body", field: "body",
    input: "x\r\n.\r\nMAIL FROM:<evil@evil.test>\r\nRCPT TO:<ops@simmail.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n",
    expect: {
      // Length-prefixed (AT+SMTPBODY=<n>), dot-stuffed by the modem: one mail, text intact.
      sim7000: {
        wire: "AT+SMTPBODY=96",
        mail: { text: "x\n.\nMAIL FROM:<evil@evil.test>\nRCPT TO:<ops@simmail.test>\nDATA\nSubject: smuggled\n\nhi\n.\n" },
      },
      classic: refused("body", /cannot carry line breaks/),
    },
  },

  // Attachment file names.
  { id: "OUT-41", title: "CRLF + header in the attachment name", field: "attachment name", input: "log\r\nContent-Type: text/html", expect: perDialectAttachment(LINE_BREAK) },
  { id: "OUT-42", title: "quote + AT command in the attachment name", field: "attachment name", input: 'log.txt",1;AT+CFUN=0;"', expect: perDialectAttachment(QUOTE) },
  { id: "OUT-43", title: "overlong attachment name (65)", field: "attachment name", input: `${"f".repeat(61)}.txt`, expect: perDialectAttachment(/at most 64/) },
  {
    id: "OUT-44", title: "; and AT syntax in the attachment name stay inside the quotes", field: "attachment name", input: "log;AT+CFUN=0.txt",
    expect: {
      sim7000: { wire: 'AT+SMTPFILE=1,"log;AT+CFUN=0.txt",0', mail: { attachment: "log;AT+CFUN=0.txt" } },
      classic: { wire: 'AT+SMTPFILE=1,"log;AT+CFUN=0.txt"', mail: { attachment: "log;AT+CFUN=0.txt" } },
    },
  },
];

// ---- inbound: mails in the mailbox, read by the command poll ------------------------------

/** What a case can use to build its mail. */
export interface MailContext {
  /** A signed subject for `command` at `seconds` (default now) with a fresh nonce. */
  sign(command: string, options?: { seconds?: number; nonce?: string; secret?: string; device?: string }): string;
  now: number;
  /** The device's allowlisted operator and its device id. */
  ops: string;
  device: string;
}

export interface InboundCase {
  id: string;
  title: string;
  /** The raw mail (header and body), CRLF line ends. */
  mail: (ctx: MailContext) => string | Buffer;
  /** The verdict: refused for this reason. Every mail is deleted and logged, none obeyed. */
  expect: RefusalReason;
  /** The logged detail must match (specific cases only); per dialect where the modems show the mail differently. */
  detail?: RegExp | Record<Dialect, RegExp>;
  /** Only these dialects (default both), with the reason the other cannot run it. */
  dialects?: { only: Dialect[]; why: string };
}

export function detailFor(c: InboundCase, dialect: Dialect): RegExp | undefined {
  return c.detail === undefined || c.detail instanceof RegExp ? c.detail : c.detail[dialect];
}

export function inboundFor(dialect: Dialect): InboundCase[] {
  return INBOUND.filter((c) => c.dialects === undefined || c.dialects.only.includes(dialect));
}

// The classic modem prints the header as text lines (AT+POP3HDR); a line longer than the AT
// engine's line buffer (256 bytes) is dropped by the framer and counted in stats.overlongLines.

export const OPS = "ops@simmail.test";
export const DEVICE = "pump-house-1";
export const HMAC_SECRET = "correct horse battery staple 42";
export const REPLAYED_NONCE = "00000000000000aa";

const mail = (from: string, subject: string, extra = "", body = "command\r\n") =>
  `From: ${from}\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\n${extra}\r\n${body}`;
const mailBytes = (head: string, middle: Buffer, tail: string) => Buffer.concat([Buffer.from(head, "latin1"), middle, Buffer.from(tail, "latin1")]);

export const INBOUND: InboundCase[] = [
  // Forged senders (each with a token that verifies: the sender check alone refuses them).
  { id: "IN-01", title: "another address", mail: (c) => mail("mallory@evil.test", c.sign("DISARM")), expect: "forged-sender", detail: /mallory@evil\.test is not on the allowlist/ },
  { id: "IN-02", title: "allowlisted address as the display name", mail: (c) => mail(`"${c.ops}" <mallory@evil.test>`, c.sign("DISARM")), expect: "forged-sender", detail: /mallory@evil\.test is not on the allowlist/ },
  { id: "IN-03", title: "allowlisted address unquoted in the name", mail: (c) => mail(`${c.ops} <mallory@evil.test>`, c.sign("DISARM")), expect: "forged-sender", detail: /mallory@evil\.test/ },
  { id: "IN-04", title: "allowlisted address in a comment", mail: (c) => mail(`mallory@evil.test (${c.ops})`, c.sign("DISARM")), expect: "forged-sender", detail: /mallory@evil\.test/ },
  { id: "IN-05", title: "look-alike domain", mail: (c) => mail(`${c.ops}.evil.test`, c.sign("DISARM")), expect: "forged-sender", detail: /ops@simmail\.test\.evil\.test is not on the allowlist/ },
  {
    id: "IN-06", title: "two From fields, the allowlisted one first", mail: (c) => mail(c.ops, c.sign("DISARM"), "From: mallory@evil.test\r\n"), expect: "forged-sender", detail: /2 From fields/,
    dialects: { only: ["sim7000"], why: "the classic modem's AT+POP3HDR prints one From line (the first): the second is invisible to simmail (SECURITY.md)" },
  },
  { id: "IN-32", title: "one From with two <addresses>, the allowlisted one last", mail: (c) => mail(`<mallory@evil.test> <${c.ops}>`, c.sign("DISARM")), expect: "forged-sender", detail: /holds more than one address/ },
  { id: "IN-33", title: "one From with the allowlisted <address> and a bare one after it", mail: (c) => mail(`Ops <${c.ops}> mallory@evil.test`, c.sign("DISARM")), expect: "forged-sender", detail: /holds more than one address/ },
  { id: "IN-34", title: "a look-alike address in Cyrillic letters", mail: (c) => mailBytes("From: ", Buffer.from(c.ops.replace("o", "\u043e"), "utf8"), `\r\nTo: alarm@simmail.test\r\nSubject: ${c.sign("DISARM")}\r\n\r\ncommand\r\n`), expect: "forged-sender", detail: /is not a plain ASCII address/ },
  {
    id: "IN-31", title: "two From fields, the allowlisted one second", mail: (c) => mail("mallory@evil.test", c.sign("DISARM"), `From: ${c.ops}\r\n`), expect: "forged-sender",
    detail: { sim7000: /2 From fields/, classic: /mallory@evil\.test is not on the allowlist/ },
  },
  { id: "IN-07", title: "two mailboxes in one From", mail: (c) => mail(`${c.ops}, mallory@evil.test`, c.sign("DISARM")), expect: "forged-sender", detail: /names 2 mailboxes/ },
  { id: "IN-08", title: "encoded word that decodes to the allowlisted address", mail: (c) => mail(`=?UTF-8?Q?${c.ops.replace("@", "=40")}?=`, c.sign("DISARM")), expect: "forged-sender", detail: /not on the allowlist/ },
  { id: "IN-09", title: "encoded word that decodes to <allowlisted>, with the real address after", mail: (c) => mail(`=?UTF-8?Q?=3C${c.ops.replace("@", "=40")}=3E=2C?= <mallory@evil.test>`, c.sign("DISARM")), expect: "forged-sender", detail: /mallory@evil\.test is not on the allowlist/ },
  { id: "IN-10", title: "allowlisted address followed by a NUL", mail: (c) => mailBytes(`From: ${c.ops}`, Buffer.from([0]), `\r\nSubject: ${c.sign("DISARM")}\r\n\r\nx\r\n`), expect: "forged-sender", detail: /ops@simmail\.test\? is not on the allowlist/ },
  { id: "IN-11", title: "allowlisted address cut out of an overlong From", mail: (c) => mail(`${" ".repeat(511 - c.ops.length)}${c.ops}.evil.test`, c.sign("DISARM")), expect: "forged-sender",
    // classic: the From line is longer than the line buffer and dropped: no From.
    detail: { sim7000: /too long to be read whole/, classic: /no sender address/ },
  },
  { id: "IN-12", title: "no From at all", mail: (c) => `To: alarm@simmail.test\r\nSubject: ${c.sign("DISARM")}\r\n\r\nx\r\n`, expect: "forged-sender", detail: /no sender address/ },
  { id: "IN-13", title: "terminal escape and invalid UTF-8 in the From", mail: (c) => mailBytes("From: mallory", Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe]), `@evil.test\r\nSubject: ${c.sign("DISARM")}\r\n\r\nx\r\n`), expect: "forged-sender", detail: /^mallory\?\[2j\u00ff\u00fe@evil\.test is not a plain ASCII address \(look-alike letters are not folded\)$/ },

  // Tokens.
  { id: "IN-14", title: "token signed with another secret", mail: (c) => mail(c.ops, c.sign("ARM", { secret: "another secret of enough length" })), expect: "bad-token" },
  { id: "IN-15", title: "token for another device", mail: (c) => mail(c.ops, c.sign("ARM", { device: "cold-room" })), expect: "bad-token" },
  { id: "IN-16", title: "token for another command (DISARM's token on ARM)", mail: (c) => mail(c.ops, c.sign("DISARM").replace("DISARM", "ARM")), expect: "bad-token" },
  { id: "IN-17", title: "token truncated by one digit", mail: (c) => mail(c.ops, c.sign("ARM").slice(0, -1)), expect: "malformed-subject", detail: /not 64 hex digits/ },
  { id: "IN-18", title: "token with one digit altered", mail: (c) => mail(c.ops, c.sign("ARM").replace(/.$/, (d) => (d === "0" ? "1" : "0"))), expect: "bad-token" },
  { id: "IN-19", title: "stale token (2 h old)", mail: (c) => mail(c.ops, c.sign("ARM", { seconds: c.now - 7200 })), expect: "stale-token" },
  { id: "IN-20", title: "token from the future (2 h ahead)", mail: (c) => mail(c.ops, c.sign("ARM", { seconds: c.now + 7200 })), expect: "stale-token" },
  { id: "IN-21", title: "replayed token (its nonce was obeyed in an earlier poll)", mail: (c) => mail(c.ops, c.sign("STATUS", { nonce: REPLAYED_NONCE })), expect: "replayed-token", detail: /nonce 00000000000000aa was used before/ },
  { id: "IN-22", title: "a signed command word that is no command", mail: (c) => mail(c.ops, c.sign("REBOOT")), expect: "unknown-command", detail: /"REBOOT" is none of ARM, DISARM, STATUS, TEST/ },

  // Subjects.
  { id: "IN-23", title: "AT injection through the subject", mail: (c) => mail(c.ops, 'SIMMAIL ARM";AT+CFUN=0;" 1 2 3'), expect: "malformed-subject" },
  { id: "IN-24", title: "no command in the subject", mail: (c) => mail(c.ops, "Re: your alarm"), expect: "malformed-subject", detail: /no SIMMAIL command/ },
  { id: "IN-25", title: "enormous subject (20 000 bytes, folded) around a valid token", mail: (c) => mail(c.ops, `${c.sign("DISARM")} ${"padding ".repeat(500)}\r\n ${"more ".repeat(3200)}`), expect: "malformed-subject",
    // classic: the Subject lines are longer than the line buffer and dropped: no Subject.
    detail: { sim7000: /too long to be read whole/, classic: /no SIMMAIL command/ },
  },
  { id: "IN-26", title: "NUL inside the token", mail: (c) => mailBytes(`From: ${c.ops}\r\nSubject: `, Buffer.concat([Buffer.from(c.sign("ARM").slice(0, -2)), Buffer.from([0])]), "0\r\n\r\nx\r\n"), expect: "malformed-subject" },
  { id: "IN-27", title: "invalid UTF-8 in the subject", mail: (c) => mailBytes(`From: ${c.ops}\r\nSubject: SIMMAIL ARM `, Buffer.from([0xc3, 0x28, 0xff]), " 1 2\r\n\r\nx\r\n"), expect: "malformed-subject" },
  { id: "IN-28", title: "encoded-word subject hiding a CRLF", mail: (c) => mail(c.ops, `=?UTF-8?B?${b64("SIMMAIL\r\nARM 1 2 3")}?=`), expect: "malformed-subject" },

  // Bodies and structure: the poll reads headers only and must not stumble on these.
  { id: "IN-29", title: "body of lone dots and a 10 000-byte line", mail: (c) => mail(c.ops, "lone dots", "", `.\r\n..\r\n.\r\n${"y".repeat(10_000)}\r\n.\r\n`), expect: "malformed-subject" },
  { id: "IN-30", title: "header without a body or a blank line", mail: (c) => `From: ${c.ops}\r\nSubject: no body`, expect: "malformed-subject" },
];
