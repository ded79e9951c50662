// `npm test`: type checks, builds the bundles, then runs every uvu suite (Node and XS).
// Ends with one "N passed, N failed" line.
import { spawnSync } from "node:child_process";

function step(title, command, args, options = {}) {
  process.stdout.write(`\n== ${title}\n`);
  const result = spawnSync(command, args, { stdio: options.capture ? ["inherit", "pipe", "inherit"] : "inherit", encoding: "utf8" });
  if (options.capture) process.stdout.write(result.stdout ?? "");
  if (result.status !== 0 && !options.capture) {
    process.stdout.write(`\n${title} failed (exit ${result.status})\n`);
    process.exit(result.status ?? 1);
  }
  return result;
}

step("mail servers", "bash", ["scripts/ensure-dovecot.sh"]);
step("type check", "npm", ["run", "--silent", "typecheck"]);
step("build", "node", ["build/build.mjs"]);
step("XS engine with the device's stack", "node", ["host-tests/kit/xs/device-xsnap.mjs"]);
const pattern = process.argv[2] ?? "\\.test\\.ts$";
const tests = step("tests (Node and XS)", "node", ["--import", "tsx", "node_modules/uvu/bin.js", "host-tests", pattern], { capture: true });
const plain = (tests.stdout ?? "").replace(/\x1b\[[0-9;]*m/g, "");
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const failed = tests.status === 0 ? total - passed - skipped : Math.max(1, total - passed - skipped);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(tests.status === 0 && total > 0 ? 0 : 1);
