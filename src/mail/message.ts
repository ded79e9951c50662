// What a caller hands the mail layer, and the checks made before anything reaches the modem.

import { quotingProblem } from "../transport/tx.ts";
import { MailParameterError } from "./errors.ts";

import { PORT_RANGE } from "../modem/limits.ts";

export { DEFAULT_LIMITS, type EmailLimits } from "../modem/limits.ts";

export interface Address {
  address: string;
  name?: string;
}

/** A synchronous byte source (a flash file, a buffer): read fills `out` and returns 0 at the end. */
export interface ByteSource {
  /** Total bytes, for progress and for choosing the transfer. */
  readonly size: number;
  read(out: Uint8Array, offset: number, max: number): number;
  /** Back to the first byte (text attachments are checked for 7-bit data before sending). */
  rewind(): void;
}

export interface Attachment {
  /** File name shown to the recipient (sim7000) or the file in the modem's file system (classic). */
  name: string;
  /** "binary" goes base64, "text" goes 7bit and must be plain ASCII. Default "binary". */
  type?: "binary" | "text";
  /** The bytes (sim7000 dialect). The classic dialect sends a file already on the modem. */
  source?: ByteSource;
  /** Who base64-encodes a binary attachment: the host (default) or the modem. */
  encoding?: "host" | "modem";
}

export interface MailMessage {
  from: Address;
  to: Address[];
  cc?: Address[];
  bcc?: Address[];
  subject: string;
  body: string;
  attachment?: Attachment;
}

export interface ServerAccount {
  host: string;
  port?: number;
  /** SMTP: authentication is used when a user is given. */
  user?: string;
  password?: string;
}

type Protocol = "smtp" | "pop3";

function refuse(protocol: Protocol, field: string, problem: string, overLimit: number | null = null): never {
  throw new MailParameterError(protocol, field, problem, overLimit);
}

/** No quote, no control character (CR, LF, NUL ...): nothing that could end an AT string. */
export function checkText(protocol: Protocol, field: string, value: unknown, max: number, allowUnicode = false): string {
  if (typeof value !== "string") refuse(protocol, field, "must be text");
  const problem = quotingProblem(value, allowUnicode);
  if (problem !== null) refuse(protocol, field, problem);
  if (value.length > max) refuse(protocol, field, `is ${value.length} characters long; this modem takes at most ${max}`, max);
  return value;
}

/** The one address rule (local@domain): no specials in the local part, a host name after the @. */
const ADDRESS = /^[^\s@<>(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** Why `value` is not a mail address the modem can take (local@domain, quotable), or null. */
export function addressProblem(value: string): string | null {
  const problem = quotingProblem(value);
  if (problem !== null) return problem;
  return ADDRESS.test(value) ? null : `"${value}" is not an email address (local@domain)`;
}

export function checkAddress(protocol: Protocol, field: string, value: unknown, max: number): string {
  const address = checkText(protocol, field, value, max);
  const problem = addressProblem(address);
  if (problem !== null) refuse(protocol, field, problem);
  return address;
}

/** Why `value` is not a server the modem can resolve (host name or IPv4 address), or null. */
export function hostProblem(value: string): string | null {
  const problem = quotingProblem(value);
  if (problem !== null) return problem;
  return HOST.test(value) ? null : `"${value}" is not a host name or IPv4 address`;
}

export function checkHost(protocol: Protocol, field: string, value: unknown, max: number): string {
  const host = checkText(protocol, field, value, max);
  const problem = hostProblem(host);
  if (problem !== null) refuse(protocol, field, problem);
  return host;
}

export function checkPort(protocol: Protocol, field: string, value: unknown): number {
  const [min, max] = PORT_RANGE;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    refuse(protocol, field, `${String(value)} is not a port number (${min}-${max})`);
  }
  return value;
}

/** Subjects are header text: any Unicode, but no line break (header injection). */
export function checkSubject(protocol: Protocol, value: unknown): string {
  if (typeof value !== "string") refuse(protocol, "subject", "must be text");
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10) refuse(protocol, "subject", "must not contain a line break (CR or LF)");
    if (c === 0) refuse(protocol, "subject", "must not contain a NUL character");
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c < 0xdc00 && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) refuse(protocol, "subject", "contains a lone UTF-16 surrogate (invalid Unicode)");
      i++;
    }
  }
  return value;
}

export function checkBody(protocol: Protocol, value: unknown): string {
  if (typeof value !== "string") refuse(protocol, "body", "must be text");
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) refuse(protocol, "body", "must not contain a NUL character");
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c < 0xdc00 && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) refuse(protocol, "body", "contains a lone UTF-16 surrogate (invalid Unicode)");
      i++;
    }
  }
  return value;
}
