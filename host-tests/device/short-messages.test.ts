// The device build's short messages (build/detail-texts.mjs): every detail("…") of src/ is left
// out of the device bundle, and what is left still names what failed.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { detailTextsPlugin, dropDetails } from "../../build/detail-texts.mjs";
import { readSettings } from "../../src/device/settings.ts";
import { mcConfig } from "./mc-config.ts";

const test = suite("device/short-messages");
const root = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []);
}

/** The texts of every detail("…") in src/ (plain double-quoted literals, as src/ writes them). */
function detailTexts(): string[] {
  return sources("src").flatMap((file) => [...readFileSync(join(root, file), "utf8").matchAll(/(?<![\w$.])detail\(("(?:[^"\\\n]|\\.)*")\)/g)]
    .map((m) => JSON.parse(m[1]) as string));
}

function settingsMessage(read: (config: Record<string, unknown>) => unknown, config: Record<string, unknown>): string {
  try {
    read(config);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("readSettings accepted the config");
}

test("dropDetails replaces each literal call and names a call it cannot replace", () => {
  const { code, problems } = dropDetails('a = "x" + detail(" (why \\"q\\")") + detail(\'it\\\'s\');\nb = `t${detail("y")}`;\nc = detail(text);\n// detail(text) in a comment\nd = o.detail("kept");');
  assert.is(code, 'a = "x" + "" + "";\nb = `t${""}`;\nc = detail(text);\n// detail(text) in a comment\nd = o.detail("kept");');
  assert.equal(problems, [{ line: 3, text: "c = detail(text);" }]);
});

test("the device bundle holds no detail text; the host bundle keeps them", () => {
  execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });
  const device = readFileSync(join(root, "dist/device/main.js"), "utf8");
  const core = readFileSync(join(root, "dist/xs/simmail-core.js"), "utf8");
  // A text also written outside a detail() (e.g. "APN password" as a label) may stay.
  const outside = sources("src").map((file) => dropDetails(readFileSync(join(root, file), "utf8")).code).join("\n");
  const texts = detailTexts().filter((text) => text.length >= 12 && !outside.includes(JSON.stringify(text).slice(1, -1)));
  assert.ok(texts.length >= 60, `detail texts found in src/: ${texts.length}`);
  const kept = texts.filter((text) => device.includes(JSON.stringify(text).slice(1, -1)));
  assert.equal(kept, [], "detail texts in dist/device/main.js");
  assert.ok(core.includes("its settings and any transfer in progress are lost"), "the core bundle keeps the explanation");
  assert.ok(device.includes("the modem restarted (RDY)") && device.includes("modemBootSeconds"), "what failed stays in the device bundle");
});

test("a device-built settings error still names the key, the value, the range and its source", async () => {
  const result = await build({
    absWorkingDir: root, entryPoints: ["src/device/settings.ts"], bundle: true, format: "esm", platform: "neutral",
    write: false, logLevel: "silent", plugins: [detailTextsPlugin()],
  });
  const device = await import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString("base64")}`) as { readSettings: typeof readSettings };
  const config = { ...mcConfig("esp32"), modemBootSeconds: 500 };
  const short = settingsMessage(device.readSettings, config);
  const long = settingsMessage(readSettings, config);
  assert.match(short, /modemBootSeconds/);
  assert.match(short, /500/);
  assert.match(short, /from 1 to 120 \(simmail's guard\)/);
  assert.not.match(short, /autobaud/);
  assert.match(long, /from 1 to 120 \(simmail's guard: a SIM7000 in autobaud mode/);
});

test.run();
