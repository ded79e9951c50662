// Builds code of src/device for XS with the Moddable modules it imports replaced by the
// stand-ins of moddable-runtime.ts (lin serial and timer, time, file, crypt, hmac, rng),
// `mc/config` by the given settings and `embedded:io/digital` by the simulator's own
// src/device/lin/digital.js, as the manifest maps it for lin. Two forms:
// - bundleWithStandIns: one IIFE script that defines `globalThis.<globalName>`, stand-ins and
//   code together (for runInXs `scripts`);
// - buildFirmwareWithStandIns: ES modules in a folder, as the Moddable runtime loads the
//   firmware: the app module bundled exactly as build/build.mjs bundles dist/device/main.js
//   (minified), whose Moddable imports name the stand-in modules beside it. The stand-ins are
//   modules of their own, so the app module's body holds the app's bindings only, as on the
//   device (a step loads it with `import(path)`).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";

const repo = join(import.meta.dirname, "..", "..");
const RUNTIME = join(import.meta.dirname, "moddable-runtime.ts");
const LIN_DIGITAL = join(repo, "src/device/lin/digital.js");

/** Each Moddable module name, the file that stands in for it, and what that file re-exports from the runtime. */
const MODULES: Record<string, { file: string; exports: string }> = {
  timer: { file: "timer.mjs", exports: "Timer as default" },
  time: { file: "time.mjs", exports: "Time as default" },
  "embedded:io/serial": { file: "embedded-io-serial.mjs", exports: "Serial as default" },
  file: { file: "file.mjs", exports: "File, Directory" },
  crypt: { file: "crypt.mjs", exports: "Digest" },
  hmac: { file: "hmac.mjs", exports: "HMAC as default" },
  rng: { file: "rng.mjs", exports: "RNG as default" },
};
const NAMES = /^(timer|time|embedded:io\/serial|file|crypt|hmac|rng|mc\/config|embedded:io\/digital)$/;

function unknownModule(b: Parameters<Plugin["setup"]>[0]): void {
  b.onResolve({ filter: /^[^./]/ }, (args) => ({ errors: [{ text: `no stand-in for the module "${args.path}" (imported by ${args.importer})` }] }));
}

/** Everything in one bundle: the stand-ins' source compiled in. */
function inlineStandIns(config: Record<string, unknown>): Plugin {
  return {
    name: "moddable-stand-ins",
    setup(b) {
      b.onResolve({ filter: /^embedded:io\/digital$/ }, () => ({ path: LIN_DIGITAL }));
      b.onResolve({ filter: NAMES }, (args) => ({ path: args.path, namespace: "moddable" }));
      unknownModule(b);
      b.onLoad({ filter: /.*/, namespace: "moddable" }, (args) => ({
        loader: "js",
        resolveDir: import.meta.dirname,
        contents: args.path === "mc/config" ? `export default ${JSON.stringify(config)};` : `export { ${MODULES[args.path].exports} } from ${JSON.stringify(RUNTIME)};`,
      }));
    },
  };
}

/** Moddable module names left as imports of the stand-in files beside the output. */
function standInImports(): Plugin {
  return {
    name: "moddable-stand-in-imports",
    setup(b) {
      b.onResolve({ filter: NAMES }, (args) => ({
        path: args.path === "mc/config" ? "./mc-config.mjs" : args.path === "embedded:io/digital" ? "./embedded-io-digital.mjs" : `./${MODULES[args.path].file}`,
        external: true,
      }));
      unknownModule(b);
    },
  };
}

/**
 * Bundles `source` (TypeScript module text; import paths relative to the repo) into `outfile`
 * (ES2022, neutral platform), the stand-ins compiled in. As an IIFE (default) its exports are
 * published as `globalThis[globalName]`.
 */
export async function bundleWithStandIns(source: string, outfile: string, globalName: string, config: Record<string, unknown> = {}): Promise<void> {
  await build({
    stdin: { contents: source, resolveDir: repo, loader: "ts", sourcefile: `${globalName}-entry.ts` },
    outfile,
    bundle: true,
    format: "iife",
    globalName,
    // A strict script's top-level var stays local under xsnap: publish the namespace explicitly.
    footer: { js: `globalThis.${globalName} = ${globalName};` },
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
    plugins: [inlineStandIns(config)],
  });
}

export interface FirmwareModules {
  /** The stand-in runtime module: moddable-runtime.ts's exports and `runtimeExports`. */
  runtime: string;
  /** The app module: `entry` as the device build bundles it. */
  app: string;
}

/**
 * Writes the firmware as ES modules into `dir` (absolute): `app.mjs`, `entry` (a repo path,
 * e.g. src/device/main.ts) bundled with build/build.mjs's options for the device, its Moddable
 * imports naming the stand-in files; one stand-in file per Moddable module name, each
 * re-exporting from `runtime.mjs`; `runtime.mjs` itself, whose module body first evaluates the
 * modules of `runtimeExports` (TypeScript export lines, paths relative to the repo);
 * `mc-config.mjs` (`config`) and the lin digital.
 */
export async function buildFirmwareWithStandIns(dir: string, entry: string, config: Record<string, unknown>, runtimeExports: string): Promise<FirmwareModules> {
  const common = { bundle: true, format: "esm", target: "es2022", platform: "neutral", logLevel: "error" } as const;
  await build({
    ...common,
    stdin: { contents: `${runtimeExports}\nexport * from ${JSON.stringify(RUNTIME)};`, resolveDir: repo, loader: "ts", sourcefile: "runtime-entry.ts" },
    outfile: join(dir, "runtime.mjs"),
    plugins: [standInImports()],
  });
  for (const { file, exports } of Object.values(MODULES)) writeFileSync(join(dir, file), `export { ${exports} } from "./runtime.mjs";\n`);
  writeFileSync(join(dir, "mc-config.mjs"), `export default ${JSON.stringify(config)};\n`);
  await build({ ...common, entryPoints: [LIN_DIGITAL], outfile: join(dir, "embedded-io-digital.mjs"), plugins: [standInImports()] });
  await build({ ...common, absWorkingDir: repo, entryPoints: [entry], outfile: join(dir, "app.mjs"), minify: true, plugins: [standInImports()] });
  return { runtime: join(dir, "runtime.mjs"), app: join(dir, "app.mjs") };
}
