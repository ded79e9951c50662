// The firmware's classic clients on a strict reading of the application note (issue #18),
// against the simulator in classic mode and real servers: the probe telling the dialects
// apart, the note's longest subject and body, limits checked before the first byte, mail text
// that looks like results, failure results followed by ERROR, attachments from a folder.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { firmwareRig } from "../kit/firmware-rig.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";
import { seededBytes } from "../kit/sim-support.ts";
import { CollectSink } from "../kit/mail-io.ts";
import { allocationsDuring } from "../kit/allocations.ts";
import {
  AtCommandError, ClassicPop3Client, ClassicSmtpClient, CLASSIC_LIMITS, Line, MailError, MailParameterError, Modem,
  NoEmailSupportError, openClassicBearer, Pop3Error, probeEmail, SmtpError, Verdict, type MailMessage,
} from "../../src/index.ts";
import { TextOutputCommand } from "../../src/mail/classic-text.ts";

const test = suite("mail: the classic dialect on the application note's strict reading");

let servers: MailServers;
const USERS = ["long", "look", "pics", "errs"];

test.before(async () => {
  servers = await startMailServers({ users: USERS.map((name) => ({ name, password: `${name}-pw`, address: `${name}@simmail.test` })) });
});

test.after(async () => {
  await servers.stop();
});

/** A classic modem, synced, its socket context set (unless `bearer` is false); `written()`: the host's bytes since the last call. */
async function classic(sim: SimOptions = {}, bearer = true) {
  const rig = firmwareRig({ sim: { dialect: "classic", ...sim }, uart: { record: true }, lineCapacity: 8192 });
  await rig.run(new Modem(rig.engine, rig.clock).sync());
  if (bearer) await rig.run(openClassicBearer(rig.engine, "internet"));
  let seen = 0;
  const written = (): string => {
    const tx = rig.uart.transcript.filter((entry) => entry.dir === "tx");
    const text = Buffer.concat(tx.slice(seen).map((entry) => entry.bytes)).toString("latin1");
    seen = tx.length;
    return text;
  };
  written();
  return { ...rig, written };
}

const smtp = (user: string) => ({ server: { host: "mail.simmail.test", port: servers.smtpPort, user, password: `${user}-pw` } });
const pop3 = (user: string, password = `${user}-pw`) => ({ server: { host: "mail.simmail.test", port: servers.pop3Port, user, password } });
const mail = (to: string, subject: string, body: string): MailMessage => ({ from: { address: "alarm@simmail.test" }, to: [{ address: `${to}@simmail.test` }], subject, body });

test("the probe tells the dialects apart by their test commands; a dialect named is only confirmed", async () => {
  const old = await classic({}, false);
  const found = await old.run(probeEmail(old.engine));
  assert.is(found.dialect, "classic");
  assert.is(found.detected, true);
  assert.is(found.limits.subject, CLASSIC_LIMITS.subject);
  assert.is(found.limits.body, CLASSIC_LIMITS.body);
  assert.match(old.written(), /^AT\+EMAILCID=\?\rAT\+SMTPSRV=\?\rAT\+POP3SRV=\?\r$/);
  assert.is((await old.run(probeEmail(old.engine, "classic"))).detected, false);
  old.engine.close();

  const sim7000 = firmwareRig({ sim: { dialect: "sim7000" } });
  const caps = await sim7000.run(probeEmail(sim7000.engine));
  assert.is(caps.dialect, "sim7000");
  assert.is(caps.detected, true);
  sim7000.engine.close();

  const none = firmwareRig({ sim: { dialect: "classic", faults: { emailSupport: "absent" } } });
  const error = await none.run(probeEmail(none.engine).then(() => null, (e: Error) => e));
  assert.instance(error, NoEmailSupportError);
  assert.match(error!.message, /AT\+EMAILCID=\? answered ERROR \(not the SIM7000 dialect\) and AT\+SMTPSRV=\? answered ERROR/);
  none.engine.close();
});

test("a 512-character subject and a 5120-character body go out and come back whole", async () => {
  const rig = await classic();
  const subject = `${"s".repeat(510)}:)`;
  const body = `${"b".repeat(5118)}!.`;
  await rig.run(new ClassicSmtpClient(rig.engine).send(smtp("long"), mail("long", subject, body)));
  const sent = rig.written();
  assert.ok(sent.includes(`AT+SMTPSUB="${subject}"\r`) && sent.includes(`AT+SMTPBODY="${body}"\r`), "each in one command");
  const delivered = await simpleParser((await servers.waitForMessages("long", 1))[0]);
  assert.is(delivered.subject, subject);

  const client = new ClassicPop3Client(rig.engine);
  await rig.run(client.login(pop3("long")));
  const sink = new CollectSink();
  await rig.run(client.retrieve(1, sink));
  assert.ok(sink.bytes.toString("latin1").endsWith(`\r\n\r\n${body}\r\n`), "the body line whole");
  await rig.run(client.logout());
  rig.engine.close();
});

test("every limit is checked before the first byte: an over-long subject, body or attachment path writes nothing", async () => {
  const rig = await classic();
  const client = new ClassicSmtpClient(rig.engine);
  const cases: Array<[MailMessage, string[], RegExp]> = [
    [mail("long", "s".repeat(513), "b"), [], /^subject: is 513 characters long; this modem takes at most 512/],
    [mail("long", "s", "b".repeat(5121)), [], /^body: is 5121 characters long; this modem takes at most 5120/],
    [mail("long", "s", 'say "hi"'), [], /^body: must not contain a double quote/],
    [mail("long", "s", "b"), [`C:/Picture/${"f".repeat(61)}.jpg`], /^attachment 1 name: is 65 characters long/],
  ];
  for (const [message, attachments, expected] of cases) {
    const error = await rig.run(client.send(smtp("long"), message, attachments).then(() => null, (e: Error) => e));
    assert.instance(error, MailParameterError);
    assert.match(error!.message, expected);
    assert.is(rig.written(), "", `${expected}: nothing written`);
  }
  rig.engine.close();
});

test("mail text with lines OK, ERROR, +POP3: SUCCESS, +SMTP: OK comes back byte for byte; an empty line then OK ends it", async () => {
  const text = "before\r\nOK\r\nERROR\r\n+POP3: SUCCESS\r\n+SMTP: OK\r\n+POP3: SERVER ERROR\r\n+CME ERROR: 3\r\n\r\n\r\nafter\r\n";
  await servers.deliver("look", `From: ops@simmail.test\r\nTo: look@simmail.test\r\nSubject: look-alikes\r\n\r\n${text}`);
  await servers.deliver("look", "From: ops@simmail.test\r\nTo: look@simmail.test\r\nSubject: cut\r\n\r\nbefore\r\n\r\nOK\r\nafter\r\n");
  const rig = await classic();
  const client = new ClassicPop3Client(rig.engine);
  await rig.run(client.login(pop3("look")));
  const whole = new CollectSink();
  const delivered = await rig.run(client.retrieve(1, whole));
  const saved = (path: string) => Buffer.from(rig.sim.fs.read(path));
  const days = rig.sim.fs.list("C:/Email").directories;
  const first = saved(`C:/Email/${days[0]}/EMAIL000.TXT`);
  assert.ok(whole.bytes.equals(first), `identical to the saved file: ${JSON.stringify(whole.bytes.toString("latin1"))}`);
  assert.ok(whole.bytes.toString("latin1").endsWith(`\r\n\r\n${text}`), "the text whole");
  assert.is(delivered, first.length);

  const cut = new CollectSink();
  await rig.run(client.retrieve(2, cut));
  assert.ok(cut.bytes.toString("latin1").endsWith("Subject: cut\r\n\r\nbefore\r\n"), `ends at the empty line: ${JSON.stringify(cut.bytes.toString("latin1"))}`);
  assert.is((await rig.run(client.stat())).count, 2, "the session is in step after the cut");
  await rig.run(client.logout());
  rig.engine.close();
});

test("a failure result followed by ERROR keeps the result: SMTP, POP3 login, headers", async () => {
  const rig = await classic({ quirks: { classicFailureError: true } }, false);
  const sendError = await rig.run(new ClassicSmtpClient(rig.engine).send(smtp("errs"), mail("errs", "s", "b")).then(() => null, (e: Error) => e));
  assert.instance(sendError, SmtpError);
  assert.match(sendError!.message, /NETWORK ERROR/);
  await rig.run(openClassicBearer(rig.engine, "internet"));
  const client = new ClassicPop3Client(rig.engine);
  const loginError = await rig.run(client.login(pop3("errs", "wrong")).then(() => null, (e: Error) => e));
  assert.instance(loginError, Pop3Error);
  assert.match(loginError!.message, /INVALID UN\/PWD/);
  await rig.run(client.login(pop3("errs")));
  const headersError = await rig.run(client.headers(7, new CollectSink()).then(() => null, (e: Error) => e));
  assert.instance(headersError, Pop3Error);
  assert.match(headersError!.message, /SERVER ERROR/);
  const listError = await rig.run(client.list(7).then(() => null, (e: Error) => e));
  assert.instance(listError, Error);
  assert.not.instance(listError, AtCommandError);
  assert.match(listError!.message, /SERVER ERROR/);
  await rig.run(client.logout());
  rig.engine.close();
});

test("attachments from a folder: AT+FSCD selects it, AT+SMTPFILE takes the names; paths the note cannot express are refused first", async () => {
  const photo = seededBytes(3000, 5);
  const chart = seededBytes(1200, 6);
  const rig = await classic();
  rig.sim.fs.write("C:/Picture/20100202_100006.jpg", photo);
  rig.sim.fs.write("C:/Picture/chart.png", chart);
  const client = new ClassicSmtpClient(rig.engine);
  await rig.run(client.send(smtp("pics"), mail("pics", "pictures", "two"), ["C:/Picture/20100202_100006.jpg", "C:/Picture/chart.png"]));
  const commands = rig.written().split("\r");
  const fscd = commands.indexOf("AT+FSCD=C:/Picture");
  assert.ok(fscd > 0, commands.join("\n"));
  assert.equal(commands.slice(fscd, fscd + 3), ["AT+FSCD=C:/Picture", 'AT+SMTPFILE=1,"20100202_100006.jpg"', 'AT+SMTPFILE=2,"chart.png"']);
  const delivered = await simpleParser((await servers.waitForMessages("pics", 1))[0]);
  assert.equal(delivered.attachments.map((a) => a.filename), ["20100202_100006.jpg", "chart.png"]);
  assert.ok(delivered.attachments[0].content.equals(photo) && delivered.attachments[1].content.equals(chart), "both whole");

  const refused: Array<[string[], RegExp]> = [
    [["C:/My Pictures/a.jpg"], /^attachment 1: "C:\/My Pictures\/a\.jpg": the folder must start at a drive/],
    [["Picture/a.jpg"], /^attachment 1: "Picture\/a\.jpg": the folder must start at a drive/],
    [["C:/Picture/../a.jpg"], /the folder must start at a drive .*"\." or "\.\." parts/],
    [["C:\\Picture\\a.jpg"], /^attachment 1: "C:\\Picture\\a\.jpg": the modem's folders are separated by "\/"/],
    [["C:/Picture/"], /^attachment 1: "C:\/Picture\/" names a folder, not a file/],
    [["C:/Picture/a.jpg", "C:/Music/b.mp3"], /^attachment 2: "C:\/Music\/b\.mp3" is in C:\/Music, attachment 1 in C:\/Picture: this modem selects every attachment from one folder/],
    [["a.jpg", "C:/Music/b.mp3"], /^attachment 2: .* attachment 1 in the current folder/],
  ];
  for (const [paths, expected] of refused) {
    const error = await rig.run(client.send(smtp("pics"), mail("pics", "s", "b"), paths).then(() => null, (e: Error) => e));
    assert.instance(error, MailParameterError, paths.join(", "));
    assert.match(error!.message, expected);
    assert.is(rig.written(), "", `${paths.join(", ")}: nothing written`);
  }
  const missing = await rig.run(client.send(smtp("pics"), mail("pics", "s", "b"), ["C:/Nope/a.jpg"]).then(() => null, (e: Error) => e));
  assert.instance(missing, MailError);
  assert.is((missing as MailError).code, "modem-files");
  assert.match(missing!.message, /^the modem has no folder C:\/Nope \(AT\+FSCD answered ERROR\)/);
  const absent = await rig.run(client.send(smtp("pics"), mail("pics", "s", "b"), ["C:/Picture/gone.jpg"]).then(() => null, (e: Error) => e));
  assert.match(absent!.message, /^attachment 1: the modem has no file gone\.jpg in C:\/Picture/);
  rig.engine.close();
});

test("the text output allocates no buffer per line", () => {
  const cmd = new TextOutputCommand(64);
  let bytes = 0;
  cmd.sink = { write: (_buf, _offset, length) => void (bytes += length) };
  cmd.prepare();
  const lines = ["", "Subject: x", "OK", "ERROR", "+POP3: SUCCESS", "", "text"].map((text) => {
    const line = new Line(new Uint8Array(Buffer.from(text, "latin1")));
    line.set(text.length);
    return line;
  });
  const feed = (line: Line) => (line.length === 0 || cmd.responses!.match(line) < 0 ? cmd.onLine(line) : cmd.onMatch(cmd.responses!.match(line), line));
  feed(lines[0]);
  const allocations = allocationsDuring(() => {
    for (let i = 0; i < 1000; i++) for (let j = 1; j < lines.length; j++) assert.is(feed(lines[j]), Verdict.Continue);
  });
  assert.is(allocations, 0);
  assert.ok(bytes > 0);
});

test.run();
