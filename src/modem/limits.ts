// The length limits of the email commands, as the modem's test commands report them.

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
