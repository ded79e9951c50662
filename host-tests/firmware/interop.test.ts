// The firmware core's own clients (src/) against the simulator and the real servers, over the
// kit's mock UART on a virtual clock, driven with runWithNetwork: what the firmware team's
// flow tests do, end to end in both dialects.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser } from "mailparser";
import {
  ClassicPop3Client, ClassicSmtpClient, Modem, Pop3Client, openClassicBearer, openMailDialect, probeEmail, runStep, SmtpClient, Step,
} from "../../src/index.ts";
import { bufferSource, CollectSink } from "../kit/mail-io.ts";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { firmwareRig } from "../kit/firmware-rig.ts";
import type { Dialect } from "../../sim/modem/modem.ts";
import { seededBytes } from "../kit/sim-support.ts";
import { runWithNetwork } from "../kit/virtual-time.ts";

const test = suite("sim: the firmware's clients against the simulator");

let servers: MailServers;

test.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "alice", "bob", "carol", "dave", "erin", "fred"]) });
});

test.after(async () => {
  await servers.stop();
});

function setup(dialect: Dialect) {
  const { clock, sim, engine, uart } = firmwareRig({
    sim: { dialect, networkTime: () => Date.UTC(2024, 5, 1, 12, 0, 0) },
    uart: { baud: 115200, fragment: { min: 1, max: 40, seed: 9 } },
  });
  const stats = uart.stats;
  /** Runs one firmware operation to its end in virtual time, letting the servers answer. */
  const drive = async <T>(what: string, operation: Promise<T>): Promise<T> => {
    let settled = false;
    let value: T | undefined;
    let error: unknown = null;
    operation.then((v) => ((settled = true), (value = v)), (e: unknown) => ((settled = true), (error = e)));
    assert.ok(await runWithNetwork(clock, sim, () => settled, 600_000), `${what} did not finish`);
    if (error !== null) throw error;
    return value as T;
  };
  return { clock, sim, engine, stats, drive };
}

test("sim7000: bring-up, probe, a mail with an attachment, and reading it back", async () => {
  const { sim, engine, stats, drive } = setup("sim7000");
  try {
    const modem = new Modem(engine, { deadline: (cb) => sim.scheduler.deadline(cb) });
    const status = await drive("bring-up", modem.bringUp({ apn: "internet", timezoneQuarters: 8 }));
    assert.is(status.bearerIp, "10.89.193.1");
    assert.is(status.clock?.text.trim(), "24/06/01,14:00:00+08");
    const capabilities = await drive("probe", probeEmail(engine, "sim7000"));
    assert.is(capabilities.limits.body, 5120);

    const attachment = seededBytes(5000, 3);
    const smtp = new SmtpClient(engine, capabilities.limits);
    await drive("send", smtp.send(
      { server: { host: "mail.simmail.test", port: servers.smtpPort, user: "alarm", password: "alarm-secret" }, cid: 1 },
      {
        from: { address: "alarm@simmail.test", name: "Pump house" },
        to: [{ address: "bob@simmail.test", name: "Bob" }],
        cc: [{ address: "carol@simmail.test" }],
        bcc: [{ address: "dave@simmail.test" }],
        subject: "Alarm: Grüße ✓",
        body: "Line 1\r\n.\r\nLine 3 äöü\r\n",
        attachment: { name: "log.bin", source: bufferSource(attachment) },
      },
    ));
    const [delivered] = await servers.waitForMessages("bob", 1);
    const mail = await simpleParser(delivered);
    assert.is(mail.subject, "Alarm: Grüße ✓");
    assert.is(mail.text, "Line 1\n.\nLine 3 äöü\n");
    assert.ok(mail.attachments[0].content.equals(attachment));
    assert.match(delivered.toString("latin1"), /^Date: Sat, 1 Jun 2024 14:00:00 \+0200\r\n/);
    assert.is((await servers.waitForMessages("dave", 1)).length, 1);

    const pop3 = new Pop3Client(engine, { deadline: (cb) => sim.scheduler.deadline(cb) }, capabilities.limits);
    await drive("login", pop3.login({ server: { host: "mail.simmail.test", port: servers.pop3Port, user: "bob", password: "bob-secret" }, cid: 1 }));
    assert.equal(await drive("stat", pop3.stat()), { count: 1, size: delivered.length });
    assert.match(await drive("uid", pop3.uid(1)), /^[0-9a-f]{16}$/i);
    const sink = new CollectSink();
    await drive("retrieve", pop3.retrieve(1, sink));
    assert.ok(sink.bytes.equals(delivered), "the firmware reads back exactly what was delivered");
    await drive("logout", pop3.logout());
    assert.is(stats.rxLost, 0);
  } finally {
    sim.close();
  }
});

test("classic: a mail with a file from the modem's file system, headers, retrieval", async () => {
  const { sim, engine, drive } = setup("classic");
  try {
    sim.fs.write("C:/User/log.txt", "10:00 pump on\r\n10:05 pump off\r\n");
    await drive("probe", probeEmail(engine, "classic"));
    await drive("socket context", openClassicBearer(engine, "internet"));
    await drive("cd", runStep(engine, new Step({ request: "AT+FSCD=C:/User", timeoutMs: 5000 })));
    const smtp = new ClassicSmtpClient(engine);
    await drive("send", smtp.send(
      { server: { host: "mail.simmail.test", port: servers.smtpPort, user: "alarm", password: "alarm-secret" } },
      { from: { address: "alarm@simmail.test", name: "Pump" }, to: [{ address: "alice@simmail.test", name: "Alice" }], subject: "classic", body: "hello from the classic dialect" },
      ["log.txt"],
    ));
    const [delivered] = await servers.waitForMessages("alice", 1);
    const mail = await simpleParser(delivered);
    assert.is(mail.attachments[0].content.toString(), "10:00 pump on\r\n10:05 pump off\r\n");

    const pop3 = new ClassicPop3Client(engine);
    await drive("login", pop3.login({ server: { host: "mail.simmail.test", port: servers.pop3Port, user: "alice", password: "alice-secret" } }));
    assert.equal(await drive("stat", pop3.stat()), { count: 1, size: delivered.length });
    const headers = new CollectSink();
    await drive("headers", pop3.headers(1, headers));
    assert.is(headers.bytes.toString(), 'From: "Pump" <alarm@simmail.test>\r\nDate: Sun, 6 Jan 1980 00:00:00 +0000\r\nSubject: classic\r\n');
    const text = new CollectSink();
    await drive("retrieve", pop3.retrieve(1, text));
    assert.is(text.bytes.toString(), 'Date: Sun, 6 Jan 1980 00:00:00 +0000\r\nFrom: "Pump" <alarm@simmail.test>\r\nTo: "Alice" <alice@simmail.test>\r\nSubject: classic\r\n\r\nhello from the classic dialect\r\n');
    await drive("logout", pop3.logout());
    assert.equal(sim.fs.list("C:/Email/800106000000").files, ["EMAIL000.TXT", "log.txt"]);
  } finally {
    sim.close();
  }
});

test("both dialects through the one interface: the probe picks it; attachments as the flags say; UIDs where it has them", async () => {
  for (const dialect of ["sim7000", "classic"] as const) {
    const { clock, sim, engine, drive } = setup(dialect);
    const modem = new Modem(engine, clock);
    try {
      sim.fs.write("C:/User/log.txt", "10:00 pump on\r\n");
      await drive("sync", modem.sync());
      const mail = openMailDialect(await drive("probe", probeEmail(engine, dialect)), modem, { deadline: (cb) => sim.scheduler.deadline(cb) }, 115_200);
      assert.is(mail.name, dialect);
      await drive("bearer", mail.openBearer({ apn: "internet", cid: 1 }));
      if (mail.can.attachments === "modem-file") await drive("cd", runStep(engine, new Step({ request: "AT+FSCD=C:/User", timeoutMs: 5000 })));
      const attachment = mail.can.attachments === "bytes" ? { name: "log.txt", source: bufferSource(Buffer.from("10:00 pump on\r\n")) } : { name: "log.txt" };
      const recipient = dialect === "sim7000" ? "erin" : "fred";
      await drive("send", mail.send(
        { server: { host: "mail.simmail.test", port: servers.smtpPort, user: "alarm", password: "alarm-secret" }, cid: 1 },
        { from: { address: "alarm@simmail.test" }, to: [{ address: `${recipient}@simmail.test` }], subject: dialect, body: "one line", attachment },
      ));
      const [delivered] = await servers.waitForMessages(recipient, 1);
      assert.is((await simpleParser(delivered)).attachments[0].content.toString(), "10:00 pump on\r\n", `${dialect}: the log attached`);
      const box = mail.mailbox;
      await drive("login", box.login({ server: { host: "mail.simmail.test", port: servers.pop3Port, user: recipient, password: `${recipient}-secret` }, cid: 1 }));
      const uid = await drive("uid", box.uid(1));
      assert.is(uid === null, !mail.can.uidl, `${dialect}: a UID exactly where the dialect has UIDL`);
      const headers = new CollectSink();
      await drive("headers", box.headers(1, headers));
      assert.match(headers.bytes.toString(), new RegExp(`^Subject: ${dialect}\r$`, "m"));
      await drive("logout", box.logout());
      mail.close();
    } finally {
      sim.close();
    }
  }
});

test.run();
