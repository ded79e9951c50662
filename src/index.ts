// The simmail core: transport, modem and mail layers. No Node or Moddable imports.
export * from "./transport/index.ts";
export * from "./modem/index.ts";
export * from "./mail/index.ts";
