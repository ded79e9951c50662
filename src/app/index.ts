// `simmail/app`: the alarm mailer (AlarmApp with its config and platform ports) and signed
// remote commands. Its bindings: `simmail/node` on Node, src/device on the Moddable device.
export { AlarmApp, type AlarmConfig, type AlarmStatus } from "./alarm.ts";
export { ALARM_DEFAULTS, checkAlarmConfig } from "./alarm-config.ts";
export type { AlarmPlatform, ClockPort, Crypto, Deadline, DigitalInputPort, KeyValueStore, LogStore, StatusLed, TimerPort } from "./ports.ts";
export { CommandLedger, DEFAULT_WINDOW_SECONDS } from "./command-ledger.ts";
export {
  CommandVerifier, REMOTE_COMMANDS, secretFromText, signCommandSubject,
  type CommandMail, type CommandVerdict, type RemoteCommand,
} from "./remote-command.ts";
