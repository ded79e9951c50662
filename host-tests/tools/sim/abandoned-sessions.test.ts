// Field behaviour (abandoned-sessions.ts): a session the host walked away from holds the modem
// for a while, then the modem ends it; a data phase left open keeps it deaf until it has its bytes.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { FIELD_SESSIONS, SPEC_SESSIONS } from "../../../sim/modem/abandoned-sessions.ts";
import { NodeSimModem } from "../../../sim/modem/node-modem.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";

const test = suite("sim: abandoned sessions and open data phases (field behaviour)");

let servers: MailServers;
test.before(async () => {
  servers = await startMailServers();
});
test.after(() => servers.stop());

function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({ echo: false, hosts: { "mail.simmail.test": "127.0.0.1" }, bearerDelayMs: 1, ...options });
}

async function ok(d: SimDriver, line: string): Promise<void> {
  assert.is(await d.command(line), "\r\nOK\r\n", line);
}

/** Settings of a mail with a text attachment, then AT+SMTPSEND up to the modem's `+SMTPFT: 1,<max>`. */
async function sendUntilAttachment(d: SimDriver, to: string): Promise<void> {
  await ok(d, "AT+SAPBR=1,1");
  await ok(d, "AT+EMAILCID=1");
  await ok(d, `AT+SMTPSRV="mail.simmail.test",${servers.smtpPort}`);
  await ok(d, 'AT+SMTPAUTH=1,"alarm","alarm-secret"');
  await ok(d, 'AT+SMTPFROM="alarm@simmail.test"');
  await ok(d, `AT+SMTPRCPT=0,0,"${to}"`);
  await ok(d, 'AT+SMTPSUB="held"');
  await ok(d, 'AT+SMTPFILE=1,"a.txt",0');
  await ok(d, "AT+SMTPSEND");
  await d.expect("\r\n+SMTPFT: 1,1360\r\n");
}

test("an abandoned send: AT+SMTPSEND answers ERROR until the modem gives the mail up (+SMTPSEND: 64), then a send works", async () => {
  const d = modem({ abandonedSessions: { smtpMs: 500 } });
  try {
    await sendUntilAttachment(d, "dave@simmail.test");
    // The host that started it is gone; a new one tries to send.
    assert.is(await d.command("AT+SMTPSEND"), "\r\nERROR\r\n", "the modem still holds the first mail");
    await d.expect("\r\n+SMTPSEND: 64\r\n", 3000);
    await ok(d, "AT+SMTPFILE=0");
    d.send("AT+SMTPBODY=2\r");
    await d.expect("\r\nDOWNLOAD\r\n");
    d.send("hi");
    await d.expect("\r\nOK\r\n");
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPSEND: 1\r\n", 5000);
    const mails = await servers.messages("dave");
    assert.is(mails.length, 1, "only the second mail was delivered");
  } finally {
    d.close();
  }
});

test("each AT+SMTPFT restarts the modem's patience: a slow host is not abandoned", async () => {
  const d = modem({ abandonedSessions: { smtpMs: 600 } });
  try {
    await sendUntilAttachment(d, "dave@simmail.test");
    for (let i = 0; i < 3; i++) {
      await d.quiet(400);
      d.send("AT+SMTPFT=3\r");
      await d.expect("\r\n+SMTPFT: 2,3\r\n");
      d.send("abc");
      await d.expect("\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n");
    }
    await ok(d, "AT+SMTPFT=0");
    await d.expect("\r\n+SMTPSEND: 1\r\n", 5000);
  } finally {
    d.close();
  }
});

test("the spec's modem (SPEC_SESSIONS, the default) holds an abandoned send for ever", async () => {
  const d = modem({ abandonedSessions: SPEC_SESSIONS });
  try {
    await sendUntilAttachment(d, "dave@simmail.test");
    await d.quiet(800);
    assert.is(await d.command("AT+SMTPSEND"), "\r\nERROR\r\n");
  } finally {
    d.close();
  }
});

test("an abandoned POP3 login: AT+POP3IN answers ERROR until the modem ends it (+POP3OUT: 64), then a login works", async () => {
  const d = modem({ abandonedSessions: { pop3Ms: 500 } });
  try {
    await ok(d, "AT+SAPBR=1,1");
    await ok(d, "AT+EMAILCID=1");
    await ok(d, `AT+POP3SRV="mail.simmail.test","bob","bob-secret",${servers.pop3Port}`);
    await ok(d, "AT+POP3IN");
    await d.expect("\r\n+POP3IN: 1\r\n", 5000);
    assert.is(await d.command("AT+POP3IN"), "\r\nERROR\r\n", "still logged in for the host that left");
    await d.expect("\r\n+POP3OUT: 64\r\n", 3000);
    await ok(d, "AT+POP3IN");
    await d.expect("\r\n+POP3IN: 1\r\n", 5000);
    await ok(d, "AT+POP3OUT");
    await d.expect("\r\n+POP3OUT: 1\r\n", 5000);
  } finally {
    d.close();
  }
});

test("a data phase left open (DOWNLOAD lost to noise): the modem takes every byte as body until it has them all", async () => {
  const d = modem();
  try {
    d.send("AT+SMTPBODY=10\r");
    await d.expect("\r\nDOWNLOAD\r\n");
    d.send("AT\r");
    await d.quiet(300); // deaf: "AT\r" is body text
    d.send("AT\rAT\r");
    await d.quiet(300);
    d.send("x");
    await d.expect("\r\nOK\r\n"); // the 10th byte ends the body
    await ok(d, "AT");
  } finally {
    d.close();
  }
});

test("the field profile holds abandoned sessions as field modems do; the spec's modem waits for ever", () => {
  const field = new NodeSimModem({ field: true });
  const spec = new NodeSimModem({});
  try {
    assert.equal(field.options.abandonedSessions, FIELD_SESSIONS);
    assert.equal(spec.options.abandonedSessions, SPEC_SESSIONS);
  } finally {
    field.close();
    spec.close();
  }
});

test.run();
