// Bundles the core for XS (an IIFE defining globalThis.simmail, for the XS test suite) and the
// device app for the Moddable manifest (one ES module, Moddable module names external), checks
// them for globals a plain Moddable build lacks, and prints the sizes.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findForbiddenGlobals } from "./forbidden-globals.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
/** Modules the Moddable SDK provides: never bundled. */
export const MODDABLE_EXTERNALS = [
  "embedded:*", "timer", "time", "mc/config", "mc/*", "file", "flash", "pins/*", "crypt", "crypt/*", "hmac", "rng",
  "instrumentation", "preference", "Resource", "debug/*", "base64", "hex",
];

/** Fails the build on any bare or node: import: the core must stand alone. */
const noHostModules = {
  name: "no-host-modules",
  setup(b) {
    b.onResolve({ filter: /^(node:|[a-z@])/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      return { errors: [{ text: `the core may not import "${args.path}" (from ${args.importer.replace(root + "/", "")})` }] };
    });
  },
};

const outputs = [];

async function bundle(name, options) {
  const result = await build({
    absWorkingDir: root,
    bundle: true,
    target: "es2022",
    platform: "neutral",
    logLevel: "warning",
    metafile: true,
    write: true,
    ...options,
  });
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    outputs.push({ name, file, bytes: info.bytes });
  }
}

mkdirSync(dist, { recursive: true });
await bundle("core for XS (IIFE)", {
  entryPoints: ["src/index.ts"],
  outfile: "dist/xs/simmail-core.js",
  format: "iife",
  globalName: "simmail",
  // A strict script's top-level var stays local under xsnap: publish the namespace explicitly.
  footer: { js: "globalThis.simmail = simmail;" },
  plugins: [noHostModules],
});
await bundle("core, minified", {
  entryPoints: ["src/index.ts"],
  outfile: "dist/device/simmail-core.min.js",
  format: "esm",
  minify: true,
  plugins: [noHostModules],
});
if (existsSync(join(root, "src/device/main.ts"))) {
  await bundle("device app (manifest)", {
    entryPoints: ["src/device/main.ts"],
    outfile: "dist/device/main.js",
    format: "esm",
    minify: true,
    external: MODDABLE_EXTERNALS,
  });
} else {
  console.log("note: src/device/main.ts does not exist yet; no device app bundle");
}

let failed = false;
for (const output of outputs) {
  const hits = findForbiddenGlobals(readFileSync(join(root, output.file), "utf8"));
  for (const hit of hits) {
    console.error(`error: ${output.file} uses "${hit.name}" (line ${hit.line}), which a plain Moddable build does not have`);
    failed = true;
  }
}

const width = Math.max(...outputs.map((o) => o.file.length));
console.log("bundle sizes:");
for (const o of outputs) console.log(`  ${o.file.padEnd(width)}  ${String(o.bytes).padStart(7)} bytes  ${o.name}`);
writeFileSync(join(dist, "sizes.json"), `${JSON.stringify(outputs, null, 2)}\n`);
if (failed) process.exit(1);
