// Footprint: the minified device bundles (esbuild, ESM, Moddable modules external) and the
// bytes of the fixed buffers the core and the app hold once constructed (counted by
// bench/buffer-probe.ts in a fresh process, so that module-load tables count too).

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";
import type { BufferGroup, BufferProbeResult } from "./buffer-probe.ts";
import { locateModdable } from "../host-tests/device/moddable-sdk.ts";

/** The device app as it is flashed: XS bytecode of dist/device/main.js (build/build.mjs's release bundle). */
export type Bytecode =
  | {
      measured: true;
      xsbBytes: number;
      minifiedBytes: number;
      xsc: string;
      /** The .xsb's two parts: the symbol table (property and binding names) and the code (string literals inline). */
      symbolBytes: number;
      codeBytes: number;
      /** Each module of the bundle minified and compiled alone, largest first (each alone also carries a module's few dozen bytes of framing). */
      modules: Array<{ file: string; xsbBytes: number }>;
      /** The same by layer (src/transport, src/modem, src/mail, src/app, src/device), largest first. */
      layers: Array<{ layer: string; xsbBytes: number }>;
    }
  | { measured: false; reason: string };

/** The chunks of an .xsb (`XS_B` holding `VERS`, `SYMB`, `CODE`), each a 4-byte big-endian size and a 4-letter tag. */
function xsbSections(file: string): Map<string, number> {
  const bytes = readFileSync(file);
  const sections = new Map<string, number>();
  for (let offset = 8; offset + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(offset);
    if (size < 8) break;
    sections.set(bytes.toString("latin1", offset + 4, offset + 8), size);
    offset += size;
  }
  return sections;
}

/** Compiles `source` as mcconfig compiles a module for a release build; its .xsb bytes. */
function compile(xsc: string, source: string, dir: string, name: string): number {
  execFileSync(xsc, [source, "-e", "-o", dir, "-r", name], { stdio: "pipe" });
  return statSync(join(dir, `${name}.xsb`)).size;
}

/** The unminified release bundle cut at its `// src/...` markers, each piece minified alone and compiled: bytes per module. */
async function bytecodeByModule(xsc: string, dir: string): Promise<Array<{ file: string; xsbBytes: number }>> {
  const text = readFileSync(`${root}dist/measure/device-main.js`, "utf8");
  const modules = new Map<string, number>();
  for (const piece of text.split(/^(?=\/\/ src\/)/m)) {
    const file = /^\/\/ (src\/\S+)/.exec(piece)?.[1];
    if (file === undefined) continue;
    // The bundle's closing export list names bindings of other pieces.
    const { code } = await transform(piece.replace(/^export \{[^}]*\};?\s*$/m, ""), { minify: true, format: "esm", target: "es2022", treeShaking: false });
    writeFileSync(join(dir, "piece.js"), code);
    modules.set(file, (modules.get(file) ?? 0) + compile(xsc, join(dir, "piece.js"), dir, "piece"));
  }
  return [...modules].map(([file, xsbBytes]) => ({ file, xsbBytes })).sort((a, b) => b.xsbBytes - a.xsbBytes);
}

/**
 * Builds the bundles (build/build.mjs --measure) and compiles the device app with the SDK's xsc
 * as mcconfig does for a release build (`xsc main.js -e -o DIR -r main`), then module by module;
 * skipped, saying why, when no Moddable SDK is found ($MODDABLE, or ../shared/moddable beside the repo).
 */
async function measureBytecode(): Promise<Bytecode> {
  const sdk = locateModdable();
  if (!sdk.found) return { measured: false, reason: sdk.reason };
  const xsc = join(sdk.bin, "xsc");
  if (!existsSync(xsc)) return { measured: false, reason: `${xsc} does not exist (the SDK's tools are not built)` };
  execFileSync(process.execPath, ["build/build.mjs", "--measure"], { cwd: root, stdio: "ignore" });
  const bundle = `${root}dist/device/main.js`;
  if (!existsSync(bundle)) return { measured: false, reason: "build/build.mjs wrote no dist/device/main.js" };
  const dir = mkdtempSync(join(tmpdir(), "simmail-xsb-"));
  try {
    const xsbBytes = compile(xsc, bundle, dir, "main");
    const sections = xsbSections(join(dir, "main.xsb"));
    const modules = await bytecodeByModule(xsc, dir);
    const layers = new Map<string, number>();
    for (const { file, xsbBytes: bytes } of modules) {
      const layer = file.split("/").slice(0, 2).join("/");
      layers.set(layer, (layers.get(layer) ?? 0) + bytes);
    }
    return {
      measured: true, xsbBytes, minifiedBytes: statSync(bundle).size, xsc,
      symbolBytes: sections.get("SYMB") ?? 0, codeBytes: sections.get("CODE") ?? 0, modules,
      layers: [...layers].map(([layer, bytes]) => ({ layer, xsbBytes: bytes })).sort((a, b) => b.xsbBytes - a.xsbBytes),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // The measuring form is not a product (build/build.mjs removes it too when run without --measure).
    rmSync(`${root}dist/measure`, { recursive: true, force: true });
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
    /** Tables the modules build when they load: in flash on the device, where the bundle is preloaded. */
    loadTables: number;
    /** AtEngine + SmtpClient + Pop3Client: RAM. */
    core: number;
    /** AlarmApp, between command polls: RAM. */
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
  // The device preloads the bundle (manifest.json): what the modules build when they load is
  // frozen into the firmware image, in flash, so the RAM figures leave it out.
  const loadTables = bytesOf("tables");
  const core = bytesOf("AtEngine") + bytesOf("SmtpClient") + bytesOf("Pop3Client");
  const appSteady = bytesOf("AlarmApp");
  const duringPoll = probe.peaks["during a command poll"];
  const duringSend = probe.peaks["during an alarm send"];
  if (duringPoll === undefined || duringSend === undefined) throw new Error("the buffer probe reported no peak for the poll or the send");
  const appPeak = appSteady + Math.max(duringPoll, duringSend);
  return { bundles, bytecode: await measureBytecode(), buffers: { groups, loadTables, core, appSteady, duringPoll, duringSend, appPeak } };
}
