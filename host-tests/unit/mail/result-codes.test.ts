// Every SMTP and POP3 result code of the spec reaches the caller as its typed error, with the
// code and the spec's meaning. A responder answers OK to settings and the chosen code to the
// exchange under test.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";
import {
  AtEngine, POP3_CODES, Pop3Client, Pop3Error, SMTP_CODES, SmtpClient, SmtpError,
} from "../../../src/index.ts";

/** Answers each command line: `reply(line)` gives the modem's bytes (default "\r\nOK\r\n"). */
class Responder extends FeedSerial {
  private line = "";
  constructor(private readonly reply: (line: string) => string | null) {
    super();
  }
  override write(data: Uint8Array): boolean {
    for (const b of data) {
      if (b !== 13) {
        this.line += String.fromCharCode(b);
        continue;
      }
      const answer = this.reply(this.line) ?? "\r\nOK\r\n";
      this.line = "";
      Promise.resolve().then(() => this.feed(answer));
    }
    return true;
  }
}

function client(reply: (line: string) => string | null) {
  const clock = new VirtualClock();
  const serial = new Responder(reply);
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false, initialWritable: 1 << 30 });
  serial.engine = engine;
  return { engine, clock };
}

const message = { from: { address: "alarm@simmail.test" }, to: [{ address: "ops@simmail.test" }], subject: "s", body: "b" };
const server = { host: "mail.simmail.test", port: 25, user: "alarm", password: "pw" };

const codes = suite("mail: result codes to typed errors");

for (const code of Object.keys(SMTP_CODES).map(Number).filter((c) => c !== 1)) {
  codes(`+SMTPSEND: ${code} → SmtpError ${code} (${SMTP_CODES[code]})`, async () => {
    const { engine } = client((line) => (line === "AT+SMTPSEND" ? `\r\nOK\r\n\r\n+SMTPSEND: ${code}\r\n` : null));
    let error: unknown = null;
    try {
      await new SmtpClient(engine).send({ server }, message);
    } catch (e) {
      error = e;
    }
    assert.instance(error, SmtpError);
    assert.is((error as SmtpError).resultCode, code);
    assert.is((error as SmtpError).meaning, SMTP_CODES[code]);
    assert.is((error as Error).message, `SMTP failed: ${code} ${SMTP_CODES[code]}`);
  });
}

codes("a failure inside the SMTPFT loop ends the send with its code", async () => {
  const { engine } = client((line) => {
    if (line === "AT+SMTPSEND") return "\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n";
    if (line.startsWith("AT+SMTPFT=")) return "\r\n+SMTPSEND: 64\r\n\r\nERROR\r\n";
    return null;
  });
  const source = { size: 10, position: 0, read(out: Uint8Array, o: number, max: number) { const n = Math.min(max, this.size - this.position); out.fill(65, o, o + n); this.position += n; return n; }, rewind() { this.position = 0; } };
  let error: unknown = null;
  try {
    await new SmtpClient(engine).send({ server }, { ...message, attachment: { name: "a.bin", source } });
  } catch (e) {
    error = e;
  }
  assert.instance(error, SmtpError);
  assert.is((error as SmtpError).resultCode, 64);
});

for (const code of Object.keys(POP3_CODES).map(Number).filter((c) => c !== 1)) {
  codes(`+POP3IN: ${code} → Pop3Error ${code} (${POP3_CODES[code]})`, async () => {
    const { engine, clock } = client((line) => (line === "AT+POP3IN" ? `\r\nOK\r\n\r\n+POP3IN: ${code}\r\n` : null));
    let error: unknown = null;
    try {
      await new Pop3Client(engine, clock).login({ server: { ...server, port: 110 } });
    } catch (e) {
      error = e;
    }
    assert.instance(error, Pop3Error);
    assert.is((error as Pop3Error).resultCode, code);
    assert.is((error as Error).message, `POP3 failed: ${code} ${POP3_CODES[code]}`);
  });
}

for (const code of [61, 62, 63, 64, 69]) {
  codes(`+POP3OUT: ${code} in the middle of a session → Pop3Error ${code}, logged out`, async () => {
    const { engine, clock } = client((line) => {
      if (line === "AT+POP3IN") return "\r\nOK\r\n\r\n+POP3IN: 1\r\n";
      if (line === "AT+POP3NUM") return `\r\nOK\r\n\r\n+POP3OUT: ${code}\r\n`;
      return null;
    });
    const pop3 = new Pop3Client(engine, clock);
    await pop3.login({ server: { ...server, port: 110 } });
    let error: unknown = null;
    try {
      await pop3.stat();
    } catch (e) {
      error = e;
    }
    assert.instance(error, Pop3Error);
    assert.is((error as Pop3Error).resultCode, code);
    assert.not.ok(pop3.loggedIn);
  });
}

codes.run();
