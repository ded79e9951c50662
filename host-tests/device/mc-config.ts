// mc/config as mcconfig builds it from the repo's manifest.json and a board (`-p esp32:./boards/<board>`):
// included manifests first (the file module's root, the board's subplatform manifest), then the manifest's config, then
// its platform's, then `key=value` arguments (always strings).

import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
export const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));

/** The `config` of the board's subplatform manifest, boards/<board>/manifest.json. */
export function preset(board: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, "boards", board, "manifest.json"), "utf8")).config;
}

export function mcConfig(platform: "esp32" | "lin", overrides: Record<string, unknown> = {}, board = "lilygo-t-sim7000g"): Record<string, unknown> {
  const included = platform === "esp32" ? { file: { root: "/" }, ...preset(board) } : { file: { root: "/tmp/" } };
  return { ...included, ...manifest.config, ...(manifest.platforms[platform === "esp32" ? "esp32/*" : "lin"].config ?? {}), ...overrides };
}

/** The keys that switch remote commands on, with valid values. */
export const COMMANDS = {
  pop3Host: "pop.example.net",
  pop3User: "alarm",
  pop3Password: "pop-password-42",
  commandAllowlist: "ops@example.net, boss@example.net",
  commandSecret: "0123456789abcdef0123456789abcdef",
};
