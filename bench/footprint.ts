// Footprint: the minified device bundles (esbuild, ESM, Moddable modules external) and the
// bytes of the fixed buffers the core and the app hold once constructed (counted by
// bench/buffer-probe.ts in a fresh process, so that module-load tables count too).

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import type { BufferGroup, BufferProbeResult } from "./buffer-probe.ts";
import { locateModdable } from "../host-tests/device/moddable-sdk.ts";

/** The device app as it is flashed: XS bytecode of dist/device/main.js (build/build.mjs's release bundle). */
export type Bytecode =
  | { measured: true; xsbBytes: number; minifiedBytes: number; xsc: string }
  | { measured: false; reason: string };

/**
 * Builds the bundles (build/build.mjs) and compiles the device app with the SDK's xsc as
 * mcconfig does for a release build (`xsc main.js -e -o DIR -r main`); skipped, saying why,
 * when no Moddable SDK is found ($MODDABLE, or ../shared/moddable beside the repo).
 */
function measureBytecode(): Bytecode {
  const sdk = locateModdable();
  if (!sdk.found) return { measured: false, reason: sdk.reason };
  const xsc = join(sdk.bin, "xsc");
  if (!existsSync(xsc)) return { measured: false, reason: `${xsc} does not exist (the SDK's tools are not built)` };
  execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });
  const bundle = `${root}dist/device/main.js`;
  if (!existsSync(bundle)) return { measured: false, reason: "build/build.mjs wrote no dist/device/main.js" };
  const dir = mkdtempSync(join(tmpdir(), "simmail-xsb-"));
  try {
    execFileSync(xsc, [bundle, "-e", "-o", dir, "-r", "main"], { stdio: "pipe" });
    return { measured: true, xsbBytes: statSync(join(dir, "main.xsb")).size, minifiedBytes: statSync(bundle).size, xsc };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
  bytecode: Bytecode;
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
  return { bundles, bytecode: measureBytecode(), buffers: { groups, core, appSteady, duringPoll, duringSend, appPeak } };
}
