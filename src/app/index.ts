// `simmail/app`: the alarm mailer (AlarmApp with its config and platform ports) and signed
// remote commands. Its bindings: `simmail/node` on Node, src/device on the Moddable device.
export { AlarmApp, type AlarmConfig, type AlarmPlatform, type AlarmStatus } from "./alarm.ts";
export { ALARM_DEFAULTS, checkAlarmConfig } from "./alarm-config.ts";
export type { ClockPort, Crypto, Deadline, DigitalInputPort, KeyValueStore, LogStore, StatusLed, TimerPort } from "./ports.ts";
export {
  CommandLedger, CommandVerifier, DEFAULT_WINDOW_SECONDS, REMOTE_COMMANDS, secretFromText, signCommandSubject,
  type CommandMail, type CommandVerdict, type RemoteCommand,
} from "./remote-command.ts";
