// Shared harness of the fuzz suites: fixed seeds so `npm test` is reproducible, a run count
// raised by SIMMAIL_FUZZ_RUNS for long runs, and a count of the cases each property ran,
// printed and written to <tmpdir>/simmail-fuzz/<suite>.json for RELIABILITY.md.
//
//   SIMMAIL_FUZZ_RUNS=20   every property runs 20 times its default number of cases
//   SIMMAIL_FUZZ_SEED=123  another seed for every property (default: one fixed seed per property)

import fc from "fast-check";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatBytes, latin1Bytes } from "./bytes.ts";

function positiveNumberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name}=${text}: expected a positive number`);
  return value;
}

/** Multiplier of every property's default number of cases. */
export const RUNS_SCALE = positiveNumberFromEnv("SIMMAIL_FUZZ_RUNS", 1);
const SEED_OVERRIDE = process.env.SIMMAIL_FUZZ_SEED;

/** A fixed seed per property name (FNV-1a), so adding a property does not move the others. */
function seedOf(name: string): number {
  if (SEED_OVERRIDE !== undefined && SEED_OVERRIDE !== "") return Number(SEED_OVERRIDE) | 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash | 0;
}

export const FUZZ_DIR = join(tmpdir(), "simmail-fuzz");

/** The properties of one suite and the cases each ran. */
export class FuzzReport {
  private readonly properties: Record<string, { cases: number; seed: number; runs: number; ms: number; tally: Record<string, number> }> = {};
  private current: Record<string, number> | null = null;
  private readonly figures: Record<string, number> = {};

  constructor(readonly suite: string) {}

  /**
   * Runs `property` over `arbitrary` for `defaultRuns` × SIMMAIL_FUZZ_RUNS cases with the
   * property's fixed seed; a failure throws fast-check's report (seed, path, counterexample).
   */
  check<T>(name: string, defaultRuns: number, arbitrary: fc.Arbitrary<T>, property: (value: T) => void): void {
    const runs = Math.max(1, Math.round(defaultRuns * RUNS_SCALE));
    const seed = seedOf(`${this.suite}/${name}`);
    const entry = { cases: 0, seed, runs, ms: 0, tally: {} as Record<string, number> };
    const started = performance.now();
    this.properties[name] = entry;
    this.current = entry.tally;
    fc.assert(
      fc.property(arbitrary, (value) => {
        entry.cases++;
        property(value);
      }),
      { numRuns: runs, seed, includeErrorInReport: true },
    );
    this.current = null;
    entry.ms = Math.round(performance.now() - started);
    this.write();
  }

  /** Adds `n` to a named figure of the running property (what the cases exercised). */
  count(key: string, n = 1): void {
    if (this.current === null) throw new Error("FuzzReport.count outside check()");
    this.current[key] = (this.current[key] ?? 0) + n;
  }

  /** A figure measured outside the properties (e.g. heap growth), kept in the JSON file. */
  figure(key: string, value: number): void {
    this.figures[key] = value;
    console.log(`fuzz ${this.suite}: ${key} = ${value}`);
    this.write();
  }

  get total(): number {
    let total = 0;
    for (const name in this.properties) total += this.properties[name].cases;
    return total;
  }

  /** One line per suite for the test log. */
  print(): void {
    const names = Object.keys(this.properties);
    console.log(`fuzz ${this.suite}: ${this.total} cases over ${names.length} properties (runs ×${RUNS_SCALE}) → ${join(FUZZ_DIR, `${this.suite}.json`)}`);
  }

  private write(): void {
    mkdirSync(FUZZ_DIR, { recursive: true });
    const report = { suite: this.suite, runsScale: RUNS_SCALE, total: this.total, properties: this.properties, figures: this.figures };
    writeFileSync(join(FUZZ_DIR, `${this.suite}.json`), JSON.stringify(report, null, 2) + "\n");
  }
}

/** Bytes as Latin-1 text, one character each (no buffer made: safe inside allocation counts). */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Cut points (sorted, inside 1..length-1) from fractions drawn by fast-check. */
export function cutsFrom(length: number, fractions: readonly number[]): number[] {
  const cuts = new Set<number>();
  for (const f of fractions) {
    const cut = Math.floor(f * length);
    if (cut > 0 && cut < length) cuts.add(cut);
  }
  return [...cuts].sort((a, b) => a - b);
}

/** Fragmentation of a stream: cut fractions, or (flag) one byte per piece. */
export const fragmentation = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant("bytewise" as const) },
);

/** The [start, end) pieces of a stream of `length` bytes under `split`. */
export function piecesOf(length: number, split: readonly number[] | "bytewise"): Array<[number, number]> {
  const cuts = split === "bytewise" ? Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1) : cutsFrom(length, split);
  const pieces: Array<[number, number]> = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push([start, cut]);
    start = cut;
  }
  pieces.push([start, length]);
  return pieces;
}

/**
 * Byte soup for protocol streams: arbitrary bytes mixed with the pieces that matter to a
 * parser (line ends, bare CR/LF, NUL, the given tokens), so that look-alikes and partial
 * tokens are common rather than astronomically rare.
 */
export function soup(tokens: readonly string[], maxPieces = 40): fc.Arbitrary<Uint8Array> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 12 }) },
    { weight: 3, arbitrary: fc.constantFrom(...tokens).map(latin1Bytes) },
    { weight: 2, arbitrary: fc.constantFrom("\r\n", "\r", "\n", "\0", " ", ",", "\r\r\n").map(latin1Bytes) },
    // a token cut short: the partial finals and half-prompts a UART can leave behind
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...tokens), fc.nat()).map(([t, n]) => latin1Bytes(t.slice(0, n % (t.length + 1)))) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 400 })).map(([b, n]) => new Uint8Array(n).fill(b)) },
  );
  return fc.array(piece, { maxLength: maxPieces }).map(concatBytes);
}
