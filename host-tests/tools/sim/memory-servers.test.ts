// The in-memory mail servers (sim/servers/memory.ts) that the XS suites put behind the
// simulator, spoken to by the simulated modem's own SMTP and POP3 clients over SimNetwork on a
// virtual clock; the simulator's byte helpers against Node's Buffer; and SimModem's platform
// port (no Node in its import graph, so a platform without a MIME parser refuses "classic").

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { SimNetwork } from "../../../sim/modem/network.ts";
import { SmtpSession, SmtpFailure } from "../../../sim/modem/smtp-client.ts";
import { Pop3Session, Pop3Failure } from "../../../sim/modem/pop3-client.ts";
import { SimModem } from "../../../sim/modem/modem.ts";
import { base64Text, concatBytes, hexBytes, latin1Bytes, latin1Text, utf8Bytes } from "../../../sim/modem/bytes.ts";
import { MemoryMailService } from "../../../sim/servers/memory.ts";
import { Base64Encoder, Base64Passthrough, base64Lines } from "../../../sim/modem/mime.ts";

const test = suite("sim: in-memory mail servers, byte helpers, platform port");

const ACCOUNT = { address: "10.0.0.25", user: "alarm", password: "alarm-pw" };

function rig() {
  const clock = new VirtualClock();
  const mail = new MemoryMailService({ clock, smtp: { ...ACCOUNT, port: 587 }, pop3: { ...ACCOUNT, port: 110 } });
  const network = new SimNetwork({ connector: mail.connector, clock, hosts: { "mail.example.net": ACCOUNT.address } });
  /** `operation` with virtual time moving until it settles. */
  async function run<T>(operation: Promise<T>): Promise<T> {
    let settled = false;
    operation.then(() => (settled = true), () => (settled = true));
    for (let i = 0; i < 10_000 && !settled; i++) await clock.advanceAsync(5);
    return operation;
  }
  const smtp = (password = ACCOUNT.password) => ({ host: "mail.example.net", port: 587, timeoutMs: 30_000, secure: null, credentials: { user: ACCOUNT.user, password }, clientName: "sim7000" });
  const pop3 = (password = ACCOUNT.password) => ({ host: "mail.example.net", port: 110, timeoutMs: 30_000, secure: null, user: ACCOUNT.user, password });
  return { clock, mail, network, run, smtp, pop3 };
}

test("SMTP: AUTH, envelope and a dot-stuffed message arrive as sent; a wrong password is 535", async () => {
  const { mail, network, run, smtp } = rig();
  const message = "From: alarm@example.net\r\nTo: ops@example.net\r\nSubject: door\r\n\r\n.leading dot\r\nbody\r\n";
  const session = await run(SmtpSession.open(network, smtp()));
  await run(session.begin("alarm@example.net", ["ops@example.net", "boss@example.net"]));
  await run(session.write(latin1Bytes(message)));
  await run(session.end());
  assert.equal(mail.delivered, [{ server: "10.0.0.25:587", from: "alarm@example.net", recipients: ["ops@example.net", "boss@example.net"], message }]);
  const parsed = await simpleParser(Buffer.from(mail.delivered[0].message, "latin1"));
  assert.is(parsed.subject, "door");
  assert.is(parsed.text, ".leading dot\nbody\n");

  const refused = await run(SmtpSession.open(network, smtp("wrong")).then((s) => s.begin("alarm@example.net", ["ops@example.net"])).then(() => null, (error: unknown) => error));
  assert.instance(refused, SmtpFailure);
  assert.is((refused as SmtpFailure).kind, "auth-failed");
  assert.is((refused as SmtpFailure).name, "SmtpFailure");
  assert.is(mail.delivered.length, 1);
});

test("SMTP: dot-stuffing holds across write boundaries (a dot that starts a chunk after a LF)", async () => {
  const { mail, network, run, smtp } = rig();
  const message = ".a\r\n..b\r\nc.\r\n.\r\nend\r\n";
  for (let cut = 0; cut <= message.length; cut++) {
    const session = await run(SmtpSession.open(network, smtp()));
    await run(session.begin("alarm@example.net", ["ops@example.net"]));
    await run(session.write(latin1Bytes(message.slice(0, cut))));
    await run(session.write(latin1Bytes(message.slice(cut))));
    await run(session.end());
    assert.is(mail.delivered.pop()?.message, message, `cut at ${cut}`);
  }
});

test("POP3: STAT, UIDL, TOP and RETR of the mailbox; DELE marks, only QUIT removes; a bad login is refused", async () => {
  const { mail, network, run, pop3 } = rig();
  mail.mailbox.push({ uid: "u-1", text: "Subject: one\r\n\r\n.dot line\r\nsecond\r\n" }, { uid: "u-2", text: "Subject: two\r\n\r\nbody\r\n" });
  const session = await run(Pop3Session.open(network, pop3()));
  assert.is((await run(session.simple("STAT"))).line, `+OK 2 ${mail.mailbox[0].text.length + mail.mailbox[1].text.length}`);
  assert.is((await run(session.simple("UIDL 2"))).line, "+OK 2 u-2");
  const multi = async (verb: string) => {
    const parts: Uint8Array[] = [];
    let done!: () => void;
    const ended = new Promise<void>((resolve) => (done = resolve));
    await run(session.multi(verb, { status: () => {}, data: (bytes) => parts.push(bytes.slice()), end: () => done() }));
    await run(ended);
    return latin1Text(concatBytes(parts));
  };
  assert.is(await multi("TOP 1 0"), "Subject: one\r\n\r\n.\r\n");
  assert.is(await multi("RETR 1"), "Subject: one\r\n\r\n..dot line\r\nsecond\r\n.\r\n", "dot-stuffed on the wire");
  assert.ok((await run(session.simple("DELE 1"))).ok);
  assert.not.ok((await run(session.simple("RETR 1"))).ok, "a deleted mail is gone for the session");
  assert.is(mail.mailbox.length, 2, "not removed before QUIT");
  await run(session.quit());
  assert.equal(mail.mailbox.map((m) => m.uid), ["u-2"]);
  assert.equal(mail.deleted, [1]);

  const refused = await run(Pop3Session.open(network, pop3("wrong")).then(() => null, (error: unknown) => error));
  assert.instance(refused, Pop3Failure);
  assert.is((refused as Pop3Failure).kind, "bad-password");
});

test("a port nothing listens on is a connect failure; TLS is refused as a TLS failure", async () => {
  const { network, run } = rig();
  const closed = await run(network.connect("mail.example.net", 25, 1000).then(() => null, (error: unknown) => error));
  assert.match(String(closed), /NetError: TCP connection to 10\.0\.0\.25:25 failed: nothing listens on 10\.0\.0\.25:25/);
  const tls = await run(network.connect("mail.example.net", 587, 1000, { ca: [], servername: "", versions: { min: "TLSv1.2", max: "TLSv1.3" } }).then(() => null, (error: unknown) => error));
  assert.match(String(tls), /NetError: TLS handshake with mail\.example\.net failed: the in-memory servers speak no TLS/);
});

test("byte helpers equal Buffer's Latin-1, UTF-8, base64 and hex", () => {
  const text = "A\u00e9\u00ff\u20ac\ud83d\ude00\ud800x";
  assert.equal([...utf8Bytes(text)], [...Buffer.from(text, "utf8")], "UTF-8, a lone surrogate as U+FFFD");
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
  assert.is(latin1Text(bytes), Buffer.from(bytes).toString("latin1"), "Latin-1 across decode slices");
  assert.equal([...latin1Bytes(latin1Text(bytes))], [...bytes]);
  for (let n = 0; n < 7; n++) assert.is(base64Text(bytes.subarray(0, n)), Buffer.from(bytes.subarray(0, n)).toString("base64"), `base64 of ${n} bytes`);
  assert.equal([...hexBytes("00fFa5")!], [0, 255, 165]);
  assert.is(hexBytes("abc"), null, "odd length");
  assert.is(hexBytes("zz"), null, "not hex");
});

test("attachment encoders fold into 76-character lines however the chunks fall", () => {
  const raw = Uint8Array.from({ length: 500 }, (_, i) => (i * 31) & 255);
  const expected = latin1Text(base64Lines(raw));
  const encoded = latin1Bytes(Buffer.from(raw).toString("base64").replace(/(.{50})/g, "$1\r\n"));
  for (const size of [1, 2, 3, 57, 76, 77, 1360]) {
    const encoder = new Base64Encoder();
    const passthrough = new Base64Passthrough();
    let fromRaw = "";
    let fromText = "";
    for (let at = 0; at < raw.length; at += size) fromRaw += latin1Text(encoder.push(raw.subarray(at, at + size)));
    for (let at = 0; at < encoded.length; at += size) fromText += latin1Text(passthrough.push(encoded.subarray(at, at + size)));
    assert.is(fromRaw + latin1Text(encoder.finish()), expected, `raw bytes in chunks of ${size}`);
    assert.is(fromText + latin1Text(passthrough.finish()), expected, `host base64 in chunks of ${size}`);
  }
  assert.throws(() => new Base64Passthrough().push(latin1Bytes("QUJD\r\n*")), /byte 0x2a at offset 6 is not base64 text/);
});

test("SimModem's platform: without a MIME parser the classic dialect is refused at construction", () => {
  const clock = new VirtualClock();
  const mail = new MemoryMailService({ clock, smtp: { ...ACCOUNT, port: 587 }, pop3: { ...ACCOUNT, port: 110 } });
  assert.throws(() => new SimModem({ dialect: "classic", scheduler: clock }, { connector: mail.connector, parseMessage: null }), /dialect "classic" needs a MIME parser/);
  const sim = new SimModem({ dialect: "sim7000", scheduler: clock }, { connector: mail.connector, parseMessage: null });
  assert.is(sim.dialect, "sim7000");
});

test.run();
