// Everything AlarmApp needs on the device, built from the settings (./settings.ts): the modem
// UART, timers and clock, flash storage, crypto, input pins, the status LED and PWRKEY.
// src/device/main.ts reads the settings from `mc/config`, calls this and starts the app.

import Digital from "embedded:io/digital";
import { Directory, File } from "file";
import type { AlarmPlatform } from "../app/alarm.ts";
import type { DigitalInputPort } from "../app/ports.ts";
import { deviceCrypto } from "./crypto.ts";
import { type DigitalClass, ModemControl, PinInput, PinOutput } from "./io.ts";
import { deviceClock, deviceTimers, openModemSerial } from "./ports.ts";
import type { DeviceSettings } from "./settings.ts";
import { type FileClass, FileKeyValueStore, FileLogStore } from "./storage.ts";

export interface DevicePlatform extends AlarmPlatform {
  modemControl: ModemControl;
  /** Releases the pins, the UART and the open files. */
  close(): void;
}

const OUTBOX_FILE = "outbox.log";

export function createDevicePlatform(settings: DeviceSettings, trace: (text: string) => void): DevicePlatform {
  const digital = Digital as unknown as DigitalClass;
  const files = File as unknown as FileClass;

  Directory.create(settings.storageDirectory.slice(0, -1)); // no trailing slash: not every file system takes one
  const log = new FileLogStore(files, settings.storageDirectory + OUTBOX_FILE);
  const store = new FileKeyValueStore(files, settings.storageDirectory);

  const inputs: Record<string, DigitalInputPort> = {};
  const pins: Array<{ close(): void }> = [];
  for (const input of settings.inputPins) {
    const port = new PinInput(digital, input.pin, input.pull);
    pins.push(port);
    inputs[input.name] = port;
  }
  const led = settings.led === null ? undefined : new PinOutput(digital, settings.led.pin, settings.led.activeLevel);
  if (led !== undefined) pins.push(led);
  const modemControl = new ModemControl(digital, deviceTimers, { powerKey: settings.powerKey, dtr: settings.dtr });

  const modem = openModemSerial(settings.serial);
  const platform: DevicePlatform = {
    serial: modem.serial,
    attachSerial: (engine) => modem.listen(engine),
    timers: deviceTimers,
    clock: deviceClock,
    log,
    store,
    crypto: deviceCrypto,
    inputs,
    trace,
    modemControl,
    close() {
      modem.close();
      modemControl.close();
      for (const pin of pins) pin.close();
      log.close();
    },
  };
  if (led !== undefined) platform.led = led;
  if (modemControl.hasPowerKey) platform.powerKey = () => modemControl.pressPowerKey();
  return platform;
}
