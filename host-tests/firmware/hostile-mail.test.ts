// Issue 15.1 and 15.4 through the whole app (AlarmApp, the simulated SIM7000, Dovecot): a flood
// of junk command mail that used to fill the outbox and lock out commands and alarms, and mail
// too large to read (by its LIST size, or a server whose LIST lies), with an alarm raised while
// one is being read.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { SECRET, alarmConfig, setupAlarm, type AlarmSetupOptions } from "../kit/alarm-harness.ts";

const DEVICE = "pump-house-1";
/** The header reader keeps 512 bytes of a From; longer ones are refused as cut. */
const LONGEST_FROM = 512;

let servers: MailServers;

function rig(user: string, options: AlarmSetupOptions & { pop3?: Partial<NonNullable<ReturnType<typeof alarmConfig>["pop3"]>> } = {}) {
  const defaults = alarmConfig(servers, user);
  const trace: string[] = [];
  const env = setupAlarm(servers, user, {
    record: true,
    trace: (text) => trace.push(text),
    ...options,
    config: { ...options.config, pop3: { ...defaults.pop3!, ...options.pop3 } },
  });
  /** Bytes the modem sent the host so far. */
  const received = () => env.transcript.reduce((total, entry) => (entry.dir === "rx" ? total + entry.bytes.length : total), 0);
  const sign = (command: string) => signCommandSubject(nodeCrypto, secretFromText(SECRET), DEVICE, command, Math.floor(env.app.wall.now()! / 1000));
  /** Runs until the poll under way (if any) has logged out: its DELEs are then done. */
  const settled = () => env.until(() => env.app.status().state !== "Polling");
  const stop = async () => {
    let stopped = false;
    const stopping = env.app.stop().then(() => (stopped = true));
    await env.until(() => stopped);
    await stopping;
  };
  return { ...env, trace, received, sign, settled, stop };
}

/**
 * Junk mail number `i`: forged senders with addresses as long as the reader takes (the log line
 * of a refusal grows with them, to about 400 bytes), and an allowlisted sender with a bad
 * token; bodies of assorted sizes.
 */
export function junk(i: number): string {
  const kind = i % 4;
  const local = (n: number) => `${"j".repeat(n - String(i).length - 1)}-${i}`;
  const from = kind === 0 ? `"${"n".repeat(LONGEST_FROM - 240)}" <${local(200)}@evil.test>`
    : kind === 1 ? `<${local(LONGEST_FROM - 12)}@evil.test>`
    : kind === 2 ? "ops@simmail.test"
    : `"Ops" <${local(180)}@simmail.test>`;
  const subject = kind === 2 ? `SIMMAIL DISARM ${1_700_000_000 + i} 0123456789abcdef ${"0".repeat(64)}` : `offer ${i}`;
  return `From: ${from}\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\nMessage-ID: <junk-${i}@evil.test>\r\n\r\n${"junk body line\r\n".repeat((i * 37) % 300)}`;
}

/** A mail with `bytes` of header lines before its From and Subject. */
function hugeHeader(bytes: number, from = "mallory@evil.test"): string {
  const line = `X-Padding: ${"p".repeat(64)}\r\n`;
  return `${line.repeat(Math.ceil(bytes / line.length))}From: ${from}\r\nSubject: hello\r\n\r\nbody\r\n`;
}

const flood = suite("app: a junk-mail flood locks out neither commands nor alarms");
flood.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "ops", "ann", "ben", "cid", "dan"]) });
});
flood.after(async () => {
  await servers.stop();
});

flood("a flood that filled the outbox (again and again) no longer blocks an alarm nor a later signed DISARM", async () => {
  // A 16 KiB outbox takes about 40 refusal records of 400 bytes: with one record per refused
  // mail, 160 junk mails filled it, squeezed it once, filled it again and stuck every poll
  // at "outbox full" with no undelivered event in it.
  const JUNK = 160;
  const { app, door, steps, trace, until, sign, settled, stop } = rig("ann", { logBytes: 16_384, pop3: { maxMailsPerPoll: 100 } });
  for (let i = 1; i <= JUNK; i++) await servers.deliver("alarm", junk(i));
  void app.start();
  assert.ok(await until(() => app.commandsRefused >= JUNK, 1_800_000), `every junk mail refused (${app.commandsRefused} of ${JUNK}; ${app.lastError})`);
  await settled();
  assert.is((await servers.messages("alarm")).length, 0, "and deleted");
  assert.ok(app.outbox.store.size() <= 16_384);
  const polls = steps.filter((s) => s === "poll-done").length;
  const notes = trace.filter((t) => /^command poll: refused \d+ command mails?: /.test(t));
  assert.ok(notes.length <= polls, `one log note per poll at most (${notes.length} notes, ${polls} polls)`);
  const counted = notes.reduce((total, note) => total + Number(/refused (\d+)/.exec(note)![1]), 0);
  assert.is(counted, JUNK, "the notes count every refusal");

  door.level = 1;
  const sent = steps.filter((s) => s === "mail-sent").length;
  assert.ok(await until(() => steps.filter((s) => s === "mail-sent").length > sent), `the alarm went out (${app.lastError})`);
  const [alarm] = await servers.waitForMessages("ann", 1);
  assert.match(alarm.toString("latin1"), /Subject: Pump house: door: ALARM/);

  await servers.deliver("alarm", `From: ops@simmail.test\r\nSubject: ${sign("DISARM")}\r\n\r\ndisarm\r\n`);
  assert.ok(await until(() => !app.armed, 600_000), `the DISARM behind the flood was obeyed (${app.lastError})`);
  assert.not.ok(trace.some((t) => /outbox full/.test(t)), trace.filter((t) => /outbox full/.test(t)).slice(0, 3).join("\n"));
  await settled();
  assert.is((await servers.messages("alarm")).length, 0, "the DISARM deleted too");
  await stop();
});

flood("an outbox full of undelivered alarms: refused mails are deleted all the same, and a signed DISARM obeyed, though neither can be logged", async () => {
  // The SMTP server cannot be reached: the alarms stay in the outbox until it is full.
  const defaults = alarmConfig(servers, "ben");
  const { app, trace, until, sign, settled, stop } = rig("ben", { logBytes: 4_096, config: { smtp: { ...defaults.smtp, port: 1 } } });
  let recorded = 0;
  for (;;) {
    try {
      app.record({ type: "input", source: "door", state: 1, alarm: true, text: `door ${++recorded}` });
    } catch {
      break;
    }
  }
  assert.ok(app.outbox.depth > 10, `${app.outbox.depth} undelivered alarms fill the outbox`);
  assert.is((await servers.messages("alarm")).length, 0, "the mailbox starts empty");
  for (let i = 1; i <= 6; i++) await servers.deliver("alarm", junk(i));
  void app.start();
  assert.ok(await until(() => app.commandsRefused >= 6, 600_000), `refused (${app.commandsRefused}; ${app.lastError})`);
  await servers.deliver("alarm", `From: ops@simmail.test\r\nSubject: ${sign("DISARM")}\r\n\r\ndisarm\r\n`);
  assert.ok(await until(() => !app.armed, 600_000), `the DISARM was obeyed (${app.lastError})`);
  await settled();
  assert.is((await servers.messages("alarm")).length, 0, "every mail deleted");
  assert.ok(trace.some((t) => /^logging the command poll's refusals failed: outbox full/.test(t)), "the refusals could not be logged");
  assert.ok(trace.some((t) => /^logging command DISARM failed: outbox full/.test(t)), "nor the obeyed command");
  await stop();
});

flood.run();

const oversize = suite("app: mail too large to read is deleted unread, and an alarm does not wait for one");
oversize.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "ops", "ann", "ben", "cid"]) });
});
oversize.after(async () => {
  await servers.stop();
});

for (const dialect of ["sim7000", "classic"] as const) {
  oversize(`${dialect}: a mail with a 4 MB header is deleted by its LIST size without being read; the DISARM after it is obeyed`, async () => {
    const user = dialect === "sim7000" ? "ann" : "ben";
    const defaults = alarmConfig(servers, user);
    const { app, trace, until, received, sign, settled, stop } = rig(user, { sim: { dialect }, config: { modem: { ...defaults.modem, dialect } } });
    void app.start();
    assert.ok(await until(() => app.status().modemReady), `modem up (${app.lastError})`);
    await servers.deliver("alarm", hugeHeader(4_000_000));
    await servers.deliver("alarm", `From: ops@simmail.test\r\nSubject: ${sign("DISARM")}\r\n\r\ndisarm\r\n`);
    const before = received();
    const started = app.status().commandsRefused;
    assert.ok(await until(() => !app.armed, 600_000), `the DISARM was obeyed (${app.lastError})`);
    assert.is(app.status().commandsRefused - started, 1, "the large mail counted as refused");
    assert.ok(trace.includes("command mail refused: oversize"), trace.filter((t) => /refused/.test(t)).join("\n"));
    assert.match(trace.find((t) => t.startsWith("refused mail: ") && / bytes, over the 65536 /.test(t)) ?? "", /^refused mail: \d{7} bytes, over the 65536 of commandMailMaxBytes$/);
    const through = received() - before;
    assert.ok(through < 100_000, `${through} bytes came through the modem for a 4 MB mail (the header was read)`);
    await settled();
    await settled();
  assert.is((await servers.messages("alarm")).length, 0, "both mails deleted");
    await stop();
  });
}

oversize("sim7000: a server whose LIST understates the size: the headers read stops at the cap, the mail is deleted unread at the next poll, the DISARM after it obeyed", async () => {
  const { app, sim, trace, until, received, sign, settled, stop } = rig("cid", { pop3: { maxMailBytes: 65_536 } });
  sim.setFaults({ listSizeDivisor: 100 });
  void app.start();
  assert.ok(await until(() => app.status().modemReady), `modem up (${app.lastError})`);
  await servers.deliver("alarm", hugeHeader(400_000));
  await servers.deliver("alarm", `From: ops@simmail.test\r\nSubject: ${sign("DISARM")}\r\n\r\ndisarm\r\n`);
  const before = received();
  assert.ok(await until(() => !app.armed, 600_000), `the DISARM was obeyed (${app.lastError})`);
  const through = received() - before;
  assert.ok(through < 65_536 + 20_000, `${through} bytes read: the read stopped soon after the 65536-byte cap`);
  assert.ok(trace.some((t) => /^refused mail: its headers passed the 65536 bytes of commandMailMaxBytes$/.test(t)), trace.filter((t) => /refused/.test(t)).join("\n"));
  assert.ok(trace.some((t) => t === "command mail refused: already-processed"), "deleted unread by its UIDL at the next poll");
  await settled();
  assert.is((await servers.messages("alarm")).length, 0, "both mails deleted");
  await stop();
});

oversize("sim7000: an alarm raised while a large mail's headers are read goes out at once; the mail is read after it", async () => {
  // 900 KB of headers under a 1 MiB cap: 10 s of UART at 921,600 baud. The alarm waited for
  // the whole read before, since due events were looked at only between mails.
  const { app, door, steps, until, received, trace, settled, stop } = rig("ops", { pop3: { maxMailBytes: 1_048_576 } });
  void app.start();
  assert.ok(await until(() => app.status().modemReady), `modem up (${app.lastError})`);
  await servers.deliver("alarm", hugeHeader(900_000));
  const before = received();
  assert.ok(await until(() => received() - before > 150_000), "the headers read is under way");
  const raisedAt = app.platform.clock.now();
  door.level = 1;
  assert.ok(await until(() => steps.includes("mail-sent")), `the alarm went out (${app.lastError})`);
  const waited = app.platform.clock.now() - raisedAt;
  assert.ok(waited < 3_000, `the alarm went out ${waited} ms after the edge (the rest of the read takes about 8 s)`);
  assert.ok(trace.some((t) => /^command poll gave way inside mail 1 after \d+ bytes: events are due$/.test(t)), "the poll gave way inside the mail");
  assert.ok(await until(() => app.commandsRefused === 1, 600_000), `the large mail read after the alarm and refused (${app.lastError})`);
  await settled();
  assert.is((await servers.messages("alarm")).length, 0);
  await stop();
});

oversize.run();
