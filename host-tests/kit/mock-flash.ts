// In-memory flash for the app's LogStore and KeyValueStore, with power cuts injected at a
// chosen write. Every write operation counts: a LogStore append, each append inside a replace
// and the replace's final rename, a KeyValueStore put or delete.
//
// A cut at write k: an append keeps a random prefix (0..n bytes, all of them included) of its
// data; a replace keeps the old file (or, when the cut hits the final rename, the old or the
// new one at random); a put or delete keeps the old or the new value at random. Then the call
// throws `PowerCut` and the flash is dead (every call throws) until `reboot()`.

import type { AppendBytes, KeyValueStore, LogStore } from "../../src/app/ports.ts";
import { seededRandom } from "../../src/app/wall-clock.ts";

export class PowerCut extends Error {
  constructor(write: number) {
    super(`power cut at flash write ${write}`);
    this.name = "PowerCut";
  }
}

/** What a power cut did. */
export interface CutReport {
  /** The write it hit (1-based). */
  write: number;
  what: "append" | "replace-write" | "replace-rename" | "put" | "delete";
  /** The file or key. */
  target: string;
  /** append: bytes asked for and bytes that reached the flash. */
  length?: number;
  kept?: number;
  /** replace-rename, put, delete: whether the new state won. */
  tookNew?: boolean;
}

export interface MockFlashOptions {
  /** Seeds the choice of torn prefixes and of old/new after a cut. Default 1. */
  seed?: number;
}

export class MockFlash {
  /** Write operations so far (never reset, also not by reboot). */
  writes = 0;
  /** The write (1-based, counted by `writes`) that the power cut hits; null: no cut planned. */
  cutAtWrite: number | null = null;
  /** A cut happened and `reboot` was not called yet. */
  dead = false;
  /** What the last cut did. */
  lastCut: CutReport | null = null;
  private readonly random: () => number;
  private readonly files = new Map<string, MockLogStore>();
  readonly kv: MockKeyValueStore;

  constructor(options: MockFlashOptions = {}) {
    const generator = seededRandom(options.seed ?? 1);
    this.random = () => generator.random();
    this.kv = new MockKeyValueStore(this);
  }

  /** The log file `name` (created empty on first use; the same object afterwards). */
  log(name = "outbox"): MockLogStore {
    let file = this.files.get(name);
    if (file === undefined) {
      file = new MockLogStore(this, name);
      this.files.set(name, file);
    }
    return file;
  }

  /** Plans a power cut at write `write` from now on counting (1 = the very next write). */
  cutAfter(writesFromNow: number): void {
    if (!Number.isInteger(writesFromNow) || writesFromNow < 1) throw new RangeError(`MockFlash.cutAfter: ${writesFromNow} is not a write count (1 or more)`);
    this.cutAtWrite = this.writes + writesFromNow;
  }

  /** Power comes back: the flash works again, with what was persisted. */
  reboot(): void {
    this.dead = false;
    this.cutAtWrite = null;
  }

  /** @internal Every access passes here: a dead flash answers nothing. */
  checkAlive(): void {
    if (this.dead) throw new Error("MockFlash: the power was cut; call reboot() before using the flash again");
  }

  /** @internal Counts one write; true when the power cut hits this one. */
  nextWriteIsCut(): boolean {
    this.checkAlive();
    this.writes++;
    return this.cutAtWrite !== null && this.writes === this.cutAtWrite;
  }

  /** @internal Dies and throws. */
  cut(report: Omit<CutReport, "write">): never {
    this.dead = true;
    this.lastCut = { write: this.writes, ...report };
    throw new PowerCut(this.writes);
  }

  /** @internal A seeded integer in 0..max. */
  pick(max: number): number {
    return Math.floor(this.random() * (max + 1));
  }
}

export class MockLogStore implements LogStore {
  private data = new Uint8Array(256);
  private length = 0;
  private readonly flash: MockFlash;
  readonly name: string;
  /** Completed appends and replaces (for tests of flash wear). */
  appends = 0;
  replaces = 0;

  constructor(flash: MockFlash, name: string) {
    this.flash = flash;
    this.name = name;
  }

  size(): number {
    this.flash.checkAlive();
    return this.length;
  }

  read(position: number, out: Uint8Array, offset: number, length: number): number {
    this.flash.checkAlive();
    checkRange("read", out, offset, length);
    if (!Number.isInteger(position) || position < 0) throw new RangeError(`MockLogStore.read: position ${position} is not a file position`);
    if (position >= this.length) return 0;
    const n = Math.min(length, this.length - position);
    out.set(this.data.subarray(position, position + n), offset);
    return n;
  }

  append(data: Uint8Array, offset: number, length: number): void {
    checkRange("append", data, offset, length);
    if (this.flash.nextWriteIsCut()) {
      const kept = this.flash.pick(length);
      this.put(data, offset, kept);
      this.flash.cut({ what: "append", target: this.name, length, kept });
    }
    this.put(data, offset, length);
    this.appends++;
  }

  replace(writer: (append: AppendBytes) => void): void {
    this.flash.checkAlive();
    const fresh = new MockLogStore(this.flash, `${this.name} (new)`);
    writer((data, offset, length) => {
      checkRange("replace append", data, offset, length);
      if (this.flash.nextWriteIsCut()) this.flash.cut({ what: "replace-write", target: this.name, tookNew: false });
      fresh.put(data, offset, length);
    });
    if (this.flash.nextWriteIsCut()) {
      const takeNew = this.flash.pick(1) === 1;
      if (takeNew) this.adopt(fresh);
      this.flash.cut({ what: "replace-rename", target: this.name, tookNew: takeNew });
    }
    this.adopt(fresh);
    this.replaces++;
  }

  /** The persisted bytes (a copy). */
  bytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  /** Overwrites persisted bytes in place (bit rot, for tests). */
  corrupt(position: number, bytes: ArrayLike<number>): void {
    if (position < 0 || position + bytes.length > this.length) throw new RangeError(`MockLogStore.corrupt: ${position}+${bytes.length} is outside the ${this.length}-byte file`);
    for (let i = 0; i < bytes.length; i++) this.data[position + i] = bytes[i];
  }

  /** Drops bytes from the end (a torn tail, for tests). */
  truncate(length: number): void {
    if (length < 0 || length > this.length) throw new RangeError(`MockLogStore.truncate: ${length} is not within the ${this.length}-byte file`);
    this.length = length;
  }

  private put(data: Uint8Array, offset: number, length: number): void {
    if (this.length + length > this.data.length) {
      let capacity = this.data.length * 2;
      while (capacity < this.length + length) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(data.subarray(offset, offset + length), this.length);
    this.length += length;
  }

  private adopt(other: MockLogStore): void {
    this.data = other.data;
    this.length = other.length;
  }
}

export class MockKeyValueStore implements KeyValueStore {
  private readonly values = new Map<string, Uint8Array>();
  private readonly flash: MockFlash;
  puts = 0;

  constructor(flash: MockFlash) {
    this.flash = flash;
  }

  get(key: string): Uint8Array | null {
    this.flash.checkAlive();
    const value = this.values.get(key);
    return value === undefined ? null : value.slice();
  }

  put(key: string, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TypeError(`MockKeyValueStore.put: the value for "${key}" must be a Uint8Array`);
    const copy = value.slice();
    if (this.flash.nextWriteIsCut()) {
      const takeNew = this.flash.pick(1) === 1;
      if (takeNew) this.values.set(key, copy);
      this.flash.cut({ what: "put", target: key, tookNew: takeNew });
    }
    this.values.set(key, copy);
    this.puts++;
  }

  delete(key: string): void {
    if (this.flash.nextWriteIsCut()) {
      const takeNew = this.flash.pick(1) === 1;
      if (takeNew) this.values.delete(key);
      this.flash.cut({ what: "delete", target: key, tookNew: takeNew });
    }
    this.values.delete(key);
  }
}

function checkRange(what: string, buffer: Uint8Array, offset: number, length: number): void {
  if (!(buffer instanceof Uint8Array)) throw new TypeError(`MockLogStore.${what}: the buffer must be a Uint8Array`);
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buffer.length) {
    throw new RangeError(`MockLogStore.${what}: range ${offset}+${length} is outside a ${buffer.length}-byte buffer`);
  }
}
