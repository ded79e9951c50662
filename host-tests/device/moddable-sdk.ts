// Where the Moddable SDK is for the tests that build manifest.json, and whether this machine
// has what building for lin and running mcsim take. The SDK is $MODDABLE, else
// ../shared/moddable beside the repo when that exists (the project's trimmed copy, see its
// README); without either the suites that need it skip, saying so in one line.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..");

export type SdkLocation =
  | { found: true; path: string; from: "MODDABLE" | "../shared/moddable"; bin: string }
  | { found: false; reason: string };

/** $MODDABLE, else ../shared/moddable relative to the repo root when it exists. */
export function locateModdable(env: NodeJS.ProcessEnv = process.env): SdkLocation {
  const fromEnv = env.MODDABLE;
  if (fromEnv !== undefined && fromEnv !== "") {
    const path = resolve(fromEnv);
    return { found: true, path, from: "MODDABLE", bin: join(path, "build/bin/lin/release") };
  }
  const beside = resolve(REPO, "..", "shared", "moddable");
  if (existsSync(beside)) return { found: true, path: beside, from: "../shared/moddable", bin: join(beside, "build/bin/lin/release") };
  return { found: false, reason: `MODDABLE is not set and ${beside} does not exist` };
}

/** The environment mcconfig and the tools it calls (xsc, xsl, mcrez) need. */
export function sdkEnv(sdk: { path: string; bin: string }): NodeJS.ProcessEnv {
  return { ...process.env, MODDABLE: sdk.path, PATH: `${sdk.bin}:${process.env.PATH ?? ""}` };
}

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * The Debian packages missing for building an app for lin (`mcconfig -m -p lin`) and, with
 * `mcsim`, for running it headless: each as "package (what is missing)". Empty when all is there.
 */
export function missingHostPackages(sdk: { bin: string }, options: { mcsim: boolean }): string[] {
  const missing: string[] = [];
  if (!onPath("cc")) missing.push("gcc (no cc)");
  if (!onPath("make")) missing.push("make");
  if (!onPath("pkg-config")) missing.push("pkg-config");
  else if (spawnSync("pkg-config", ["--exists", "gio-2.0"]).status !== 0) missing.push("libglib2.0-dev (pkg-config finds no gio-2.0)");
  if (!options.mcsim) return missing;
  if (!onPath("Xvfb")) missing.push("xvfb (no Xvfb)");
  if (!onPath("python3")) missing.push("python3 (the simulator's pty helper)");
  const mcsim = join(sdk.bin, "mcsim");
  if (!existsSync(mcsim)) {
    missing.push(`(not a package) ${mcsim} does not exist: build the SDK's lin tools`);
    return missing;
  }
  // mcsim links GTK 3; ldd names every shared library the loader cannot find.
  const ldd = spawnSync("ldd", [mcsim], { encoding: "utf8" });
  const unresolved = [...(ldd.stdout ?? "").matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
  if (unresolved.length > 0) missing.push(`libgtk-3-0 (mcsim cannot load ${unresolved.join(", ")})`);
  return missing;
}
