// `npm run bench:mcsim`: the firmware's memory on the device's terms, measured in the Moddable
// runtime itself: the shipped app built for lin and run in mcsim (host-tests/device/mcsim-rig.ts)
// against the simulated SIM7000 and the real mail servers, through one scenario: bring-up, a
// command poll (a DISARM, its replay, a forged ARM, a good ARM), the status mail that answers,
// an alarm whose first send the modem cuts short by resetting, the test input's mail, idle.
//
// 1. Heap: a variant build (mcconfig -i, an instrumented release build) whose entry starts the
//    app and every 20 ms forces a GC and traces the XS slot and chunk heap in use
//    (`instrumentation` module): live memory, per phase of the scenario. The pty is paced at
//    115200 baud, the UART's rate, so each phase lasts as long as it would on the device. The
//    build's creation is small with small increments, so the heap XS reserves grows only as far
//    as the app needs; mcsim's own "instruments:" lines give that reservation and the stack's
//    peak (each line the peak since the one before).
// 2. Fit: the shipped creation with growth turned off (incrementals 0), release build, through
//    the scenario: whether the initial heaps alone hold it.
// 3. Stack (--stack-bisect): release builds of the shipped app with creation.stack bisected
//    between mcconfig's default 384 slots and 1024, each run through the scenario: the least
//    stack that gets through it without "XS abort: JavaScript stack overflow".
//
// Prints the figures; with --write puts them in BENCHMARKS.md (section "Memory in the Moddable
// runtime", which `npm run bench` keeps). Nothing here changes manifest.json: creation is set
// there by hand from these figures (docs/DEVICE.md says how).

import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { secretFromText, signCommandSubject } from "../src/app/remote-command.ts";
import { nodeCrypto } from "../src/host/crypto.ts";
import {
  buildForLin, builtCreation, Mcsim, setPin, simulatorConfig, startDisplay, startPtyModem, writeVariantManifest,
  type Creation, type Display, type PtyModem,
} from "../host-tests/device/mcsim-rig.ts";
import { locateModdable, missingHostPackages, REPO } from "../host-tests/device/moddable-sdk.ts";
import { mailUsers, startMailServers, type MailServers } from "../sim/servers/index.ts";

/**
 * Internal DRAM an ESP32 (no PSRAM, no Wi-Fi) leaves to a Moddable app, in KB: about 328 KB of
 * data-capable SRAM less ESP-IDF's own static data and task stacks (docs/DEVICE.md, Memory).
 */
const ESP32_APP_RAM_KB = 300;
/** sizeof(txSlot) in a 64-bit build (lin); 16 on the ESP32 (32-bit). Slot counts are the same on both. */
const LIN_SLOT_BYTES = 32;
const DEVICE_ID = "simmail-1";
const STEP_MS = 90_000;
/**
 * The measurement build's heaps: below the preloaded app's need (about 2,300 slots and 53 KB),
 * growing in small steps, so the reservation follows the need.
 */
const MEASURE_CREATION: Creation = { chunk: { initial: 16384, incremental: 1024 }, heap: { initial: 1024, incremental: 64 }, stack: 1024 };
const SAMPLE_PREFIX = "simmail-memory: ";
const SAMPLE_MS = 20;
const SAMPLER = `// Measurement entry (bench/mcsim-memory.ts): starts the app, then every ${SAMPLE_MS} ms a full GC
// and the live XS heap, in bytes, on the trace.
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import app from "simmail-app";

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");

export default function main() {
	app();
	Timer.repeat(() => {
		Debug.gc();
		trace(\`${SAMPLE_PREFIX}\${Instrumentation.get(SLOTS)} \${Instrumentation.get(CHUNKS)}\\n\`);
	}, ${SAMPLE_MS});
}
`;

interface Rig {
  sdk: { path: string; bin: string };
  scratch: string;
  servers: MailServers;
  modem: PtyModem;
  display: Display;
  secret: string;
  runs: number;
}

const log = (text: string) => process.stderr.write(`mcsim-memory: ${text}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function configFor(rig: Rig, storageDirectory: string): Record<string, string | number> {
  return simulatorConfig({
    modemDevice: rig.modem.pty.path,
    pinsDirectory: join(rig.scratch, `pins-${rig.runs}`),
    storageDirectory,
    servers: rig.servers,
    deviceUser: "alarm",
    operatorUser: "ops",
    commandSecret: rig.secret,
  });
}

/**
 * One pass of the scenario on a fresh file system (storage directory) and fresh pins. Resolves
 * with the mcsim output; rejects on an XS abort or a step not reached in time.
 */
async function scenario(rig: Rig, image: string, storageDirectory: string): Promise<string[]> {
  const pins = join(rig.scratch, `pins-${rig.runs}`);
  const now = Math.floor(Date.now() / 1000);
  const secret = secretFromText(rig.secret);
  const disarm = signCommandSubject(nodeCrypto, secret, DEVICE_ID, "DISARM", now - 2);
  const mails: Array<[string, string]> = [
    ["ops@simmail.test", disarm],
    ["ops@simmail.test", disarm], // replayed
    ["mallory@evil.test", signCommandSubject(nodeCrypto, secret, DEVICE_ID, "ARM", now - 1)], // forged sender
    ["ops@simmail.test", signCommandSubject(nodeCrypto, secret, DEVICE_ID, "ARM", now - 1)],
  ];
  // A run that stopped early (a stack too small) leaves its command mails behind: start empty.
  for (const folder of ["new", "cur"]) {
    const dir = join(rig.servers.dir, "mail", "alarm", "Maildir", folder);
    for (const name of readdirSync(dir)) rmSync(join(dir, name));
  }
  for (const [i, [from, subject]] of mails.entries()) {
    await rig.servers.deliver("alarm", `From: ${from}\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <m${rig.runs}-${i}-${now}@simmail.test>\r\n\r\ncommand\r\n`);
  }
  const run = Mcsim.start({ sdk: rig.sdk, image, display: rig.display, home: join(rig.scratch, "home"), logFile: join(rig.scratch, "mcsim.log") });
  try {
    await run.waitForLine(/^simmail: modem ready: /, STEP_MS);
    await run.waitForLine(/^simmail: command ARM from ops@simmail\.test$/, STEP_MS);
    await run.waitForLine(/^simmail: mail sent: .*: status$/, STEP_MS);
    // The alarm's first AT+SMTPSEND resets the modem: the recovery path runs too.
    rig.modem.sim.setFaults({ triggers: [{ command: "AT+SMTPSEND", action: "reset" }] });
    setPin(pins, 32, 0);
    await run.waitForLine(/^simmail: mail sent: .*: Input 1: ALARM/, STEP_MS);
    setPin(pins, 18, 0);
    await run.waitForLine(/^simmail: mail sent: .*: Test: test/, STEP_MS);
    await pause(5000);
    return run.lines.slice();
  } finally {
    await run.kill("SIGTERM");
    rig.modem.sim.setFaults({ triggers: [] });
    rmSync(join("/tmp", storageDirectory), { recursive: true, force: true });
    rig.runs++;
  }
}

type Phase = "start-up" | "idle" | "command poll" | "status mail" | "alarm mail" | "test mail" | "other mail";

interface Sample {
  phase: Phase;
  slots: number;
  chunkBytes: number;
}

/** The samples of a run, each with the phase the app was in (from its own AT trace). */
function samplesByPhase(lines: string[]): Sample[] {
  const samples: Sample[] = [];
  let phase: Phase = "start-up";
  let pending: Sample[] = []; // samples of a send, labelled once its subject is known
  for (const line of lines) {
    if (line.startsWith(SAMPLE_PREFIX)) {
      const [slots, chunks] = line.slice(SAMPLE_PREFIX.length).split(" ").map(Number);
      const sample: Sample = { phase, slots: slots / LIN_SLOT_BYTES, chunkBytes: chunks };
      if (phase === "other mail") pending.push(sample);
      else samples.push(sample);
      continue;
    }
    const trace = line.startsWith("simmail: ") ? line.slice(9) : null;
    if (trace === null) continue;
    if (phase === "start-up" && trace.startsWith("modem ready: ")) phase = "idle";
    // The servers' settings, not the probe's "=?" forms (every bring-up sends those).
    else if (phase !== "start-up" && trace.startsWith('> AT+POP3SRV="')) phase = "command poll";
    else if (phase === "command poll" && (trace.startsWith("< +POP3OUT:") || trace.startsWith("command poll failed"))) phase = "idle";
    else if (phase !== "start-up" && trace.startsWith('> AT+SMTPSRV="')) phase = "other mail";
    else if (phase === "other mail" && (trace.startsWith("mail sent: ") || trace.startsWith("sending failed"))) {
      // Subjects: "<site>: Input 1: ALARM", "<site>: Test: test", "<site>: status".
      const kind: Phase = /\bALARM\b/.test(trace) || trace.startsWith("sending failed") ? "alarm mail" : /\btest$/i.test(trace) ? "test mail" : /: status$/.test(trace) ? "status mail" : "other mail";
      for (const sample of pending) samples.push({ ...sample, phase: kind });
      pending = [];
      phase = "idle";
    }
  }
  return samples;
}

/** mcsim's "instruments:" lines, each by the names of its "instruments key:" line. */
function instrumentLines(lines: string[]): Array<Record<string, number>> {
  const key = lines.find((line) => line.startsWith("instruments key: "));
  if (key === undefined) throw new Error("mcsim printed no instruments lines (is it an instrumented build, mcconfig -i?)");
  const names = key.slice("instruments key: ".length).split(",");
  return lines.filter((line) => line.startsWith("instruments: ")).map((line) => {
    const numbers = line.slice("instruments: ".length).split(",").map(Number);
    return Object.fromEntries(names.map((name, i) => [name, numbers[i]]));
  });
}

interface PhaseFigures {
  phase: Phase;
  samples: number;
  slotsMax: number;
  chunkMax: number;
  slotsMedian: number;
  chunkMedian: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function phaseFigures(samples: Sample[]): PhaseFigures[] {
  const phases: Phase[] = ["start-up", "idle", "command poll", "status mail", "alarm mail", "test mail"];
  return phases.flatMap((phase) => {
    const of = samples.filter((s) => s.phase === phase);
    if (of.length === 0) return [];
    return [{
      phase,
      samples: of.length,
      slotsMax: Math.max(...of.map((s) => s.slots)),
      chunkMax: Math.max(...of.map((s) => s.chunkBytes)),
      slotsMedian: median(of.map((s) => s.slots)),
      chunkMedian: median(of.map((s) => s.chunkBytes)),
    }];
  });
}

interface HeapResult {
  phases: PhaseFigures[];
  reservedChunkBytes: number;
  reservedSlots: number;
  stackPeakSlots: number;
  gcCount: number;
}

async function measureHeap(rig: Rig): Promise<HeapResult> {
  const dir = join(rig.scratch, "measure");
  const storage = `simmail-measure-${randomBytes(6).toString("hex")}`;
  const manifest = writeVariantManifest(join(dir, "simmail-measure"), { creation: MEASURE_CREATION, entry: SAMPLER });
  log("building the measurement variant (mcconfig -i -m -p lin) ...");
  const image = await buildForLin(rig.sdk, { outDir: join(dir, "build"), manifest, instrument: true, config: configFor(rig, storage) });
  log("running the scenario ...");
  const lines = await scenario(rig, image, storage);
  const instruments = instrumentLines(lines);
  const last = instruments.at(-1)!;
  return {
    phases: phaseFigures(samplesByPhase(lines)),
    reservedChunkBytes: last["Chunk available"],
    reservedSlots: last["Slot available"] / LIN_SLOT_BYTES,
    stackPeakSlots: Math.max(...instruments.map((i) => i["Stack used"])) / LIN_SLOT_BYTES,
    // Counted per line since the one before.
    gcCount: instruments.reduce((sum, i) => sum + i["Garbage collections"], 0),
  };
}

interface StackResult {
  tried: Array<{ stack: number; ok: boolean; why: string }>;
  least: number;
}

/** Release builds of the shipped app, one per stack size (rebuilt in place), each through the scenario. */
async function bisectStack(rig: Rig, creation: Creation): Promise<StackResult> {
  const dir = join(rig.scratch, "stack");
  const outDir = join(dir, "build");
  const tried: StackResult["tried"] = [];
  const attempt = async (stack: number): Promise<boolean> => {
    const storage = `simmail-stack-${randomBytes(6).toString("hex")}`;
    const manifest = writeVariantManifest(join(dir, "simmail-stack"), { creation: { ...creation, stack } });
    log(`stack ${stack}: building ...`);
    const image = await buildForLin(rig.sdk, { outDir, manifest, config: configFor(rig, storage) });
    const built = builtCreation(outDir).split(",").map(Number)[4];
    if (built !== stack) throw new Error(`the rebuild holds stack ${built}, not ${stack}`);
    try {
      await scenario(rig, image, storage);
      tried.push({ stack, ok: true, why: "scenario completed" });
      log(`stack ${stack}: ok`);
      return true;
    } catch (error) {
      const why = /XS abort: [^\n]*/.exec((error as Error).message)?.[0] ?? (error as Error).message.split("\n")[0];
      tried.push({ stack, ok: false, why });
      log(`stack ${stack}: ${why}`);
      if (!why.startsWith("XS abort")) log((error as Error).message);
      return false;
    }
  };
  let low = 384; // mcconfig's default
  let high = 1024;
  if (await attempt(low)) return { tried, least: low };
  if (!(await attempt(high))) throw new Error(`the scenario fails even with a stack of ${high} slots`);
  while (high - low > 8) {
    const middle = Math.round((low + high) / 2 / 4) * 4;
    if (await attempt(middle)) high = middle;
    else low = middle;
  }
  return { tried, least: high };
}

interface FixedResult {
  creation: Creation;
  ok: boolean;
  why: string;
}

/** The shipped creation with growth turned off (incremental 0): does the scenario fit in the initial heaps alone? */
async function checkFixed(rig: Rig, shipped: Creation): Promise<FixedResult> {
  const dir = join(rig.scratch, "fixed");
  const storage = `simmail-fixed-${randomBytes(6).toString("hex")}`;
  const creation: Creation = { ...shipped, chunk: { ...shipped.chunk, incremental: 0 }, heap: { ...shipped.heap, incremental: 0 } };
  const manifest = writeVariantManifest(join(dir, "simmail-fixed"), { creation });
  log("building the shipped creation without growth (release) ...");
  const image = await buildForLin(rig.sdk, { outDir: join(dir, "build"), manifest, config: configFor(rig, storage) });
  try {
    await scenario(rig, image, storage);
    return { creation, ok: true, why: "scenario completed" };
  } catch (error) {
    return { creation, ok: false, why: /XS abort: [^\n]*/.exec((error as Error).message)?.[0] ?? (error as Error).message.split("\n")[0] };
  }
}

const grouped = (n: number) => Math.round(n).toLocaleString("en-US");

function report(heap: HeapResult, fixed: FixedResult, stack: StackResult | null, shipped: Creation): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const lines = [
    "## Memory in the Moddable runtime",
    "",
    `Written by \`npm run bench:mcsim${stack === null ? "" : " -- --stack-bisect"}\` (bench/mcsim-memory.ts) on ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, ` +
      `${cpus()[0]?.model.trim() ?? "unknown CPU"}: the shipped app built for lin and run in mcsim against the simulated SIM7000 and the real ` +
      "mail servers, through bring-up, a command poll (DISARM, its replay, a forged ARM, ARM), the status mail answering it, an alarm " +
      "whose first send the modem cuts short with a reset, the test input's mail and 5 s idle, the pty paced at 115200 baud. Live heap: a full GC and a reading every " +
      `${SAMPLE_MS} ms (XS \`instrumentation\` in an instrumented release build, \`mcconfig -i\`), per phase of the app's AT trace. Slot counts are the ` +
      `same on the ESP32 (a slot is ${LIN_SLOT_BYTES} bytes on 64-bit lin, 16 on the ESP32); chunk bytes on lin are an upper bound for the ` +
      "ESP32's (pointers in chunks are half as wide there).",
    "",
    "| Phase | Readings | Slots live, median / max | Chunks live, median / max |",
    "|---|---|---|---|",
    ...heap.phases.map((p) => `| ${p.phase} | ${p.samples} | ${grouped(p.slotsMedian)} / ${grouped(p.slotsMax)} | ${grouped(p.chunkMedian)} B / ${grouped(p.chunkMax)} B |`),
    "",
    `- Heap XS reserved by the end, starting from ${grouped(MEASURE_CREATION.chunk.initial)} B of chunks and ${grouped(MEASURE_CREATION.heap.initial)} slots ` +
      `and growing by ${grouped(MEASURE_CREATION.chunk.incremental)} B / ${MEASURE_CREATION.heap.incremental} slots: ${grouped(heap.reservedChunkBytes)} B of chunks (${kib(heap.reservedChunkBytes)}), ` +
      `${grouped(heap.reservedSlots)} slots (${kib(heap.reservedSlots * 16)} on the ESP32); ${grouped(heap.gcCount)} collections.`,
    `- Stack peak: ${grouped(heap.stackPeakSlots)} slots (mcsim's "Stack used").`,
  ];
  if (stack !== null) {
    lines.push(
      `- Least creation.stack that gets through the scenario (release builds, bisected): ${grouped(stack.least)} slots. Tried: ` +
        `${stack.tried.map((t) => `${t.stack} ${t.ok ? "ok" : `failed (${t.why})`}`).join(", ")}.`,
    );
  }
  const esp32Bytes = shipped.chunk.initial + (shipped.heap.initial + shipped.stack) * 16;
  lines.push(
    `- manifest.json's creation: chunks ${grouped(shipped.chunk.initial)} B (+${grouped(shipped.chunk.incremental)}), heap ${grouped(shipped.heap.initial)} slots ` +
      `(+${grouped(shipped.heap.incremental)}), stack ${grouped(shipped.stack)} slots: ${kib(esp32Bytes)} on the ESP32 at start. The scenario with its growth turned off ` +
      `(both incrementals 0, release build): ${fixed.ok ? "completed, inside the initial heaps" : `failed (${fixed.why})`}.`,
  );
  const peakSlots = Math.max(...heap.phases.map((p) => p.slotsMax));
  const peakChunks = Math.max(...heap.phases.map((p) => p.chunkMax));
  const over = (value: number, peak: number) => `+${Math.round((value / peak - 1) * 100)}% over ${grouped(peak)}`;
  lines.push(
    `- Headroom of that creation over the peaks measured: chunks ${over(shipped.chunk.initial, peakChunks)} B, heap ${over(shipped.heap.initial, peakSlots)} slots` +
      `${stack === null ? "" : `, stack ${over(shipped.stack, stack.least)} slots (the least that runs)`}.`,
    `- The ESP32 heap it must fit in: the internal DRAM left to a Moddable app without PSRAM or Wi-Fi, about ${grouped(ESP32_APP_RAM_KB)} KB ` +
      `(docs/DEVICE.md, Memory): ${kib(esp32Bytes)} at start ` +
      (esp32Bytes / 1000 < ESP32_APP_RAM_KB
        ? `leaves about ${grouped(ESP32_APP_RAM_KB - esp32Bytes / 1000)} KB for ESP-IDF, the UART driver and LittleFS.`
        : `is about ${grouped(esp32Bytes / 1000 - ESP32_APP_RAM_KB)} KB more than that, before ESP-IDF, the UART driver and LittleFS take theirs: it does not fit.`),
    "",
  );
  return lines.join("\n");
}

/** Replaces (or appends) the section in BENCHMARKS.md; bench/run.ts keeps it when it rewrites the file. */
function writeSection(section: string): void {
  const file = join(REPO, "BENCHMARKS.md");
  const text = readFileSync(file, "utf8");
  const start = text.indexOf("## Memory in the Moddable runtime");
  const before = start < 0 ? `${text.trimEnd()}\n\n` : text.slice(0, start);
  writeFileSync(file, `${before}${section}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "stack-bisect": { type: "boolean" }, write: { type: "boolean" } }, strict: true });
  const sdk = locateModdable();
  if (!sdk.found) throw new Error(`no Moddable SDK: ${sdk.reason}`);
  const missing = missingHostPackages(sdk, { mcsim: true });
  if (missing.length > 0) throw new Error(`running mcsim needs these Debian packages: ${missing.join(", ")}`);
  const scratch = mkdtempSync(join(tmpdir(), "simmail-mcsim-memory-"));
  const servers = await startMailServers({ users: mailUsers(["alarm", "ops"]) });
  let modem: PtyModem | null = null;
  let display: Display | null = null;
  try {
    modem = await startPtyModem(join(scratch, "modem"), servers, { traceFile: join(scratch, "simulator.log"), baud: 115_200 });
    display = await startDisplay();
    const rig: Rig = { sdk, scratch, servers, modem, display, secret: randomBytes(16).toString("hex"), runs: 0 };
    const shipped = (JSON.parse(readFileSync(join(REPO, "manifest.json"), "utf8")) as { creation: Creation }).creation;
    const heap = await measureHeap(rig);
    const fixed = await checkFixed(rig, shipped);
    const stack = values["stack-bisect"] ? await bisectStack(rig, shipped) : null;
    const section = report(heap, fixed, stack, shipped);
    process.stdout.write(`${section}\n`);
    if (values.write) {
      writeSection(section);
      log("written to BENCHMARKS.md");
    }
  } finally {
    await display?.stop();
    await modem?.close();
    await servers.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`mcsim-memory: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
