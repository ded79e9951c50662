// The limits of the modem's commands: the email commands' lengths and ranges as their test
// commands report them (defaults: the SIM7000's), and the ranges of the commands the bring-up
// uses. The settings schema (src/app/settings-schema.ts) takes its modem ranges from here.

/** Length limits the modem reports from its test commands (defaults: the SIM7000's). */
export interface EmailLimits {
  cid: [number, number];
  timeout: [number, number];
  smtpServer: number;
  smtpUser: number;
  smtpPassword: number;
  senderAddress: number;
  senderName: number;
  recipientIndex: [number, number];
  recipientAddress: number;
  recipientName: number;
  subject: number;
  body: number;
  fileName: number;
  charset: number;
  pop3Server: number;
  pop3User: number;
  pop3Password: number;
  pop3Read: number;
}

export const DEFAULT_LIMITS: EmailLimits = {
  cid: [0, 3],
  timeout: [10, 120],
  smtpServer: 64,
  smtpUser: 64,
  smtpPassword: 64,
  senderAddress: 64,
  senderName: 64,
  recipientIndex: [0, 4],
  recipientAddress: 64,
  recipientName: 64,
  subject: 512,
  body: 5120,
  fileName: 64,
  charset: 16,
  pop3Server: 64,
  pop3User: 64,
  pop3Password: 64,
  pop3Read: 1460,
};

/** `<smtpPort>` of AT+SMTPSRV and `<pop3Port>` of AT+POP3SRV (spec 3.2.3, 3.2.13). */
export const PORT_RANGE: [number, number] = [1, 65_535];

/**
 * The general commands the bring-up uses, as the SIM7000 Series AT Command Manual gives them
 * (and the simulator answers their test commands): bearer profiles of AT+SAPBR and AT+CNTPCID,
 * AT+CNTP's time zone in quarter hours, and the span of AT+IPR's fixed rates.
 */
export const BRING_UP_LIMITS = {
  bearerProfiles: [1, 3] as [number, number],
  timezoneQuarters: [-47, 48] as [number, number],
  baud: [300, 4_000_000] as [number, number],
};
