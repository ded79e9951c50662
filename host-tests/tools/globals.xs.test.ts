// XS: the forbidden-globals checker (build/forbidden-globals.mjs) and the build (build/build.mjs):
// bundles that would reach for a global a plain Moddable build lacks, or import a module the
// device does not have, do not build; the repo's own bundles are clean, and the minified
// core loads under XS like the unminified one.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { FORBIDDEN_GLOBALS, findForbiddenGlobals } from "../../build/forbidden-globals.mjs";
import { runInXs } from "../kit/xs/run-xs.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const BUILD = join(repo, "build/build.mjs");

const checker = suite("XS: forbidden-globals checker");

checker("catches each forbidden global, with its line and column", () => {
  for (const name of FORBIDDEN_GLOBALS) {
    const hits = findForbiddenGlobals(`const unrelated = 1;\nconst use = ${name};\n`);
    assert.equal(hits, [{ name, line: 2, column: 12 }], name);
  }
});

checker("catches calls, member uses, typeof tests, shorthand keys, template expressions and globalThis.X", () => {
  const source = [
    "setTimeout(() => {}, 5);",
    "const mode = process.env.MODE;",
    'if (typeof TextEncoder !== "undefined") {}',
    "const bag = { Buffer };",
    "const text = `at ${performance.now()} ms`;",
    "globalThis.crypto.getRandomValues(bytes);",
    'globalThis["setInterval"](tick, 10);',
    "export const log = (x) => console.log(x);",
  ].join("\n");
  assert.equal(
    findForbiddenGlobals(source).map((hit) => `${hit.line}:${hit.name}`),
    ["1:setTimeout", "2:process", "3:TextEncoder", "4:Buffer", "5:performance", "6:globalThis.crypto", "7:globalThis.setInterval", "8:console"],
  );
});

checker("does not flag the names in strings, comments, regular expressions, properties, keys or local bindings", () => {
  const source = `
    // setTimeout(f) in a line comment
    /* console.log("x") in a block comment */
    const a = "process.exit(1)", b = 'Buffer.from("x")', c = \`console and \${"require"} in a template\`;
    const re = /setInterval|TextDecoder/g;
    obj.console.log(1); obj.process(); queue.setImmediate;
    const keys = { console: 1, "Buffer": 2, performance() { return 3; } };
    class Job { process() {} static setTimeout = 1; #crypto = 2; get fetch() { return 4; } }
    function handle(process, { console }) { return process + console; }
    const require = (name) => name;
    require("x");
    { let TextEncoder = 1; TextEncoder++; }
    import { setTimeout as later, clearTimeout } from "timer";
    later(clearTimeout);
  `;
  assert.equal(findForbiddenGlobals(source), []);
});

checker("maps a use through a bundle's source map back to the file and line it came from", async () => {
  const result = await build({
    stdin: { contents: "export function start(f: () => void): void {\n  const delay: number = 10;\n  setTimeout(f, delay);\n}\n", sourcefile: "src/app/timing.ts", loader: "ts" },
    bundle: true,
    format: "iife",
    globalName: "app",
    outfile: "out.js",
    sourcemap: "external",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles.find((file) => file.path.endsWith("out.js"))!.text;
  const map = result.outputFiles.find((file) => file.path.endsWith("out.js.map"))!.text;
  const [hit, ...others] = findForbiddenGlobals(code, { sourceMap: map });
  assert.equal(others, []);
  assert.is(hit.name, "setTimeout");
  assert.equal(hit.original, { file: "src/app/timing.ts", line: 3, column: 2 });
});

checker("a source that does not parse is an error, not a clean result", () => {
  assert.throws(() => findForbiddenGlobals("const = 1;"), /does not parse/);
});

checker.run();

const builder = suite("XS: build/build.mjs");

function runBuild(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BUILD, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A scratch tree laid out like the repo, with `files` (path -> text). */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "simmail-build-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

builder("a bundle using a forbidden global fails the build, naming the file, the global and its source line", () => {
  const root = project({
    "src/index.ts": 'import { measure } from "./lib/measure.ts";\nexport function later(f: () => void): number {\n  return setTimeout(f, 10) + measure();\n}\n',
    "src/lib/measure.ts": 'export function measure(): number {\n  const text = "Buffer.byteLength in a string is fine";\n  return Buffer.byteLength(text);\n}\n',
  });
  try {
    mkdirSync(join(root, "dist/xs"), { recursive: true });
    writeFileSync(join(root, "dist/xs/simmail-core.js"), "// an old bundle");
    const { status, stderr } = runBuild(["--root", root]);
    assert.is(status, 1);
    assert.match(stderr, /dist\/xs\/simmail-core\.js uses the global "setTimeout", which a plain Moddable build lacks \(src\/index\.ts:3:10\)/);
    assert.match(stderr, /dist\/xs\/simmail-core\.js uses the global "Buffer", which a plain Moddable build lacks \(src\/lib\/measure\.ts:3:10\)/);
    assert.not.match(stderr, /simmail-core\.min\.js/, "a use both forms hold is reported once");
    assert.not.ok(existsSync(join(root, "dist/xs/simmail-core.js")), "no bundle is left that is not the current source");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

builder("the core may not import any module, the device app only Moddable's", () => {
  const root = project({
    "src/index.ts": 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n',
    "src/device/main.ts": 'import Timer from "timer";\nimport lodash from "lodash";\nexport default [Timer, lodash];\n',
  });
  try {
    const { status, stderr } = runBuild(["--root", root]);
    assert.is(status, 1);
    assert.match(stderr, /the core for XS \(IIFE\) may import only files of this repo, not "node:fs"/);
    assert.match(stderr, /the device app \(ESM\) may import only files of this repo and Moddable modules, not "lodash"/);
    assert.not.match(stderr, /"timer"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

builder("a clean tree builds: an IIFE core, a minified device module importing Moddable modules, sizes", () => {
  const root = project({
    "src/index.ts": "export function twice(n: number): number {\n  return n * 2;\n}\n",
    "src/device/main.ts": [
      'import Timer from "timer";',
      'import config from "mc/config";',
      'import Serial from "embedded:io/serial";',
      'import { twice } from "../index.ts";',
      "Timer.set(() => trace(`${twice(config.count)} ${typeof Serial}\\n`), 100);",
      "declare const trace: (text: string) => void;",
      "",
    ].join("\n"),
  });
  try {
    const { status, stdout, stderr } = runBuild(["--root", root]);
    assert.is(status, 0, stderr);
    const core = readFileSync(join(root, "dist/xs/simmail-core.js"), "utf8");
    const globals: { simmail?: { twice(n: number): number } } = {};
    new Function("globalThis", core)(globals);
    assert.is(globals.simmail?.twice(21), 42, "evaluating the core defines globalThis.simmail");
    const device = readFileSync(join(root, "dist/device/main.js"), "utf8");
    for (const name of ["timer", "mc/config", "embedded:io/serial"]) assert.ok(device.includes(`from"${name}"`), `imports ${name}`);
    const sizes = JSON.parse(readFileSync(join(root, "dist/sizes.json"), "utf8"));
    assert.equal(sizes.map((s: { name: string }) => s.name), ["core for XS (IIFE)", "device app (ESM)"]);
    for (const size of sizes) {
      for (const form of [size.raw, size.minified]) {
        if (form.file !== null) assert.is(form.bytes, statSync(join(root, form.file)).size, form.file);
      }
      assert.ok(size.minified.bytes < size.raw.bytes * 0.75, `${size.name}: minified, ${size.minified.bytes} of ${size.raw.bytes} bytes`);
    }
    assert.match(stdout, /core for XS \(IIFE\)\s+\d+\s+\d+\s+dist\/xs\/simmail-core\.js, dist\/xs\/simmail-core\.min\.js/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

builder("--debug writes the device app unminified with a source map that leads to every source; a release build removes the map", () => {
  const root = project({
    "src/index.ts": "export const one = 1;\n",
    "src/device/main.ts": 'import Timer from "timer";\nimport { later } from "./later.ts";\nTimer.set(later, 10);\n',
    "src/device/later.ts": "export function later(): void {\n  const waitedLongEnough = true;\n  if (!waitedLongEnough) throw new Error(\"early\");\n}\n",
  });
  try {
    const debugBuild = runBuild(["--debug", "--root", root]);
    assert.is(debugBuild.status, 0, debugBuild.stderr);
    const device = readFileSync(join(root, "dist/device/main.js"), "utf8");
    assert.match(device, /\/\/ src\/device\/later\.ts\n/, "esbuild's file markers are kept");
    assert.match(device, /const waitedLongEnough = true;/, "names and layout are the source's");
    assert.not.match(device, /sourceMappingURL/, "no map is named: xsc would read only its first source");
    const map = JSON.parse(readFileSync(join(root, "dist/device/main.js.map"), "utf8"));
    assert.is(map.file, "main.js");
    assert.equal([...map.sources].sort(), ["../../src/device/later.ts", "../../src/device/main.ts"]);
    for (const source of map.sources) assert.ok(existsSync(join(root, "dist/device", source)), `${source} resolves from the map`);
    const sizes = JSON.parse(readFileSync(join(root, "dist/sizes.json"), "utf8"));
    assert.is(sizes[1].raw.file, "dist/device/main.js");
    assert.is(sizes[1].minified.file, null, "the minified form is measured, not written");

    const release = runBuild(["--root", root]);
    assert.is(release.status, 0, release.stderr);
    assert.not.match(readFileSync(join(root, "dist/device/main.js"), "utf8"), /const waitedLongEnough/, "a release build is minified");
    assert.not.ok(existsSync(join(root, "dist/device/main.js.map")), "and leaves no map of another bundle");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

builder("the repo's own bundles build and use no forbidden global", () => {
  const { status, stderr } = runBuild([]);
  assert.is(status, 0, stderr);
  const bundles = ["dist/xs/simmail-core.js", "dist/xs/simmail-core.min.js", "dist/device/main.js"];
  assert.ok(existsSync(join(repo, bundles[0])), "the XS core bundle exists");
  for (const bundle of bundles) {
    const path = join(repo, bundle);
    if (!existsSync(path)) continue; // the device app, until src/device/main.ts exists
    assert.equal(findForbiddenGlobals(readFileSync(path, "utf8")), [], bundle);
  }
});

builder("the minified core loads under XS with the same exports as the unminified one", async () => {
  const exportsUnder = async (bundle: string) => {
    const { steps } = await runInXs({ scripts: [join(repo, bundle)], steps: [{ name: "exports", code: "report(Object.keys(simmail).sort());" }] });
    return steps[0].reports[0] as string[];
  };
  const [raw, minified] = await Promise.all([exportsUnder("dist/xs/simmail-core.js"), exportsUnder("dist/xs/simmail-core.min.js")]);
  assert.ok(raw.length > 10, `the core exports ${raw.length} names`);
  assert.equal(minified, raw);
});

builder.run();
