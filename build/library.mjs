// `npm run build:lib` (and `npm pack`, through prepack): the published library in dist/lib, ES
// modules with their declarations, for `simmail` (the core), `simmail/node` (the Node bindings)
// and `simmail/app` (the alarm mailer), and the CLI that bin/simmail runs from an installed
// package. tsc rewrites "./x.ts" imports to "./x.js" in the JavaScript it writes but not in
// declarations; this script does the same for them, so that a user's TypeScript resolves them.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/lib");
rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.lib.json")], { stdio: "inherit" });
if (tsc.status !== 0) {
  console.error("build:lib: tsc failed (above)");
  process.exit(1);
}

function declarations(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? declarations(path) : path.endsWith(".d.ts") ? [path] : [];
  });
}

let files = 0;
for (const file of declarations(out)) {
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*?)\.ts\2/g, "$1$2$3.js$2");
  if (rewritten !== text) writeFileSync(file, rewritten);
  files++;
}
console.log(`build:lib: dist/lib written (${files} declaration files)`);
