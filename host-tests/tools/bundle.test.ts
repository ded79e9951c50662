// The mail readers are product code: the build reports which codec modules each bundle holds
// (stdout and dist/sizes.json), and the device app leaves out those it does not use, the
// part walker first, while the core for other apps has them all.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../kit/cli-process.ts";

const test = suite("codec/bundle: which readers each bundle holds");

interface Size {
  name: string;
  codec: string[];
}

test("the device app has the header reader but not the part walker, body reader or quoted-printable; the report says so", () => {
  const build = spawnSync(process.execPath, [join(ROOT, "build/build.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.is(build.status, 0, build.stderr);
  const sizes = JSON.parse(readFileSync(join(ROOT, "dist/sizes.json"), "utf8")) as Size[];
  const codec = (name: string) => sizes.find((size) => size.name === name)!.codec;
  const modules = readdirSync(join(ROOT, "src/mail/codec")).filter((file) => file.endsWith(".ts") && file !== "index.ts").map((file) => file.slice(0, -3)).sort();
  assert.equal(codec("core for XS (IIFE)"), modules, "the core exports every codec module");
  assert.equal(codec("core for Moddable apps (ESM)"), modules);
  const device = codec("device app (ESM)");
  for (const used of ["header-reader", "rfc2047", "address", "charset", "content-type", "utf8"]) assert.ok(device.includes(used), `the device app reads headers: ${used}`);
  for (const unused of ["part-walker", "delimiters", "mime-part", "transfer-decoder", "body-reader", "message-reader", "quoted-printable"]) assert.not.ok(device.includes(unused), `the device app has no ${unused}`);
  assert.match(build.stdout, /^device app \(ESM\): codec modules address, base64, .*header-reader.*; left out: body-reader, delimiters, message-reader, mime-part, part-walker, quoted-printable, transfer-decoder$/m);
  // Independently of the report: the walker's own text is in the core's bundle, not the device's.
  const walkerText = "a multipart nested deeper than";
  assert.ok(readFileSync(join(ROOT, "dist/xs/simmail-core.js"), "utf8").includes(walkerText));
  assert.not.ok(readFileSync(join(ROOT, "dist/device/main.js"), "utf8").includes(walkerText));
});

test.run();
