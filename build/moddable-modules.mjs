// Module names the Moddable SDK provides to an app: never bundled, left as imports for the
// manifest to resolve. `*` stands for any rest of the name.
export const MODDABLE_MODULES = [
  "embedded:*", "timer", "time", "mc/config", "mc/*", "file", "flash", "pins/*", "crypt", "crypt/*",
  "hmac", "rng", "instrumentation", "preference", "Resource", "debug/*", "base64", "hex",
];

/** Whether `specifier` is one of `patterns` (as in MODDABLE_MODULES). */
export function matchesModulePattern(specifier, patterns = MODDABLE_MODULES) {
  return patterns.some((pattern) =>
    pattern.endsWith("*") ? specifier.startsWith(pattern.slice(0, -1)) : specifier === pattern,
  );
}
