// `npm run device -- <mcconfig arguments>`: the device build in one step. Bundles the app
// (build/build.mjs; with --debug when mcconfig gets -d or -dn, so that xsbug shows the code), then
// runs the Moddable SDK's mcconfig on manifest.json with the arguments as given, e.g.
//   npm run device -- -m -p esp32:./boards/lilygo-t-sim7000g apn=internet
//   npm run device -- -d -m -p lin
// mcconfig never sees a bundle older than its sources this way. Exits with mcconfig's status;
// 2 with one line when the SDK is missing or the bundle fails.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);

const moddable = process.env.MODDABLE;
const host = { linux: "lin", darwin: "mac", win32: "win" }[process.platform];
const bin = moddable === undefined ? "" : join(moddable, "build", "bin", host ?? process.platform, "release");
if (moddable === undefined || !existsSync(join(bin, process.platform === "win32" ? "mcconfig.exe" : "mcconfig"))) {
  const why = moddable === undefined ? "MODDABLE is not set" : `${bin} has no mcconfig`;
  console.error(`device: ${why}: install the Moddable SDK and its tools (npx xs-dev setup, or Moddable's guide), then set MODDABLE to it`);
  process.exit(2);
}

const debug = args.includes("-d") || args.includes("-dn");
const bundle = spawnSync(process.execPath, [join(repo, "build", "build.mjs"), ...(debug ? ["--debug"] : [])], { stdio: "inherit" });
if (bundle.status !== 0) {
  console.error("device: the bundle did not build (above); mcconfig was not run");
  process.exit(2);
}

// mcconfig takes the manifest as its one non-option path; name ours unless one is given.
const hasManifest = args.some((arg) => arg.endsWith(".json"));
const mcconfig = spawnSync("mcconfig", hasManifest ? args : [...args, join(repo, "manifest.json")], {
  cwd: repo,
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}${process.platform === "win32" ? ";" : ":"}${process.env.PATH ?? ""}` },
});
process.exit(mcconfig.status ?? 1);
