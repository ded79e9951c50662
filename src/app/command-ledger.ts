// The remote commands' ledger: the nonces of accepted commands and the UIDLs of processed mails,
// persisted as one value before a verdict is returned (./remote-command.ts), so neither a replay
// nor a lost DELE can make a command run twice.

import { crc32 } from "./crc32.ts";
import { readU32, writeU32 } from "./outbox-format.ts";
import type { KeyValueStore } from "./ports.ts";

/** The default window, and how long a ledger keeps nonces unless told otherwise: the widest window it allows. */
export const DEFAULT_WINDOW_SECONDS = 600;
/** A nonce: 16 hex digits (8 random bytes). */
export const NONCE_DIGITS = 16;

export interface CommandLedgerOptions {
  /** Key in the store. Default "cmd-ledger". */
  key?: string;
  /** Accepted nonces remembered. Default 32. */
  maxNonces?: number;
  /** Processed mail UIDLs remembered. Default 32. */
  maxUids?: number;
  /** Nonces older than this can no longer verify (the verifier's window) and are dropped. Default 600 s. */
  windowSeconds?: number;
  /** UIDLs are dropped after this long (and the oldest first when full). Default 1 day. */
  uidRetentionSeconds?: number;
}

export interface LedgerEntry {
  /** The mail's UIDL. */
  uid?: string;
  /** An accepted command's nonce and timestamp. */
  nonce?: string;
  timestamp?: number;
  /** The accepted command changes the device's state (ARM, DISARM): its time orders later ones. */
  stateChange?: boolean;
  /** The device's wall time in seconds, null when unknown. */
  nowSeconds: number | null;
}

const LEDGER_VERSION = 2;
const MAX_UID_LENGTH = 70; // RFC 1939: 1-70 characters

/**
 * Accepted nonces and processed UIDLs, persisted as one value (atomic put). Bounded: nonces
 * past the window are dropped (they would be stale anyway); when the nonce list is still full
 * the oldest goes and `floor` rises to its timestamp, so no token at or before it can be
 * replayed. A ledger that cannot be read is treated as lost: the floor is set to the first
 * known wall time, so only tokens signed after that are accepted.
 */
export class CommandLedger {
  private readonly store: KeyValueStore;
  private readonly key: string;
  private readonly maxNonces: number;
  private readonly maxUids: number;
  /** Nonces are kept this long after their timestamp. */
  readonly windowSeconds: number;
  private readonly uidRetentionSeconds: number;
  private nonces: Array<{ nonce: string; timestamp: number }> = [];
  private uids: Array<{ uid: string; seen: number }> = [];
  private floorSeconds = 0;
  /** The latest wall time a verify has seen: a clock reading earlier than it was set back. */
  private highestWallSeconds = 0;
  /** Signing time of the last ARM or DISARM obeyed: an older one would undo a newer order. */
  private lastStateChangeSeconds = 0;
  /** The stored ledger was unreadable when loaded. */
  readonly lost: boolean;
  private floorPending: boolean;

  constructor(store: KeyValueStore, options: CommandLedgerOptions = {}) {
    this.store = store;
    this.key = options.key ?? "cmd-ledger";
    this.maxNonces = limit("maxNonces", options.maxNonces ?? 32, 255);
    this.maxUids = limit("maxUids", options.maxUids ?? 32, 255);
    this.windowSeconds = limit("windowSeconds", options.windowSeconds ?? DEFAULT_WINDOW_SECONDS, 0x7fffffff);
    this.uidRetentionSeconds = limit("uidRetentionSeconds", options.uidRetentionSeconds ?? 86_400, 0x7fffffff);
    const stored = store.get(this.key);
    this.lost = stored !== null && !this.decode(stored);
    this.floorPending = this.lost;
  }

  get nonceCount(): number {
    return this.nonces.length;
  }

  get uidCount(): number {
    return this.uids.length;
  }

  hasUid(uid: string): boolean {
    for (const entry of this.uids) if (entry.uid === uid) return true;
    return false;
  }

  /** The latest wall time seen (0: none yet); kept on flash with the rest. */
  get highestWall(): number {
    return this.highestWallSeconds;
  }

  /** The signing time of the last state-changing command obeyed (0: none). */
  get lastStateChange(): number {
    return this.lastStateChangeSeconds;
  }

  /** A wall time read now; the highest is stored by the next record(). */
  noteWallTime(nowSeconds: number): void {
    if (nowSeconds > this.highestWallSeconds) this.highestWallSeconds = nowSeconds;
  }

  hasNonce(nonce: string): boolean {
    const key = nonce.toLowerCase();
    for (const entry of this.nonces) if (entry.nonce === key) return true;
    return false;
  }

  /**
   * Tokens signed at or before this time are refused. After a lost ledger it is set (and
   * persisted) at the first call with the wall time.
   */
  floorFor(nowSeconds: number): number {
    if (this.floorPending) {
      this.floorPending = false;
      if (nowSeconds > this.floorSeconds) this.floorSeconds = nowSeconds;
      this.save();
    }
    return this.floorSeconds;
  }

  /** Adds a processed mail and/or an accepted nonce, evicts what is due, persists. */
  record(entry: LedgerEntry): void {
    const now = entry.nowSeconds;
    if (entry.uid !== undefined) {
      const uid = entry.uid;
      if (!isUid(uid)) throw new TypeError(`CommandLedger: "${String(uid)}" is not a POP3 unique id (1-70 printable characters)`);
      if (!this.hasUid(uid)) this.uids.push({ uid, seen: now ?? 0 });
    }
    if (entry.nonce !== undefined) {
      if (!isHex(entry.nonce, NONCE_DIGITS) || !Number.isInteger(entry.timestamp) || entry.timestamp! < 0 || entry.timestamp! > 0xffffffff) {
        throw new TypeError(`CommandLedger: nonce "${entry.nonce}" at ${entry.timestamp} is not a 16-hex-digit nonce with a time in unix seconds`);
      }
      this.nonces.push({ nonce: entry.nonce.toLowerCase(), timestamp: entry.timestamp! });
      if (entry.stateChange === true && entry.timestamp! > this.lastStateChangeSeconds) this.lastStateChangeSeconds = entry.timestamp!;
    }
    this.evict(now);
    this.save();
  }

  private evict(now: number | null): void {
    if (now !== null) {
      // A nonce dropped by age raises the floor to its time: were the clock set back, its
      // token would be inside the window again, and nothing would remember it.
      for (const e of this.nonces) if (e.timestamp < now - this.windowSeconds && e.timestamp > this.floorSeconds) this.floorSeconds = e.timestamp;
      this.nonces = this.nonces.filter((e) => e.timestamp >= now - this.windowSeconds);
      this.uids = this.uids.filter((e) => e.seen === 0 || e.seen >= now - this.uidRetentionSeconds);
    }
    if (this.nonces.length > this.maxNonces) {
      this.nonces.sort((a, b) => a.timestamp - b.timestamp);
      const dropped = this.nonces.splice(0, this.nonces.length - this.maxNonces);
      const newestDropped = dropped[dropped.length - 1].timestamp;
      if (newestDropped > this.floorSeconds) this.floorSeconds = newestDropped;
    }
    if (this.uids.length > this.maxUids) this.uids.splice(0, this.uids.length - this.maxUids);
  }

  private save(): void {
    let size = 1 + 12 + 1 + this.nonces.length * 12 + 1 + 4;
    for (const e of this.uids) size += 1 + e.uid.length + 4;
    const out = new Uint8Array(size);
    let at = 0;
    out[at++] = LEDGER_VERSION;
    writeU32(out, at, this.floorSeconds);
    writeU32(out, at + 4, this.highestWallSeconds);
    writeU32(out, at + 8, this.lastStateChangeSeconds);
    at += 12;
    out[at++] = this.nonces.length;
    for (const e of this.nonces) {
      for (let i = 0; i < NONCE_DIGITS; i += 2) out[at++] = parseInt(e.nonce.slice(i, i + 2), 16);
      writeU32(out, at, e.timestamp);
      at += 4;
    }
    out[at++] = this.uids.length;
    for (const e of this.uids) {
      out[at++] = e.uid.length;
      for (let i = 0; i < e.uid.length; i++) out[at++] = e.uid.charCodeAt(i);
      writeU32(out, at, e.seen);
      at += 4;
    }
    writeU32(out, at, crc32(out, 0, at));
    this.store.put(this.key, out);
  }

  /** Loads a stored ledger; false when it is damaged or of another version. */
  private decode(data: Uint8Array): boolean {
    if (data.length < 19 || data[0] !== LEDGER_VERSION) return false;
    const end = data.length - 4;
    if (crc32(data, 0, end) !== readU32(data, end)) return false;
    let at = 1;
    const floor = readU32(data, at);
    const highestWall = readU32(data, at + 4);
    const lastStateChange = readU32(data, at + 8);
    at += 12;
    const nonces: Array<{ nonce: string; timestamp: number }> = [];
    const nonceCount = data[at++];
    if (at + nonceCount * 12 > end) return false;
    for (let n = 0; n < nonceCount; n++) {
      nonces.push({ nonce: hex(data.subarray(at, at + 8)), timestamp: readU32(data, at + 8) });
      at += 12;
    }
    if (at >= end) return false;
    const uids: Array<{ uid: string; seen: number }> = [];
    const uidCount = data[at++];
    for (let n = 0; n < uidCount; n++) {
      if (at >= end) return false;
      const length = data[at++];
      if (length < 1 || at + length + 4 > end) return false;
      let uid = "";
      for (let i = 0; i < length; i++) uid += String.fromCharCode(data[at + i]);
      uids.push({ uid, seen: readU32(data, at + length) });
      at += length + 4;
    }
    if (at !== end) return false;
    this.floorSeconds = floor;
    this.highestWallSeconds = highestWall;
    this.lastStateChangeSeconds = lastStateChange;
    this.nonces = nonces;
    this.uids = uids;
    return true;
  }
}

const HEX = "0123456789abcdef";

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

export function isHex(text: string, digits: number): boolean {
  return typeof text === "string" && text.length === digits && /^[0-9A-Fa-f]+$/.test(text);
}

/** A POP3 unique id (RFC 1939: 1-70 printable characters). */
export function isUid(uid: unknown): uid is string {
  return typeof uid === "string" && uid.length >= 1 && uid.length <= MAX_UID_LENGTH && /^[\x21-\x7e]+$/.test(uid);
}

function limit(name: string, value: number, max: number): number {
  if (!(Number.isInteger(value) && value >= 1 && value <= max)) throw new RangeError(`CommandLedger: ${name} must be a whole number 1-${max}, not ${value}`);
  return value;
}
