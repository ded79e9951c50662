// XS memory and compute: the bundled core (dist/xs/simmail-core.js) under the real XS engine
// (@agoric/xsnap, through host-tests/kit/xs/run-xs.ts). The same stream generator and engine
// replay as on Node, bundled next to it; `compute` is XS's instruction meter for a step,
// `currentHeapCount` its live heap slots, read after a full GC.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { runInXs, type XsStep, type XsStepResult } from "../host-tests/kit/xs/run-xs.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const BUILD = "build/build.mjs";
const CORE = "dist/xs/simmail-core.js";

export interface HeapFigures {
  /** Chunks the run took (the responder counts them). */
  chunks: number;
  /** Live heap slots after a GC, after warm-up, before and after the run. */
  before: number;
  after: number;
  /** after - before, less what one step leaves behind by itself (driftPerStep). */
  growth: number;
}

/** One firmware path end to end (bench/paths.ts): compute per payload byte, the responder's own work taken out. */
export interface PathFigures {
  /** Payload bytes: raw attachment bytes (send) or mail bytes delivered to the sink (retrieve). */
  bytes: number;
  /** AT+SMTPFT or AT+POP3READ chunks. */
  chunks: number;
  /** The path's compute, responder included, and the responder's alone (replayResponder). */
  compute: number;
  responder: number;
  /** (compute - responder) / bytes. */
  perByte: number;
}

/** One size of the scaling runs: XS compute for the whole operation, live slots after a GC that follows it. */
export interface ScalePoint {
  size: number;
  compute: number;
  heapAfterGc: number;
}

export const SEND_SIZES = [1024, 64 * 1024, 1024 * 1024];
export const POLL_MAILS = [10, 100, 1000];
/** The command mails of a poll: headers only, as TOP n 0 gives them (bench/paths.ts pop3Answer). */
export const POLL_MAIL_BYTES = 600;

/** Bytes of attachment and of mail the path figures use. */
export const PATH_BYTES = 256 * 1024;

export type XsResult =
  | {
      measured: true;
      streamBytes: number;
      /** Instructions per KiB of stream: the engine and its URC handler (field parsing), no more. */
      computePerKiB: number;
      /** Plus the POP3READ data unstuffed in place and handed on, and the serial stub's reads. */
      computePerKiBWithConsumer: number;
      /**
       * Live heap slots that one evaluated step leaves behind by itself (the xsnap harness),
       * measured across a step that does nothing but GC.
       */
      driftPerStep: number;
      smtp: HeapFigures;
      pop3: HeapFigures;
      send: PathFigures;
      retrieve: PathFigures;
      /** xsnap's speed here: the two paths' compute over their wall time (Date.now() inside XS). */
      hostUnitsPerSecond: number;
      /** Sends of SEND_SIZES attachments; polls of POLL_MAILS mails (each one's answer into the poll's header reader). */
      sends: ScalePoint[];
      polls: ScalePoint[];
    }
  | { measured: false; reason: string };

function runNode(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${args.join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** bench/xs-entry.ts bundled for XS into `dir` (globalThis.simmailBench). */
export async function bundleBench(dir: string): Promise<string> {
  const file = join(dir, "simmail-bench.js");
  await build({
    absWorkingDir: root,
    entryPoints: ["bench/xs-entry.ts"],
    outfile: file,
    bundle: true,
    format: "iife",
    globalName: "simmailBench",
    // A strict script's top-level var stays local under xsnap: publish the namespace explicitly.
    footer: { js: "globalThis.simmailBench = simmailBench;" },
    target: "es2022",
    platform: "neutral",
    logLevel: "warning",
  });
  return file;
}

export async function measureXs(streamBytes = 1024 * 1024, loopChunks = 1000): Promise<XsResult> {
  if (!existsSync(`${root}${BUILD}`)) return { measured: false, reason: `${BUILD} does not exist` };
  // Always rebuilt: the bundle must be the source as it is now.
  try {
    await runNode([BUILD]);
  } catch (error) {
    return { measured: false, reason: `the XS bundle did not build: ${(error as Error).message}` };
  }
  const dir = mkdtempSync(join(tmpdir(), "simmail-bench-"));
  try {
    const benchScript = await bundleBench(dir);
    // A step whose completion value is a promise is waited for; `gc: true` gives the live
    // slots after a full GC that follows the step (heapAfterGc).
    const steps: XsStep[] = [
      {
        name: "set-up",
        code: "globalThis.B = simmailBench; globalThis.lib = simmail; globalThis.replay = B.engineReplay(lib); globalThis.replayCounting = B.engineReplay(lib, false);",
      },
      {
        name: "generate",
        code: `globalThis.S = B.generateModemStream(${streamBytes}, 7); globalThis.chunks = B.cutIntoReads(S.bytes, 128);
               report({ bytes: S.bytes.length, truth: S.truth });`,
        gc: true,
      },
      { name: "replay warm-up", code: "report(replay(chunks)); report(replayCounting(chunks));" },
      { name: "serial stub", code: "report(B.serialOnly(chunks));" },
      { name: "replay", code: "report(replay(chunks));" },
      { name: "replay, data counted only", code: "report(replayCounting(chunks));" },
      { name: "loops set-up", code: "globalThis.L = B.createLoopBench(lib);" },
      { name: "idle before", code: "", gc: true },
      { name: "idle after", code: "", gc: true },
      { name: "smtp warm-up", code: "L.upload(50).then(report);", gc: true },
      { name: "smtp run", code: `L.upload(${loopChunks}).then(report);`, gc: true },
      { name: "pop3 warm-up", code: "L.retrieve(50).then(report);", gc: true },
      { name: "pop3 run", code: `L.retrieve(${loopChunks}).then(report);`, gc: true },
      {
        name: "paths set-up",
        code: `globalThis.P = B.createPathBench(lib); globalThis.attachment = B.patternBytes(${PATH_BYTES}); globalThis.answer = B.pop3Answer(${PATH_BYTES});
               P.send(B.patternBytes(3000)).then(() => P.retrieve(B.pop3Answer(3000).wire));`,
      },
      { name: "send path", code: "globalThis.t0 = Date.now(); P.send(attachment).then((chunks) => { report(chunks); report(Date.now() - t0); });" },
      { name: "send responder", code: "B.replayResponder(B.createPathBench(lib).sendScript, P.sendLog).then(report);" },
      {
        name: "retrieve path",
        code: "globalThis.t0 = Date.now(); P.retrieve(answer.wire).then((n) => { report({ delivered: n, expected: answer.delivered, from: P.lastFrom, chunks: P.retrieveScript.chunks }); report(Date.now() - t0); });",
      },
      {
        name: "retrieve responder",
        code: "globalThis.R = B.createPathBench(lib).retrieveScript; R.load(answer.wire); B.replayResponder(R, P.retrieveLog).then(report);",
      },
      { name: "scale set-up", code: `globalThis.pollMail = B.pop3Answer(${POLL_MAIL_BYTES}).wire; globalThis.attachment = null; globalThis.answer = null;`, gc: true },
      ...SEND_SIZES.flatMap((size) => [
        { name: `scale send ${size} input`, code: `globalThis.attachment = B.patternBytes(${size});`, gc: true },
        { name: `scale send ${size}`, code: "P.send(attachment).then(report);", gc: true },
      ]),
      { name: "scale send done", code: "globalThis.attachment = null;", gc: true },
      ...POLL_MAILS.map((mails) => ({
        name: `scale poll ${mails}`,
        code: `(async () => { for (let n = 0; n < ${mails}; n++) await P.retrieve(pollMail); report(P.lastFrom); })();`,
        gc: true,
      })),
    ];
    const { steps: results } = await runInXs({ scripts: [`${root}${CORE}`, benchScript], steps }, 300_000);
    const step = (name: string): XsStepResult => {
      const found = results.find((r) => r.name === name);
      if (found === undefined) throw new Error(`XS run: no result for step "${name}"`);
      return found;
    };
    const generated = step("generate").reports[0] as { bytes: number; truth: { ok: number; smtpft: number; pop3read: number; dataBytes: number } };
    for (const name of ["replay", "replay, data counted only"]) {
      const counts = step(name).reports[0] as { ok: number; smtpft: number; pop3read: number; dataBytes: number } | undefined;
      for (const key of ["ok", "smtpft", "pop3read", "dataBytes"] as const) {
        if (counts?.[key] !== generated.truth[key]) throw new Error(`XS ${name} found ${key} = ${counts?.[key]}, the stream holds ${generated.truth[key]}`);
      }
    }
    const stubBytes = step("serial stub").reports[0];
    if (stubBytes !== generated.bytes) throw new Error(`XS serial stub read ${String(stubBytes)} of ${generated.bytes} bytes`);
    const kib = generated.bytes / 1024;
    const stubCompute = step("serial stub").meterUsage.compute;
    const heapAfterGc = (name: string): number => {
      const slots = step(name).heapAfterGc;
      if (slots === null) throw new Error(`XS step "${name}" gave no heap count after GC`);
      return slots;
    };
    const driftPerStep = heapAfterGc("idle after") - heapAfterGc("idle before");
    const loop = (prefix: "smtp" | "pop3"): HeapFigures => {
      const chunks = step(`${prefix} run`).reports[0];
      if (typeof chunks !== "number" || chunks < loopChunks) throw new Error(`XS ${prefix} run took ${String(chunks)} chunks, ${loopChunks} asked for`);
      const before = heapAfterGc(`${prefix} warm-up`);
      const after = heapAfterGc(`${prefix} run`);
      return { chunks, before, after, growth: after - before - driftPerStep };
    };
    const path = (name: "send" | "retrieve", bytes: number, chunks: number): PathFigures => {
      const compute = step(`${name} path`).meterUsage.compute;
      const responder = step(`${name} responder`).meterUsage.compute;
      return { bytes, chunks, compute, responder, perByte: (compute - responder) / bytes };
    };
    const sendChunks = step("send path").reports[0];
    if (typeof sendChunks !== "number" || sendChunks < PATH_BYTES / 1360) throw new Error(`XS send path took ${String(sendChunks)} chunks`);
    const retrieved = step("retrieve path").reports[0] as { delivered: number; expected: number; from: string; chunks: number };
    if (retrieved.delivered !== retrieved.expected || retrieved.from !== "Ops <ops@example.net>") {
      throw new Error(`XS retrieve path delivered ${retrieved.delivered} of ${retrieved.expected} bytes, From "${retrieved.from}"`);
    }
    const wallMs = (step("send path").reports[1] as number) + (step("retrieve path").reports[1] as number);
    const point = (name: string, size: number): ScalePoint => ({ size, compute: step(name).meterUsage.compute, heapAfterGc: heapAfterGc(name) });
    return {
      measured: true,
      hostUnitsPerSecond: ((step("send path").meterUsage.compute + step("retrieve path").meterUsage.compute) / wallMs) * 1000,
      sends: SEND_SIZES.map((size) => point(`scale send ${size}`, size)),
      polls: POLL_MAILS.map((mails) => point(`scale poll ${mails}`, mails)),
      send: path("send", PATH_BYTES, sendChunks),
      retrieve: path("retrieve", retrieved.delivered, retrieved.chunks),
      streamBytes: generated.bytes,
      computePerKiB: (step("replay, data counted only").meterUsage.compute - stubCompute) / kib,
      computePerKiBWithConsumer: step("replay").meterUsage.compute / kib,
      driftPerStep,
      smtp: loop("smtp"),
      pop3: loop("pop3"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
