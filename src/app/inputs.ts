// Named digital inputs, sampled at a fixed period, debounced, turned into outbox events.
// A change counts once the new level has held for `debounceMs` (every sample in between saw
// it); a shorter blip is ignored. The sampling tick allocates nothing; only accepted changes
// (which are recorded to flash) do.

import type { AlarmEvent } from "./outbox.ts";
import type { ClockPort, Deadline, DigitalInputPort, TimerPort } from "./ports.ts";

export interface InputDefinition {
  /** Shown in mails and the log: 1-32 characters, no control characters. */
  name: string;
  port: DigitalInputPort;
  /** The level that means alarm (for a test input: the level that means "test pressed"). */
  alarmWhen: 0 | 1;
  /** How long a new level must hold before it counts. Default 50 ms. */
  debounceMs?: number;
  /** A test input: reaching `alarmWhen` records a TEST event, mailed even while disarmed. */
  test?: boolean;
  /** Event texts. Defaults: "<name>: ALARM" / "<name>: normal"; test input: "<name>: test". */
  alarmText?: string;
  normalText?: string;
}

/** Where events go: the outbox. Returns the event's sequence number once it is durable. */
export interface EventRecorder {
  append(event: AlarmEvent): number;
}

export interface InputMonitorOptions {
  timers: TimerPort;
  clock: ClockPort;
  recorder: EventRecorder;
  /** After an event was recorded: wake the sender, show it on the LED. */
  onEvent?: (seq: number, event: AlarmEvent) => void;
  /** Recording failed (the change is retried every sample until it is recorded). Called once per failure streak. */
  onError?: (error: unknown, input: string) => void;
  /** Sampling period. Default 10 ms. */
  periodMs?: number;
  /** Whether alarms are mailed at first (see `armed`). Default true. */
  armed?: boolean;
  /** Record an alarm for an input already at its alarm level at start. Default true. */
  reportActiveAtStart?: boolean;
}

export interface InputState {
  name: string;
  /** Debounced level, null until the first level has held for the debounce time. */
  level: 0 | 1 | null;
  /** At the alarm (test: pressed) level now. */
  active: boolean;
  test: boolean;
}

const UNKNOWN = -1;

class Input {
  readonly name: string;
  readonly port: DigitalInputPort;
  readonly alarmWhen: 0 | 1;
  readonly debounceMs: number;
  readonly test: boolean;
  readonly alarmText: string;
  readonly normalText: string;
  /** Debounced level, UNKNOWN before the first one held. */
  stable = UNKNOWN;
  /** When the raw level last started to differ from `stable`, or UNKNOWN. */
  changeSince = UNKNOWN;
  /** The level the change is going to (matters only while `stable` is unknown). */
  changeTo = UNKNOWN;
  failing = false;

  constructor(definition: InputDefinition) {
    this.name = definition.name;
    this.port = definition.port;
    this.alarmWhen = definition.alarmWhen;
    this.debounceMs = definition.debounceMs ?? 50;
    this.test = definition.test ?? false;
    this.alarmText = definition.alarmText ?? `${definition.name}: ${this.test ? "test" : "ALARM"}`;
    this.normalText = definition.normalText ?? `${definition.name}: normal`;
  }
}

export class InputMonitor {
  /** While disarmed, input changes are recorded for the log only (not mailed); test inputs still mail. */
  armed: boolean;
  private readonly inputs: Input[];
  private readonly clock: ClockPort;
  private readonly recorder: EventRecorder;
  private readonly onEvent: ((seq: number, event: AlarmEvent) => void) | undefined;
  private readonly onError: ((error: unknown, input: string) => void) | undefined;
  private readonly periodMs: number;
  private readonly reportActiveAtStart: boolean;
  private readonly deadline: Deadline;
  private running = false;

  constructor(definitions: InputDefinition[], options: InputMonitorOptions) {
    if (!Array.isArray(definitions) || definitions.length === 0) throw new TypeError("InputMonitor: at least one input is needed");
    const names = new Set<string>();
    this.inputs = definitions.map((definition, index) => {
      checkDefinition(definition, index);
      const key = definition.name.toLowerCase();
      if (names.has(key)) throw new TypeError(`InputMonitor: input name "${definition.name}" is used twice`);
      names.add(key);
      return new Input(definition);
    });
    this.periodMs = options.periodMs ?? 10;
    if (!(this.periodMs >= 1) || !Number.isFinite(this.periodMs)) throw new RangeError(`InputMonitor: sampling period ${options.periodMs} ms is not a duration of 1 ms or more`);
    this.clock = options.clock;
    this.recorder = options.recorder;
    this.onEvent = options.onEvent;
    this.onError = options.onError;
    this.armed = options.armed ?? true;
    this.reportActiveAtStart = options.reportActiveAtStart ?? true;
    this.deadline = options.timers.deadline(() => this.tick());
  }

  /** Starts sampling (the first sample is taken at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.deadline.disarm();
  }

  close(): void {
    this.stop();
    this.deadline.close();
  }

  /** The inputs' debounced states, for status mails. */
  states(): InputState[] {
    return this.inputs.map((input) => ({
      name: input.name,
      level: input.stable === UNKNOWN ? null : (input.stable as 0 | 1),
      active: input.stable === input.alarmWhen,
      test: input.test,
    }));
  }

  /** One sample of every input. */
  private tick(): void {
    if (!this.running) return;
    // Re-armed first, so a throwing port cannot stop the sampling.
    this.deadline.arm(this.periodMs);
    const now = this.clock.now();
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      const raw = input.port.read();
      if (raw === input.stable) {
        input.changeSince = UNKNOWN;
        continue;
      }
      if (input.changeSince === UNKNOWN || raw !== input.changeTo) {
        input.changeSince = now;
        input.changeTo = raw;
      }
      if (now - input.changeSince >= input.debounceMs) this.accept(input, raw);
    }
  }

  private accept(input: Input, level: 0 | 1): void {
    const first = input.stable === UNKNOWN;
    const active = level === input.alarmWhen;
    let event: AlarmEvent;
    if (input.test) {
      event = { type: "test", source: input.name, state: level, alarm: false, notify: active && !first, text: active ? input.alarmText : input.normalText };
    } else if (first) {
      const notify = active && this.armed && this.reportActiveAtStart;
      event = { type: "input", source: input.name, state: level, alarm: notify, notify, text: `${active ? input.alarmText : input.normalText} (at start)` };
    } else {
      event = { type: "input", source: input.name, state: level, alarm: active && this.armed, notify: this.armed, text: this.armed ? (active ? input.alarmText : input.normalText) : `${active ? input.alarmText : input.normalText} (disarmed)` };
    }
    let seq: number;
    try {
      seq = this.recorder.append(event);
    } catch (error) {
      // The level stays unaccepted: the next sample tries again.
      if (!input.failing) this.onError?.(error, input.name);
      input.failing = true;
      return;
    }
    input.failing = false;
    input.stable = level;
    input.changeSince = UNKNOWN;
    this.onEvent?.(seq, event);
  }
}

function checkDefinition(definition: InputDefinition, index: number): void {
  const where = `InputMonitor: input ${index + 1}`;
  if (definition === null || typeof definition !== "object") throw new TypeError(`${where} is not an object`);
  const name = definition.name;
  if (typeof name !== "string" || name.length < 1 || name.length > 32) throw new TypeError(`${where}: the name must be 1-32 characters`);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 32 || c === 127) throw new TypeError(`${where} ("${name}"): the name must not contain control characters`);
  }
  if (definition.alarmWhen !== 0 && definition.alarmWhen !== 1) throw new TypeError(`${where} ("${name}"): alarmWhen must be 0 or 1, not ${String(definition.alarmWhen)}`);
  if (!definition.port || typeof definition.port.read !== "function") throw new TypeError(`${where} ("${name}"): the port has no read()`);
  const debounce = definition.debounceMs;
  if (debounce !== undefined && !(Number.isFinite(debounce) && debounce >= 0)) throw new RangeError(`${where} ("${name}"): debounce ${debounce} ms is not a duration (0 or more)`);
}
