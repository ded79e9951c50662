// The firmware's SMTP and POP3 clients with transport security: the probe detects AT+EMAILSSL
// and AT+CSSLCFG, mail goes out over TLS and STARTTLS and comes back over POP3S and STLS
// through the simulated modem and the real servers, TLS failures name their cause, and
// requireSecureCredentials refuses before any command that carries the password.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { CollectSink } from "../kit/mail-io.ts";
import { createForeignCa, mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";
import { firmwareRig } from "../kit/firmware-rig.ts";
import {
  ClassicPop3Client, ClassicSmtpClient, InsecureCredentialsError, MailParameterError, Modem, Pop3Client,
  Pop3Error, probeEmail, SmtpClient, SmtpError, type MailMessage, type SmtpSettings,
} from "../../src/index.ts";

let servers: MailServers;
let foreign: { ca: string; remove(): Promise<void> };

function rig(options: SimOptions = {}) {
  const { clock, sim, engine, run, uart } = firmwareRig({ sim: { tls: { commands: true, ca: [servers.tls!.ca] }, ...options }, uart: { record: true } });
  /** Command lines the host sent, in order. */
  const sent = () => Buffer.concat(uart.transcript.filter((t) => t.dir === "tx").map((t) => Buffer.from(t.bytes))).toString("latin1").split("\r").filter((l) => l.startsWith("AT"));
  return { clock, sim, engine, run, sent, modem: new Modem(engine, clock) };
}

const message = (to: string, subject: string): MailMessage => ({
  from: { address: "alarm@simmail.test", name: "Pump house" },
  to: [{ address: `${to}@simmail.test`, name: to }],
  subject,
  body: `Über TLS gesendet: ${subject}.\r\n`,
});
const smtp = (port: number, settings: Partial<SmtpSettings> = {}): SmtpSettings => ({
  server: { host: "mail.simmail.test", port, user: "alarm", password: "alarm-secret" }, cid: 1, ...settings,
});
const pop3 = (port: number, user: string) => ({ host: "mail.simmail.test", port, user, password: `${user}-secret` });

const test = suite("tls: mail API over TLS through the simulator and real servers");

test.before(async () => {
  servers = await startMailServers({ tls: true, users: mailUsers(["alarm", "alice", "bob", "carol", "dave", "erin"]) });
  foreign = await createForeignCa();
});
test.after(async () => {
  await servers.stop();
  await foreign.remove();
});

test("probe: AT+EMAILSSL and AT+CSSLCFG detected (SIM7080 form), absent on a plain SIM7000 and the classic dialect", async () => {
  const withTls = rig();
  await withTls.run(withTls.modem.sync());
  const caps = await withTls.run(probeEmail(withTls.engine));
  assert.equal(caps.tls, { modes: [0, 2], contexts: [0, 5], sslConfig: true });
  assert.is(caps.answers.EMAILSSL, "(0-2),(0-5)");

  const plain = rig({ tls: { commands: false } });
  await plain.run(plain.modem.sync());
  const plainCaps = await plain.run(probeEmail(plain.engine));
  assert.is(plainCaps.tls, null);
  assert.is(plainCaps.limits.smtpServer, 64, "the limits are probed as before");

  const classic = rig({ dialect: "classic", tls: { commands: false } });
  await classic.run(classic.modem.sync());
  assert.is((await classic.run(probeEmail(classic.engine, "classic"))).tls, null);
});

test("send over implicit TLS (TLS 1.2, SNI) and STARTTLS: delivered and parsed; EMAILSSL and CSSLCFG come before SMTPAUTH", async () => {
  const { run, engine, modem, sent } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const client = new SmtpClient(engine);
  client.tls = (await run(probeEmail(engine))).tls;
  await run(client.send(smtp(servers.smtpsPort, { security: "tls", tlsVersion: "tls1.2", sni: "mail.simmail.test", sslContext: 1, requireSecureCredentials: true }), message("alice", "implicit")));
  await run(client.send(smtp(servers.smtpStarttlsPort, { security: "starttls", requireSecureCredentials: true }), message("alice", "starttls")));
  const [first, second] = await servers.waitForMessages("alice", 2, 10_000);
  const parsed = [await simpleParser(first), await simpleParser(second)];
  assert.equal(parsed.map((m) => m.subject), ["implicit", "starttls"]);
  assert.is(parsed[0].text, "Über TLS gesendet: implicit.\n");
  const tls = servers.envelopes.slice(-2).map((e) => e.tls);
  assert.equal(tls, [{ protocol: "TLSv1.2", servername: "mail.simmail.test" }, { protocol: "TLSv1.3", servername: "mail.simmail.test" }]);
  const lines = sent();
  const firstAuth = lines.findIndex((l) => l.startsWith("AT+SMTPAUTH=1"));
  const security = lines.slice(0, firstAuth).filter((l) => /^AT\+(EMAILSSL|CSSLCFG)=[^?]/.test(l));
  assert.equal(security, ['AT+CSSLCFG="sslversion",1,3', 'AT+CSSLCFG="sni",1,"mail.simmail.test"', "AT+EMAILSSL=1,1"]);
  assert.ok(lines.includes("AT+EMAILSSL=2,0"), "STARTTLS for the second mail");
});

test("read over POP3S and STLS: byte for byte what the maildir holds", async () => {
  const raw = Buffer.from("From: ops@simmail.test\r\nSubject: =?UTF-8?Q?R=C3=BCckmeldung?=\r\n\r\n.leading dot\r\nzweite Zeile\r\n", "latin1");
  await servers.deliver("bob", raw);
  const { run, engine, modem, clock } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const client = new Pop3Client(engine, clock);
  client.tls = (await run(probeEmail(engine))).tls;
  for (const [security, port] of [["tls", servers.pop3sPort], ["starttls", servers.pop3Port]] as const) {
    await run(client.login({ server: pop3(port, "bob"), cid: 1, security, requireSecureCredentials: true }));
    assert.equal(await run(client.stat()), { count: 1, size: raw.length }, security);
    const sink = new CollectSink();
    await run(client.retrieve(1, sink));
    assert.ok(sink.bytes.equals(raw), `${security}: byte for byte`);
    await run(client.logout());
  }
});

test("TLS failures: untrusted CA, wrong SNI, TLS 1.0 give code 63 with the TLS hint; nothing delivered", async () => {
  const before = servers.envelopes.length;
  const cases: Array<{ what: string; ca: string; settings: Partial<SmtpSettings> }> = [
    { what: "untrusted CA", ca: foreign.ca, settings: { security: "tls" } },
    { what: "wrong SNI", ca: servers.tls!.ca, settings: { security: "starttls", sni: "other.simmail.test" } },
    { what: "TLS 1.0", ca: servers.tls!.ca, settings: { security: "tls", tlsVersion: "tls1.0" } },
  ];
  for (const c of cases) {
    const { run, engine, modem } = rig({ tls: { commands: true, ca: [c.ca] } });
    await run(modem.sync());
    await run(modem.openBearer({ apn: "internet", cid: 1 }));
    const port = c.settings.security === "tls" ? servers.smtpsPort : servers.smtpStarttlsPort;
    const error = await run(new SmtpClient(engine).send(smtp(port, c.settings), message("carol", c.what))).catch((e: unknown) => e);
    assert.instance(error, SmtpError, c.what);
    assert.is((error as SmtpError).resultCode, 63, c.what);
    assert.match((error as SmtpError).message, /TLS handshake failed/, c.what);
  }
  const { run, engine, modem, clock } = rig({ tls: { commands: true, ca: [foreign.ca] } });
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const login = await run(new Pop3Client(engine, clock).login({ server: pop3(servers.pop3sPort, "carol"), cid: 1, security: "tls" })).catch((e: unknown) => e);
  assert.instance(login, Pop3Error);
  assert.is((login as Pop3Error).resultCode, 63);
  assert.match((login as Pop3Error).message, /TLS handshake failed/);
  assert.is(servers.envelopes.length, before);
});

test("requireSecureCredentials: refused with InsecureCredentialsError before any command carrying the password", async () => {
  const passwordCommands = /^AT\+(SMTPAUTH=1,|POP3SRV=")/;
  // Security "none": refused before a single AT command.
  {
    const { run, engine, modem, sent, clock } = rig();
    await run(modem.sync());
    const before = sent().length;
    const error = await run(new SmtpClient(engine).send(smtp(servers.smtpPort, { requireSecureCredentials: true }), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(error, InsecureCredentialsError);
    assert.is((error as InsecureCredentialsError).protocol, "smtp");
    assert.match((error as Error).message, /security is "none"/);
    const pop = await run(new Pop3Client(engine, clock).login({ server: pop3(servers.pop3Port, "dave"), requireSecureCredentials: true })).catch((e: unknown) => e);
    assert.instance(pop, InsecureCredentialsError);
    assert.is(sent().length, before, "no command was written");
  }
  // A broken TLS version does not count as secure: refused before a single AT command.
  for (const tlsVersion of ["ssl3.0", "tls1.0"] as const) {
    const { run, engine, modem, sent } = rig();
    await run(modem.sync());
    const before = sent().length;
    const error = await run(new SmtpClient(engine).send(smtp(servers.smtpsPort, { security: "tls", tlsVersion, requireSecureCredentials: true }), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(error, InsecureCredentialsError, tlsVersion);
    assert.match((error as Error).message, new RegExp(`TLS version "${tlsVersion}" is broken`));
    assert.is(sent().length, before, `no command was written (${tlsVersion})`);
  }
  // A probed modem without AT+EMAILSSL: refused up front too.
  {
    const { run, engine, modem, sent } = rig({ tls: { commands: false } });
    await run(modem.sync());
    const client = new SmtpClient(engine);
    client.tls = (await run(probeEmail(engine))).tls;
    const error = await run(client.send(smtp(servers.smtpsPort, { security: "tls", requireSecureCredentials: true }), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(error, InsecureCredentialsError);
    assert.match((error as Error).message, /no AT\+EMAILSSL/);
    // Without the switch the mistake is still named before anything is written.
    const plainError = await run(client.send(smtp(servers.smtpsPort, { security: "tls" }), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(plainError, MailParameterError);
    assert.not.ok(sent().some((l) => passwordCommands.test(l)));
  }
  // Not probed, and the firmware refuses AT+EMAILSSL: the refusal comes before SMTPAUTH / POP3SRV.
  {
    const { run, engine, modem, sent, clock } = rig({ tls: { commands: false } });
    await run(modem.sync());
    await run(modem.openBearer({ apn: "internet", cid: 1 }));
    const error = await run(new SmtpClient(engine).send(smtp(servers.smtpsPort, { security: "starttls", requireSecureCredentials: true }), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(error, InsecureCredentialsError);
    assert.match((error as Error).message, /ERROR to AT\+EMAILSSL=2/);
    const pop = await run(new Pop3Client(engine, clock).login({ server: pop3(servers.pop3sPort, "dave"), cid: 1, security: "tls", requireSecureCredentials: true })).catch((e: unknown) => e);
    assert.instance(pop, InsecureCredentialsError);
    assert.not.ok(sent().some((l) => passwordCommands.test(l)), "no password reached the modem");
  }
  // The classic dialect has no TLS: refused as well.
  {
    const { run, engine, modem, sent } = rig({ dialect: "classic", tls: { commands: false } });
    await run(modem.sync());
    const error = await run(new ClassicSmtpClient(engine).send({ server: smtp(servers.smtpPort).server, requireSecureCredentials: true }, { ...message("dave", "x"), body: "one line" })).catch((e: unknown) => e);
    assert.instance(error, InsecureCredentialsError);
    const pop = await run(new ClassicPop3Client(engine).login({ server: pop3(servers.pop3Port, "dave"), requireSecureCredentials: true })).catch((e: unknown) => e);
    assert.instance(pop, InsecureCredentialsError);
    const tls = await run(new ClassicPop3Client(engine).login({ server: pop3(servers.pop3Port, "dave"), security: "tls" })).catch((e: unknown) => e);
    assert.instance(tls, MailParameterError);
    assert.not.ok(sent().some((l) => passwordCommands.test(l)));
  }
});

test("bad security settings are refused before anything is written", async () => {
  const { run, engine, modem, sent } = rig();
  await run(modem.sync());
  const client = new SmtpClient(engine);
  client.tls = (await run(probeEmail(engine))).tls;
  const before = sent().length;
  const bad: Array<[Partial<SmtpSettings>, string]> = [
    [{ security: "ssl" as never }, "security"],
    [{ security: "tls", tlsVersion: "tls9" as never }, "TLS version"],
    [{ security: "tls", sni: "has space" }, "SNI"],
    [{ security: "tls", sni: 'quo"te' }, "SNI"],
    [{ security: "tls", sslContext: 6 }, "SSL context"],
    [{ sni: "mail.simmail.test" }, "SNI"],
  ];
  for (const [settings, field] of bad) {
    const error = await run(client.send(smtp(servers.smtpsPort, settings), message("dave", "x"))).catch((e: unknown) => e);
    assert.instance(error, MailParameterError, JSON.stringify(settings));
    assert.is((error as MailParameterError).field, field, JSON.stringify(settings));
  }
  assert.is(sent().length, before);
});

test("SIM800 form (no context index, no AT+CSSLCFG): AT+EMAILSSL=<n> alone; version, SNI, context and unknown modes refused", async () => {
  const { run, engine, modem, sent } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const client = new SmtpClient(engine);
  client.tls = { modes: [0, 2], contexts: null, sslConfig: false };
  await run(client.send(smtp(servers.smtpsPort, { security: "tls", requireSecureCredentials: true }), message("erin", "SIM800 form")));
  assert.is((await simpleParser((await servers.waitForMessages("erin", 1, 10_000))[0])).subject, "SIM800 form");
  assert.equal(sent().filter((l) => /^AT\+(EMAILSSL|CSSLCFG)/.test(l)), ["AT+EMAILSSL=1"]);
  const refused: Array<[Partial<SmtpSettings>, string, RegExp]> = [
    [{ security: "tls", tlsVersion: "tls1.2" }, "TLS version", /needs AT\+CSSLCFG/],
    [{ security: "tls", sni: "mail.simmail.test" }, "SNI", /needs AT\+CSSLCFG/],
    [{ security: "tls", sslContext: 1 }, "SSL context", /outside 0-5|no context index/],
  ];
  for (const [settings, field, problem] of refused) {
    const error = await run(client.send(smtp(servers.smtpsPort, settings), message("erin", "x"))).catch((e: unknown) => e);
    assert.instance(error, MailParameterError, field);
    assert.is((error as MailParameterError).field, field);
    assert.match((error as Error).message, problem);
  }
  client.tls = { modes: [0, 1], contexts: null, sslConfig: false };
  const starttls = await run(client.send(smtp(servers.smtpStarttlsPort, { security: "starttls" }), message("erin", "x"))).catch((e: unknown) => e);
  assert.instance(starttls, MailParameterError);
  assert.match((starttls as Error).message, /this modem takes 0-1/);
});

test("clear text after TLS: AT+EMAILSSL=0 is written again; a plain modem never sees AT+EMAILSSL", async () => {
  const { run, engine, modem, sent } = rig();
  await run(modem.sync());
  await run(modem.openBearer({ apn: "internet", cid: 1 }));
  const client = new SmtpClient(engine);
  await run(client.send(smtp(servers.smtpsPort, { security: "tls" }), message("erin", "tls first")));
  await run(client.send(smtp(servers.smtpPort), message("erin", "then clear text")));
  const clear = (await servers.waitForMessages("erin", 3, 10_000))[2];
  assert.is((await simpleParser(clear)).subject, "then clear text");
  assert.is(servers.envelopes.at(-1)!.tls, undefined, "clear text on the wire");
  assert.equal(sent().filter((l) => l.startsWith("AT+EMAILSSL")), ["AT+EMAILSSL=1,0", "AT+EMAILSSL=0,0"]);

  const plain = rig({ tls: { commands: false } });
  await plain.run(plain.modem.sync());
  await plain.run(plain.modem.openBearer({ apn: "internet", cid: 1 }));
  await plain.run(new SmtpClient(plain.engine).send(smtp(servers.smtpPort), message("erin", "plain modem")));
  assert.not.ok(plain.sent().some((l) => l.includes("EMAILSSL") || l.includes("CSSLCFG")));
});

test.run();
