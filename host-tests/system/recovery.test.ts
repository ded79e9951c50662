// Failures the fault soak found, each replayed on purpose: the alarm app, the simulated modem
// and the real servers (rig.ts), one fault at the exact moment that broke recovery.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { latin1 } from "../../src/transport/bytes.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { clearMailbox, DEVICE_ID, operatorAddress, readDeliveries, SOAK_SECRET, soakUsers, SoakRig } from "./rig.ts";

let servers: MailServers;
const recovery = suite("soak regressions: the app recovers from faults at awkward moments");

recovery.before(async () => {
  servers = await startMailServers({ users: soakUsers(["ann", "ben"]) });
});
recovery.after(async () => {
  await servers.stop();
});

async function readyRig(recipient: string, trace: string[], pollIntervalMs = 3_600_000): Promise<SoakRig> {
  await clearMailbox(servers, recipient);
  const rig = new SoakRig({ servers, recipient, seed: 7, operators: 1, pollIntervalMs, trace: (line) => trace.push(line) });
  rig.boot();
  assert.ok(await rig.runUntil(() => rig.app.status().modemReady, 60_000), "modem up");
  return rig;
}

recovery("a bearer drop just before DOWNLOAD: the body is still written, so the modem is not left eating commands as data", async () => {
  const trace: string[] = [];
  const rig = await readyRig("ann", trace);
  // The drop comes before the modem answers AT+SMTPBODY=<n> with DOWNLOAD: the host must still
  // send the n bytes the modem now waits for, or every later AT is swallowed as body text.
  rig.sim.setFaults({ triggers: [{ command: "AT+SMTPBODY", action: "drop-bearer" }] });
  const start = rig.clock.now();
  const seq = await rig.record(1);
  assert.ok(await rig.runUntil(() => rig.app.outbox.depth === 0, 600_000), `delivered (${rig.app.lastError})`);
  const took = rig.clock.now() - start;
  assert.ok(took < 120_000, `delivered ${Math.round(took / 1000)} s after the drop (the retry after 30 s and one bring-up), not after minutes of unanswered ATs`);
  assert.not.ok(trace.some((line) => /does not answer AT/.test(line)), "the modem answered every bring-up");
  await rig.stop();
  const mails = await readDeliveries(servers, "ann");
  assert.equal(mails.map((m) => m.soak.get(seq!)), [1], "one mail, with the event");
});

recovery("the +SMTPFT: 1 announcement lost on the wire: the app restarts the modem, which still held the mail, and sends again", async () => {
  const trace: string[] = [];
  const rig = await readyRig("ben", trace);
  const modemSide = (rig.sim as unknown as { sink: (bytes: Uint8Array) => void }).sink;
  let dropped = false;
  rig.sim.setSink((bytes) => {
    if (!dropped && latin1(bytes, 0, bytes.length).includes("+SMTPFT: 1,")) {
      dropped = true; // garbled beyond recognition: the host never learns the modem waits for the attachment
      return;
    }
    modemSide(bytes);
  });
  const seq = await rig.record(1);
  assert.ok(await rig.runUntil(() => rig.app.outbox.depth === 0, 3_600_000), `delivered (${rig.app.lastError})`);
  assert.ok(dropped, "the announcement was dropped");
  assert.ok(trace.some((line) => /restarting the modem/.test(line)), "the modem was restarted");
  assert.not.ok(trace.some((line) => /refused AT\+SMTPSEND/.test(line)), "no send met a modem still busy with the old one");
  await rig.stop();
  const mails = await readDeliveries(servers, "ben");
  assert.equal(mails.map((m) => m.soak.get(seq!)), [1], "one mail: the held one was never completed");
});

/** Drops the first output toward the host that holds `text` (noise garbled it past recognition); returns whether it did. */
function loseOnce(rig: SoakRig, text: string): () => boolean {
  const modemSide = (rig.sim as unknown as { sink: (bytes: Uint8Array) => void }).sink;
  let dropped = false;
  rig.sim.setSink((bytes) => {
    if (!dropped && latin1(bytes, 0, bytes.length).includes(text)) {
      dropped = true;
      return;
    }
    modemSide(bytes);
  });
  return () => dropped;
}

for (const [lost, what] of [["DOWNLOAD", "AT+SMTPBODY=<n>'s DOWNLOAD"], ["+SMTPFT: 2,", "a chunk's +SMTPFT: 2,<n>"]] as const) {
  recovery(`${what} lost on the wire: the engine pays the modem the bytes it waits for, so the next bring-up is answered (RELIABILITY.md: deaf for hours before)`, async () => {
    const trace: string[] = [];
    const rig = await readyRig("ann", trace);
    const dropped = loseOnce(rig, lost);
    const start = rig.clock.now();
    const seq = await rig.record(1);
    assert.ok(await rig.runUntil(() => rig.app.outbox.depth === 0, 3_600_000), `delivered (${rig.app.lastError})`);
    const took = rig.clock.now() - start;
    assert.ok(dropped(), "the prompt was dropped");
    assert.ok(took < 600_000, `delivered ${Math.round(took / 1000)} s after the loss (the step's timeout, a restart, the retry), not after the syncs filled the owed bytes`);
    assert.not.ok(trace.some((line) => /does not answer AT/.test(line)), "every bring-up was answered");
    await rig.stop();
    const mails = await readDeliveries(servers, "ann");
    assert.equal(mails.map((m) => m.soak.get(seq!)), [1], "one mail, with the event");
  });
}

/** Rewrites the modem's `AT+SMTPFROM=?` answer to a 6-character sender limit: the first `times` answers (noise), or all. */
function garbleSenderLimit(rig: SoakRig, times: number): () => number {
  const modemSide = (rig.sim as unknown as { sink: (bytes: Uint8Array) => void }).sink;
  let garbled = 0;
  rig.sim.setSink((bytes) => {
    const text = latin1(bytes, 0, bytes.length);
    if (garbled < times && text.includes("+SMTPFROM: 64,")) {
      garbled++;
      modemSide(Buffer.from(text.replace("+SMTPFROM: 64,", "+SMTPFROM: 6,"), "latin1"));
      return;
    }
    modemSide(bytes);
  });
  return () => garbled;
}

recovery("a probe garbled by noise (sender address at most 6 characters) is probed again when a send is refused over it, and the mail goes out", async () => {
  const trace: string[] = [];
  const rig = await readyRig("ann", trace);
  const garbled = garbleSenderLimit(rig, 1);
  // The next bring-up's probe is the garbled one: make the app bring the modem up again.
  rig.sim.dropBearer(1);
  const seq = await rig.record(1);
  assert.ok(await rig.runUntil(() => rig.app.outbox.depth === 0, 3_600_000), `delivered (${rig.app.lastError})`);
  assert.is(garbled(), 1, "one probe was garbled");
  assert.ok(trace.some((line) => /this modem takes at most 6.*noise may have garbled the probe/.test(line)), "the refusal said why it probes again");
  assert.is(rig.app.status().sendingHalted, "", "sending was not halted");
  await rig.stop();
  const mails = await readDeliveries(servers, "ann");
  assert.equal(mails.map((m) => m.soak.get(seq!)), [1], "one mail, with the event");
});

recovery("a limit the probe reads again is the firmware's: after one more probe the refusal halts sending", async () => {
  const trace: string[] = [];
  const rig = await readyRig("ben", trace);
  garbleSenderLimit(rig, Infinity);
  rig.sim.dropBearer(1);
  await rig.record(1);
  assert.ok(await rig.runUntil(() => rig.app.status().sendingHalted !== "", 3_600_000), "sending halted");
  assert.match(rig.app.status().sendingHalted, /sender address: is \d+ characters long; this modem takes at most 6$/);
  assert.is(trace.filter((line) => /noise may have garbled the probe/.test(line)).length, 1, "doubted once");
  assert.is(rig.app.outbox.depth > 0, true, "the event stays in the outbox");
  await rig.stop();
});

recovery("the +POP3IN: 1 answer lost on the wire: the app restarts the modem, which still held the session, and the command is obeyed once", async () => {
  const trace: string[] = [];
  await clearMailbox(servers, "alarm");
  const rig = await readyRig("ann", trace, 120_000);
  const modemSide = (rig.sim as unknown as { sink: (bytes: Uint8Array) => void }).sink;
  let dropped = false;
  rig.sim.setSink((bytes) => {
    if (!dropped && latin1(bytes, 0, bytes.length).includes("+POP3IN: 1")) {
      dropped = true;
      return;
    }
    modemSide(bytes);
  });
  const subject = signCommandSubject(nodeCrypto, secretFromText(SOAK_SECRET), DEVICE_ID, "DISARM", Math.floor(rig.wallNow() / 1000));
  await servers.deliver("alarm", `From: <${operatorAddress(1)}>\r\nTo: alarm@simmail.test\r\nSubject: ${subject}\r\n\r\nDISARM\r\n`);
  assert.ok(await rig.runUntil(() => rig.app.commandsObeyed === 1, 600_000), `obeyed (${rig.app.lastError})`);
  assert.ok(dropped, "the answer was dropped");
  assert.not.ok(rig.app.armed, "disarmed");
  assert.ok(trace.some((line) => /restarting the modem/.test(line)), "the modem was restarted");
  assert.not.ok(trace.some((line) => /refused AT\+POP3IN/.test(line)), "no login met a modem still holding the old session");
  await rig.stop();
});

recovery("stop() ends at once, also while the bring-up waits for the network to attach", async () => {
  const trace: string[] = [];
  const rig = await readyRig("ann", trace);
  rig.sim.setNetwork({ attached: false }); // the bearer goes, the bring-up polls AT+CGATT? with pauses
  await rig.advanceTo(rig.clock.now() + 3_000);
  assert.ok(trace.some((line) => /> AT\+CGATT\?/.test(line)), "the bring-up is waiting for the attach");
  // Virtual time stands still now, as it would for any waiting: stop must not need the modem or a timer.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    rig.app.stop().then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 3_000); }),
  ]);
  clearTimeout(timer);
  assert.ok(stopped, "stopped without virtual time passing");
  rig.sim.close();
});

recovery.run();
