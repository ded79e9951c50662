// The firmware entry: settings from mc/config, the board's ports, then the alarm mailer.
//
// The runtime calls the default export once the module has loaded. Start-up runs there, not
// in the module body: the module body's frame holds every top-level binding of the bundle
// (several hundred stack slots), and calling the app from inside it stacks the whole start-up
// on top of that frame.

import config from "mc/config";
import { AlarmApp } from "../app/alarm.ts";
import { createDevicePlatform } from "./platform.ts";
import { describeSettings, readSettings } from "./settings.ts";

const log = (text: string) => trace(`simmail: ${text}\n`);

export default function main(): void {
  try {
    start();
  } catch (error) {
    // A release build's abort shows no message: say what stopped the start-up first.
    log(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

function start(): void {
  const settings = readSettings(config as Record<string, unknown>);
  for (const line of describeSettings(settings)) log(line);
  const platform = createDevicePlatform(settings, log);
  const app = new AlarmApp(settings.app, platform);
  app.start().catch((error: unknown) => log(`stopped: ${error instanceof Error ? error.message : String(error)}`));
}
