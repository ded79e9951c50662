// `node build/build.mjs --measure`: the device bundle as bench/footprint.ts cuts it into modules,
// pruned like the release (the same modules, the same dead code gone) but with its module
// markers; a build without --measure removes it, so that it never outlives its sources.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../kit/cli-process.ts";

const test = suite("tools/measure-build");
const MEASURED = join(ROOT, "dist/measure/device-main.js");

function runBuild(...args: string[]): void {
  const build = spawnSync(process.execPath, [join(ROOT, "build/build.mjs"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.is(build.status, 0, build.stderr);
}

test("--measure writes the device bundle with its module markers, pruned as the release is; a plain build removes it", () => {
  runBuild("--measure");
  const measured = readFileSync(MEASURED, "utf8");
  const release = readFileSync(join(ROOT, "dist/device/main.js"), "utf8");
  const modules = [...measured.matchAll(/^\/\/ (src\/\S+)$/gm)].map((m) => m[1]);
  for (const file of ["src/device/main.ts", "src/app/alarm.ts", "src/mail/smtp.ts", "src/mail/pop3.ts", "src/transport/engine.ts"]) assert.ok(modules.includes(file), `${file} is marked`);
  assert.not.ok(modules.some((file) => file.startsWith("src/mail/classic") || file.startsWith("src/host/")), "no classic or host module");
  // Folded like the release: the classic result texts and every detail() text are gone from both.
  for (const text of ["AUTH REQUIRED", "a SIM7000 in autobaud mode"]) {
    assert.not.ok(release.includes(text), `release: ${text}`);
    assert.not.ok(measured.includes(text), `measured: ${text}`);
  }
  runBuild();
  assert.not.ok(existsSync(MEASURED), "a build without --measure removes it");
});

test.run();
