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

/**
 * The longest AT+POP3READ the firmware asks for at each UART speed: [up to this baud, length],
 * the modem's own limit capping it. The ESP32 has a 128-byte RX FIFO and no flow control, and
 * the modem answers a read at line rate: past the FIFO, what XS has not taken in is lost. The
 * lengths are what the wire model (bench/wire.ts; `npm run bench`, BENCHMARKS.md's wire rows)
 * shows lose nothing at the device factor 50 with a quarter more than the retrieve path's
 * measured compute (about 21 units a byte), rounded down to 16. Above 921,600 baud the callback
 * latency alone overruns the FIFO: only a read whose whole answer (96 bytes and 25 of framing)
 * fits in it is safe, however fast the host. host-tests/unit/mail/paths.xs.test.ts checks
 * every step against the model.
 */
export const POP3_READ_BY_BAUD: ReadonlyArray<readonly [upToBaud: number, length: number]> = [
  [230_400, DEFAULT_LIMITS.pop3Read],
  [460_800, 1_072],
  [921_600, 192],
  [Number.POSITIVE_INFINITY, 96],
];

/** The AT+POP3READ length at `baud` (POP3_READ_BY_BAUD), at most `modemMax` (the probe's). */
export function pop3ReadLength(baud: number, modemMax: number): number {
  let length = 0;
  for (const [upTo, rowLength] of POP3_READ_BY_BAUD) {
    if (baud <= upTo) {
      length = rowLength;
      break;
    }
  }
  return length < modemMax ? length : modemMax;
}

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
