// The alarm mailer against a modem that behaves as modems in the field do (the simulator's
// field profile, sim/modem/field.ts; docs/FIELD.md): a boot window of silence, boot lines
// between commands and their replies and in the middle of transfers, echo coming back, uneven
// empty lines, a firmware without email, power-down texts and a silent power loss.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { setupAlarm } from "../kit/alarm-harness.ts";
import { NO_EMAIL_HOLD_MS, NO_EMAIL_SENDS } from "../../src/app/recovery.ts";

const HOUR_MS = 3_600_000;
let servers: MailServers;

const field = suite("app: a modem as in the field");

field.before(async () => {
  servers = await startMailServers({ users: mailUsers(["alarm", "fay", "gus", "hal", "ivy", "jon"]) });
});
field.after(async () => {
  await servers.stop();
});

const door = { type: "input", source: "door", state: 1, alarm: true } as const;

field("switched on as the app starts: 12 s of silence, then bring-up; alarms sent through boot lines, echo and uneven lines", async () => {
  const trace: string[] = [];
  const { app, sim, clock, steps, until, transcript } = setupAlarm(servers, "fay", {
    config: { pop3: null }, boot: true, record: true, sim: { field: { bootSilenceMs: 12_000 } }, trace: (t) => trace.push(t),
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  assert.ok(clock.now() >= 12_000, `up after the silence, at ${clock.now()} ms`);
  assert.not.ok(trace.some((t) => /bring-up failed/.test(t)), `no failed bring-up while the modem booted: ${trace.filter((t) => /failed/.test(t)).join(" / ")}`);
  assert.is(sim.powered, true);
  for (let i = 1; i <= 3; i++) {
    app.record({ ...door, text: `door ${i}` });
    assert.ok(await until(() => steps.filter((s) => s === "mail-sent").length === i), `mail ${i} sent (${app.lastError})`);
  }
  const mails = await servers.waitForMessages("fay", 3);
  assert.is(mails.length, 3);
  // The boot lines were there: between replies, as the profile puts them.
  assert.ok(trace.some((t) => /^< (SMS Ready|DST: 0|\*PSUTTZ|\+APP PDP)/.test(t)), "boot lines seen between replies");
  const fromModem = transcript.filter((e) => e.dir === "rx").map((e) => Buffer.from(e.bytes).toString("latin1")).join("");
  assert.match(fromModem, /at\+smtpsend\r/, "the modem echoed in lower case");
  assert.match(fromModem, /RDY\r\n/, "and printed its boot lines");
  assert.ok(fromModem.includes("\xff\xf8\x1c"), "noise as the supply came up");
  assert.match(fromModem, /[a-z0-9?=]\r(OK|\+[A-Z])/, "an echo straight into its result");
  assert.match(fromModem, /[^\n]\r\nOK\r\n/, "an information line then OK, no empty line between");
  assert.match(fromModem, /\r\n\r\nDOWNLOAD\r\n/, "an empty line before DOWNLOAD");
  assert.not.ok(trace.some((t) => /^< at/.test(t)), "every lower-case echo recognised as the echo of its command");
  await app.stop();
});

field(`+SMTPSEND: 65 ${NO_EMAIL_SENDS} times in a row with the bearer up: sending held back for hours, then said in the status mail`, async () => {
  const sends: number[] = [];
  const { app, sim, clock, steps, until } = setupAlarm(servers, "gus", {
    config: { pop3: null, sender: { gatherMs: 200, heartbeatAtMinute: null, heartbeatIntervalMs: 3 * HOUR_MS, retryBaseMs: 1_000, retryMaxMs: 4_000 } },
    sim: { field: { email: "send-fails" }, trace: (t) => void (/^command AT\+SMTPSEND$/.test(t) && sends.push(clock.now())) },
  });
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  app.record({ ...door, text: "door while the firmware has no email" });
  assert.ok(await until(() => sends.length === NO_EMAIL_SENDS), `${sends.length} sends`);
  assert.match(app.lastError, /65 SMTP server response error; on SIM7000G this usually means the firmware has no email support/);
  const heldAt = clock.now();
  // Hours without a send (and without spending the data plan), though the retry delay is 4 s at most.
  assert.not.ok(await until(() => sends.length > NO_EMAIL_SENDS, NO_EMAIL_HOLD_MS - 60_000), `a send ${(sends[NO_EMAIL_SENDS] - heldAt) / 1000} s into the hold`);
  sim.setFaults({ emailSupport: "full" }); // the firmware was replaced, say
  assert.ok(await until(() => steps.filter((s) => s === "mail-sent").length === 2, 2 * HOUR_MS), `events and status mails sent (${app.lastError})`);
  assert.ok(sends[NO_EMAIL_SENDS] - heldAt >= NO_EMAIL_HOLD_MS * 0.99, `held ${(sends[NO_EMAIL_SENDS] - heldAt) / HOUR_MS} h`);
  const status = (await servers.waitForMessages("gus", 2)).map((raw) => raw.toString("latin1")).find((text) => /daily status/.test(text)) ?? "";
  assert.match(status, new RegExp(`Sending held back: ${NO_EMAIL_SENDS} sends in a row were answered \\+SMTPSEND: 65 with the bearer up`));
  await app.stop();
});

for (const family of ["sim800", "sim7600", "a7670"] as const) {
  field(`the ${family} family's boot lines (and RDY after *ATREADY on the A7670): up after the silence, the alarm sent`, async () => {
    const { app, clock, steps, until, transcript } = setupAlarm(servers, "fay", {
      config: { pop3: null }, boot: true, record: true, sim: { field: { family, bootSilenceMs: 3_000 } },
    });
    void app.start();
    assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
    assert.ok(clock.now() >= 3_000);
    app.record({ ...door, text: `door on ${family}` });
    assert.ok(await until(() => steps.includes("mail-sent")), `sent (${app.lastError})`);
    const fromModem = transcript.filter((e) => e.dir === "rx").map((e) => Buffer.from(e.bytes).toString("latin1")).join("");
    const expected = { sim800: "Call Ready", sim7600: "PB DONE", a7670: "*ATREADY: 1" }[family];
    assert.ok(fromModem.includes(expected), `${expected} on the wire`);
    await app.stop();
  });
}

for (const action of ["normal-power-down", "under-voltage-power-down", "under-voltage-warning-power-down", "silent-power-down"] as const) {
  field(`${action} in the middle of a send: the app runs the bring-up again once the modem is back, the alarm goes out once`, async () => {
    const user = { "normal-power-down": "hal", "under-voltage-power-down": "ivy", "under-voltage-warning-power-down": "jon", "silent-power-down": "hal" }[action];
    const before = (await servers.messages(user)).length;
    const trace: string[] = [];
    const { app, sim, clock, steps, until } = setupAlarm(servers, user, {
      config: { pop3: null }, trace: (t) => trace.push(t),
      sim: { field: { bootSilenceMs: 0, bootSyncs: 1, triggers: [{ command: "AT+SMTPSEND", action }] } },
    });
    void app.start();
    assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
    app.record({ ...door, text: `door before ${action}` });
    assert.ok(await until(() => !sim.powered), "the modem powered down");
    const downAt = clock.now();
    if (action !== "silent-power-down") {
      assert.ok(await until(() => /powered down/.test(app.lastError)), app.lastError);
      if (action !== "normal-power-down") assert.match(app.lastError, /low supply voltage/);
    }
    // Power comes back a while later (the field profile's silence applies again).
    await until(() => clock.now() >= downAt + 30_000, 60_000);
    sim.setFaults({ triggers: [] });
    sim.powerOn();
    assert.ok(await until(() => steps.includes("mail-sent"), 30 * 60_000), `sent after the power came back (${app.lastError})`);
    assert.ok(steps.filter((s) => s === "modem-ready").length >= 2, "brought up again");
    const mails = await servers.waitForMessages(user, before + 1);
    assert.is(mails.filter((m) => m.toString("latin1").includes(`door before ${action}`)).length, 1, "the alarm, once");
    await app.stop();
  });
}

field("a reset with no RDY at all (and noise): the app notices by the timeout, restarts, and the alarm goes out once", async () => {
  const { app, sim, steps, until } = setupAlarm(servers, "fay", {
    config: { pop3: null },
    sim: { field: { bootSilenceMs: 0, bootSyncs: 1, rdy: "missing", triggers: [{ command: "AT+SMTPSEND", action: "reset" }] } },
  });
  const before = (await servers.messages("fay")).length;
  void app.start();
  assert.ok(await until(() => steps.includes("modem-ready")), `modem up (${app.lastError})`);
  app.record({ ...door, text: "door across a silent reset" });
  assert.ok(await until(() => steps.includes("mail-sent"), 30 * 60_000), `sent (${app.lastError})`);
  assert.ok(sim.powered);
  const mails = await servers.waitForMessages("fay", before + 1);
  assert.is(mails.filter((m) => m.toString("latin1").includes("door across a silent reset")).length, 1);
  await app.stop();
});

field("a SIM asking for its PIN, and a missing one in the numeric form: the bring-up fails saying so, and keeps trying", async () => {
  for (const [sim, words] of [["pin", /the SIM needs its PIN .*\(\+CPIN: SIM PIN\)/], ["absent", /no SIM card found: .*\+CME ERROR: 10/]] as const) {
    const { app, until } = setupAlarm(servers, "fay", { config: { pop3: null }, sim: { field: { sim, errors: "numeric", bootSilenceMs: 0, bootSyncs: 1 } } });
    void app.start();
    assert.ok(await until(() => words.test(app.lastError), 120_000), app.lastError);
    assert.match(app.lastError, /^modem bring-up failed: /);
    await app.stop();
  }
});

field.run();
