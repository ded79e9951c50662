import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InputMonitor, type EventRecorder, type InputDefinition } from "../../../src/app/inputs.ts";
import type { AlarmEvent } from "../../../src/app/outbox.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";

class Pin {
  level: 0 | 1;
  reads = 0;
  constructor(level: 0 | 1) {
    this.level = level;
  }
  read(): 0 | 1 {
    this.reads++;
    return this.level;
  }
}

interface Recorded {
  at: number;
  seq: number;
  event: AlarmEvent;
}

function setup(definitions: Array<Omit<InputDefinition, "port"> & { level: 0 | 1 }>, options: { armed?: boolean; reportActiveAtStart?: boolean; recorder?: EventRecorder } = {}) {
  const clock = new VirtualClock(1000);
  const pins = definitions.map((d) => new Pin(d.level));
  const recorded: Recorded[] = [];
  let nextSeq = 1;
  const recorder: EventRecorder = options.recorder ?? { append: () => nextSeq++ };
  const errors: string[] = [];
  const monitor = new InputMonitor(
    definitions.map((d, i) => ({ ...d, port: pins[i] })),
    {
      timers: clock,
      clock,
      recorder,
      onEvent: (seq, event) => recorded.push({ at: clock.now(), seq, event }),
      onError: (error, input) => errors.push(`${input}: ${(error as Error).message}`),
      armed: options.armed,
      reportActiveAtStart: options.reportActiveAtStart,
    },
  );
  return { clock, pins, recorded, monitor, errors };
}

const door = { name: "door", alarmWhen: 1 as const, level: 0 as const };

const debounce = suite("inputs: debounce and edges");

debounce("the first level is learned after the debounce time and logged, not mailed", () => {
  const { clock, recorded, monitor } = setup([door]);
  monitor.start();
  assert.equal(monitor.states(), [{ name: "door", level: null, active: false, test: false }]);
  clock.advance(49);
  assert.is(recorded.length, 0);
  clock.advance(1);
  assert.equal(recorded, [{ at: 1050, seq: 1, event: { type: "input", source: "door", state: 0, alarm: false, notify: false, text: "door: normal (at start)" } }]);
  assert.equal(monitor.states(), [{ name: "door", level: 0, active: false, test: false }]);
  monitor.close();
});

debounce("an input already in alarm at start is reported (unless told not to)", () => {
  const active = setup([{ ...door, level: 1 }]);
  active.monitor.start();
  active.clock.advance(100);
  assert.equal(active.recorded.map((r) => r.event), [{ type: "input", source: "door", state: 1, alarm: true, notify: true, text: "door: ALARM (at start)" }]);
  active.monitor.close();
  const quiet = setup([{ ...door, level: 1 }], { reportActiveAtStart: false });
  quiet.monitor.start();
  quiet.clock.advance(100);
  assert.equal(quiet.recorded.map((r) => [r.event.alarm, r.event.notify]), [[false, false]]);
  quiet.monitor.close();
});

debounce("a change counts once it held for debounceMs; blips shorter than that are ignored", () => {
  const { clock, pins, recorded, monitor } = setup([{ ...door, debounceMs: 30, alarmText: "Door opened", normalText: "Door closed" }]);
  monitor.start();
  clock.advance(100);
  recorded.length = 0;
  // Blips of 10, 20 ms: sampled but never held 30 ms.
  pins[0].level = 1;
  clock.advance(10);
  pins[0].level = 0;
  clock.advance(50);
  pins[0].level = 1;
  clock.advance(20);
  pins[0].level = 0;
  clock.advance(50);
  assert.equal(recorded, []);
  // Bouncing contact: the count starts at the first sample after the last edge.
  const edgeAt = clock.now();
  pins[0].level = 1;
  clock.advance(10);
  pins[0].level = 0;
  clock.advance(10);
  pins[0].level = 1; // the last edge; sampled first at +30
  clock.advance(39);
  assert.equal(recorded, []);
  clock.advance(1);
  assert.equal(recorded, [{ at: edgeAt + 60, seq: 2, event: { type: "input", source: "door", state: 1, alarm: true, notify: true, text: "Door opened" } }]);
  pins[0].level = 0;
  clock.advance(30);
  assert.is(recorded.length, 1, "seen at +10, +20, +30: held 20 ms so far");
  clock.advance(10);
  assert.equal(recorded[1].event, { type: "input", source: "door", state: 0, alarm: false, notify: true, text: "Door closed" });
  assert.equal(monitor.states(), [{ name: "door", level: 0, active: false, test: false }]);
  monitor.close();
});

debounce("active-low inputs, several inputs sampled together, each with its own debounce", () => {
  const { clock, pins, recorded, monitor } = setup([
    { name: "pressure", alarmWhen: 0, level: 1, debounceMs: 0 },
    { name: "flood", alarmWhen: 1, level: 0, debounceMs: 200 },
  ]);
  monitor.start();
  clock.advance(300);
  recorded.length = 0;
  pins[0].level = 0;
  pins[1].level = 1;
  clock.advance(10);
  assert.equal(recorded.map((r) => [r.at - clock.now(), r.event.source, r.event.state, r.event.alarm]), [[0, "pressure", 0, true]]);
  clock.advance(200);
  assert.equal(recorded.map((r) => [r.event.source, r.event.alarm]), [["pressure", true], ["flood", true]]);
  assert.is(recorded[1].at - recorded[0].at, 200);
  monitor.close();
});

debounce("disarmed: changes are recorded for the log only; the test input still mails", () => {
  const { clock, pins, recorded, monitor } = setup([door, { name: "test", alarmWhen: 0, level: 1, test: true }], { armed: false });
  monitor.start();
  clock.advance(100);
  recorded.length = 0;
  pins[0].level = 1;
  clock.advance(100);
  assert.equal(recorded.map((r) => r.event), [{ type: "input", source: "door", state: 1, alarm: false, notify: false, text: "door: ALARM (disarmed)" }]);
  pins[1].level = 0;
  clock.advance(100);
  assert.equal(recorded[1].event, { type: "test", source: "test", state: 0, alarm: false, notify: true, text: "test: test" });
  pins[1].level = 1;
  clock.advance(100);
  assert.equal([recorded[2].event.type, recorded[2].event.notify, recorded[2].event.text], ["test", false, "test: normal"]);
  monitor.armed = true;
  pins[0].level = 0;
  clock.advance(100);
  assert.equal([recorded[3].event.alarm, recorded[3].event.notify, recorded[3].event.text], [false, true, "door: normal"]);
  monitor.close();
});

debounce("a failed recording is retried every sample and reported once", () => {
  let failing = true;
  let seq = 0;
  const recorder: EventRecorder = {
    append() {
      if (failing) throw new Error("outbox full");
      return ++seq;
    },
  };
  const { clock, pins, recorded, monitor, errors } = setup([{ ...door, debounceMs: 0 }], { recorder });
  failing = false;
  monitor.start();
  failing = true;
  clock.advance(50);
  pins[0].level = 1;
  clock.advance(50);
  assert.equal(errors, ["door: outbox full"]);
  assert.equal(recorded.map((r) => [r.seq, r.event.text]), [[1, "door: normal (at start)"]]);
  assert.equal(monitor.states()[0].level, 0, "not accepted while it could not be recorded");
  failing = false;
  clock.advance(10);
  assert.equal(recorded.map((r) => [r.seq, r.event.text]), [[1, "door: normal (at start)"], [2, "door: ALARM"]]);
  assert.equal(monitor.states()[0].level, 1);
  monitor.close();
});

debounce("sampling runs at the period and stops when stopped", () => {
  const { clock, pins, monitor } = setup([door]);
  monitor.start();
  clock.advance(100);
  assert.is(pins[0].reads, 11);
  monitor.stop();
  clock.advance(100);
  assert.is(pins[0].reads, 11);
  assert.is(clock.pending(), 0);
  monitor.start();
  clock.advance(20);
  assert.is(pins[0].reads, 14);
  monitor.close();
  assert.is(clock.pending(), 0);
});

debounce("bad definitions are refused with the input named", () => {
  const clock = new VirtualClock();
  const make = (definitions: InputDefinition[]) => () => new InputMonitor(definitions, { timers: clock, clock, recorder: { append: () => 1 } });
  const port = new Pin(0);
  assert.throws(make([]), /at least one input is needed/);
  assert.throws(make([{ name: "", port, alarmWhen: 1 }]), /input 1: the name must be 1-32 characters/);
  assert.throws(make([{ name: "a\nb", port, alarmWhen: 1 }]), /input 1 \("a\nb"\): the name must not contain control characters/);
  assert.throws(make([{ name: "door", port, alarmWhen: 2 as never }]), /alarmWhen must be 0 or 1, not 2/);
  assert.throws(make([{ name: "door", port, alarmWhen: 1 }, { name: "Door", port, alarmWhen: 0 }]), /input name "Door" is used twice/);
  assert.throws(make([{ name: "door", port: {} as never, alarmWhen: 1 }]), /the port has no read\(\)/);
  assert.throws(make([{ name: "door", port, alarmWhen: 1, debounceMs: -5 }]), /debounce -5 ms is not a duration/);
  assert.throws(() => new InputMonitor([{ name: "door", port, alarmWhen: 1 }], { timers: clock, clock, recorder: { append: () => 1 }, periodMs: 0 }), /sampling period 0 ms/);
});

debounce.run();
