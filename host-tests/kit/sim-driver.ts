// Drives a SimModem directly (no UART): what a test types and what the modem printed, with
// waits on real time. Used by the simulator's own tests; handy for any test that wants to
// talk to the simulated modem byte for byte.

import { escapeBytes } from "./bytes.ts";
import { SimModem, type SimOptions } from "../../sim/modem/modem.ts";
import { NodeSimModem } from "../../sim/modem/node-modem.ts";

export class SimDriver {
  readonly sim: SimModem;
  /** Everything the modem printed and the test has not consumed yet (Latin-1). */
  private pending = "";
  private waiters: Array<() => void> = [];

  /** Creates the modem and powers it on quietly (no boot lines) unless `boot` is true. */
  constructor(options: SimOptions = {}, boot = false) {
    this.sim = new NodeSimModem({ ...options, send: (bytes) => this.arrive(bytes) });
    this.sim.powerOn({ quiet: !boot });
  }

  private arrive(bytes: Uint8Array): void {
    this.pending += Buffer.from(bytes).toString("latin1");
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Sends bytes (a string is Latin-1). */
  send(data: string | Uint8Array): void {
    this.sim.receive(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** What was printed and not consumed yet; consumes it. */
  take(): string {
    const out = this.pending;
    this.pending = "";
    return out;
  }

  /**
   * Waits until the unconsumed output contains `pattern`; returns and consumes everything up
   * to the end of the match. Fails after `timeoutMs` showing what did arrive.
   */
  async waitFor(pattern: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = matchEnd(this.pending, pattern);
      if (end >= 0) {
        const out = this.pending.slice(0, end);
        this.pending = this.pending.slice(end);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`waited ${timeoutMs} ms for ${describe(pattern)}; the modem printed "${escape(this.pending)}"`);
      }
      await this.nextArrival(left);
    }
  }

  /** Waits for exactly `text` (consumed), failing on the first differing byte. */
  async expect(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length < text.length && text.startsWith(this.pending)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.nextArrival(left);
    }
    if (!this.pending.startsWith(text)) {
      throw new Error(`expected "${escape(text)}"\n     got "${escape(this.pending)}"`);
    }
    this.pending = this.pending.slice(text.length);
  }

  /** Resolves when more output arrives or after `ms`. */
  private nextArrival(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends `line` + CR and returns the response up to its final OK or ERROR (consumed). */
  async command(line: string, timeoutMs = 5000): Promise<string> {
    this.send(`${line}\r`);
    return this.waitFor(/\r\n(OK|ERROR)\r\n/, timeoutMs);
  }

  /** Checks that nothing more arrives within `ms`. */
  async quiet(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.pending !== "") throw new Error(`expected silence, the modem printed "${escape(this.pending)}"`);
  }

  close(): void {
    this.sim.close();
  }
}

function matchEnd(text: string, pattern: string | RegExp): number {
  if (typeof pattern === "string") {
    const at = text.indexOf(pattern);
    return at < 0 ? -1 : at + pattern.length;
  }
  const match = pattern.exec(text);
  return match ? match.index + match[0].length : -1;
}

function describe(pattern: string | RegExp): string {
  return typeof pattern === "string" ? `"${escape(pattern)}"` : String(pattern);
}

export function escape(text: string): string {
  return escapeBytes(Buffer.from(text, "latin1"));
}
