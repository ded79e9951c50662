// `simmail/node`: the Node bindings of the core and the app (a serial port through
// `serialport`, timers, a clock, node:crypto, files for the app's flash).
export { HostSerial, SerialOpenError } from "./serial.ts";
export { nodeClock, nodeTimers } from "./timers.ts";
export { nodeCrypto } from "./crypto.ts";
export { FileKeyValueStore, FileLogStore } from "./storage.ts";
export { hostPlatform, SettableInput } from "./platform.ts";
