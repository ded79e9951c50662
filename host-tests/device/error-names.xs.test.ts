// Every error class of the firmware (src/ but the Node host's src/host), bundled with the device
// bindings' stand-ins, constructed under XS with the built-ins frozen as a Moddable build
// freezes them: `this.name = "X"` throws there ("set name: not writable", which once ended the
// app inside a timer callback), a class field is defined and works. The classes are found in the
// source, so a new one is checked without being listed here.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runInXs } from "../kit/xs/run-xs.ts";
import { bundleWithStandIns } from "./moddable-stand-ins.ts";

const repo = join(import.meta.dirname, "..", "..");
const test = suite("error classes under frozen built-ins (XS)");

/** The firmware's modules: every .ts under src/ but src/host, the .d.ts files and the entry (whose start-up is lin-firmware.xs.test.ts's). */
function firmwareModules(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(repo, "src", "host")) walk(path);
      } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && path !== join(repo, "src", "device", "main.ts")) {
        files.push(relative(repo, path));
      }
    }
  };
  walk(join(repo, "src"));
  return files.sort();
}

/** Exported classes that extend Error, directly or through another class of the sources. */
function exportedErrorClasses(files: string[]): string[] {
  const parents = new Map<string, string>();
  const exported = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(join(repo, file), "utf8").matchAll(/^(export )?class (\w+) extends (\w+)/gm)) {
      parents.set(match[2], match[3]);
      if (match[1] !== undefined) exported.add(match[2]);
    }
  }
  const isError = (name: string, seen = new Set<string>()): boolean => {
    if (name === "Error") return true;
    const parent = parents.get(name);
    return parent !== undefined && !seen.has(name) && isError(parent, seen.add(name));
  };
  return [...exported].filter((name) => isError(name)).sort();
}

test("every error class constructs and names itself", async () => {
  const files = firmwareModules();
  const expected = exportedErrorClasses(files);
  assert.ok(expected.length >= 20, `the sources declare the firmware's error classes (${expected.length} found)`);
  const scratch = mkdtempSync(join(tmpdir(), "simmail-error-names-"));
  try {
    const bundle = join(scratch, "errors.js");
    await bundleWithStandIns(files.map((file, i) => `export * as m${i} from ${JSON.stringify(`./${file}`)};`).join("\n"), bundle, "firmwareModules");
    const { steps } = await runInXs({
      scripts: [bundle],
      // One IIFE holds every module's top-level bindings in its frame while it runs: more than the
      // device's stack takes (the stack is lin-firmware.xs.test.ts's business; this is xsnap's own).
      stack: 4096,
      steps: [{
        name: "construct",
        code: `
          const found = {};
          for (const namespace of Object.values(firmwareModules)) {
            for (const [key, value] of Object.entries(namespace)) {
              if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
              try {
                const error = new value("a", "b", "c");
                found[key] = { name: error.name, message: typeof error.message, own: Object.getOwnPropertyDescriptor(error, "name") !== undefined };
              } catch (e) {
                found[key] = { threw: e.name + ": " + e.message };
              }
            }
          }
          report(found);
        `,
      }],
    });
    const found = steps[0].reports[0] as Record<string, { name?: string; message?: string; own?: boolean; threw?: string }>;
    assert.equal(Object.keys(found).sort(), expected, "XS sees every exported error class of the sources");
    for (const name of expected) assert.equal(found[name], { name, message: "string", own: true }, name);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
