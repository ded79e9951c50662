// Receive-path speed on Node: the same recorded modem stream, in the same 128-byte reads,
// through (a) our AtEngine with URC handlers that read fields from offsets and take POP3READ
// data by byte count, unstuffing it and handing the mail bytes on as Pop3Client does, (b)
// serialport-gsm's command handling (its Modem.dataReceived with listeners), and (c)
// @serialport/parser-readline plus per-line regexes: each side does the whole work of taking
// the stream apart, the peers by lines (the mail text reaches their listeners as lines), ours
// by lines and by count. The ratio is given against each peer. Rounds interleaved, after a
// warm-up, timed with process.hrtime.bigint.

import { createRequire } from "node:module";
import { ReadlineParser } from "@serialport/parser-readline";
import * as core from "../src/index.ts";
import { cutIntoReads, emptyCounts, engineReplay, type Counts } from "./engine-replay.ts";
import { generateModemStream, type StreamTruth } from "./modem-stream.ts";

export interface ParserRun {
  name: string;
  /** Median of the timed rounds. */
  mbPerSecond: number;
  roundsMs: number[];
  counts: Counts;
  /** Lines the parser took for modem output that were mail text inside POP3READ data. */
  misreadLines: number;
}

export interface ReceiveSpeedResult {
  streamBytes: number;
  readSize: number;
  rounds: number;
  truth: StreamTruth;
  /** Our engine, the mail bytes unstuffed and delivered. */
  ours: ParserRun;
  serialportGsm: ParserRun;
  readline: ParserRun;
  /** Our engine alone: the data bytes counted, not unstuffed or delivered (what limits the ratios). */
  oursEngineOnly: ParserRun;
  /**
   * ours against each peer: the median over rounds of each round's time ratio (the runs of a
   * round are back to back, so a load change on the machine hits them all).
   */
  ratioSerialportGsm: number;
  ratioReadline: number;
}

export interface ReceiveSpeedOptions {
  streamBytes?: number;
  seed?: number;
  rounds?: number;
  warmupRounds?: number;
}

const READ_SIZE = 128;
const MB = 1_000_000;

/** Lines matched beyond the truth: mail text taken for modem output. */
function misread(counts: Counts, truth: StreamTruth): number {
  return counts.ok - truth.ok + counts.csq - truth.csq + counts.smtpft - truth.smtpft
    + counts.pop3read - truth.pop3read + counts.smtpsend - truth.smtpsend + counts.pop3cmd - truth.pop3cmd;
}

// ---- (a) our engine: bench/engine-replay.ts --------------------------------------------

const runOurs = engineReplay(core, true);
const runOursEngineOnly = engineReplay(core, false);

// ---- (b) serialport-gsm ----------------------------------------------------------------

interface GsmListener {
  match(line: string): boolean;
  process(line: string): void;
}
interface GsmModem {
  port: { write(data: string): void };
  addListener(listener: GsmListener): void;
  dataReceived(buffer: Buffer): void;
}
type GsmModemFactory = new (serialPortClass: unknown) => GsmModem;

const require = createRequire(import.meta.url);
const GsmModemClass = require("serialport-gsm/lib/functions/modem.js") as GsmModemFactory;

const RE_OK = /^OK$/;
const RE_CSQ = /^\+CSQ: (\d+),(\d+)$/;
const RE_SMTPFT = /^\+SMTPFT: (\d+),(\d+)$/;
const RE_POP3READ = /^\+POP3READ: (\d+),(\d+)$/;
const RE_SMTPSEND = /^\+SMTPSEND: (\d+)$/;
const RE_POP3CMD = /^\+POP3CMD: (\d+)$/;

function runSerialportGsm(chunks: Buffer[]): Counts {
  const c = emptyCounts();
  const modem = new GsmModemClass(class {});
  modem.port = { write() {} };
  // The library's way: a listener is a match() test and a process() that parses the line.
  modem.addListener({ match: (l) => RE_OK.test(l), process: () => void c.ok++ });
  modem.addListener({
    match: (l) => RE_CSQ.test(l),
    process: (l) => {
      const m = RE_CSQ.exec(l)!;
      c.csq++;
      c.csqSum += Number(m[1]);
    },
  });
  modem.addListener({
    match: (l) => RE_SMTPFT.test(l),
    process: (l) => {
      const m = RE_SMTPFT.exec(l)!;
      c.smtpft++;
      c.smtpftSum += Number(m[2]);
    },
  });
  modem.addListener({
    match: (l) => RE_POP3READ.test(l),
    process: (l) => {
      const m = RE_POP3READ.exec(l)!;
      c.pop3read++;
      c.pop3readSum += Number(m[2]);
    },
  });
  modem.addListener({ match: (l) => RE_SMTPSEND.test(l), process: () => void c.smtpsend++ });
  modem.addListener({ match: (l) => RE_POP3CMD.test(l), process: () => void c.pop3cmd++ });
  for (let k = 0; k < chunks.length; k++) modem.dataReceived(chunks[k]);
  return c;
}

// ---- (c) ReadlineParser + regexes ------------------------------------------------------

function runReadline(chunks: Buffer[]): Counts {
  const c = emptyCounts();
  const parser = new ReadlineParser({ delimiter: "\r\n" });
  parser.on("data", (line: string) => {
    let m: RegExpExecArray | null;
    if (line === "") return;
    if (RE_OK.test(line)) c.ok++;
    else if ((m = RE_SMTPFT.exec(line)) !== null) {
      c.smtpft++;
      c.smtpftSum += Number(m[2]);
    } else if ((m = RE_POP3READ.exec(line)) !== null) {
      c.pop3read++;
      c.pop3readSum += Number(m[2]);
    } else if ((m = RE_CSQ.exec(line)) !== null) {
      c.csq++;
      c.csqSum += Number(m[1]);
    } else if (RE_SMTPSEND.test(line)) c.smtpsend++;
    else if (RE_POP3CMD.test(line)) c.pop3cmd++;
  });
  // The parser delivers lines synchronously from write(); the count check in
  // measureReceiveSpeed would catch lines that arrived late.
  for (let k = 0; k < chunks.length; k++) parser.write(chunks[k]);
  parser.end();
  return c;
}

// ---- measurement -----------------------------------------------------------------------

function timeRound(run: (chunks: Buffer[]) => Counts, chunks: Buffer[]): { ms: number; counts: Counts } {
  const start = process.hrtime.bigint();
  const counts = run(chunks);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, counts };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function checkEqual(name: string, counts: Counts, truth: StreamTruth, keys: Array<keyof Counts & keyof StreamTruth>): void {
  for (const key of keys) {
    if (counts[key] !== truth[key]) throw new Error(`${name} found ${key} = ${counts[key]}, the stream holds ${truth[key]}: the benchmark is broken`);
  }
}

export async function measureReceiveSpeed(options: ReceiveSpeedOptions = {}): Promise<ReceiveSpeedResult> {
  const streamBytes = options.streamBytes ?? 8 * 1024 * 1024;
  const rounds = options.rounds ?? 11;
  const warmupRounds = options.warmupRounds ?? 3;
  const stream = generateModemStream(streamBytes, options.seed ?? 7);
  const bytes = Buffer.from(stream.bytes.buffer, stream.bytes.byteOffset, stream.bytes.length);
  // The same 128-byte reads for all three, cut once (a serial port hands each read over as a Buffer).
  const chunks = cutIntoReads(bytes, READ_SIZE) as Buffer[];

  const parsers = [
    { name: "ours (AtEngine, mail unstuffed and delivered)", run: runOurs, ms: [] as number[], counts: emptyCounts() },
    { name: "serialport-gsm", run: runSerialportGsm, ms: [] as number[], counts: emptyCounts() },
    { name: "parser-readline + regex", run: runReadline, ms: [] as number[], counts: emptyCounts() },
    { name: "ours, the engine alone (data counted only)", run: runOursEngineOnly, ms: [] as number[], counts: emptyCounts() },
  ];
  for (let round = 0; round < warmupRounds + rounds; round++) {
    // The order rotates so that no parser always runs right after another's garbage.
    for (let i = 0; i < parsers.length; i++) {
      const parser = parsers[(round + i) % parsers.length];
      const { ms, counts } = timeRound(parser.run, chunks);
      parser.counts = counts;
      if (round >= warmupRounds) parser.ms.push(ms);
    }
    // Let pending stream callbacks (the readline parser's end) run between rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }

  const truth = stream.truth;
  const lineKeys = ["ok", "csq", "csqSum", "smtpft", "smtpftSum", "pop3read", "pop3readSum", "smtpsend", "pop3cmd", "dataBytes"] as const;
  checkEqual(parsers[0].name, parsers[0].counts, truth, [...lineKeys]);
  // Every mail's line feeds but its dotline's reach the sink.
  if (parsers[0].counts.dataLineFeeds !== truth.dataLineFeeds - truth.mails) {
    throw new Error(`ours delivered ${parsers[0].counts.dataLineFeeds} line feeds, the mails hold ${truth.dataLineFeeds - truth.mails}: the benchmark is broken`);
  }
  for (const parser of parsers.slice(1, 3)) {
    // Line readers see every real line, plus the mail lines that look like modem output.
    for (const key of ["ok", "csq", "smtpft", "pop3read", "smtpsend", "pop3cmd"] as const) {
      if (parser.counts[key] < truth[key]) throw new Error(`${parser.name} found ${key} = ${parser.counts[key]}, below the ${truth[key]} in the stream: the benchmark is broken`);
    }
  }
  const results = parsers.map((p): ParserRun => ({
    name: p.name,
    mbPerSecond: bytes.length / MB / (median(p.ms) / 1000),
    roundsMs: p.ms,
    counts: p.counts,
    misreadLines: misread(p.counts, truth),
  }));
  const [ours, serialportGsm, readline, oursEngineOnly] = results;
  const ratio = (peer: ParserRun) => median(ours.roundsMs.map((ms, i) => peer.roundsMs[i] / ms));
  return {
    streamBytes: bytes.length, readSize: READ_SIZE, rounds, truth, ours, serialportGsm, readline, oursEngineOnly,
    ratioSerialportGsm: ratio(serialportGsm), ratioReadline: ratio(readline),
  };
}
