// Pins of the device: digital alarm inputs, the status LED and the modem's PWRKEY and DTR lines,
// on ECMA-419 `embedded:io/digital`. The Digital class is passed in (the device passes Moddable's,
// the simulator build a file-backed one, host tests a fake), so this file imports no Moddable
// module.

import type { Deadline, DigitalInputPort, StatusLed, TimerPort } from "../app/ports.ts";

/** An ECMA-419 Digital instance. */
export interface DigitalPin {
  read(): number;
  write(value: 0 | 1): void;
  close(): void;
}

/** The ECMA-419 Digital class: its constructor and mode constants. */
export interface DigitalClass {
  new (options: DigitalOptions): DigitalPin;
  readonly Input: unknown;
  readonly InputPullUp: unknown;
  readonly InputPullDown: unknown;
  readonly Output: unknown;
}

export interface DigitalOptions {
  pin: number;
  mode: unknown;
  /** Moddable's extension: the level an output takes before it starts driving (no glitch). */
  initialValue?: 0 | 1;
}

export type Pull = "up" | "down" | "none";

/** GPIO numbers: 0-39 on the ESP32, up to 48 on the S3; the simulator's pins are numbers too. */
function checkPin(who: string, pin: number): void {
  if (!Number.isInteger(pin) || pin < 0 || pin > 48) throw new RangeError(`${who}: ${String(pin)} is not a GPIO number`);
}

function checkLevel(who: string, level: number): asserts level is 0 | 1 {
  if (level !== 0 && level !== 1) throw new RangeError(`${who}: the active level must be 0 or 1, not ${String(level)}`);
}

/** A configured alarm input. */
export class PinInput implements DigitalInputPort {
  readonly pin: number;
  private readonly digital: DigitalPin;

  constructor(Digital: DigitalClass, pin: number, pull: Pull) {
    checkPin("input", pin);
    const mode = pull === "up" ? Digital.InputPullUp : pull === "down" ? Digital.InputPullDown : pull === "none" ? Digital.Input : undefined;
    if (mode === undefined) throw new RangeError(`input on GPIO ${pin}: pull must be "up", "down" or "none", not "${String(pull)}"`);
    this.pin = pin;
    this.digital = new Digital({ pin, mode });
  }

  read(): 0 | 1 {
    return this.digital.read() ? 1 : 0;
  }

  close(): void {
    this.digital.close();
  }
}

/** An output already driving `level` (set before the pin starts driving, so it never glitches). */
function openOutput(Digital: DigitalClass, pin: number, level: 0 | 1): DigitalPin {
  checkPin("output", pin);
  const digital = new Digital({ pin, mode: Digital.Output, initialValue: level });
  digital.write(level);
  return digital;
}

/** A digital output with an active level: `set(true)` drives `activeLevel`. Starts inactive. */
export class PinOutput implements StatusLed {
  readonly pin: number;
  private readonly digital: DigitalPin;
  private readonly activeLevel: 0 | 1;

  constructor(Digital: DigitalClass, pin: number, activeLevel: number) {
    checkLevel(`output on GPIO ${pin}`, activeLevel);
    this.pin = pin;
    this.activeLevel = activeLevel;
    this.digital = openOutput(Digital, pin, activeLevel === 1 ? 0 : 1);
  }

  set(on: boolean): void {
    this.digital.write(on ? this.activeLevel : this.activeLevel === 1 ? 0 : 1);
  }

  close(): void {
    this.digital.close();
  }
}

export interface PowerKeyOptions {
  pin: number;
  /**
   * The GPIO level that presses PWRKEY. 0 when the GPIO drives PWRKEY directly (the key is
   * active low); 1 on boards with an inverting transistor in between (LilyGO T-SIM7000G).
   */
  activeLevel: number;
  /** How long the key is held. SIM7000: at least 1 s to switch on, 1.2 s to switch off. Default 1200. */
  pulseMs?: number;
}

export interface DtrOptions {
  pin: number;
  /** The GPIO level that keeps the modem awake (DTR low on the SIM7000, so 0 when wired directly). */
  awakeLevel: number;
}

export const DEFAULT_PWRKEY_PULSE_MS = 1200;

/**
 * The modem's control lines. DTR is held at its awake level for good (the app never lets the
 * modem sleep). `pressPowerKey` holds PWRKEY for the pulse on a timer, never a busy wait; a
 * press asked for while one is under way joins it instead of starting a second one (two
 * pulses would switch the modem on and straight off again).
 */
export class ModemControl {
  readonly pulseMs: number;
  private readonly powerKey: PinOutput | null;
  private readonly dtr: DigitalPin | null;
  private readonly release: Deadline | null;
  private pressing: Promise<void> | null = null;
  private finish: (() => void) | null = null;
  private closed = false;

  constructor(Digital: DigitalClass, timers: TimerPort, options: { powerKey?: PowerKeyOptions | null; dtr?: DtrOptions | null }) {
    const key = options.powerKey ?? null;
    const pulseMs = key?.pulseMs ?? DEFAULT_PWRKEY_PULSE_MS;
    if (!Number.isInteger(pulseMs) || pulseMs < 100 || pulseMs > 10_000) throw new RangeError(`PWRKEY: a pulse of ${String(pulseMs)} ms is outside 100-10000 ms`);
    this.pulseMs = pulseMs;
    this.powerKey = key === null ? null : new PinOutput(Digital, key.pin, key.activeLevel);
    this.release = key === null ? null : timers.deadline(() => this.released());
    const dtr = options.dtr ?? null;
    let dtrPin: DigitalPin | null = null;
    if (dtr !== null) {
      checkLevel(`DTR on GPIO ${dtr.pin}`, dtr.awakeLevel);
      dtrPin = openOutput(Digital, dtr.pin, dtr.awakeLevel);
    }
    this.dtr = dtrPin;
  }

  /** True when the board wires PWRKEY to a GPIO. */
  get hasPowerKey(): boolean {
    return this.powerKey !== null;
  }

  /** Presses PWRKEY for `pulseMs`; resolves once it is released. */
  pressPowerKey(): Promise<void> {
    const key = this.powerKey;
    const release = this.release;
    if (key === null || release === null) return Promise.reject(new Error("PWRKEY: this board has no PWRKEY pin configured"));
    if (this.closed) return Promise.reject(new Error("PWRKEY: the modem control lines were closed"));
    if (this.pressing !== null) return this.pressing;
    this.pressing = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
    key.set(true);
    release.arm(this.pulseMs);
    return this.pressing;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release?.close();
    if (this.pressing !== null) this.released();
    this.powerKey?.close();
    this.dtr?.close();
  }

  private released(): void {
    this.powerKey?.set(false);
    const finish = this.finish;
    this.pressing = null;
    this.finish = null;
    finish?.();
  }
}
