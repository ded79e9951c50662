// Hostile mails (corpus INBOUND) delivered into a real Dovecot mailbox and read by the alarm
// mailer's command poll through the simulated SIM7000, both dialects. Each is refused for its
// specific reason, logged, deleted, and not obeyed; the poll goes on to the next mail, and a
// valid command after them all is obeyed. The trace of the whole run (bring-up, a status mail
// sent, two polls) never holds the mail password or the HMAC secret. Then the POP3 readers
// read hostile bodies byte for byte.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { pop3Query } from "../../kit/sim-support.ts";
import { alarmConfig, setupAlarm } from "../../kit/alarm-harness.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import { nodeCrypto } from "../../../src/host/crypto.ts";
import { ClassicPop3Client, MailError, Pop3Client, type ByteSource } from "../../../src/index.ts";
import { CollectSink } from "../../kit/mail-io.ts";
import { DEVICE, DIALECTS, HMAC_SECRET, OPS, REPLAYED_NONCE, detailFor, inboundFor, type Dialect, type MailContext } from "./corpus.ts";
import { commandLines, rig } from "./support.ts";

const MAIL_PASSWORD = "alarm-pw;9f3e";

function appRig(dialect: Dialect, servers: MailServers) {
  const defaults = alarmConfig(servers, "ops");
  const trace: string[] = [];
  const { app, steps, until, transcript } = setupAlarm(servers, "ops", {
    sim: { dialect },
    record: true,
    trace: (text) => trace.push(text),
    config: {
      deviceId: DEVICE,
      modem: { ...defaults.modem, dialect },
      smtp: { ...defaults.smtp, password: MAIL_PASSWORD, to: [{ address: OPS, name: "Ops" }] },
      pop3: { ...defaults.pop3!, password: MAIL_PASSWORD, allowlist: [OPS], secret: HMAC_SECRET },
    },
  });
  const hostBytes = () => Buffer.concat(transcript.filter((e) => e.dir === "tx").map((e) => e.bytes));
  return { app, steps, trace, until, hostBytes };
}

function readAll(source: ByteSource): string {
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(512);
  source.rewind();
  for (let n; (n = source.read(buf, 0, buf.length)) > 0;) chunks.push(Buffer.from(buf.subarray(0, n)));
  return Buffer.concat(chunks).toString("utf8");
}

const context = (): MailContext => {
  const now = Math.floor(Date.now() / 1000);
  const secret = secretFromText(HMAC_SECRET);
  return {
    now, ops: OPS, device: DEVICE,
    sign: (command, o = {}) => signCommandSubject(nodeCrypto, o.secret === undefined ? secret : secretFromText(o.secret), o.device ?? DEVICE, command, o.seconds ?? now, o.nonce),
  };
};

const withCase = (id: string, raw: string | Buffer) => Buffer.concat([Buffer.from(`X-Case: ${id}\r\n`), typeof raw === "string" ? Buffer.from(raw, "latin1") : raw]);

for (const dialect of DIALECTS) {
  const poll = suite(`hostile inbound: the command poll (${dialect}, simulator and Dovecot)`);
  const cases = inboundFor(dialect);
  let servers: MailServers;
  let env: ReturnType<typeof appRig>;
  /** Case id of each POP3 message number of the second poll, from an independent POP3 session. */
  let order: string[] = [];

  poll.before(async () => {
    servers = await startMailServers({
      users: [{ name: "alarm", password: MAIL_PASSWORD, address: "alarm@simmail.test" }, { name: "ops", password: "ops-pw", address: OPS }],
    });
    env = appRig(dialect, servers);
  });
  poll.after(async () => {
    // Stopping may meet a mail on its way: let virtual time run until the app has ended.
    let stopped = false;
    const stopping = env.app.stop().then(() => (stopped = true));
    await env.until(() => stopped);
    await stopping;
    await servers.stop();
  });

  poll("a valid STATUS is obeyed in the first poll (its nonce is replayed later)", async () => {
    const ctx = context();
    await servers.deliver("alarm", withCase("first", `From: ${OPS}\r\nSubject: ${ctx.sign("STATUS", { nonce: REPLAYED_NONCE })}\r\n\r\nstatus please\r\n`));
    void env.app.start();
    assert.ok(await env.until(() => env.steps.includes("poll-done")), `polled (${env.app.lastError})`);
    assert.is(env.app.commandsObeyed, 1, env.trace.join("\n"));
    assert.is((await servers.messages("alarm")).length, 0);
  });

  poll(`${cases.length} hostile mails and then a valid DISARM: each refused for its reason, logged and deleted; only the DISARM obeyed`, async () => {
    const ctx = context();
    for (const c of cases) await servers.deliver("alarm", withCase(c.id, c.mail(ctx)));
    await servers.deliver("alarm", withCase("last", `From: "Ops" <${OPS}>\r\nSubject: ${ctx.sign("DISARM")}\r\n\r\ndisarm\r\n`));
    const total = cases.length + 1;
    const tops = await pop3Query(servers.pop3Port, "alarm", MAIL_PASSWORD, Array.from({ length: total }, (_, i) => ({ command: `TOP ${i + 1} 0`, multi: true })));
    order = tops.map((top) => /^X-Case: (\S+)/m.exec(top)?.[1] ?? "?");
    assert.is(new Set(order).size, total, `every mail listed once: ${order.join(" ")}`);

    const traceFrom = env.trace.length;
    const polls = env.steps.filter((s) => s === "poll-done").length;
    assert.ok(env.app.armed);
    // A poll reads at most maxMailsPerPoll (10) mails; the rest follow in the polls right after.
    const pollsDone = () => env.steps.filter((s) => s === "poll-done").length - polls;
    assert.ok(await env.until(() => pollsDone() === Math.ceil(total / 10)), `polled once per ten mails (${env.app.lastError})`);

    assert.is(env.app.commandsRefused, cases.length, "every hostile mail refused");
    assert.is(env.app.commandsObeyed, 2, "the first STATUS and the last DISARM, nothing else");
    assert.not.ok(env.app.armed, "the DISARM after all hostile mails was obeyed: the poll went on");
    assert.is((await servers.messages("alarm")).length, 0, "every mail deleted");

    // The verdicts in POP3 order and each refusal's detail, from the trace; the log holds one
    // note per poll with the refusals counted by reason (a flood costs a record per poll).
    const traced = env.trace.slice(traceFrom);
    const verdicts = traced.filter((t) => /^command mail refused: |^command [A-Z]+ from /.test(t));
    const details = traced.filter((t) => t.startsWith("refused mail: "));
    const notes = readAll(env.app.outbox.dayLog()).split("\r\n").filter((line) => / refused \d+ command mails?: /.test(line));
    assert.is(verdicts.length, total, verdicts.join("\n"));
    assert.is(details.length, cases.length, details.join("\n"));
    assert.is(notes.length, Math.ceil(total / 10), `one note per poll: ${notes.join("\n")}`);
    const counted: Record<string, number> = {};
    for (const note of notes) {
      for (const [, reason, n] of note.matchAll(/([a-z-]+) (\d+)(?=[,;])/g)) counted[reason] = (counted[reason] ?? 0) + Number(n);
    }
    const expected: Record<string, number> = {};
    for (const c of cases) expected[c.expect] = (expected[c.expect] ?? 0) + 1;
    assert.equal(counted, expected, notes.join("\n"));
    let refusal = 0;
    order.forEach((id, index) => {
      if (id === "last") {
        assert.is(verdicts[index], `command DISARM from ${OPS}`);
        return;
      }
      const c = cases.find((entry) => entry.id === id)!;
      assert.is(verdicts[index], `command mail refused: ${c.expect}`, `${c.id} ${c.title}`);
      const line = details[refusal++];
      const detail = detailFor(c, dialect);
      if (detail !== undefined) assert.match(line.slice(line.indexOf(": ", line.startsWith("refused mail: from ") ? "refused mail: from ".length : 0) + 2), detail, `${c.id} ${c.title}: ${line}`);
      assert.not.ok(/[\x00-\x08\x0b-\x1f\x7f]/.test(line), `${c.id}: no control character reaches the trace: ${JSON.stringify(line)}`);
    });
    for (const note of notes) assert.not.ok(/[\x00-\x08\x0b-\x1f\x7f]/.test(note), `no control character reaches the log: ${JSON.stringify(note)}`);
  });

  poll("no mail text reached the modem as a command; the trace holds neither the mail password nor the HMAC secret", async () => {
    const lines = commandLines(env.hostBytes(), dialect);
    assert.ok(lines.some((line) => /^AT\+(POP3IN|POP3SRV)/.test(line)), "the poll's commands were checked");
    assert.not.ok(lines.some((line) => line.includes("CFUN")), "the subject's AT+CFUN never went to the modem");
    const trace = env.trace.join("\n");
    assert.ok(trace.includes(dialect === "sim7000" ? "AT+SMTPAUTH" : "AT+POP3SRV"), "the AT trace was on");
    assert.ok(/AT\+SMTPAUTH=1,"alarm","\*+"/.test(trace), "the SMTP password masked in the trace");
    for (const secret of [MAIL_PASSWORD, HMAC_SECRET, Buffer.from(HMAC_SECRET).toString("hex"), Buffer.from(HMAC_SECRET).toString("base64")]) {
      assert.not.ok(trace.includes(secret), `"${secret}" in the trace`);
    }
    const log = readAll(env.app.outbox.dayLog());
    assert.not.ok(log.includes(MAIL_PASSWORD) || log.includes(HMAC_SECRET), "nor in the event log");
  });

  poll.run();
}

// ---- the POP3 readers on hostile bodies ---------------------------------------------------------

/** Hostile bodies for the readers, with each dialect's outcome. */
const READS: Array<{ id: string; title: string; mail: Buffer; classic: "saved file" | RegExp | "ends at the empty line and OK" }> = [
  {
    id: "READ-1", title: "lone dots, dot-stuffing look-alikes, POP3 and AT text, NUL and invalid UTF-8",
    mail: Buffer.concat([
      Buffer.from("From: ops@simmail.test\r\nSubject: SIMMAIL ARM 1 2 3\r\n\r\n.\r\n..\r\n...\r\n. \r\n.\r\nQUIT\r\n+POP3READ: 1,2\r\nAT+CFUN=0\r\n"),
      Buffer.from([0x61, 0x00, 0x62, 0xff, 0xfe, 0xc3, 0x28, 0x0d, 0x0a]),
      Buffer.from("last line\r\n"),
    ]),
    // The classic modem saves the mail as text (its own rendering) and prints that file.
    classic: "saved file",
  },
  {
    id: "READ-2", title: "a 10 000-byte line",
    mail: Buffer.from(`From: ops@simmail.test\r\nSubject: long\r\n\r\nfirst\r\n${"y".repeat(10_000)}\r\nlast\r\n`),
    classic: /1 line was longer than the AT engine's line buffer \(lineCapacity\) and lost/,
  },
  {
    id: "READ-3", title: "body lines OK, ERROR, +POP3: SUCCESS, +SMTP: OK, +CME ERROR (the classic dialect's results and final codes)",
    mail: Buffer.from("From: ops@simmail.test\r\nSubject: ok\r\n\r\nbefore\r\nOK\r\nERROR\r\n+POP3: SUCCESS\r\n+SMTP: OK\r\n+POP3: SERVER ERROR\r\n+CME ERROR: 3\r\n\r\n\r\nafter two empty lines\r\n"),
    // Application note 4.4: the text ends with an empty line and OK; an OK or ERROR anywhere
    // else, and a result after the first line, is mail text.
    classic: "saved file",
  },
  {
    id: "READ-4", title: "an empty line then OK inside the text (the one thing the classic framing cannot tell apart)",
    mail: Buffer.from("From: ops@simmail.test\r\nSubject: cut\r\n\r\nbefore\r\n\r\nOK\r\nafter\r\n"),
    // The output ends there (SECURITY.md §6); the rest is stray output the engine skips.
    classic: "ends at the empty line and OK",
  },
];

const readers = suite("hostile inbound: POP3 readers on hostile bodies");
let readServers: MailServers;
readers.before(async () => {
  readServers = await startMailServers({ users: [{ name: "bob", password: "bob-pw", address: "bob@simmail.test" }] });
  for (const read of READS) await readServers.deliver("bob", read.mail);
});
readers.after(async () => {
  await readServers.stop();
});

function savedFile(sim: ReturnType<typeof rig>["sim"]): Buffer {
  const days = sim.fs.list("C:/Email").directories;
  const dir = `C:/Email/${days[days.length - 1]}`;
  const files = sim.fs.list(dir).files.filter((f) => /^EMAIL\d{3}\.TXT$/.test(f)).sort();
  return Buffer.from(sim.fs.read(`${dir}/${files[files.length - 1]}`));
}

for (const dialect of DIALECTS) {
  readers(`${dialect}: ${READS.map((r) => r.id).join(", ")}`, async () => {
    const { run, engine, clock, sim, bringUp } = rig(dialect);
    await bringUp();
    const server = { host: "mail.simmail.test", port: readServers.pop3Port, user: "bob", password: "bob-pw" };
    const pop3 = dialect === "sim7000" ? new Pop3Client(engine, clock) : new ClassicPop3Client(engine);
    await run(pop3.login({ server }));
    for (const [index, read] of READS.entries()) {
      const sink = new CollectSink();
      const outcome = await run(pop3.retrieve(index + 1, sink).then(() => null, (error: Error) => error));
      const got = sink.bytes;
      const context = `${read.id} ${read.title}: got ${got.length} bytes ${JSON.stringify(got.subarray(0, 160).toString("latin1"))}`;
      if (dialect === "sim7000") {
        assert.is(outcome, null, `${context}: ${String(outcome)}`);
        assert.ok(got.equals(read.mail), `${context}, delivered ${read.mail.length}`);
      } else if (read.classic === "saved file") {
        assert.is(outcome, null, `${context}: ${String(outcome)}`);
        assert.ok(got.equals(savedFile(sim)), context);
        const body = read.mail.subarray(read.mail.indexOf("\r\n\r\n") + 4, read.id === "READ-1" ? read.mail.indexOf("a\0") : undefined);
        assert.ok(got.includes(body), `${context}: the body's lines whole`);
      } else if (read.classic instanceof RegExp) {
        assert.instance(outcome, MailError, context);
        assert.match(outcome!.message, read.classic);
      } else {
        assert.is(outcome, null, `${context}: ${String(outcome)}`);
        const file = savedFile(sim);
        assert.ok(got.equals(file.subarray(0, file.indexOf("\r\n\r\nOK\r\n") + 2)), context);
      }
    }
    // Whatever the bodies did, the session is in step: the next commands are answered.
    assert.is(await run(pop3.listAll(() => {})), READS.length);
    await run(pop3.logout());
    engine.close();
    assert.is((await readServers.messages("bob")).length, READS.length, "reading deleted nothing");
  });
}

readers.run();
