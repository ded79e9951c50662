// The device app holds the one mail dialect mc/config names (build/build.mjs): the other's
// modules are left out of the bundle, and asking the firmware for it is refused by name.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DialectNotBuiltError, openMailDialect } from "../../src/mail/dialects.ts";
import type { EmailCapabilities } from "../../src/modem/probe.ts";
import type { Modem } from "../../src/modem/modem.ts";

const test = suite("device/dialect-build");
const root = fileURLToPath(new URL("../..", import.meta.url));

test("the device bundle built for sim7000 has none of the classic dialect's commands, the core has both", () => {
  execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });
  const manifest = JSON.parse(readFileSync(`${root}manifest.json`, "utf8")) as { config: { modemDialect: string } };
  assert.is(manifest.config.modemDialect, "sim7000");
  const device = readFileSync(`${root}dist/device/main.js`, "utf8");
  const core = readFileSync(`${root}dist/xs/simmail-core.js`, "utf8");
  assert.ok(device.includes("AT+POP3READ=<length>"), "the SIM7000 reader is there");
  assert.not.ok(device.includes("AT+POP3HDR="), "the classic POP3 client is left out");
  assert.not.ok(device.includes("AUTH REQUIRED"), "the classic result texts (src/mail/errors.ts) are left out");
  assert.ok(core.includes("AUTH REQUIRED"));
  assert.ok(core.includes("AT+POP3HDR=") && core.includes("AT+POP3READ=<length>"));
});

test("a build for one dialect refuses the other by name", () => {
  const globals = globalThis as { SIMMAIL_BUILD_DIALECT?: string };
  const capabilities = { dialect: "classic" } as EmailCapabilities;
  globals.SIMMAIL_BUILD_DIALECT = "sim7000";
  try {
    assert.throws(() => openMailDialect(capabilities, {} as Modem, { deadline: () => ({ arm() {}, disarm() {}, close() {} }) }, 115_200),
      (error: unknown) => error instanceof DialectNotBuiltError && /holds the sim7000 mail dialect only, not classic/.test((error as Error).message));
  } finally {
    delete globals.SIMMAIL_BUILD_DIALECT;
  }
});

test.run();
