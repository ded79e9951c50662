// The core for other Moddable apps (manifest_core.json; module "simmail"): transport, modem and
// mail, with the Moddable bindings that drive them (the modem's ECMA-419 serial, timers, ticks).
export * from "../index.ts";
export { deviceClock, deviceTimers, openModemSerial, type UartPins } from "./ports.ts";
