// Authenticated commands by mail (polled over POP3). Full description: docs/REMOTE-COMMANDS.md.
//
// Subject:  [anything] SIMMAIL <COMMAND> <unix-seconds> <nonce> <mac>
//   COMMAND       ARM | DISARM | STATUS | TEST
//   unix-seconds  when the command was signed, decimal, no leading zeros
//   nonce         16 hex digits (8 random bytes), never used twice
//   mac           64 hex digits: HMAC-SHA256(secret, "<COMMAND>|<unix-seconds>|<nonce>|<device-id>")
//                 with the nonce in lower case and the device id from the config
// A command is obeyed only when all hold: the From address is on the allowlist (exact,
// case-insensitive), the mac verifies (constant-time compare), the timestamp is within
// ±window of the device's wall clock, and the nonce was never accepted before. Accepted nonces
// and the UIDLs of processed mails are kept in a persisted ledger, written before the verdict
// is returned, so neither a replay nor a lost DELE can make a command run twice (the ledger:
// ./command-ledger.ts).

import { parseAddressList } from "../mail/codec/address.ts";
import { withoutControls } from "../transport/bytes.ts";
import { addressProblem } from "../mail/message.ts";
import { encodeUtf8Into, utf8Length } from "../mail/codec/utf8.ts";
import { DEFAULT_WINDOW_SECONDS, hex, isHex, isUid, NONCE_DIGITS, type CommandLedger } from "./command-ledger.ts";
import type { Crypto } from "./ports.ts";
import { detail } from "../transport/detail.ts";

export { CommandLedger, type CommandLedgerOptions } from "./command-ledger.ts";

export const REMOTE_COMMANDS = ["ARM", "DISARM", "STATUS", "TEST"] as const;
export type RemoteCommand = (typeof REMOTE_COMMANDS)[number];

export type RefusalReason =
  /** The From address is not on the allowlist, or there is none, or the From is ambiguous (two fields, two mailboxes, cut). */
  | "forged-sender"
  /** The subject is not `SIMMAIL <COMMAND> <seconds> <nonce> <mac>`. */
  | "malformed-subject"
  /** Well-formed, but the command is none of ARM, DISARM, STATUS, TEST. */
  | "unknown-command"
  /** The mac does not verify (wrong secret, wrong device, altered subject). */
  | "bad-token"
  /** The timestamp is outside the window around the device's clock. */
  | "stale-token"
  /** The nonce was used before (or cannot be proven new: see CommandLedger.floor). */
  | "replayed-token"
  /** An ARM or DISARM signed before the last one obeyed: obeying it would undo a newer order. */
  | "out-of-order"
  /** The device does not know the time yet, or its clock reads earlier than a time it has seen: keep the mail and verify it later. */
  | "clock-unknown"
  /** This mail (by UIDL) was processed before; its DELE was lost. Delete it, nothing else. */
  | "already-processed"
  /** Larger than the command mail cap (by POP3 LIST, or its headers passed it): deleted unread. */
  | "oversize";

export type CommandVerdict =
  | { accepted: true; command: RemoteCommand; sender: string; timestamp: number; nonce: string }
  | { accepted: false; reason: RefusalReason; detail: string; sender: string };

export type CommandRefusal = Extract<CommandVerdict, { accepted: false }>;

/** A received mail, as far as verification needs it. */
export interface CommandMail {
  /**
   * The From header value as received, e.g. `"Ops" <ops@example.com>`: not RFC 2047 decoded,
   * since encoded words belong in display names only and decoding first could make an
   * address out of a name.
   */
  from: string;
  /** The Subject header value (RFC 2047 decoded). */
  subject: string;
  /** The POP3 UIDL of the mail, when the server gives one. */
  uid?: string;
  /** From fields in the header (default 1): with more than one the sender is ambiguous. */
  fromFields?: number;
  /** The reader cut the From or Subject value: what is left is not what was sent. */
  fromTruncated?: boolean;
  subjectTruncated?: boolean;
}

export interface CommandVerifierOptions {
  crypto: Crypto;
  /** The shared secret (see `secretFromText`), 16 bytes or more. */
  secret: Uint8Array;
  /** This device's id, bound into every mac: 1-64 of A-Z a-z 0-9 . _ - */
  deviceId: string;
  /** Addresses allowed to send commands. */
  allowlist: string[];
  ledger: CommandLedger;
  /** Accepted clock difference either way. Default 600 s. */
  windowSeconds?: number;
}

const MAC_DIGITS = 64;
/** Device ids go into the signed text between "|" separators: letters, digits and . _ - only. */
export const DEVICE_ID_MAX_LENGTH = 64;
const DEVICE_ID = /^[A-Za-z0-9._-]+$/;

/** The one device-id rule: why `deviceId` cannot be bound into command tokens, or null. */
export function deviceIdProblem(deviceId: unknown): string | null {
  if (typeof deviceId !== "string" || deviceId.length < 1 || deviceId.length > DEVICE_ID_MAX_LENGTH || !DEVICE_ID.test(deviceId)) {
    return `must be 1-${DEVICE_ID_MAX_LENGTH} of A-Z a-z 0-9 . _ -`;
  }
  return null;
}

/** Secret text from the config as bytes (UTF-8); refuses secrets too short to be secret. */
export function secretFromText(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError("remote commands: the secret must be text");
  const bytes = utf8(text);
  if (bytes.length < 16) throw new RangeError(`remote commands: the secret is ${bytes.length} bytes long; use 16 or more${detail(" (e.g. 32 random hex digits)")}`);
  return bytes;
}

/** A fresh nonce: 16 lower-case hex digits from the platform's random generator. */
export function newNonce(crypto: Crypto): string {
  return hex(crypto.randomBytes(NONCE_DIGITS / 2));
}

/** The text the mac covers. */
export function signedText(command: string, unixSeconds: number, nonce: string, deviceId: string): string {
  return `${command}|${unixSeconds}|${nonce.toLowerCase()}|${deviceId}`;
}

/**
 * A signed command subject, for the CLI, the demo and tests:
 * `SIMMAIL <COMMAND> <unix-seconds> <nonce> <mac>`.
 */
export function signCommandSubject(crypto: Crypto, secret: Uint8Array, deviceId: string, command: string, unixSeconds: number, nonce: string = newNonce(crypto)): string {
  checkDeviceId(deviceId);
  if (!/^[A-Z]{1,16}$/.test(command)) throw new TypeError(`signCommandSubject: command "${command}" must be 1-16 capital letters`);
  if (!Number.isInteger(unixSeconds) || unixSeconds < 0 || unixSeconds > 0xffffffff) throw new RangeError(`signCommandSubject: ${unixSeconds} is not a time in unix seconds`);
  if (!isHex(nonce, NONCE_DIGITS)) throw new TypeError(`signCommandSubject: nonce "${nonce}" is not ${NONCE_DIGITS} hex digits`);
  const mac = crypto.hmacSha256(secret, utf8(signedText(command, unixSeconds, nonce, deviceId)));
  return `SIMMAIL ${command} ${unixSeconds} ${nonce.toLowerCase()} ${hex(mac)}`;
}

export class CommandVerifier {
  private readonly crypto: Crypto;
  private readonly secret: Uint8Array;
  private readonly deviceId: string;
  private readonly allowlist: Set<string>;
  private readonly ledger: CommandLedger;
  private readonly windowSeconds: number;

  constructor(options: CommandVerifierOptions) {
    if (!(options.secret instanceof Uint8Array) || options.secret.length < 16) throw new RangeError("CommandVerifier: the secret must be 16 bytes or more");
    checkDeviceId(options.deviceId);
    if (!Array.isArray(options.allowlist)) throw new TypeError("CommandVerifier: allowlist must be a list of addresses");
    this.allowlist = new Set(options.allowlist.map((entry, i) => {
      const address = typeof entry === "string" ? asciiLower(entry.trim()) : "";
      if (addressProblem(address) !== null) throw new TypeError(`CommandVerifier: allowlist entry ${i + 1} ("${String(entry)}") is not an email address`);
      return address;
    }));
    const window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    if (!(Number.isInteger(window) && window > 0)) throw new RangeError(`CommandVerifier: window ${window} s is not a whole number of seconds above 0`);
    this.windowSeconds = window;
    if (options.ledger.windowSeconds < window) {
      throw new RangeError(`CommandVerifier: the ledger keeps nonces ${options.ledger.windowSeconds} s, less than the ${window} s window${detail(": a token could be replayed once its nonce is dropped")}`);
    }
    this.crypto = options.crypto;
    this.secret = options.secret;
    this.deviceId = options.deviceId;
    this.ledger = options.ledger;
  }

  /** The verdict on a mail whose UIDL was processed before (read nothing more of it), or null. */
  processedBefore(uid: string | undefined): CommandVerdict | null {
    if (uid === undefined || !this.ledger.hasUid(uid)) return null;
    return refuse("already-processed", `mail ${uid} was processed before`, "");
  }

  /** A mail refused before its headers were read whole (too large): its UIDL goes in the ledger, so it is never read again. */
  refuseUnread(reason: RefusalReason, detail: string, uid: string | undefined, wallNowMs: number | null): CommandRefusal {
    if (uid !== undefined) {
      try {
        this.ledger.record({ uid, nowSeconds: wallNowMs === null ? null : Math.floor(wallNowMs / 1000) });
      } catch (error) {
        return refuse(reason, `${detail} (its UIDL was not stored: ${error instanceof Error ? error.message : String(error)})`, "");
      }
    }
    return refuse(reason, detail, "");
  }

  /**
   * Checks one mail at wall time `wallNowMs` (null: unknown). An accepted command's nonce,
   * and the mail's UIDL whatever the verdict (except clock-unknown), are in the ledger on
   * flash when this returns.
   */
  verify(mail: CommandMail, wallNowMs: number | null): CommandVerdict {
    const uid = mail.uid;
    if (uid !== undefined && !isUid(uid)) throw new TypeError(`CommandVerifier.verify: "${String(uid)}" is not a POP3 unique id (1-70 printable characters)`);
    const mailboxes = parseAddressList(typeof mail.from === "string" ? mail.from : "");
    const address = mailboxes.length > 0 ? asciiLower(mailboxes[0].address) : "";
    const sender = printable(address);
    if (uid !== undefined && this.ledger.hasUid(uid)) return refuse("already-processed", `mail ${uid} was processed before`, sender);
    const nowSeconds = wallNowMs === null ? null : Math.floor(wallNowMs / 1000);
    const refused = (reason: RefusalReason, detail: string): CommandVerdict => {
      // A refusal stands, and its mail is deleted, even when its UIDL cannot be stored.
      if (uid !== undefined) {
        try {
          this.ledger.record({ uid, nowSeconds });
        } catch (error) {
          return refuse(reason, `${detail} (its UIDL was not stored: ${error instanceof Error ? error.message : String(error)})`, sender);
        }
      }
      return refuse(reason, detail, sender);
    };

    const fromFields = mail.fromFields ?? 1;
    if (fromFields > 1) return refused("forged-sender", `the mail has ${fromFields} From fields`);
    if (mail.fromTruncated === true) return refused("forged-sender", "the From field is too long to be read whole");
    if (mailboxes.length > 1) return refused("forged-sender", `the From field names ${mailboxes.length} mailboxes; a command has one sender`);
    if (mailboxes[0]?.ambiguous === true) return refused("forged-sender", "the From field holds more than one address" + detail(" (mail programs disagree on which is the sender)"));
    // A positive class: XS reads the negated /[^\x00-\x7f]/ as matching every string.
    if (/[\u0080-\uffff]/.test(address)) return refused("forged-sender", `${sender} is not a plain ASCII address${detail(" (look-alike letters are not folded)")}`);
    if (address === "" || !this.allowlist.has(address)) return refused("forged-sender", address === "" ? "the mail has no sender address" : `${sender} is not on the allowlist`);
    if (mail.subjectTruncated === true) return refused("malformed-subject", "the subject is too long to be read whole");
    const parsed = parseSubject(typeof mail.subject === "string" ? mail.subject : "");
    if (typeof parsed === "string") return refused("malformed-subject", parsed);
    const { command, timestamp, nonce, mac } = parsed;
    if (!(REMOTE_COMMANDS as readonly string[]).includes(command)) return refused("unknown-command", `"${command}" is none of ${REMOTE_COMMANDS.join(", ")}`);
    const expected = this.crypto.hmacSha256(this.secret, utf8(signedText(command, timestamp, nonce, this.deviceId)));
    if (!constantTimeEqual(expected, mac)) return refused("bad-token", "the token does not verify" + detail(" (wrong secret or device, or an altered subject)"));
    if (nowSeconds === null) return refuse("clock-unknown", "the device does not know the time yet; keep the mail for later", sender);
    const highest = this.ledger.highestWall;
    if (nowSeconds < highest - CLOCK_SLACK_SECONDS) {
      return refuse("clock-unknown", `the device's clock (${nowSeconds}) reads earlier than a time it has seen (${highest}): set back? keep the mail until it is past that again`, sender);
    }
    this.ledger.noteWallTime(nowSeconds);
    const skew = timestamp - nowSeconds;
    if (skew > this.windowSeconds || skew < -this.windowSeconds) {
      return refused("stale-token", `signed at ${timestamp}, ${Math.abs(skew)} s ${skew < 0 ? "before" : "after"} the device's clock (${nowSeconds}); the window is ±${this.windowSeconds} s`);
    }
    if (this.ledger.hasNonce(nonce)) return refused("replayed-token", `nonce ${nonce} was used before`);
    const floor = this.ledger.floorFor(nowSeconds);
    if (timestamp <= floor) return refused("replayed-token", `tokens signed at or before ${floor} cannot be proven new (the ledger ${this.ledger.lost ? "was lost" : "forgot older ones: it was full, or they aged out"}); sign a new one`);
    const stateChange = command === "ARM" || command === "DISARM";
    if (stateChange && timestamp < this.ledger.lastStateChange) {
      return refused("out-of-order", `${command} signed at ${timestamp}, before the ${this.ledger.lastStateChange} of the last ARM or DISARM obeyed${detail("; sign a new one to change the state again")}`);
    }
    this.ledger.record({ uid, nonce, timestamp, nowSeconds, stateChange });
    return { accepted: true, command: command as RemoteCommand, sender, timestamp, nonce };
  }
}

function refuse(reason: RefusalReason, detail: string, sender: string): CommandRefusal {
  return { accepted: false, reason, detail: printable(detail), sender };
}

const MAX_LOGGED = 160;
/** How far the clock may fall back (network time correcting a drift) before commands are held. */
const CLOCK_SLACK_SECONDS = 60;

/**
 * A-Z to a-z and nothing else: addresses compare without regard to ASCII case only, so no
 * Unicode letter (the Kelvin sign K, a dotted I) folds onto an allowlisted one.
 */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/**
 * Mail text as it may go into the log and traces: control characters (terminal escapes,
 * NUL, C1) shown as "?", and cut to a length a log line can hold.
 */
function printable(text: string): string {
  const cut = text.length > MAX_LOGGED ? `${text.slice(0, MAX_LOGGED)}...` : text;
  // One line in the log: tab and line feed as "?" too.
  return withoutControls(cut).replace(/[\t\n]/g, "?");
}

interface ParsedSubject {
  command: string;
  timestamp: number;
  nonce: string;
  mac: Uint8Array;
}

/** The parts of a command subject, or why it is not one. */
function parseSubject(subject: string): ParsedSubject | string {
  const words = subject.trim().split(/\s+/);
  let start = -1;
  for (let i = 0; i < words.length; i++) {
    if (words[i].toUpperCase() === "SIMMAIL") {
      start = i;
      break;
    }
  }
  if (start < 0) return "the subject has no SIMMAIL command";
  const parts = words.slice(start + 1);
  if (parts.length !== 4) return `SIMMAIL must be followed by 4 words (command, time, nonce, token), not ${parts.length}`;
  const [command, seconds, nonce, mac] = parts;
  if (!/^[A-Za-z]{1,16}$/.test(command)) return `"${command}" is not a command word`;
  if (!/^(0|[1-9][0-9]{0,9})$/.test(seconds) || Number(seconds) > 0xffffffff) return `"${seconds}" is not a time in unix seconds`;
  if (!isHex(nonce, NONCE_DIGITS)) return `the nonce "${nonce}" is not ${NONCE_DIGITS} hex digits`;
  if (!isHex(mac, MAC_DIGITS)) return `the token is not ${MAC_DIGITS} hex digits`;
  return { command: command.toUpperCase(), timestamp: Number(seconds), nonce: nonce.toLowerCase(), mac: unhex(mac) };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// ---- small helpers ---------------------------------------------------------------------------

function unhex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function utf8(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  encodeUtf8Into(text, out, 0);
  return out;
}

function checkDeviceId(deviceId: string): void {
  const problem = deviceIdProblem(deviceId);
  if (problem !== null) throw new TypeError(`remote commands: device id "${String(deviceId)}" ${problem}`);
}
