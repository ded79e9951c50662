// The device's pins (src/device/io.ts) on a fake ECMA-419 Digital class and virtual time.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type DigitalClass, type DigitalOptions, ModemControl, PinInput, PinOutput } from "../../src/device/io.ts";
import { VirtualClock } from "../../sim/scheduler.ts";

interface PinRecord {
  mode: unknown;
  initialValue: number | undefined;
  /** [time, level] for every write. */
  writes: Array<[number, number]>;
  level: number;
  closed: boolean;
}

function fakeDigital(clock: VirtualClock) {
  const pins = new Map<number, PinRecord>();
  class FakeDigital {
    static readonly Input = "Input";
    static readonly InputPullUp = "InputPullUp";
    static readonly InputPullDown = "InputPullDown";
    static readonly Output = "Output";
    private readonly record: PinRecord;
    constructor(options: DigitalOptions) {
      if (pins.has(options.pin) && !pins.get(options.pin)?.closed) throw new Error(`GPIO ${options.pin} is in use`);
      this.record = { mode: options.mode, initialValue: options.initialValue, writes: [], level: options.initialValue ?? 0, closed: false };
      pins.set(options.pin, this.record);
    }
    read(): number {
      return this.record.level;
    }
    write(value: 0 | 1): void {
      if (this.record.mode !== FakeDigital.Output) throw new Error("write to an input");
      this.record.level = value;
      this.record.writes.push([clock.now(), value]);
    }
    close(): void {
      this.record.closed = true;
    }
  }
  return { Digital: FakeDigital as unknown as DigitalClass, pins };
}

const io = suite("device pins");

io("inputs are opened with the mode of their pull and read as 0 or 1", () => {
  const clock = new VirtualClock();
  const { Digital, pins } = fakeDigital(clock);
  const up = new PinInput(Digital, 32, "up");
  new PinInput(Digital, 33, "down");
  new PinInput(Digital, 34, "none");
  assert.is(pins.get(32)?.mode, "InputPullUp");
  assert.is(pins.get(33)?.mode, "InputPullDown");
  assert.is(pins.get(34)?.mode, "Input");
  (pins.get(32) as PinRecord).level = 1;
  assert.is(up.read(), 1);
  (pins.get(32) as PinRecord).level = 0;
  assert.is(up.read(), 0);
  assert.throws(() => new PinInput(Digital, 35, "sideways" as "up"), /pull must be "up", "down" or "none"/);
  assert.throws(() => new PinInput(Digital, 99, "up"), /99 is not a GPIO number/);
  up.close();
  assert.ok(pins.get(32)?.closed);
});

io("an output starts at its idle level before it drives, and set() follows its active level", () => {
  const clock = new VirtualClock();
  const { Digital, pins } = fakeDigital(clock);
  const activeLow = new PinOutput(Digital, 12, 0); // the LilyGO LED
  assert.is(pins.get(12)?.initialValue, 1, "off from the first instant: no glitch");
  activeLow.set(true);
  assert.is(pins.get(12)?.level, 0);
  activeLow.set(false);
  assert.is(pins.get(12)?.level, 1);
  const activeHigh = new PinOutput(Digital, 2, 1);
  assert.is(pins.get(2)?.initialValue, 0);
  activeHigh.set(true);
  assert.is(pins.get(2)?.level, 1);
  assert.throws(() => new PinOutput(Digital, 5, 2), /active level must be 0 or 1/);
});

io("PWRKEY is held for the pulse on a timer, then released; the promise resolves on release", async () => {
  const clock = new VirtualClock();
  const { Digital, pins } = fakeDigital(clock);
  const control = new ModemControl(Digital, clock, { powerKey: { pin: 4, activeLevel: 1 }, dtr: { pin: 25, awakeLevel: 0 } });
  assert.is(control.pulseMs, 1200);
  assert.is(pins.get(4)?.initialValue, 0, "PWRKEY idle from the start");
  assert.is(pins.get(25)?.initialValue, 0, "DTR at its awake level from the start");
  let released = false;
  const press = control.pressPowerKey().then(() => {
    released = true;
  });
  assert.is(pins.get(4)?.level, 1, "pressed at once");
  assert.is(control.pressPowerKey(), control.pressPowerKey(), "a press during a press joins it");
  clock.advance(1199);
  await Promise.resolve();
  assert.is(pins.get(4)?.level, 1);
  assert.is(released, false);
  clock.advance(1);
  await press;
  assert.is(released, true);
  assert.equal(pins.get(4)?.writes, [[0, 0], [0, 1], [1200, 0]]);
  assert.equal(pins.get(25)?.writes, [[0, 0]], "DTR never moves");
  await Promise.all([control.pressPowerKey(), clock.advanceAsync(1200)]);
  assert.equal(pins.get(4)?.writes.slice(3), [[1200, 1], [2400, 0]], "a later press is a new pulse");
});

io("closing during a press releases the key and settles the press", async () => {
  const clock = new VirtualClock();
  const { Digital, pins } = fakeDigital(clock);
  const control = new ModemControl(Digital, clock, { powerKey: { pin: 4, activeLevel: 0, pulseMs: 1500 } });
  const press = control.pressPowerKey();
  assert.is(pins.get(4)?.level, 0, "an active-low key is pressed by driving 0");
  clock.advance(100);
  control.close();
  await press;
  assert.is(pins.get(4)?.level, 1);
  assert.ok(pins.get(4)?.closed);
  assert.not.throws(() => control.close());
  let error: unknown = null;
  await control.pressPowerKey().catch((e: unknown) => {
    error = e;
  });
  assert.match(String(error), /closed/);
});

io("a board without PWRKEY says so; pulse lengths are checked", async () => {
  const clock = new VirtualClock();
  const { Digital } = fakeDigital(clock);
  const control = new ModemControl(Digital, clock, {});
  assert.is(control.hasPowerKey, false);
  let error: unknown = null;
  await control.pressPowerKey().catch((e: unknown) => {
    error = e;
  });
  assert.match(String(error), /no PWRKEY pin configured/);
  assert.throws(() => new ModemControl(Digital, clock, { powerKey: { pin: 4, activeLevel: 1, pulseMs: 50 } }), /outside 100-10000 ms/);
});

io.run();
