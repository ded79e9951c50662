// Every result code the simulated SIM7000 produces, each from what really happened on the
// network: +SMTPSEND 61-68, +POP3IN 61-68, +POP3OUT 61/63/64/69.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";
import { deadPort, fakeServer, type FakeServer } from "../../kit/sim-support.ts";

const test = suite("sim: sim7000 result codes");

let servers: MailServers;
const fakes: FakeServer[] = [];

test.before(async () => {
  servers = await startMailServers();
});

test.after(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await servers.stop();
});

async function fake(greeting: string | null, answer: (line: string, index: number) => string | null): Promise<number> {
  return (await fakeWithLog(greeting, answer)).port;
}

async function fakeWithLog(greeting: string | null, answer: (line: string, index: number) => string | null): Promise<FakeServer> {
  const server = await fakeServer(greeting, answer);
  fakes.push(server);
  return server;
}

/** Server timeouts scaled by 0.01: EMAILTO=10 waits 100 ms, EMAILTO=120 (for the real servers) 1.2 s. */
function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({ echo: false, hosts: { "mail.simmail.test": "127.0.0.1" }, timeoutScale: 0.01, bearerDelayMs: 1, ...options });
}

async function ok(d: SimDriver, line: string): Promise<void> {
  assert.is(await d.command(line), "\r\nOK\r\n", line);
}

/** A complete mail to `to` through `server:port`; returns the +SMTPSEND code. */
async function send(d: SimDriver, port: number, options: { server?: string; auth?: string; to?: string; timeout?: number } = {}): Promise<number> {
  await ok(d, `AT+EMAILTO=${options.timeout ?? 120}`);
  await ok(d, `AT+SMTPSRV="${options.server ?? "mail.simmail.test"}",${port}`);
  await ok(d, options.auth ?? 'AT+SMTPAUTH=1,"alarm","alarm-secret"');
  await ok(d, 'AT+SMTPFROM="alarm@simmail.test"');
  await ok(d, `AT+SMTPRCPT=0,0,"${options.to ?? "bob@simmail.test"}"`);
  await ok(d, 'AT+SMTPSUB="codes"');
  d.send("AT+SMTPBODY=4\r");
  await d.expect("\r\nDOWNLOAD\r\n");
  d.send("body");
  await d.expect("\r\nOK\r\n");
  await ok(d, "AT+SMTPSEND");
  const urc = await d.waitFor(/\r\n\+SMTPSEND: \d+\r\n/, 5000);
  assert.is(urc, urc.match(/\r\n\+SMTPSEND: \d+\r\n/)![0], "nothing but the result after OK");
  return Number(/(\d+)\r\n$/.exec(urc)![1]);
}

/** AT+POP3SRV and AT+POP3IN; returns the +POP3IN code. */
async function login(d: SimDriver, port: number, options: { server?: string; user?: string; password?: string; timeout?: number } = {}): Promise<number> {
  await ok(d, `AT+EMAILTO=${options.timeout ?? 120}`);
  await ok(d, `AT+POP3SRV="${options.server ?? "mail.simmail.test"}","${options.user ?? "bob"}","${options.password ?? "bob-secret"}",${port}`);
  await ok(d, "AT+POP3IN");
  const urc = await d.waitFor(/\r\n\+POP3IN: \d+\r\n/, 5000);
  assert.is(urc, urc.match(/\r\n\+POP3IN: \d+\r\n/)![0]);
  return Number(/(\d+)\r\n$/.exec(urc)![1]);
}

test("+SMTPSEND: 1 when all goes well", async () => {
  const d = modem();
  try {
    assert.is(await send(d, servers.smtpPort), 1);
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 61 while the email bearer is down", async () => {
  const d = modem();
  try {
    await ok(d, "AT+EMAILCID=1");
    assert.is(await send(d, servers.smtpPort), 61, "bearer profile 1 was never opened");
    await ok(d, "AT+EMAILCID=0");
    d.sim.setNetwork({ pdnActive: false });
    assert.is(await send(d, servers.smtpPort), 61, "the default PDN is down");
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 62 for a name the modem cannot resolve", async () => {
  const d = modem();
  try {
    assert.is(await send(d, servers.smtpPort, { server: "smtp.nowhere.invalid" }), 62);
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 63 when nobody listens, or the server hangs up", async () => {
  const hangup = await fake("220 hello", (line) => (line.startsWith("EHLO") ? "CLOSE" : null));
  const d = modem();
  try {
    assert.is(await send(d, await deadPort(), { server: "127.0.0.1" }), 63);
    assert.is(await send(d, hangup, { server: "127.0.0.1" }), 63);
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 64 when the server stops answering within EMAILTO", async () => {
  const mute = await fake(null, () => null);
  const stalls = await fake("220 hello", (line) => (line.startsWith("EHLO") ? "250 ok" : null));
  const d = modem();
  try {
    const started = Date.now();
    assert.is(await send(d, mute, { timeout: 10 }), 64, "no greeting");
    assert.ok(Date.now() - started >= 100, "EMAILTO=10 scaled to 100 ms was waited for");
    assert.is(await send(d, stalls, { timeout: 10 }), 64, "no answer to MAIL FROM");
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 65 for other server errors", async () => {
  const refuses = await fake("554 no service here", () => null);
  const dataRefused = await fakeWithLog("220 hello", (line) => (line === "DATA" ? "451 try later" : line === "QUIT" ? "221 bye" : "250 ok"));
  const d = modem();
  try {
    assert.is(await send(d, refuses), 65);
    assert.is(await send(d, dataRefused.port), 65);
    // This server offers no AUTH: the modem goes on without it, every recipient then DATA.
    assert.equal(dataRefused.received[0], ["EHLO [10.89.193.100]", "MAIL FROM:<alarm@simmail.test>", "RCPT TO:<bob@simmail.test>", "DATA"]);
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 66 without authentication, 67 with a wrong password, 68 for a refused recipient", async () => {
  const d = modem();
  try {
    assert.is(await send(d, servers.smtpPort, { auth: "AT+SMTPAUTH=0" }), 66);
    assert.is(await send(d, servers.smtpPort, { auth: 'AT+SMTPAUTH=1,"alarm","wrong"' }), 67);
    assert.is(await send(d, servers.smtpPort, { auth: 'AT+SMTPAUTH=1,"nobody","x"' }), 67);
    assert.is(await send(d, servers.smtpPort, { to: "nobody@simmail.test" }), 68);
  } finally {
    d.close();
  }
});

test("+POP3IN: 1, then 61 with the bearer down, 62 unknown name, 63 nobody listening", async () => {
  const d = modem();
  try {
    assert.is(await login(d, servers.pop3Port), 1);
    await ok(d, "AT+POP3OUT");
    await d.expect("\r\n+POP3OUT: 1\r\n");
    await ok(d, "AT+EMAILCID=2");
    assert.is(await login(d, servers.pop3Port), 61);
    await ok(d, "AT+EMAILCID=0");
    assert.is(await login(d, servers.pop3Port, { server: "pop.nowhere.invalid" }), 62);
    assert.is(await login(d, await deadPort()), 63);
  } finally {
    d.close();
  }
});

test("+POP3IN: 64 silent server, 65 not a POP3 server, 66 logins refused", async () => {
  const mute = await fake(null, () => null);
  const busy = await fake("-ERR [SYS/TEMP] maintenance", () => null);
  const inUse = await fake("+OK hi", (line) => (line.startsWith("PASS") ? "-ERR [IN-USE] mailbox locked" : "+OK"));
  const d = modem();
  try {
    assert.is(await login(d, mute, { timeout: 10 }), 64);
    assert.is(await login(d, servers.smtpPort), 65, "the SMTP server's 220 greeting is not a POP3 answer");
    assert.is(await login(d, busy), 66);
    assert.is(await login(d, inUse), 66);
  } finally {
    d.close();
  }
});

test("+POP3IN: 67 for a refused user name, 68 for a wrong password", async () => {
  const strict = await fakeWithLog("+OK hi", (line) => (line.startsWith("USER") ? "-ERR unknown user" : "+OK"));
  const d = modem();
  try {
    assert.is(await login(d, strict.port), 67);
    assert.equal(strict.received[0], ["USER bob"], "no password after a refused user name");
    assert.is(await login(d, servers.pop3Port, { password: "wrong" }), 68, "Dovecot: USER +OK, PASS -ERR");
    assert.is(await login(d, servers.pop3Port, { user: "nobody" }), 68, "Dovecot does not tell unknown users apart");
  } finally {
    d.close();
  }
});

test("+POP3OUT: 61 when the bearer drops in a session", async () => {
  const d = modem();
  try {
    await ok(d, "AT+SAPBR=1,1");
    await ok(d, "AT+EMAILCID=1");
    assert.is(await login(d, servers.pop3Port), 1);
    d.sim.dropBearer(1);
    await d.expect("\r\n+SAPBR 1: DEACT\r\n\r\n+POP3OUT: 61\r\n");
    assert.is(await d.command("AT+POP3NUM"), "\r\nERROR\r\n", "the session is gone");
  } finally {
    d.close();
  }
});

test("+POP3OUT: 63 when the server hangs up, 64 when it stops answering", async () => {
  const hangsUp = await fake("+OK hi", (line) => (line === "STAT" ? "CLOSE" : "+OK"));
  const stalls = await fake("+OK hi", (line) => (line === "STAT" ? null : "+OK"));
  const quitIgnored = await fake("+OK hi", (line) => (line === "QUIT" ? null : "+OK 0 0"));
  const d = modem();
  try {
    for (const [port, code] of [[hangsUp, 63], [stalls, 64]]) {
      assert.is(await login(d, port, { timeout: 10 }), 1);
      await ok(d, "AT+POP3NUM");
      await d.expect(`\r\n+POP3OUT: ${code}\r\n`);
    }
    assert.is(await login(d, quitIgnored, { timeout: 10 }), 1);
    await ok(d, "AT+POP3OUT");
    await d.expect("\r\n+POP3OUT: 64\r\n", 2000);
  } finally {
    d.close();
  }
});

test("+POP3OUT: 65 when the server's answer is not POP3", async () => {
  const garbled = await fake("+OK hi", (line) => (line === "STAT" ? "250 what?" : "+OK"));
  const d = modem();
  try {
    assert.is(await login(d, garbled), 1);
    await ok(d, "AT+POP3NUM");
    await d.expect("\r\n+POP3OUT: 65\r\n");
  } finally {
    d.close();
  }
});

test("+POP3OUT: 64 when the server stalls in the middle of a multi-line answer", async () => {
  const stallsMidway = await fake("+OK hi", (line) => (line === "RETR 1" ? "+OK 500 octets\r\nSubject: partial\r\n\r\nhalf a mail" : "+OK"));
  const d = modem();
  try {
    assert.is(await login(d, stallsMidway, { timeout: 10 }), 1);
    await ok(d, "AT+POP3CMD=4,1");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    await d.expect("\r\n+POP3OUT: 64\r\n", 2000);
  } finally {
    d.close();
  }
});

test("+POP3OUT: 69 when answer data is left unread, after +POP3READ: 3 reminders", async () => {
  await servers.deliver("carol", "Subject: unread\r\n\r\nnobody reads this\r\n");
  const d = modem({ pop3: { reminderMs: 40, abandonMs: 150 } });
  try {
    assert.is(await login(d, servers.pop3Port, { user: "carol", password: "carol-secret" }), 1);
    await ok(d, "AT+POP3CMD=4,1");
    await d.expect("\r\n+POP3CMD: 1\r\n");
    const [mail] = await servers.messages("carol");
    const pending = mail.length + 3;
    const text = await d.waitFor("\r\n+POP3OUT: 69\r\n", 2000);
    const reminders = text.split(`\r\n+POP3READ: 3,${pending}\r\n`);
    assert.ok(reminders.length >= 3, `reminders before giving up: ${JSON.stringify(text)}`);
    assert.ok(reminders.every((part, i) => part === "" || i === reminders.length - 1), "only reminders before the result");
    assert.is(await d.command("AT+POP3READ=100"), "\r\nERROR\r\n", "the answer was dropped");
    assert.is(await d.command("AT"), "\r\nOK\r\n", "and the line is free again");
  } finally {
    d.close();
  }
});

test("+SMTPSEND: 61 when the bearer drops during a send", async () => {
  const d = modem();
  try {
    await ok(d, "AT+SAPBR=1,1");
    await ok(d, "AT+EMAILCID=1");
    await ok(d, `AT+SMTPSRV="mail.simmail.test",${servers.smtpPort}`);
    await ok(d, 'AT+SMTPAUTH=1,"alarm","alarm-secret"');
    await ok(d, 'AT+SMTPFROM="alarm@simmail.test"');
    await ok(d, 'AT+SMTPRCPT=0,0,"dave@simmail.test"');
    await ok(d, 'AT+SMTPFILE=1,"a.txt",0');
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    d.sim.dropBearer(1);
    await d.expect("\r\n+SAPBR 1: DEACT\r\n\r\n+SMTPSEND: 61\r\n");
    assert.is(await d.command("AT+SMTPFT=10"), "\r\nERROR\r\n", "no transfer any more");
    assert.equal(await servers.messages("dave"), [], "nothing was delivered");
  } finally {
    d.close();
  }
});

test.run();
