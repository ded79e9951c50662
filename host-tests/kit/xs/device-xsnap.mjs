// An xsnap worker built with the device's JavaScript stack: @agoric/xsnap's worker hard-codes
// 4096 stack slots, ten times what a Moddable app gets (manifest.json `creation.stack`), so a
// stack overflow that aborts the device would pass unseen. This builds the same worker from the
// package's own sources (installed by `npm ci`), with one change: the stack size is read from
// SIMMAIL_XS_STACK. Built once (about 40 s) into node_modules/.cache, rebuilt when the sources change.
//
//   node host-tests/kit/xs/device-xsnap.mjs     builds it if needed and prints its path
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const xsnapPackage = dirname(createRequire(import.meta.url).resolve("@agoric/xsnap/package.json"));
const WORKER_SOURCE = "xsnap-native/xsnap/sources/xsnap-worker.c";
const STACK_LINE = /^\t\t4096,\t+\/\* stackCount \*\/$/m;
const STACK_READER = `static int simmailStackCount(void)
{
\tconst char* slots = getenv("SIMMAIL_XS_STACK");
\treturn slots ? atoi(slots) : 4096;
}

int main(`;

/** The device's stack in slots: manifest.json `creation.stack`, else mcconfig's default (384). */
export function deviceStackSlots() {
  const manifest = JSON.parse(readFileSync(join(repo, "manifest.json"), "utf8"));
  return manifest.creation?.stack ?? 384;
}

function patchedWorkerSource() {
  const source = readFileSync(join(xsnapPackage, WORKER_SOURCE), "utf8");
  if (!STACK_LINE.test(source) || !source.includes("\nint main(")) {
    throw new Error(`device-xsnap: ${WORKER_SOURCE} of @agoric/xsnap no longer has the lines this patches (stackCount 4096, main)`);
  }
  return source.replace(STACK_LINE, "\t\tsimmailStackCount(),\t/* stackCount */").replace("\nint main(", `\n${STACK_READER}`);
}

/** Path of the worker binary, built first when missing. Throws with the compiler's output when the build fails. */
export function deviceXsnapWorker() {
  const source = patchedWorkerSource();
  const version = JSON.parse(readFileSync(join(xsnapPackage, "package.json"), "utf8")).version;
  const key = createHash("sha256").update(version).update(source).digest("hex").slice(0, 16);
  const home = join(repo, "node_modules", ".cache", "simmail-device-xsnap");
  const binary = join(home, key, "xsnap-worker");
  if (existsSync(binary)) return binary;

  const work = join(home, `build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(join(xsnapPackage, "xsnap-native", "xsnap", "sources"), join(work, "xsnap", "sources"), { recursive: true });
  cpSync(join(xsnapPackage, "xsnap-native", "xsnap", "makefiles"), join(work, "xsnap", "makefiles"), { recursive: true });
  writeFileSync(join(work, "xsnap", "sources", "xsnap-worker.c"), source);
  const make = spawnSync(
    "make",
    [`MODDABLE=${join(xsnapPackage, "moddable")}`, "GOAL=release", `XSNAP_VERSION=${version}`, 'CC=cc "-D__has_builtin(x)=1"', "-f", "xsnap-worker.mk"],
    { cwd: join(work, "xsnap", "makefiles", "lin"), encoding: "utf8" },
  );
  const built = join(work, "xsnap", "build", "bin", "lin", "release", "xsnap-worker");
  if (make.status !== 0 || !existsSync(built)) {
    throw new Error(`device-xsnap: building the worker failed (${make.error?.message ?? `make exit ${make.status}`}):\n${`${make.stdout}${make.stderr}`.split("\n").slice(-20).join("\n")}`);
  }
  mkdirSync(dirname(binary), { recursive: true });
  renameSync(built, binary);
  rmSync(work, { recursive: true, force: true });
  return binary;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(deviceXsnapWorker());
}
