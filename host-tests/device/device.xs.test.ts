// The device's settings reader and flash stores under the real XS engine (@agoric/xsnap), the
// engine that runs them on the ESP32: the shipped manifest's settings for each board, and the
// log and key-value stores on the fake `file` module, appends, reads and an atomic replace.
// And every device binding, bundled as for the manifest, uses no global a Moddable build lacks.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runInXs } from "../kit/xs/run-xs.ts";
import { mcConfig } from "./mc-config.ts";

const repo = join(import.meta.dirname, "..", "..");
const test = suite("device bindings under XS");

test("settings and stores behave the same under XS as under Node", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-device-xs-"));
  try {
    const bundle = join(scratch, "device.js");
    await build({
      stdin: {
        contents: [
          `export { readSettings, describeSettings } from ${JSON.stringify(join(repo, "src/device/settings.ts"))};`,
          `export { FileLogStore, FileKeyValueStore } from ${JSON.stringify(join(repo, "src/device/storage.ts"))};`,
          `export { FakeFlash } from ${JSON.stringify(join(import.meta.dirname, "fake-file.ts"))};`,
        ].join("\n"),
        resolveDir: repo,
        loader: "ts",
      },
      outfile: bundle,
      bundle: true,
      format: "iife",
      globalName: "device",
      platform: "neutral",
      target: "es2022",
      logLevel: "error",
    });
    const configs = {
      lilygo: mcConfig("esp32", {}, "lilygo-t-sim7000g"),
      generic: mcConfig("esp32", {}, "generic-esp32"),
      lin: mcConfig("lin"),
    };
    const steps = await runInXs({
      scripts: [bundle],
      steps: [
        {
          name: "settings",
          code: `
            const configs = ${JSON.stringify(configs)};
            for (const name of Object.keys(configs)) {
              const s = device.readSettings(configs[name]);
              report({ name, serial: s.serial, powerKey: s.powerKey, led: s.led, storage: s.storageDirectory, modem: device.describeSettings(s)[1] });
            }
            try { device.readSettings({ ...configs.lin, smtpPort: "smtp" }); } catch (e) { report(e.message); }
          `,
        },
        {
          name: "stores",
          code: `
            const flash = new device.FakeFlash();
            const bytes = (t) => Uint8Array.from(t, (c) => c.charCodeAt(0));
            const log = new device.FileLogStore(flash.File, "/simmail/outbox.log");
            log.append(bytes("abc"), 0, 3);
            log.append(bytes("xdefx"), 1, 3);
            const out = new Uint8Array(6);
            const n = log.read(0, out, 0, 6);
            log.replace((append) => { append(bytes("new"), 0, 3); report(log.size()); });
            const after = new Uint8Array(3);
            log.read(0, after, 0, 3);
            const kv = new device.FileKeyValueStore(flash.File, "/simmail/");
            kv.put("armed", Uint8Array.of(1));
            report({ n, first: String.fromCharCode(...out), after: String.fromCharCode(...after), armed: Array.from(kv.get("armed")), missing: kv.get("boot") });
          `,
        },
      ],
    });
    const [settings, stores] = steps.steps;
    assert.equal(settings.reports.slice(0, 3), [
      { name: "lilygo", serial: { baud: 115_200, port: 2, receive: 26, transmit: 27 }, powerKey: { pin: 4, activeLevel: 1, pulseMs: 1200 }, led: { pin: 12, activeLevel: 0 }, storage: "/simmail/", modem: "modem on UART 2 (rx 26, tx 27) at 115200 baud, dialect sim7000" },
      { name: "generic", serial: { baud: 115_200, port: 2, receive: 16, transmit: 17 }, powerKey: null, led: { pin: 2, activeLevel: 1 }, storage: "/simmail/", modem: "modem on UART 2 (rx 16, tx 17) at 115200 baud, dialect sim7000" },
      { name: "lin", serial: { baud: 115_200, device: "/tmp/simmail-modem" }, powerKey: null, led: { pin: 2, activeLevel: 1 }, storage: "/tmp/simmail/", modem: "modem on /tmp/simmail-modem at 115200 baud, dialect sim7000" },
    ]);
    assert.is(settings.reports[3], 'config.smtpPort: must be a whole number from 1 to 65535 (AT+SMTPSRV port, spec 3.2.3), not "smtp"');
    assert.equal(stores.reports, [6, { n: 6, first: "abcdef", after: "new", armed: [1], missing: null }]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("the device bindings use no global a plain Moddable build lacks", async () => {
  const result = await build({
    entryPoints: [join(repo, "src/device/platform.ts"), join(repo, "src/device/settings.ts")],
    outdir: "out",
    write: false,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "error",
    plugins: [{ name: "moddable-modules", setup: (b) => b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true })) }],
  });
  // build/ is plain JavaScript: loaded by URL, with the one signature used here.
  const checker: { findForbiddenGlobals(source: string): Array<{ name: string; line: number }> } =
    await import(new URL("../../build/forbidden-globals.mjs", import.meta.url).href);
  const { findForbiddenGlobals } = checker;
  const sources = [...result.outputFiles.map((file) => file.text), readFileSync(join(repo, "src/device/lin/digital.js"), "utf8")];
  for (const source of sources) assert.equal(findForbiddenGlobals(source), []);
  assert.match(result.outputFiles[0].text, /from\s*"embedded:io\/digital"/, "the bundle really holds the bindings");
});

test.run();
