// What a caller hands the mail layer, and the checks made before anything reaches the modem.

import { MailParameterError } from "./errors.ts";

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

function refuse(protocol: Protocol, field: string, problem: string): never {
  throw new MailParameterError(protocol, field, problem);
}

/** No quote, no control character (CR, LF, NUL ...): nothing that could end an AT string. */
export function checkText(protocol: Protocol, field: string, value: unknown, max: number, allowUnicode = false): string {
  if (typeof value !== "string") refuse(protocol, field, "must be text");
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) refuse(protocol, field, 'must not contain a double quote (")');
    if (c === 13 || c === 10) refuse(protocol, field, "must not contain a line break (CR or LF)");
    if (c === 0) refuse(protocol, field, "must not contain a NUL character");
    if (c < 32 || c === 127) refuse(protocol, field, `must not contain control character 0x${c.toString(16).padStart(2, "0")}`);
    if (c > 126 && !allowUnicode) refuse(protocol, field, "must be plain ASCII");
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c < 0xdc00 && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!pair) refuse(protocol, field, "contains a lone UTF-16 surrogate (invalid Unicode)");
      i++;
    }
  }
  if (value.length > max) refuse(protocol, field, `is ${value.length} characters long; this modem takes at most ${max}`);
  return value;
}

export function checkAddress(protocol: Protocol, field: string, value: unknown, max: number): string {
  const address = checkText(protocol, field, value, max);
  if (!/^[^\s@<>(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(address)) {
    refuse(protocol, field, `"${address}" is not an email address (local@domain)`);
  }
  return address;
}

export function checkHost(protocol: Protocol, field: string, value: unknown, max: number): string {
  const host = checkText(protocol, field, value, max);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) refuse(protocol, field, `"${host}" is not a host name or IPv4 address`);
  return host;
}

export function checkPort(protocol: Protocol, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    refuse(protocol, field, `${String(value)} is not a port number (1-65535)`);
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
