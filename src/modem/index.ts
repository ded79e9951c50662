export * from "./errors.ts";
export * from "./limits.ts";
export * from "./modem.ts";
export * from "./probe.ts";
