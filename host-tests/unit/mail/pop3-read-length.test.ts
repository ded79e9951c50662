// The firmware sizes each AT+POP3READ to the UART speed (pop3ReadLength, src/modem/limits.ts):
// the rule itself, and that the dialect the app and the CLI open asks for that length.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { AtEngine, DEFAULT_LIMITS, Modem, openMailDialect, pop3ReadLength, POP3_READ_BY_BAUD } from "../../../src/index.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";
import { CollectSink } from "../../kit/mail-io.ts";

const test = suite("mail: POP3 read length by baud rate");

test("the modem's own limit up to 230,400 baud, shorter reads above, never more than the modem takes", () => {
  assert.is(pop3ReadLength(115_200, 1460), 1460);
  assert.is(pop3ReadLength(230_400, 1460), 1460);
  assert.is(pop3ReadLength(460_800, 1460), 1072);
  assert.is(pop3ReadLength(921_600, 1460), 192);
  assert.is(pop3ReadLength(921_601, 1460), 96);
  assert.is(pop3ReadLength(4_000_000, 1460), 96);
  assert.is(pop3ReadLength(115_200, 512), 512, "a modem that reads less caps it");
  assert.is(pop3ReadLength(921_600, 100), 100);
  // Faster rates never read more.
  for (let i = 1; i < POP3_READ_BY_BAUD.length; i++) assert.ok(POP3_READ_BY_BAUD[i][1] < POP3_READ_BY_BAUD[i - 1][1]);
});

test("the SIM7000 dialect's mailbox reads with the length for the baud rate it was opened with", async () => {
  for (const [baud, length] of [[115_200, 1460], [921_600, 192], [3_000_000, 96]] as const) {
    const clock = new VirtualClock();
    const serial = new FeedSerial({ record: true });
    const engine = new AtEngine({ serial, timers: clock, syncOnStart: false });
    serial.engine = engine;
    const capabilities = { dialect: "sim7000" as const, detected: true, limits: { ...DEFAULT_LIMITS }, tls: null, answers: {} };
    const mail = openMailDialect(capabilities, new Modem(engine, clock), clock, baud);
    const sink = new CollectSink();
    const read = mail.mailbox.headers(1, sink);
    await clock.advanceAsync(10);
    assert.ok(serial.sent().endsWith("AT+POP3CMD=3,1,0\r"), serial.sent());
    serial.feed("\r\nOK\r\n\r\n+POP3CMD: 1\r\n");
    await clock.advanceAsync(10);
    assert.ok(serial.sent().endsWith(`AT+POP3READ=${length}\r`), `${baud} baud: ${JSON.stringify(serial.sent().slice(-24))}`);
    serial.feed("\r\n+POP3READ: 2,17\r\nSubject: x\r\n\r\n.\r\n\r\nOK\r\n");
    await read;
    assert.is(Buffer.from(sink.bytes).toString(), "Subject: x\r\n\r\n");
    engine.close();
  }
});

test.run();
