// The simulator's file-backed "embedded:io/digital" (src/device/lin/digital.js), bundled with
// the fake `file` module and a stand-in mc/config in place of Moddable's.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { DigitalClass } from "../../src/device/io.ts";
import { PinInput, PinOutput } from "../../src/device/io.ts";
import { FakeFlash } from "./fake-file.ts";

const repo = join(import.meta.dirname, "..", "..");
const test = suite("simulated digital pins (lin)");

interface Loaded {
  Digital: DigitalClass;
  flash: FakeFlash;
  directories: string[];
}

const shared = globalThis as unknown as { simmailFakeFlash: FakeFlash; simmailDirectories: string[] };

async function load(): Promise<Loaded> {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-lin-digital-"));
  try {
    const outfile = join(scratch, "digital.mjs");
    await build({
      entryPoints: [join(repo, "src/device/lin/digital.js")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      logLevel: "error",
      plugins: [{
        name: "moddable-stand-ins",
        setup(b) {
          b.onResolve({ filter: /^(file|mc\/config)$/ }, (args) => ({ path: args.path, namespace: "stand-in" }));
          b.onLoad({ filter: /.*/, namespace: "stand-in" }, (args) => ({
            loader: "js",
            contents: args.path === "file"
              ? "export const File = globalThis.simmailFakeFlash.File; export const Directory = { create: (path) => globalThis.simmailDirectories.push(path) };"
              : 'export default { pinsDirectory: "/pins/" };',
          }));
        },
      }],
    });
    const flash = new FakeFlash();
    shared.simmailFakeFlash = flash;
    shared.simmailDirectories = [];
    const module = await import(`${pathToFileURL(outfile).href}?${Date.now()}`);
    return { Digital: module.default as DigitalClass, flash, directories: shared.simmailDirectories };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

test("an input reads its pin file, and the level of its pull while the file is missing or empty", async () => {
  const { Digital, flash, directories } = await load();
  const up = new PinInput(Digital, 32, "up");
  const down = new PinInput(Digital, 33, "down");
  assert.equal(directories, ["/pins", "/pins"]);
  assert.is(up.read(), 1);
  assert.is(down.read(), 0);
  flash.put("/pins/32", "0\n");
  flash.put("/pins/33", "1\n");
  assert.is(up.read(), 0);
  assert.is(down.read(), 1);
  flash.put("/pins/32", "");
  assert.is(up.read(), 1, "an empty file is the idle level too");
});

test("an output writes its level to the pin file, starting at its idle level", async () => {
  const { Digital, flash } = await load();
  const led = new PinOutput(Digital, 12, 0);
  assert.is(flash.text("/pins/12"), "1\n", "an active-low LED starts off");
  led.set(true);
  assert.is(flash.text("/pins/12"), "0\n");
  led.set(false);
  assert.is(flash.text("/pins/12"), "1\n");
});

test("what is not simulated is refused by name", async () => {
  const { Digital } = await load();
  const Any = Digital as unknown as new (options: Record<string, unknown>) => unknown;
  assert.throws(() => new Any({ pin: 5, mode: Digital.Input, edge: 1, onReadable() {} }), /edge callbacks are not simulated/);
  assert.throws(() => new Any({ pin: 5, mode: 9 }), /mode 9 is not simulated/);
  assert.throws(() => new Any({ pin: -1, mode: Digital.Input }), /pin -1 is not a pin number/);
  const input = new Any({ pin: 5, mode: Digital.Input }) as { write(value: number): void };
  assert.throws(() => input.write(1), /is an input/);
});

test.run();
