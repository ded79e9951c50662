// The firmware entry: settings from mc/config, the board's ports, then the alarm mailer.

import config from "mc/config";
import { AlarmApp } from "../app/alarm.ts";
import { createDevicePlatform } from "./platform.ts";
import { describeSettings, readSettings } from "./settings.ts";

const log = (text: string) => trace(`simmail: ${text}\n`);
const settings = readSettings(config as Record<string, unknown>);
for (const line of describeSettings(settings)) log(line);
const platform = createDevicePlatform(settings, log);
const app = new AlarmApp(settings.app, platform);
app.start().catch((error: unknown) => log(`stopped: ${error instanceof Error ? error.message : String(error)}`));
