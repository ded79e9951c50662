// The alarm mailer's reports end to end (alarm-harness.ts: AlarmApp, mock flash and UART,
// simulated SIM7000, real mail servers, virtual time): the daily status mail with its readings,
// and a burst over the hourly mail cap, whose every event reaches the mailbox exactly once.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { simpleParser, type ParsedMail } from "mailparser";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { setupAlarm } from "../kit/alarm-harness.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
let servers: MailServers;

const e2e = suite("app: status and rate-cap mails end to end");

e2e.before(async () => {
  servers = await startMailServers({
    users: mailUsers(["alarm", "dee", "eve"]),
  });
});
e2e.after(async () => {
  await servers.stop();
});

async function parsed(user: string, count: number): Promise<ParsedMail[]> {
  return Promise.all((await servers.waitForMessages(user, count)).map((raw) => simpleParser(raw)));
}

/** "#<seq>" numbers named in `text`. */
function seqs(text: string): number[] {
  return [...text.matchAll(/ #(\d+) /g)].map((m) => Number(m[1]));
}

e2e("the daily status mail reports signal, battery (AT+CBC), uptime, outbox depth and the last error", async () => {
  const { app, sim, clock, steps, until } = setupAlarm(servers, "dee", {
    config: { pop3: null, sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: DAY_MS } },
    sim: { battery: { charging: 0, percent: 73, millivolts: 3921 }, network: { rssi: 20 } },
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  // A restart of the modem: the status mail must name it as the last error.
  sim.reset();
  assert.ok(await until(() => steps.filter((s) => s === "modem-ready").length === 2), `modem up again (${app.lastError})`);
  const lastError = app.lastError;
  assert.match(lastError, /restarted/);
  let sentAt = 0;
  app.onProgress = (step) => {
    steps.push(step);
    if (step === "mail-sent") sentAt = clock.now();
  };
  assert.ok(await until(() => steps.includes("mail-sent"), DAY_MS + HOUR_MS), `status mail sent (${app.lastError})`);
  assert.ok(sentAt >= 1_000 + DAY_MS && sentAt < 1_000 + DAY_MS + 60_000, `sent a day after start (at ${sentAt} ms)`);
  const [mail] = await parsed("dee", 1);
  assert.is(mail.subject, "Pump house: daily status");
  const text = mail.text ?? "";
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(text)?.[1];
  assert.is(field("Signal"), "-73 dBm (rssi 20)");
  assert.is(field("Battery"), "73% (3921 mV)");
  const uptime = Number(/^(\d+) s$/.exec(field("Uptime") ?? "")?.[1]);
  assert.ok(uptime >= (1_000 + DAY_MS) / 1000 && uptime <= sentAt / 1000 + 1, `uptime ${uptime} s`);
  assert.is(field("Undelivered events"), "0");
  assert.is(field("Last error"), lastError);
  assert.is(field("Armed"), "yes");
  assert.is(field("Input door"), "normal");
  assert.is(mail.attachments.length, 0);
  await app.stop();
});

e2e("a burst over the hourly cap: capped mails, then one summary with the rest; every event in exactly one mail", async () => {
  const { app, clock, steps, until } = setupAlarm(servers, "eve", {
    config: { pop3: null, sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: 7 * DAY_MS, mailsPerHour: 3, maxEventsPerMail: 2 } },
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  const record = (i: number) => app.record({ type: "input", source: "door", state: 1, alarm: true, text: `burst ${i}` });
  // Sequence numbers as the outbox gives them (it may hold other events already).
  const recorded: number[] = [];
  for (let i = 1; i <= 15; i++) recorded.push(record(i));
  const start = clock.now();
  const sent = () => steps.filter((s) => s === "mail-sent").length;
  assert.ok(await until(() => sent() === 3), `three capped mails (${app.lastError})`);
  assert.ok(clock.now() - start < 60_000, "the first three mails go out at once");
  assert.is(app.outbox.depth, 9);
  // More events while the cap holds: they join the summary.
  assert.not.ok(await until(() => sent() > 3, 30 * 60_000), "no fourth mail within the hour");
  for (let i = 16; i <= 18; i++) recorded.push(record(i));
  assert.ok(await until(() => sent() === 4, 2 * HOUR_MS), `summary sent (${app.lastError})`);
  assert.ok(clock.now() - start >= HOUR_MS, "the summary waited for the cap");
  assert.is(app.outbox.depth, 0, "nothing left behind");

  const mails = await parsed("eve", 4);
  const batches = mails.filter((m) => !/held back/.test(m.subject ?? "")).sort((a, b) => seqs(a.text ?? "")[0] - seqs(b.text ?? "")[0]);
  const [summary] = mails.filter((m) => /held back/.test(m.subject ?? ""));
  assert.is(batches.length, 3);
  assert.ok(summary, "one summary mail");
  const batched = batches.map((m) => seqs(m.text ?? ""));
  // The oldest events first, two a mail, each once.
  assert.equal(batched, [recorded.slice(0, 2), recorded.slice(2, 4), recorded.slice(4, 6)]);
  for (const [i, m] of batches.entries()) assert.match(m.text ?? "", new RegExp(`burst ${2 * i + 1}\\b[^]*burst ${2 * i + 2}\\b`));
  const [first, last] = [recorded[6], recorded[17]];
  assert.is(summary.subject, "Pump house: 12 events held back by the mail rate cap");
  assert.match(summary.text ?? "", `12 events (numbers ${first} to ${last})`);
  assert.match(summary.text ?? "", "Alarms among them: 12.");
  assert.is(summary.attachments.length, 1);
  assert.is(summary.attachments[0].filename, `pump-house-1-events-${first}-${last}.txt`);
  const attached = summary.attachments[0].content.toString("utf8");
  assert.equal(seqs(attached), recorded.slice(6));
  for (let i = 7; i <= 18; i++) assert.match(attached, new RegExp(`burst ${i}\\b`));
  // Every event recorded is in exactly one mail.
  assert.equal([...batched.flat(), ...seqs(attached)], recorded);
  await app.stop();
});

e2e.run();
