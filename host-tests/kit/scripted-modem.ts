// A strict scripted peer on the modem end of a mock UART (in the spirit of Zephyr's
// modem_chat mock-pipe tests): the host must send exactly the scripted bytes, in order, however
// its writes are split; the modem answers with scripted replies, URCs and pauses.

import { escapeBytes, escapeShort, toBytes } from "./bytes.ts";
import type { ModemSerial } from "./mock-uart.ts";
import type { Scheduler } from "../../sim/scheduler.ts";

/**
 * Bytes the modem sends. Strings are Latin-1 (one byte per character). `delayMs` waits
 * before sending (after the previous reply was queued); `fragments` sends the bytes in pieces
 * of these sizes (the rest as a last piece), each once the previous one has reached the host.
 */
export type Reply = string | Uint8Array | { bytes: string | Uint8Array; delayMs?: number; fragments?: number[] };

export type ScriptStep =
  /** The host must send exactly these bytes next; then the modem sends `reply`. */
  | { expect: string | Uint8Array; reply?: Reply | Reply[] }
  /** The modem sends unprompted (a URC) once the previous step is complete. */
  | { send: Reply | Reply[] }
  /** Virtual time passes before the next step. */
  | { wait: number };

export interface ScriptedModemOptions {
  /** Timers for waits, delays and fragments. Default: the modem end's own scheduler. */
  scheduler?: Scheduler;
  /** Echo every received byte back at once, as a modem in ATE1 does. Default false. */
  echo?: boolean;
}

interface WriteAction {
  kind: "write";
  pieces: Uint8Array[];
  delayMs: number;
}

type Action = WriteAction | { kind: "wait"; ms: number };

interface Step {
  label: string;
  expect: Uint8Array | null;
  actions: Action[];
}

/** A mismatch whose message keeps growing with what the host sends after it. */
interface Failure {
  errorIndex: number;
  header: string;
  expected: Uint8Array | null;
  received: number[];
}

const MAX_SHOWN_RECEIVED = 200;

export class ScriptedModem {
  /** Everything that went wrong, readable (bytes escaped), each naming its step. */
  readonly errors: string[] = [];
  /** Echo received bytes (ATE1); may be switched during a test. */
  echo: boolean;
  private readonly modem: ModemSerial;
  private readonly scheduler: Scheduler;
  private readonly steps: Step[] = [];
  private stepIndex = 0;
  private matched = 0;
  private actionIndex = 0;
  private busy = false;
  private failure: Failure | null = null;
  private readonly input: number[] = [];
  private inputHead = 0;

  constructor(modem: ModemSerial, script: ScriptStep[], options: ScriptedModemOptions = {}) {
    if (!modem || typeof modem.write !== "function") throw new TypeError("ScriptedModem: the first argument must be the modem end of a UART pair");
    this.modem = modem;
    this.scheduler = options.scheduler ?? modem.scheduler;
    this.echo = options.echo ?? false;
    this.steps.push(...normalize(script, 0));
    modem.onData = (bytes) => this.receive(bytes);
    this.run();
  }

  /** Every step consumed, every reply sent, nothing went wrong. */
  get done(): boolean {
    return this.failure === null && this.stepIndex >= this.steps.length && !this.busy;
  }

  /** Adds steps at the end; a finished script resumes with them. */
  append(steps: ScriptStep[]): void {
    this.steps.push(...normalize(steps, this.steps.length));
    this.run();
  }

  /** Throws with the errors, or with where the script stopped, unless `done`. */
  assertDone(): void {
    if (this.errors.length > 0) {
      throw new Error(`scripted modem: ${this.errors.length} error(s)\n${this.errors.join("\n")}`);
    }
    if (this.done) return;
    const step = this.steps[this.stepIndex];
    const where = `step ${this.stepIndex + 1} of ${this.steps.length} (${step.label})`;
    let detail: string;
    if (step.expect !== null && this.matched < step.expect.length) {
      detail = `waiting at ${where}: the host sent ${this.matched} of its ${step.expect.length} bytes` +
        (this.matched > 0 ? ` ("${escapeShort(step.expect.subarray(0, this.matched))}")` : "");
    } else {
      detail = `still sending at ${where}`;
    }
    const rest = this.steps.slice(this.stepIndex + 1, this.stepIndex + 6).map((s, i) => `  ${this.stepIndex + i + 2}. ${s.label}`);
    const more = this.steps.length - this.stepIndex - 6;
    throw new Error(`scripted modem: script not finished, ${detail}` +
      (rest.length > 0 ? `\nsteps left:\n${rest.join("\n")}${more > 0 ? `\n  … and ${more} more` : ""}` : ""));
  }

  private receive(bytes: Uint8Array): void {
    if (this.echo) this.modem.write(bytes.slice());
    if (this.failure !== null) {
      this.noteAfterFailure(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i++) this.input.push(bytes[i]);
    this.run();
  }

  /** Advances through the script as far as the received bytes and pending timers allow. */
  private run(): void {
    while (this.failure === null && !this.busy) {
      const step = this.steps[this.stepIndex];
      if (step === undefined) {
        if (this.inputHead < this.input.length) this.fail(`after the last step (${this.steps.length} of ${this.steps.length}): the host sent more`, null, this.takeInput());
        return;
      }
      const expect = step.expect;
      if (expect !== null && this.matched < expect.length) {
        while (this.inputHead < this.input.length && this.matched < expect.length) {
          const byte = this.input[this.inputHead];
          if (byte !== expect[this.matched]) {
            const received = [...expect.subarray(0, this.matched)];
            received.push(...this.takeInput());
            const at = this.matched;
            this.fail(`step ${this.stepIndex + 1} of ${this.steps.length} (${step.label}): mismatch at byte ${at + 1}, expected "${escapeBytes(expect, at, at + 1)}" but received "${escapeBytes(Uint8Array.of(byte))}"`, expect, received);
            return;
          }
          this.inputHead++;
          this.matched++;
        }
        this.compactInput();
        if (this.matched < expect.length) return;
      }
      if (this.actionIndex < step.actions.length) {
        this.perform(step.actions[this.actionIndex++]);
        continue;
      }
      this.stepIndex++;
      this.matched = 0;
      this.actionIndex = 0;
    }
  }

  private perform(action: Action): void {
    if (action.kind === "wait") {
      this.pause(action.ms, () => this.run());
      return;
    }
    if (action.delayMs === 0) {
      this.writePieces(action.pieces, 0);
      return;
    }
    this.pause(action.delayMs, () => {
      this.writePieces(action.pieces, 0);
      this.run();
    });
  }

  /** Writes piece `i`; the next one goes once it has reached the host. */
  private writePieces(pieces: Uint8Array[], i: number): void {
    this.modem.write(pieces[i]);
    if (i + 1 === pieces.length) return;
    this.busy = true;
    this.modem.onceDrained(() => {
      this.busy = false;
      this.writePieces(pieces, i + 1);
      this.run();
    });
  }

  private pause(ms: number, then: () => void): void {
    this.busy = true;
    this.scheduler.setTimer(() => {
      this.busy = false;
      then();
    }, ms);
  }

  private takeInput(): number[] {
    const rest = this.input.slice(this.inputHead);
    this.input.length = 0;
    this.inputHead = 0;
    return rest;
  }

  private compactInput(): void {
    if (this.inputHead === this.input.length) {
      this.input.length = 0;
      this.inputHead = 0;
    }
  }

  private fail(header: string, expected: Uint8Array | null, received: number[]): void {
    this.failure = { errorIndex: this.errors.length, header, expected, received };
    this.errors.push("");
    this.renderFailure();
  }

  private noteAfterFailure(bytes: Uint8Array): void {
    const failure = this.failure!;
    if (failure.received.length >= MAX_SHOWN_RECEIVED) return;
    for (let i = 0; i < bytes.length && failure.received.length < MAX_SHOWN_RECEIVED; i++) failure.received.push(bytes[i]);
    this.renderFailure();
  }

  private renderFailure(): void {
    const failure = this.failure!;
    const received = Uint8Array.from(failure.received);
    const shown = `"${escapeBytes(received)}"${received.length >= MAX_SHOWN_RECEIVED ? " …" : ""}`;
    this.errors[failure.errorIndex] = failure.header +
      (failure.expected !== null ? `\n  expected: "${escapeBytes(failure.expected)}"` : "") +
      `\n  received: ${shown}`;
  }
}

function normalize(script: ScriptStep[], firstIndex: number): Step[] {
  if (!Array.isArray(script)) throw new TypeError("ScriptedModem: the script must be an array of steps");
  return script.map((step, i) => normalizeStep(step, `script step ${firstIndex + i + 1}`));
}

function normalizeStep(step: ScriptStep, where: string): Step {
  if (step === null || typeof step !== "object") throw new TypeError(`${where}: expected {expect}, {send} or {wait}, got ${String(step)}`);
  const keys = Object.keys(step).filter((k) => k === "expect" || k === "send" || k === "wait");
  if (keys.length !== 1) {
    throw new TypeError(`${where}: expected exactly one of "expect", "send", "wait"; got keys ${JSON.stringify(Object.keys(step))}`);
  }
  if ("expect" in step) {
    const expect = bytesOf(step.expect, `${where} expect`);
    if (expect.length === 0) throw new RangeError(`${where}: "expect" is empty`);
    const actions = step.reply === undefined ? [] : replies(step.reply, `${where} reply`);
    return { label: `expect "${escapeShort(expect, 60)}"`, expect, actions };
  }
  if ("send" in step) {
    const actions = replies(step.send, `${where} send`);
    if (actions.length === 0) throw new RangeError(`${where}: "send" has nothing to send`);
    const first = actions[0].pieces[0];
    return { label: `send "${escapeShort(first, 60)}"${actions.length > 1 ? ` and ${actions.length - 1} more` : ""}`, expect: null, actions };
  }
  const ms = step.wait;
  if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) throw new RangeError(`${where}: wait must be a finite number of ms ≥ 0, got ${String(ms)}`);
  return { label: `wait ${ms} ms`, expect: null, actions: [{ kind: "wait", ms }] };
}

function replies(value: Reply | Reply[], where: string): WriteAction[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((reply, i) => replyAction(reply, list.length > 1 ? `${where}[${i}]` : where));
}

function replyAction(reply: Reply, where: string): WriteAction {
  if (typeof reply === "string" || reply instanceof Uint8Array) return replyAction({ bytes: reply }, where);
  if (reply === null || typeof reply !== "object" || !("bytes" in reply)) {
    throw new TypeError(`${where}: a reply is a string, a Uint8Array or {bytes, delayMs?, fragments?}`);
  }
  const bytes = bytesOf(reply.bytes, where);
  if (bytes.length === 0) throw new RangeError(`${where}: the reply is empty`);
  const delayMs = reply.delayMs ?? 0;
  if (typeof delayMs !== "number" || !(delayMs >= 0) || delayMs === Infinity) throw new RangeError(`${where}: delayMs must be a finite number ≥ 0, got ${String(delayMs)}`);
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const size of reply.fragments ?? []) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`${where}: fragment sizes must be whole numbers ≥ 1, got ${String(size)}`);
    if (offset + size > bytes.length) throw new RangeError(`${where}: fragments add up to more than the ${bytes.length} bytes of the reply`);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (offset < bytes.length || pieces.length === 0) pieces.push(bytes.subarray(offset));
  return { kind: "write", pieces, delayMs };
}

function bytesOf(value: string | Uint8Array, where: string): Uint8Array {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) throw new TypeError(`${where}: expected a string or a Uint8Array, got ${typeof value}`);
  return toBytes(value).slice();
}
