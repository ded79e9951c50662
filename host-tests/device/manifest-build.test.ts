// Builds manifest.json with the Moddable SDK ($MODDABLE, else ../shared/moddable beside the repo
// when it exists; see moddable-sdk.ts) the way docs/DEVICE.md says: `npm run device -- -m -p lin
// -t build` (build/device.mjs: the bundle, then mcconfig) into a temporary directory, then checks
// the image: mc.so exists, every Moddable module the bundle imports was compiled into it, and the
// generated mc/config passes readSettings. For esp32 it runs mcconfig without -m (generating the
// build needs no ESP-IDF) for each board, a subplatform directory (`-p esp32:./boards/<board>`),
// and checks the partitions, the modules and the pins it would build with.
//
// Without an SDK the suite has one test that says so in its name and checks that it is so.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

if (!sdk.found) {
  test(`skipped: no Moddable SDK (${sdk.reason})`, () => {
    assert.not.ok(locateModdable().found, "there is really no SDK");
    console.log(`\n  manifest-build: skipped: ${sdk.reason}; manifest.json was not built`);
  });
} else {
  const bin = sdk.bin;
  const env = { ...sdkEnv(sdk), MAKEFLAGS: "-j4" };
  let scratch = "";
  const bundle = join(repo, "dist/device/main.js");

  test.before(async () => {
    if (!existsSync(join(bin, "mcconfig"))) throw new Error(`the Moddable SDK at ${sdk.path} (from ${sdk.from}) has no ${bin}/mcconfig: build its tools for lin first`);
    const missing = missingHostPackages(sdk, { mcsim: false });
    if (missing.length > 0) throw new Error(`building for lin needs these Debian packages: ${missing.join(", ")} (apt-get install them; .ci/run does)`);
    scratch = mkdtempSync(join(tmpdir(), "simmail-mcconfig-"));
  });

  test.after(() => {
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  test("lin: npm run device -- -m builds the bundle, then mc.so with every module the app imports and valid settings", async () => {
    const out = join(scratch, "lin");
    mkdirSync(out);
    // A stale bundle is what a plain mcconfig would take: the device build replaces it first.
    mkdirSync(join(repo, "dist/device"), { recursive: true });
    writeFileSync(bundle, "// stale\n");
    run(process.execPath, ["build/device.mjs", "-m", "-p", "lin", "-t", "build", "-o", out], repo, env);
    assert.not.match(readFileSync(bundle, "utf8"), /^\/\/ stale/, "the bundle was built before mcconfig ran");
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
    const out = join(scratch, "lin-config");
    mkdirSync(out);
    // Without -m mcconfig only generates the build, mc/config included.
    run("mcconfig", ["-p", "lin", "-t", "build", "-o", out, join(repo, "manifest.json"), "smtpPort=2525", "mailTo=ops@example.org", "modemDevice=/dev/pts/7"], repo, env);
    const settings = readSettings(await generatedConfig(out));
    assert.is(settings.app.smtp.port, 2525);
    assert.equal(settings.app.smtp.to, [{ address: "ops@example.org" }]);
    assert.equal(settings.serial, { baud: 115_200, device: "/dev/pts/7" });
  });

  for (const [board, pins] of [
    ["lilygo-t-sim7000g", { serial: { baud: 115_200, port: 2, receive: 26, transmit: 27 }, powerKey: 4, led: 12 }],
    ["generic-esp32", { serial: { baud: 115_200, port: 2, receive: 16, transmit: 17 }, powerKey: null, led: 2 }],
  ] as const) {
    test(`esp32:./boards/${board}: mcconfig generates a LittleFS build on a 1 MB storage partition with the preset's pins`, async () => {
      const out = join(scratch, `esp32-${board}`);
      mkdirSync(out);
      run("mcconfig", ["-p", `esp32:./boards/${board}`, "-t", "build", "-o", out, join(repo, "manifest.json")], repo, env);
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

  test("esp32 without a board is refused, naming the boards there are", () => {
    const out = join(scratch, "esp32-no-board");
    mkdirSync(out);
    const result = spawnSync("mcconfig", ["-p", "esp32", "-t", "build", "-o", out, join(repo, "manifest.json")], { cwd: repo, env: { ...process.env, ...env }, encoding: "utf8" });
    const output = `${result.stdout}${result.stderr}`;
    assert.match(output, /simmail needs a board: -p esp32:\.\/boards\/lilygo-t-sim7000g or -p esp32:\.\/boards\/generic-esp32/);
    for (const board of readdirSync(join(repo, "boards"), { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
      assert.ok(output.includes(`esp32:./boards/${board.name}`), `the message names ${board.name}`);
    }
    assert.not.ok(walk(out).some((path) => path.endsWith("/makefile")), "no build was generated");
  });

  test("a debug build (-d) takes the unminified bundle, and the next release build the minified one", () => {
    const out = join(scratch, "lin-debug");
    mkdirSync(out);
    try {
      // Without -m mcconfig only generates the build: no make, so the debug makefile's pkill never runs.
      run(process.execPath, ["build/device.mjs", "-d", "-p", "lin", "-t", "build", "-o", out], repo, env);
      assert.match(readFileSync(bundle, "utf8"), /^\/\/ src\/device\/main\.ts\n/, "unminified, with esbuild's file markers");
      assert.ok(existsSync(`${bundle}.map`), "with its source map");
      assert.ok(walk(out).some((path) => /\/debug\/.*\/makefile$/.test(path)), "a debug build was generated");
    } finally {
      run(process.execPath, ["build/build.mjs"], repo);
    }
    assert.not.match(readFileSync(bundle, "utf8"), /^\/\/ src\/device\/main\.ts\n/, "the release bundle is back");
    assert.not.ok(existsSync(`${bundle}.map`));
  });
}

test.run();
