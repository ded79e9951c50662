// Builds manifest.json with the Moddable SDK ($MODDABLE, else ../shared/moddable beside the repo
// when it exists; see moddable-sdk.ts): the repo's build
// (build/build.mjs, which bundles src/device/main.ts), then `mcconfig -m -p lin -t build` into a
// temporary directory, then checks the image: mc.so exists, every Moddable module the bundle
// imports was compiled into it, and the generated mc/config passes readSettings. For esp32 it
// runs mcconfig without -m (generating the build needs no ESP-IDF) for each board preset and
// checks the partitions, the modules and the pins it would build with.
//
// Until src/device/main.ts exists, a small stand-in entry (generated in the temporary directory,
// never in the repo) reads the settings and opens every device binding instead.
//
// Without an SDK the suite has one test that says so in its name and checks that it is so.

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readSettings } from "../../src/device/settings.ts";
import { locateModdable, missingHostPackages, sdkEnv } from "./moddable-sdk.ts";

const repo = join(import.meta.dirname, "..", "..");
const sdk = locateModdable();
const test = suite("manifest.json with the Moddable SDK");

/** Every file under `dir` (recursively). */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 << 20 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output.split("\n").slice(-30).join("\n")}`);
  }
  return output;
}

/** The mc/config module mcconfig generated, evaluated. */
async function generatedConfig(outputDir: string): Promise<Record<string, unknown>> {
  const file = walk(outputDir).find((path) => path.endsWith("/mc.config.js"));
  assert.ok(file, "mcconfig generated mc.config.js");
  const module = await import(`data:text/javascript,${encodeURIComponent(readFileSync(file as string, "utf8"))}`);
  return module.default;
}

/** The Moddable module names an ES module bundle imports. */
function importsOf(bundle: string): string[] {
  const names = new Set<string>();
  for (const match of bundle.matchAll(/(?:\bimport|\bfrom)\s*["']([^"']+)["']/g)) names.add(match[1]);
  return [...names].sort();
}

/** Where mcconfig puts a module's byte code: "embedded:io/serial" -> "~.embedded/io/serial.xsb". */
function xsbPath(name: string): string {
  const colon = name.indexOf(":");
  return `${colon > 0 ? `~.${name.slice(0, colon)}/${name.slice(colon + 1)}` : name}.xsb`;
}

/**
 * The project to build: the repo itself once src/device/main.ts exists (after the repo's
 * build), else a copy of the manifest's files with a stand-in bundle, in `scratch`.
 */
async function project(scratch: string): Promise<{ dir: string; bundle: string }> {
  if (existsSync(join(repo, "src/device/main.ts"))) {
    run(process.execPath, ["build/build.mjs"], repo);
    return { dir: repo, bundle: join(repo, "dist/device/main.js") };
  }
  const dir = join(scratch, "simmail");
  mkdirSync(join(dir, "src/device/lin"), { recursive: true });
  cpSync(join(repo, "manifest.json"), join(dir, "manifest.json"));
  cpSync(join(repo, "boards"), join(dir, "boards"), { recursive: true });
  cpSync(join(repo, "src/device/lin/digital.js"), join(dir, "src/device/lin/digital.js"));
  const entry = join(scratch, "stand-in-main.ts");
  writeFileSync(entry, [
    'import config from "mc/config";',
    `import { describeSettings, readSettings } from ${JSON.stringify(join(repo, "src/device/settings.ts"))};`,
    `import { createDevicePlatform } from ${JSON.stringify(join(repo, "src/device/platform.ts"))};`,
    "declare const trace: (text: string) => void;",
    "const settings = readSettings(config);",
    "for (const line of describeSettings(settings)) trace(`${line}\\n`);",
    "createDevicePlatform(settings, (text) => trace(`${text}\\n`)).close();",
    "",
  ].join("\n"));
  const bundle = join(dir, "dist/device/main.js");
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "error",
    // Bare names are Moddable modules: the manifest provides them.
    plugins: [{ name: "moddable-modules", setup: (b) => b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true })) }],
  });
  return { dir, bundle };
}

if (!sdk.found) {
  test(`skipped: no Moddable SDK (${sdk.reason})`, () => {
    assert.not.ok(locateModdable().found, "there is really no SDK");
    console.log(`\n  manifest-build: skipped: ${sdk.reason}; manifest.json was not built`);
  });
} else {
  const bin = sdk.bin;
  const env = { ...sdkEnv(sdk), MAKEFLAGS: "-j4" };
  let scratch = "";
  let built: { dir: string; bundle: string } | null = null;

  test.before(async () => {
    if (!existsSync(join(bin, "mcconfig"))) throw new Error(`the Moddable SDK at ${sdk.path} (from ${sdk.from}) has no ${bin}/mcconfig: build its tools for lin first`);
    const missing = missingHostPackages(sdk, { mcsim: false });
    if (missing.length > 0) throw new Error(`building for lin needs these Debian packages: ${missing.join(", ")} (apt-get install them; .ci/run does)`);
    scratch = mkdtempSync(join(tmpdir(), "simmail-mcconfig-"));
    built = await project(scratch);
  });

  test.after(() => {
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  test("lin: mcconfig -m builds mc.so with every module the app imports and valid settings", async () => {
    const { dir, bundle } = built as { dir: string; bundle: string };
    const out = join(scratch, "lin");
    mkdirSync(out);
    run("mcconfig", ["-m", "-p", "lin", "-t", "build", "-o", out, join(dir, "manifest.json")], dir, env);
    const files = walk(out);
    assert.ok(files.some((path) => path.endsWith("/mc.so")), "the simulator library mc.so was linked");
    const imports = importsOf(readFileSync(bundle, "utf8"));
    for (const name of ["embedded:io/serial", "embedded:io/digital", "file", "mc/config", "timer"]) assert.ok(imports.includes(name), `the app imports ${name}`);
    for (const name of imports) {
      assert.ok(files.some((path) => path.endsWith(`/modules/${xsbPath(name)}`)), `module "${name}" is compiled into the image`);
    }
    const settings = readSettings(await generatedConfig(out));
    assert.equal(settings.serial, { baud: 115_200, device: "/tmp/simmail-modem" });
    assert.is(settings.storageDirectory, "/tmp/simmail/");
  });

  test("lin: config keys given to mcconfig reach mc/config", async () => {
    const { dir } = built as { dir: string; bundle: string };
    const out = join(scratch, "lin-config");
    mkdirSync(out);
    // Without -m mcconfig only generates the build, mc/config included.
    run("mcconfig", ["-p", "lin", "-t", "build", "-o", out, join(dir, "manifest.json"), "smtpPort=2525", "mailTo=ops@example.org", "modemDevice=/dev/pts/7"], dir, env);
    const settings = readSettings(await generatedConfig(out));
    assert.is(settings.app.smtp.port, 2525);
    assert.equal(settings.app.smtp.to, [{ address: "ops@example.org" }]);
    assert.equal(settings.serial, { baud: 115_200, device: "/dev/pts/7" });
  });

  for (const [board, pins] of [
    ["lilygo-t-sim7000g", { serial: { baud: 115_200, port: 2, receive: 26, transmit: 27 }, powerKey: 4, led: 12 }],
    ["generic-esp32", { serial: { baud: 115_200, port: 2, receive: 16, transmit: 17 }, powerKey: null, led: 2 }],
  ] as const) {
    test(`esp32 (${board}): mcconfig generates a LittleFS build on a 1 MB storage partition with the preset's pins`, async () => {
      const { dir } = built as { dir: string; bundle: string };
      const out = join(scratch, `esp32-${board}`);
      mkdirSync(out);
      run("mcconfig", ["-p", "esp32", "-t", "build", "-o", out, join(dir, "manifest.json")], dir, { ...env, SIMMAIL_BOARD: board });
      const files = walk(out);
      const makefile = readFileSync(files.find((path) => path.endsWith("/makefile")) as string, "utf8");
      assert.match(makefile, /\/modules\/files\/file\/littlefs\/lfs\.c/, "LittleFS is compiled in");
      assert.match(makefile, /~\.embedded\/io\/digital\.xsb/);
      assert.match(makefile, /~\.embedded\/io\/serial\.xsb/);
      const partitions = readFileSync(files.find((path) => path.endsWith("/partitions.csv")) as string, "utf8");
      assert.match(partitions, /^storage,\s*data,\s*spiffs,\s*0x300000,\s*0x100000,/m);
      const settings = readSettings(await generatedConfig(out));
      assert.equal(settings.serial, pins.serial);
      assert.is(settings.powerKey?.pin ?? null, pins.powerKey);
      assert.is(settings.led?.pin, pins.led);
      assert.is(settings.storageDirectory, "/simmail/", "LittleFS's root");
    });
  }
}

test.run();
