// The simulator's TLS commands (AT+EMAILSSL, AT+CSSLCFG) and its real TLS sessions with the
// test servers: SMTP over implicit TLS and STARTTLS, POP3 over implicit TLS and STLS, the
// certificate checked against the modem's CAs and the SNI name, the TLS version honoured.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { createForeignCa, startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";

const test = suite("tls: simulator AT+EMAILSSL / AT+CSSLCFG with real TLS");

let servers: MailServers;
let foreign: { ca: string; remove(): Promise<void> };

test.before(async () => {
  servers = await startMailServers({ tls: true });
  foreign = await createForeignCa();
});

test.after(async () => {
  await servers.stop();
  await foreign.remove();
});

const HOSTS = { "mail.simmail.test": "127.0.0.1", "wrong.example": "127.0.0.1" };

function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({ echo: false, hosts: HOSTS, tls: { commands: true, ca: [servers.tls!.ca] }, ...options });
}

async function ok(d: SimDriver, line: string): Promise<void> {
  assert.is(await d.command(line), "\r\nOK\r\n", line);
}

/** A one-line mail from alarm to `to`; resolves with the +SMTPSEND code. */
async function send(d: SimDriver, port: number, to: string, subject: string): Promise<number> {
  await ok(d, `AT+SMTPSRV="mail.simmail.test",${port}`);
  await ok(d, `AT+SMTPAUTH=1,"alarm","alarm-secret"`);
  await ok(d, `AT+SMTPFROM="alarm@simmail.test","Alarm"`);
  await ok(d, `AT+SMTPRCPT=0,0,"${to}@simmail.test","${to}"`);
  await ok(d, `AT+SMTPSUB="${subject}"`);
  const body = `Sent over ${subject}.\r\n`;
  d.send(`AT+SMTPBODY=${body.length}\r`);
  await d.expect("\r\nDOWNLOAD\r\n");
  d.send(body);
  await d.expect("\r\nOK\r\n");
  await ok(d, "AT+SMTPSEND");
  const result = await d.waitFor(/\r\n\+SMTPSEND: \d+\r\n/, 10_000);
  return Number(/\+SMTPSEND: (\d+)/.exec(result)![1]);
}

/** POP3 login; resolves with the +POP3IN code. */
async function login(d: SimDriver, port: number, user: string): Promise<number> {
  await ok(d, `AT+POP3SRV="mail.simmail.test","${user}","${user}-secret",${port}`);
  await ok(d, "AT+POP3IN");
  const result = await d.waitFor(/\r\n\+POP3IN: \d+\r\n/, 10_000);
  return Number(/\+POP3IN: (\d+)/.exec(result)![1]);
}

/** After a login: RETR 1 through AT+POP3CMD=4,1 / AT+POP3READ, then AT+POP3OUT. */
async function retrieveFirst(d: SimDriver): Promise<Buffer> {
  await ok(d, "AT+POP3CMD=4,1");
  await d.expect("\r\n+POP3CMD: 1\r\n");
  let data = "";
  for (;;) {
    d.send("AT+POP3READ=1460\r");
    const head = await d.waitFor(/\r\n\+POP3READ: ([12]),(\d+)\r\n/);
    const [, status, length] = /\+POP3READ: ([12]),(\d+)/.exec(head)!;
    const body = await d.waitFor("\r\nOK\r\n");
    data += body.slice(0, -6);
    if (status === "2") break;
    if (Number(length) < 1460) await d.waitFor(/^\r\n\+POP3READ: 3,\d+\r\n/);
  }
  await ok(d, "AT+POP3OUT");
  await d.expect("\r\n+POP3OUT: 1\r\n");
  return Buffer.from(data, "latin1");
}

test("command forms: test, read, write, defaults, range errors; reset forgets them", async () => {
  const d = modem();
  try {
    assert.is(await d.command("AT+EMAILSSL=?"), "\r\n+EMAILSSL: (0-2),(0-5)\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+EMAILSSL?"), "\r\n+EMAILSSL: 0,0\r\n\r\nOK\r\n");
    await ok(d, "AT+EMAILSSL=2,3");
    assert.is(await d.command("AT+EMAILSSL?"), "\r\n+EMAILSSL: 2,3\r\n\r\nOK\r\n");
    await ok(d, "AT+EMAILSSL=1"); // SIM800 form: context 0
    assert.is(await d.command("AT+EMAILSSL?"), "\r\n+EMAILSSL: 1,0\r\n\r\nOK\r\n");
    for (const bad of ["AT+EMAILSSL=3", "AT+EMAILSSL=1,6", "AT+EMAILSSL=1,0,0", "AT+EMAILSSL", "AT+EMAILSSL=\"1\""]) {
      assert.is(await d.command(bad), "\r\nERROR\r\n", bad);
    }
    assert.is(await d.command("AT+CSSLCFG=?"), '\r\n+CSSLCFG: "sslversion",(0-5),(0-4)\r\n+CSSLCFG: "sni",(0-5),64\r\n\r\nOK\r\n');
    await ok(d, 'AT+CSSLCFG="sslversion",1,3');
    await ok(d, 'AT+CSSLCFG="SNI",1,"mail.simmail.test"');
    const listing = await d.command("AT+CSSLCFG?");
    assert.is(listing, `\r\n${[0, 1, 2, 3, 4, 5].map((i) => (i === 1 ? '+CSSLCFG: 1,3,"mail.simmail.test"' : `+CSSLCFG: ${i},4,""`)).join("\r\n")}\r\n\r\nOK\r\n`);
    for (const bad of ['AT+CSSLCFG="sslversion",0,5', 'AT+CSSLCFG="sslversion",6,3', 'AT+CSSLCFG="sni",0,"has space"',
      `AT+CSSLCFG="sni",0,"${"a".repeat(65)}"`, 'AT+CSSLCFG="ciphersuite",0,1', 'AT+CSSLCFG="sni",0']) {
      assert.is(await d.command(bad), "\r\nERROR\r\n", bad);
    }
    d.sim.reset();
    await d.waitFor("SMS Ready\r\n");
    await ok(d, "ATE0");
    assert.is(await d.command("AT+EMAILSSL?"), "\r\n+EMAILSSL: 0,0\r\n\r\nOK\r\n");
    assert.match(await d.command("AT+CSSLCFG?"), /^\r\n\+CSSLCFG: 0,4,""\r\n\+CSSLCFG: 1,4,""\r\n/);
  } finally {
    d.sim.close();
  }
});

test("a plain SIM7000 firmware (the default) and the classic dialect have neither command", async () => {
  for (const options of [{ tls: undefined }, { dialect: "classic" as const, tls: undefined }]) {
    const d = modem(options);
    try {
      for (const line of ["AT+EMAILSSL=?", "AT+EMAILSSL=1", "AT+CSSLCFG=?", 'AT+CSSLCFG="sni",0,"x"']) {
        assert.is(await d.command(line), "\r\nERROR\r\n", `${options.dialect ?? "sim7000"}: ${line}`);
      }
    } finally {
      d.sim.close();
    }
  }
});

test("SMTP over implicit TLS and over STARTTLS: delivered, with the TLS version and SNI asked for", async () => {
  const d = modem();
  try {
    await ok(d, "AT+EMAILSSL=1,2");
    await ok(d, 'AT+CSSLCFG="sslversion",2,3');
    await ok(d, 'AT+CSSLCFG="sni",2,"mail.simmail.test"');
    assert.is(await send(d, servers.smtpsPort, "alice", "implicit TLS"), 1);
    await ok(d, "AT+EMAILSSL=2,0");
    assert.is(await send(d, servers.smtpStarttlsPort, "alice", "STARTTLS"), 1);
    const [first, second] = await servers.waitForMessages("alice", 2);
    assert.is((await simpleParser(first)).subject, "implicit TLS");
    assert.is((await simpleParser(second)).text, "Sent over STARTTLS.\n");
    const [implicit, upgraded] = servers.envelopes.slice(-2);
    assert.equal(implicit.tls, { protocol: "TLSv1.2", servername: "mail.simmail.test" });
    assert.is(implicit.authUser, "alarm");
    // Context 0: every version, and the SNI is the server name of AT+SMTPSRV.
    assert.equal(upgraded.tls, { protocol: "TLSv1.3", servername: "mail.simmail.test" });
  } finally {
    d.sim.close();
  }
});

test("SMTP failures: wrong SNI, untrusted or no CA, TLS 1.0, TLS to a clear-text port give 63; no STARTTLS gives 65", async () => {
  const cases: Array<{ what: string; ca: string[]; setup: string[]; port: () => number; code: number }> = [
    { what: "SNI not in the certificate", ca: [servers.tls!.ca], setup: ['AT+CSSLCFG="sni",0,"wrong.example"', "AT+EMAILSSL=1"], port: () => servers.smtpsPort, code: 63 },
    { what: "certificate from a CA the modem does not trust", ca: [foreign.ca], setup: ["AT+EMAILSSL=1"], port: () => servers.smtpsPort, code: 63 },
    { what: "no CA loaded", ca: [], setup: ["AT+EMAILSSL=2"], port: () => servers.smtpStarttlsPort, code: 63 },
    { what: "TLS 1.0 against a TLS 1.2+ server", ca: [servers.tls!.ca], setup: ['AT+CSSLCFG="sslversion",0,1', "AT+EMAILSSL=1"], port: () => servers.smtpsPort, code: 63 },
    { what: "SSL 3.0", ca: [servers.tls!.ca], setup: ['AT+CSSLCFG="sslversion",0,0', "AT+EMAILSSL=2"], port: () => servers.smtpStarttlsPort, code: 63 },
    { what: "implicit TLS to a clear-text port", ca: [servers.tls!.ca], setup: ["AT+EMAILSSL=1"], port: () => servers.smtpPort, code: 63 },
    { what: "STARTTLS to a server without it", ca: [servers.tls!.ca], setup: ["AT+EMAILSSL=2"], port: () => servers.smtpPort, code: 65 },
    // That server refuses AUTH before STARTTLS (538): refused before any credential is sent.
    { what: "clear text to the STARTTLS-only-AUTH port", ca: [servers.tls!.ca], setup: ["AT+EMAILSSL=0"], port: () => servers.smtpStarttlsPort, code: 67 },
  ];
  const before = servers.envelopes.length;
  for (const c of cases) {
    const trace: string[] = [];
    const d = modem({ tls: { commands: true, ca: c.ca }, trace: (line) => trace.push(line) });
    try {
      for (const line of c.setup) await ok(d, line);
      assert.is(await send(d, c.port(), "bob", c.what), c.code, c.what);
      assert.not.ok(trace.some((line) => line.includes("> <user>") || line.includes("> AUTH PLAIN")), `${c.what}: no credentials on the wire`);
    } finally {
      d.sim.close();
    }
  }
  assert.is(servers.envelopes.length, before, "nothing was delivered");
});

test("POP3 over implicit TLS and over STLS: the mail comes back byte for byte", async () => {
  const raw = Buffer.from("From: a@simmail.test\r\nSubject: over TLS\r\n\r\nline one\r\n.dot line\r\n", "latin1");
  await servers.deliver("carol", raw);
  const d = modem();
  try {
    await ok(d, "AT+EMAILSSL=1");
    assert.is(await login(d, servers.pop3sPort, "carol"), 1);
    const implicit = await retrieveFirst(d);
    assert.ok(implicit.equals(Buffer.concat([raw.subarray(0, raw.indexOf(".dot")), Buffer.from(".."), raw.subarray(raw.indexOf(".dot") + 1), Buffer.from(".\r\n")])), "dot-stuffed RETR answer");
    await ok(d, "AT+EMAILSSL=2");
    assert.is(await login(d, servers.pop3Port, "carol"), 1);
    assert.ok((await retrieveFirst(d)).equals(implicit), "the same bytes over STLS");
  } finally {
    d.sim.close();
  }
});

test("POP3 failures: wrong SNI and untrusted CA give +POP3IN: 63, implicit TLS to the clear-text port too", async () => {
  const cases: Array<{ what: string; ca: string[]; setup: string[]; port: () => number }> = [
    { what: "SNI not in the certificate", ca: [servers.tls!.ca], setup: ['AT+CSSLCFG="sni",0,"wrong.example"', "AT+EMAILSSL=2"], port: () => servers.pop3Port },
    { what: "untrusted CA", ca: [foreign.ca], setup: ["AT+EMAILSSL=1"], port: () => servers.pop3sPort },
    { what: "implicit TLS to the clear-text port", ca: [servers.tls!.ca], setup: ["AT+EMAILSSL=1"], port: () => servers.pop3Port },
  ];
  for (const c of cases) {
    const d = modem({ tls: { commands: true, ca: c.ca } });
    try {
      for (const line of c.setup) await ok(d, line);
      assert.is(await login(d, c.port(), "dave"), 63, c.what);
      assert.is(await d.command("AT+POP3NUM"), "\r\nERROR\r\n", `${c.what}: not logged in`);
    } finally {
      d.sim.close();
    }
  }
});

test.run();
