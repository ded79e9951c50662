// Evaluated before the firmware's modules in the bundle of lin-firmware.xs.test.ts: the device
// path of `config.modemDevice` exists (its far end is `modemEnd`) and the firmware's trace()
// lines are kept in `traces`, so that whatever the firmware's module body does, it meets the
// lin runtime as mcsim gives it.

import config from "mc/config";
import { runtime } from "./moddable-runtime.ts";

export const modemEnd = runtime.serial.create(String(config.modemDevice));
export const traces: string[] = [];
(globalThis as unknown as { trace: (text: string) => void }).trace = (text: string) => {
  traces.push(text.endsWith("\n") ? text.slice(0, -1) : text);
};
