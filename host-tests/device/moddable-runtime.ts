// The Moddable modules the device bindings import, as stand-ins that run anywhere (XS under
// xsnap, or Node), on one virtual clock: `timer` (lin or esp32, moddable-timer.ts),
// `embedded:io/serial` (lin, moddable-serial.ts), `time`, `file` (fake-file.ts), `crypt`,
// `hmac`, `rng`. moddable-stand-ins.ts maps the module names to the exports here when a test
// bundles src/device; `runtime` is the test's handle on all of it.

import { VirtualClock } from "../../sim/scheduler.ts";
import { hmacSha256, sha256 } from "../kit/xs/sha256.ts";
import { FakeFlash } from "./fake-file.ts";
import { LinSerialDevices, type LinSerialOptions } from "./moddable-serial.ts";
import { moddableTimers, type ModdableTimers, type ScriptTimer, type TimerPlatformName } from "./moddable-timer.ts";

/** Promise turns given after each instant of virtual time (the app's await chains are shorter). */
const SETTLE_TURNS = 32;

class ModdableRuntime {
  readonly clock = new VirtualClock(0);
  timers: ModdableTimers = moddableTimers("lin", this.clock);
  readonly serial = new LinSerialDevices(this.clock);
  readonly flash = new FakeFlash();
  /** Every Directory.create path. */
  readonly directories: string[] = [];
  private rngState = 0x2545f491;

  /** The `timer` module of `platform` from now on (timers made before stay on the old one). */
  useTimers(platform: TimerPlatformName): ModdableTimers {
    this.timers = moddableTimers(platform, this.clock);
    return this.timers;
  }

  /**
   * Runs virtual time instant by instant, giving promise jobs their turns after each, until
   * `predicate()` holds (true) or the next timer is due more than `limitMs` from now (false).
   */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    for (;;) {
      for (let i = 0; i < SETTLE_TURNS; i++) await undefined;
      if (predicate()) return true;
      const next = this.clock.nextDueAt();
      if (next === null || next > end) return false;
      this.clock.advance(next - this.clock.now());
    }
  }

  /** @internal RNG.get */
  randomBytes(n: number): ArrayBuffer {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.rngState ^= this.rngState << 13;
      this.rngState ^= this.rngState >>> 17;
      this.rngState ^= this.rngState << 5;
      out[i] = this.rngState & 0xff;
    }
    return out.buffer;
  }
}

export const runtime = new ModdableRuntime();

// ---- the modules ---------------------------------------------------------------------------------

/** `timer`: Timer's static functions, on the runtime's current timers. */
export const Timer = {
  set: (callback: (timer: ScriptTimer) => void, interval?: number, repeat?: number) =>
    interval === undefined ? runtime.timers.set(callback) : repeat === undefined ? runtime.timers.set(callback, interval) : runtime.timers.set(callback, interval, repeat),
  repeat: (callback: (timer: ScriptTimer) => void, interval: number) => runtime.timers.repeat(callback, interval),
  // The argument count matters: Timer.schedule(t) unschedules.
  schedule: (...args: [ScriptTimer, number?, number?]) => (runtime.timers.schedule as (...a: unknown[]) => void)(...args),
  clear: (timer: ScriptTimer | undefined | null) => runtime.timers.clear(timer),
  delay: (ms: number) => runtime.timers.delay(ms),
};

/** `time`: Time.ticks, the virtual clock's milliseconds. */
export const Time = {
  get ticks(): number {
    return runtime.clock.now();
  },
};

/** `embedded:io/serial` (lin). */
export class Serial {
  constructor(options: LinSerialOptions) {
    // A constructor may return another object: the lin driver's instance.
    return new runtime.serial.Serial(options) as unknown as Serial;
  }
}

/** `file`: File on the fake flash, and Directory. */
export const File = runtime.flash.File;
export const Directory = {
  create(path: string): void {
    runtime.directories.push(path);
  },
};

/** `crypt`: only Digest("SHA256"), what src/device/crypto.ts uses. */
export class Digest {
  readonly algorithm: string;
  constructor(algorithm: string) {
    if (algorithm !== "SHA256") throw new Error(`stand-in crypt: Digest("${algorithm}") is not modelled`);
    this.algorithm = algorithm;
  }
  process(data: ArrayBuffer): ArrayBuffer {
    return sha256(new Uint8Array(data)).buffer as ArrayBuffer;
  }
}

/** `hmac`: new HMAC(new Digest("SHA256"), key).process(data) gives the MAC as an ArrayBuffer; keys and data are ArrayBuffers. */
export class HMAC {
  private readonly key: Uint8Array;
  constructor(digest: Digest, key: ArrayBuffer) {
    if (!(digest instanceof Digest)) throw new TypeError("stand-in hmac: the hash must be a Digest");
    if (!(key instanceof ArrayBuffer)) throw new TypeError("stand-in hmac: the key must be an ArrayBuffer");
    this.key = new Uint8Array(key.slice(0));
  }
  process(data: ArrayBuffer): ArrayBuffer {
    if (!(data instanceof ArrayBuffer)) throw new TypeError("stand-in hmac: the data must be an ArrayBuffer");
    return hmacSha256(this.key, new Uint8Array(data)).buffer as ArrayBuffer;
  }
}

/** `rng`: RNG.get(n), deterministic here. */
export const RNG = {
  get: (n: number): ArrayBuffer => runtime.randomBytes(n),
};
