// `node build/build.mjs`: bundles the core for XS (an IIFE that defines globalThis.simmail, for
// the XS test suite and the benchmarks) and the device app for the Moddable manifest (one
// minified ES module, Moddable modules left as imports) and the core for other Moddable apps
// (dist/moddable/simmail.js, for manifest_core.json), checks every bundle for globals a plain
// Moddable build lacks, prints the sizes and which mail codec modules each bundle holds (the device
// app leaves out the readers it does not use: esbuild keeps only what is imported) and writes them
// to dist/sizes.json.
// Exits 1, naming the file, the import or the global and where it comes from, when a bundle
// cannot be made or breaks a rule; that target's old outputs are then removed, so that nothing
// runs a bundle that is not the current source.
// `--debug` writes the device app unminified with its source map instead (dist/device/main.js and
// main.js.map), so that xsbug shows the code; `npm run device -- -d ...` passes it (build/device.mjs).
// `--measure` also writes the release device bundle with only its syntax minified (dead code
// folded away as in the release, names, layout and the `// src/...` module markers kept) to
// dist/measure/device-main.js: not flashed; bench/footprint.ts compiles it module by module
// to say where the bytecode goes.
// `--root DIR` builds another tree laid out like this repo (the tests use it).
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { detailTextsPlugin } from "./detail-texts.mjs";
import { findForbiddenGlobals } from "./forbidden-globals.mjs";
import { MODDABLE_MODULES, matchesModulePattern } from "./moddable-modules.mjs";

function optionsFromArguments(args) {
  const options = { root: resolve(dirname(fileURLToPath(import.meta.url)), ".."), debug: false, measure: false };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--debug") options.debug = true;
    else if (args[i] === "--measure") options.measure = true;
    else if (args[i] === "--root" && i + 1 < args.length) {
      options.root = resolve(args[++i]);
      if (!existsSync(options.root)) {
        console.error(`build: --root ${args[i]} does not exist`);
        process.exit(2);
      }
    } else {
      console.error(`usage: node build/build.mjs [--debug] [--measure] [--root DIR] (got: ${args.join(" ")})`);
      process.exit(2);
    }
  }
  return options;
}

const { root, debug, measure } = optionsFromArguments(process.argv.slice(2));

const TARGETS = [
  {
    name: "core for XS (IIFE)",
    entry: "src/index.ts",
    format: "iife",
    globalName: "simmail",
    rawFile: "dist/xs/simmail-core.js",
    minifiedFile: "dist/xs/simmail-core.min.js",
    mapFile: null,
    outputs: ["dist/xs/simmail-core.js", "dist/xs/simmail-core.min.js"],
    allowedModules: [],
    required: true,
  },
  {
    name: "device app (ESM)",
    entry: "src/device/main.ts",
    format: "esm",
    // The manifest takes dist/device/main.js: minified for a release, unminified with its map
    // for debugging (--debug). The form not written is only measured.
    rawFile: debug ? "dist/device/main.js" : null,
    minifiedFile: debug ? null : "dist/device/main.js",
    // XS (xsc) reads only the first source of a map, and a bundle has many: the map is written
    // beside the bundle for tools, not named by a sourceMappingURL comment.
    mapFile: debug ? "dist/device/main.js.map" : null,
    // --measure: the form bench/footprint.ts cuts into modules.
    measureFile: measure ? "dist/measure/device-main.js" : null,
    // Everything this target writes in either form: removed before writing and on failure.
    outputs: ["dist/device/main.js", "dist/device/main.js.map", "dist/measure/device-main.js"],
    allowedModules: MODDABLE_MODULES,
    required: false,
    // One mail dialect, the one mc/config names: the other is left out (src/mail/dialects.ts);
    // the step-table builders have no side effects, so unused tables go too.
    dialect: () => deviceDialect(),
    // Short messages: every detail("…") left out (build/detail-texts.mjs), for flash.
    dropDetails: true,
  },
  {
    name: "core for Moddable apps (ESM)",
    entry: "src/device/library.ts",
    format: "esm",
    // Another app's build compiles it (minified or not, as that app builds): written unminified.
    rawFile: "dist/moddable/simmail.js",
    minifiedFile: null,
    mapFile: null,
    outputs: ["dist/moddable/simmail.js"],
    allowedModules: MODDABLE_MODULES,
    required: false,
  },
];

/** Lets through relative imports and `allowed` module names (left external); fails on the rest. */
function moduleGate(target) {
  return {
    name: "module-gate",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        if (matchesModulePattern(args.path, target.allowedModules)) return { path: args.path, external: true };
        const allowed = target.allowedModules.length > 0 ? "files of this repo and Moddable modules" : "files of this repo";
        return { errors: [{ text: `the ${target.name} may import only ${allowed}, not "${args.path}"` }] };
      });
    },
  };
}

/** Where the streaming mail readers and codecs live; the size report names those a bundle holds. */
const CODEC_DIR = "src/mail/codec/";

/** The modules only one mail dialect uses, by dialect. */
const DIALECT_MODULES = { sim7000: /\/src\/mail\/(smtp|smtp-upload|pop3|pop3-reader|session)\.ts$/, classic: /\/src\/mail\/classic[^/]*\.ts$/ };

/**
 * The other dialect's modules marked free of side effects, so that the bundler leaves them out
 * when nothing of theirs is used (their top-level classes and step tables would keep them in).
 */
function otherDialectGate(dialect) {
  const other = DIALECT_MODULES[dialect === "sim7000" ? "classic" : "sim7000"];
  return {
    name: "other-dialect",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        return other.test(path) ? { path, sideEffects: false } : undefined;
      });
    },
  };
}

/**
 * The module gate, the details dropped for a target that asks, and for a one-dialect build the
 * dialect defined and the other's modules let go.
 */
function dialectOptions(target) {
  const gates = target.dropDetails === true ? [moduleGate(target), detailTextsPlugin()] : [moduleGate(target)];
  const dialect = target.dialect === undefined ? null : target.dialect();
  if (dialect === null) return { plugins: gates };
  return {
    plugins: [...gates, otherDialectGate(dialect)],
    define: { "globalThis.SIMMAIL_BUILD_DIALECT": JSON.stringify(dialect) },
    pure: ["steps", "table"],
  };
}

/** mc/config's modemDialect in the manifest the device app is built with; null for a tree without one (both dialects). */
function deviceDialect() {
  const file = join(root, "manifest.json");
  if (!existsSync(file)) return null;
  const dialect = JSON.parse(readFileSync(file, "utf8")).config?.modemDialect;
  if (dialect === undefined) return null;
  if (dialect !== "sim7000" && dialect !== "classic") throw new Error(`manifest.json config.modemDialect is ${JSON.stringify(dialect)}, not "sim7000" or "classic"`);
  return dialect;
}

/**
 * One bundle of `target`, in memory: `{ code, map, codec }` (codec: module names, sorted).
 * `minify`: true, false, or "syntax" (folded and pruned as minified, still laid out and marked).
 */
async function bundle(target, minify) {
  const outfile = join(root, "dist/.bundle.js");
  const result = await build({
    absWorkingDir: root,
    entryPoints: [target.entry],
    outfile,
    bundle: true,
    format: target.format,
    ...(target.globalName === undefined
      ? {}
      : {
          globalName: target.globalName,
          // xsnap evaluates a script through eval, where a strict script's top-level var stays
          // local: publish the namespace on globalThis explicitly.
          footer: { js: `globalThis.${target.globalName} = ${target.globalName};` },
        }),
    target: "es2022",
    platform: "neutral",
    ...(minify === "syntax" ? { minifySyntax: true } : { minify }),
    sourcemap: "external",
    metafile: true,
    write: false,
    logLevel: "warning",
    ...dialectOptions(target),
  });
  const code = result.outputFiles.find((file) => file.path === outfile).text;
  const map = JSON.parse(result.outputFiles.find((file) => file.path === `${outfile}.map`).text);
  // Source paths relative to the repo, for messages.
  map.sources = map.sources.map((source) => relative(root, resolve(dirname(outfile), source)));
  const inputs = Object.values(result.metafile.outputs).flatMap((output) => Object.keys(output.inputs));
  // index.ts only re-exports: not a module of its own.
  const codec = [...new Set(inputs.filter((file) => file.startsWith(CODEC_DIR) && file.endsWith(".ts")).map((file) => file.slice(CODEC_DIR.length, -3)))]
    .filter((name) => name !== "index").sort();
  return { code, map, codec };
}

/** Writes through a temporary file, so that a concurrent reader (or build) never sees half a file. */
function writeAtomically(file, text) {
  const path = join(root, file);
  const temporary = `${path}.${process.pid}.tmp`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function removeOutputs(target) {
  for (const file of target.outputs) rmSync(join(root, file), { force: true });
}

/** The source map as written beside `file`: sources relative to it, as the format has them. */
function mapBeside(map, file) {
  const sources = map.sources.map((source) => relative(dirname(join(root, file)), join(root, source)));
  return `${JSON.stringify({ ...map, file: basename(file), sources })}\n`;
}

function describeHit(hit) {
  const where = hit.original === undefined ? `bundle line ${hit.line}` : `${hit.original.file}:${hit.original.line}:${hit.original.column + 1}`;
  return `uses the global "${hit.name}", which a plain Moddable build lacks (${where})`;
}

const sizes = [];
let failed = false;

for (const target of TARGETS) {
  if (!existsSync(join(root, target.entry))) {
    removeOutputs(target);
    if (target.required) {
      console.error(`error: ${target.entry} does not exist: no ${target.name} bundle`);
      failed = true;
    } else {
      console.log(`note: ${target.entry} does not exist yet: no ${target.name} bundle`);
    }
    continue;
  }
  let raw;
  let minified;
  let measured = null;
  try {
    raw = await bundle(target, false);
    minified = await bundle(target, true);
    if (target.measureFile) measured = await bundle(target, "syntax");
  } catch {
    // esbuild has printed the errors with their places.
    console.error(`error: the ${target.name} did not build from ${target.entry}`);
    removeOutputs(target);
    failed = true;
    continue;
  }
  // Every file to be written is checked; a use both forms hold is reported once.
  const reported = new Set();
  let clean = true;
  for (const [form, file] of [[raw, target.rawFile], [minified, target.minifiedFile]]) {
    if (file === null) continue;
    for (const hit of findForbiddenGlobals(form.code, { sourceMap: form.map })) {
      const key = `${hit.name}@${hit.original?.file}:${hit.original?.line}:${hit.original?.column}`;
      if (reported.has(key)) continue;
      reported.add(key);
      console.error(`error: ${file} ${describeHit(hit)}`);
      clean = false;
    }
  }
  if (!clean) {
    removeOutputs(target);
    failed = true;
    continue;
  }
  removeOutputs(target);
  if (target.rawFile !== null) writeAtomically(target.rawFile, raw.code);
  if (target.minifiedFile !== null) writeAtomically(target.minifiedFile, minified.code);
  if (target.mapFile !== null) writeAtomically(target.mapFile, mapBeside(raw.map, target.rawFile));
  if (measured !== null) writeAtomically(target.measureFile, measured.code);
  sizes.push({
    name: target.name,
    entry: target.entry,
    raw: { file: target.rawFile, bytes: Buffer.byteLength(raw.code) },
    minified: { file: target.minifiedFile, bytes: Buffer.byteLength(minified.code) },
    codec: minified.codec,
  });
}

const rows = [["bundle", "raw bytes", "minified bytes", "written"]];
for (const size of sizes) {
  rows.push([size.name, String(size.raw.bytes), String(size.minified.bytes), [size.raw.file, size.minified.file].filter(Boolean).join(", ")]);
}
if (sizes.length === 0) rows.push(["(none)", "", "", ""]);
const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
for (const row of rows) {
  console.log(row.map((cell, column) => (column === 1 || column === 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd());
}
const allCodec = [...new Set(sizes.flatMap((size) => size.codec))].sort();
for (const size of sizes) {
  const leftOut = allCodec.filter((name) => !size.codec.includes(name));
  console.log(`${size.name}: codec modules ${size.codec.join(", ") || "none"}${leftOut.length > 0 ? `; left out: ${leftOut.join(", ")}` : ""}`);
}
writeAtomically("dist/sizes.json", `${JSON.stringify(sizes, null, 2)}\n`);
if (failed) {
  console.error("build failed");
  process.exit(1);
}
