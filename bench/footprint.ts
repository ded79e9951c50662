// Footprint: the minified device bundles (esbuild, ESM, Moddable modules external) and the
// bytes of the fixed buffers the core and the app hold once constructed (counted by
// bench/buffer-probe.ts in a fresh process, so that module-load tables count too).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import type { BufferGroup, BufferProbeResult } from "./buffer-probe.ts";

/** Modules the Moddable SDK provides: never bundled (the same list as build/build.mjs). */
const MODDABLE_EXTERNALS = [
  "embedded:*", "timer", "time", "mc/config", "mc/*", "file", "flash", "pins/*", "crypt", "crypt/*", "hmac", "rng",
  "instrumentation", "preference", "Resource", "debug/*", "base64", "hex",
];

const root = fileURLToPath(new URL("../", import.meta.url));
/** The streaming mail readers and codecs (as build/build.mjs reports them). */
const CODEC_DIR = "src/mail/codec/";

export interface BundleSize {
  name: string;
  entry: string;
  /** Minified bytes, or null when the entry does not exist. */
  bytes: number | null;
  gzipBytes: number | null;
  /** The biggest source files in the bundle, bytes each. */
  largest: Array<{ file: string; bytes: number }>;
  /** The mail codec modules (src/mail/codec/*.ts, readers and encoders) the bundle holds, sorted. */
  codec: string[];
  note?: string;
}

export interface FootprintResult {
  bundles: BundleSize[];
  buffers: {
    groups: BufferGroup[];
    /** Tables + AtEngine + SmtpClient + Pop3Client. */
    core: number;
    /** Tables + AlarmApp, between command polls. */
    appSteady: number;
    /** Buffers the core made during a command poll's retrieve and an alarm send, alive at once at most (sampled per chunk). */
    duringPoll: number;
    duringSend: number;
    /** appSteady plus the larger of the two. */
    appPeak: number;
  };
}

async function bundleSize(name: string, entry: string): Promise<BundleSize> {
  if (!existsSync(`${root}${entry}`)) return { name, entry, bytes: null, gzipBytes: null, largest: [], codec: [], note: `${entry} does not exist yet` };
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2022",
    platform: "neutral",
    external: MODDABLE_EXTERNALS,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const output = Object.values(result.metafile.outputs)[0];
  const largest = Object.entries(output.inputs)
    .map(([file, info]) => ({ file, bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);
  const codec = Object.keys(output.inputs).filter((file) => file.startsWith(CODEC_DIR) && !file.endsWith("/index.ts"))
    .map((file) => file.slice(CODEC_DIR.length).replace(/\.ts$/, "")).sort();
  return { name, entry, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, largest, codec };
}

function runProbe(): Promise<BufferProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--expose-gc", "--import", "tsx", "bench/buffer-probe.ts"], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`bench/buffer-probe.ts failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as BufferProbeResult);
    });
  });
}

export async function measureFootprint(): Promise<FootprintResult> {
  const bundles = [
    await bundleSize("core (src/index.ts)", "src/index.ts"),
    await bundleSize("device app (src/device/main.ts)", "src/device/main.ts"),
  ];
  const probe = await runProbe();
  const groups = probe.groups;
  const bytesOf = (prefix: string): number => {
    const group = groups.find((g) => g.name.startsWith(prefix));
    if (group === undefined) throw new Error(`the buffer probe reported no "${prefix}" group`);
    return group.bytes;
  };
  const tables = bytesOf("tables");
  const core = tables + bytesOf("AtEngine") + bytesOf("SmtpClient") + bytesOf("Pop3Client");
  const appSteady = tables + bytesOf("AlarmApp");
  const duringPoll = probe.peaks["during a command poll"];
  const duringSend = probe.peaks["during an alarm send"];
  if (duringPoll === undefined || duringSend === undefined) throw new Error("the buffer probe reported no peak for the poll or the send");
  const appPeak = appSteady + Math.max(duringPoll, duringSend);
  return { bundles, buffers: { groups, core, appSteady, duringPoll, duringSend, appPeak } };
}
