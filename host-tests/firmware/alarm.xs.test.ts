// XS suite: the alarm mailer itself under the real XS engine. AlarmApp, bundled with esbuild as
// for the device (ES2022, platform neutral, minified), runs in xsnap on the mock flash and the
// kit's mock UART against the simulator's SIM7000 (sim/modem, in the same XS machine, with the
// in-memory mail servers behind it: kit/xs/xs-modem.ts), with the plain-JS HMAC-SHA256
// (sha256.ts) as its Crypto port. An input edge is mailed with the event log attached (the
// mail the SMTP server received, parsed here by mailparser), a signed DISARM read over
// POP3READ is obeyed once and deleted, forgeries are refused, and the heap after GC stays flat
// over many alarm cycles with the simulator's heap in it.

import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { hmacSha256, sha256 } from "../kit/xs/sha256.ts";
import { alarmRigStack, bundleAlarmXs, runInXs, type XsStepResult } from "../kit/xs/run-xs.ts";
import { simpleParser } from "mailparser";
import type { DeliveredMail } from "../../sim/servers/memory-smtp.ts";

const SECRET = "correct horse battery staple 42";
const WALL_AT_ZERO = Date.UTC(2026, 11, 1, 12, 0, 0);
const WARM_UP_CYCLES = 10;
const CYCLES = 100;
const IDLE_MS = 120_000;

const test = suite("XS: the alarm mailer under xsnap");

/** Bytes 0..n-1 of a fixed pattern. */
const pattern = (n: number, step: number) => Uint8Array.from({ length: n }, (_, i) => (i * step + 11) & 255);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("the plain-JS SHA-256 and HMAC-SHA256 equal node:crypto (block edges, long keys)", () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const data = pattern(n, 7);
    assert.is(hex(sha256(data)), createHash("sha256").update(data).digest("hex"), `SHA-256 of ${n} bytes`);
    for (const keyLength of [0, 16, 32, 64, 65, 200]) {
      const key = pattern(keyLength, 3);
      assert.is(hex(hmacSha256(key, data)), createHmac("sha256", key).update(data).digest("hex"), `HMAC of ${n} bytes, ${keyLength}-byte key`);
    }
  }
  // FIPS 180-4's "abc".
  assert.is(hex(sha256(Uint8Array.from([97, 98, 99]))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

/** A mail the SMTP server received (reported out of XS), parsed by mailparser. */
async function received(report: unknown) {
  const mail = report as DeliveredMail;
  const parsed = await simpleParser(Buffer.from(mail.message, "latin1"));
  const attachment = parsed.attachments[0];
  return {
    server: mail.server,
    envelopeFrom: mail.from,
    envelopeTo: mail.recipients,
    from: parsed.headers.get("from") === undefined ? "" : parsed.from!.text,
    to: Array.isArray(parsed.to) ? parsed.to.map((t) => t.text).join(", ") : (parsed.to?.text ?? ""),
    subject: parsed.subject ?? "",
    body: parsed.text ?? "",
    fileName: attachment?.filename ?? "",
    log: attachment === undefined ? "" : attachment.content.toString("utf8"),
    raw: mail.message,
  };
}

/** One command mail in the mailbox, as a sender's client would write it. */
function commandMail(from: string, subject: string, id: number) {
  return { uid: `uid-${id}`, text: `From: ${from}\r\nTo: alarm@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.net>\r\n\r\ncommand\r\n` };
}

test("AlarmApp under XS: alarm mail with the log attached, signed commands obeyed once, forgeries refused, heap flat", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-alarm-xs-"));
  try {
    const bundle = join(scratch, "alarm-xs.js");
    await bundleAlarmXs(bundle);
    const secret = secretFromText(SECRET);
    const signedAt = Math.floor(WALL_AT_ZERO / 1000) + 60;
    const disarm = signCommandSubject(nodeCrypto, secret, "pump-house-1", "DISARM", signedAt);
    const firstPoll = [
      commandMail("Ops <ops@example.net>", disarm, 1),
      commandMail("mallory@evil.example", signCommandSubject(nodeCrypto, secret, "pump-house-1", "DISARM", signedAt), 2), // sender not allowed
      commandMail("ops@example.net", signCommandSubject(nodeCrypto, secretFromText("another secret of enough length"), "pump-house-1", "ARM", signedAt), 3), // bad token
    ];
    const secondPoll = [
      commandMail("ops@example.net", disarm, 4), // replayed
      commandMail("ops@example.net", signCommandSubject(nodeCrypto, secret, "pump-house-1", "ARM", signedAt + 30), 5),
    ];
    const counters = "({ armed: rig.app.armed, obeyed: rig.app.commandsObeyed, refused: rig.app.commandsRefused, deleted: rig.mail.deleted.slice(), left: rig.mail.mailbox.length, modemRefused: rig.refused.slice(), timeouts: rig.app.engine.stats.timeouts })";
    const pollOf = (mails: unknown[], handled: number) => `
      for (const mail of ${JSON.stringify(mails)}) rig.mail.mailbox.push(mail);
      rig.runUntil(() => rig.mail.mailbox.length === 0 && rig.app.commandsObeyed + rig.app.commandsRefused === ${handled}, 180000)
        .then((done) => { report(done); report(${counters}); return rig.nextMail(); })
        .then(report);`;
    const { steps } = await runInXs({
      stack: alarmRigStack(),
      scripts: [bundle],
      steps: [
        {
          name: "set-up",
          code: `
            globalThis.rig = alarmXs.createAlarmRig({ wallAtZero: ${WALL_AT_ZERO}, secret: ${JSON.stringify(SECRET)}, allowlist: ["ops@example.net"] });
            rig.app.start();
            rig.runUntil(() => rig.steps.includes("poll-done"), 120000).then(report);`,
        },
        {
          name: "hmac",
          code: `
            const bytes = (n, step) => Uint8Array.from({ length: n }, (_, i) => (i * step + 11) & 255);
            const hex = (b) => Array.from(b, (x) => (x < 16 ? "0" : "") + x.toString(16)).join("");
            for (const [n, k] of [[0, 32], [64, 32], [100, 200]]) report(hex(alarmXs.hmacSha256(bytes(k, 3), bytes(n, 7))));`,
        },
        { name: "alarm", code: "rig.door.level = 1; rig.nextMail().then(report);" },
        { name: "all clear", code: "rig.door.level = 0; rig.nextMail().then(report);" },
        { name: "first poll", code: pollOf(firstPoll, 3) },
        { name: "second poll", code: pollOf(secondPoll, 5) },
        // Each phase ends with two idle minutes: the virtual clock drops cancelled timers only
        // when they fall due, and the app's longest (the poll, command timeouts) are that far out.
        { name: "warm-up", code: `(async () => { for (let i = 0; i < ${WARM_UP_CYCLES}; i++) await rig.alarmCycle(); await rig.runUntil(() => false, ${IDLE_MS}); })();`, gc: true },
        { name: "idle", code: "", gc: true },
        { name: "cycles", code: `(async () => { for (let i = 0; i < ${CYCLES}; i++) await rig.alarmCycle(); await rig.runUntil(() => false, ${IDLE_MS}); report(${counters}); report(rig.app.mailsSent); })();`, gc: true },
      ],
    }, 240_000); // the whole day log travels in every mail, through the simulator too: a few minutes on a busy machine
    const step = (name: string): XsStepResult => steps.find((s) => s.name === name)!;

    assert.equal(step("set-up").reports, [true], "modem up and the first (empty) poll done");
    assert.equal(step("hmac").reports, [[0, 32], [64, 32], [100, 200]].map(([n, k]) => createHmac("sha256", pattern(k, 3)).update(pattern(n, 7)).digest("hex")));

    // The alarm mail, as the SMTP server received it (envelope and message), parsed here: the
    // subject, the body and the day's log attached (base64 from the host over AT+SMTPFT).
    const alarm = await received(step("alarm").reports[0]);
    assert.is(alarm.server, "10.0.0.25:587", "to the SMTP server that mail.example.net resolves to");
    assert.is(alarm.envelopeFrom, "alarm@example.net");
    assert.equal(alarm.envelopeTo, ["ops@example.net"]);
    assert.is(alarm.from, '"Pump house" <alarm@example.net>');
    assert.is(alarm.to, '"Ops" <ops@example.net>');
    assert.is(alarm.subject, "Pump house: door: ALARM");
    assert.match(alarm.body, /^Pump house \(pump-house-1\) reports 1 event:/);
    assert.match(alarm.body, /2026-12-01 12:\d\d:\d\dZ {2}#\d+ {2}ALARM {2}door=1/);
    assert.is(alarm.fileName, "pump-house-1-log.txt");
    assert.match(alarm.raw, /filename="pump-house-1-log\.txt"\r\n\r\n([A-Za-z0-9+/=]{1,76}\r\n)+------=_SIM7000_/, "the attachment in base64 MIME lines");
    assert.match(alarm.log, /^Pump house: events of the last 24 hours/);
    assert.match(alarm.log, /#\d+ {2}ALARM {2}door=1/);
    const clear = await received(step("all clear").reports[0]);
    assert.is(clear.subject, "Pump house: door: normal");
    assert.match(clear.log, /ALARM {2}door=1[^]*input {2}door=0/);

    // First poll: DISARM obeyed, the other two refused; all three deleted; a status mail answers.
    const [firstDone, first, firstReport] = step("first poll").reports as [boolean, Record<string, unknown>, unknown];
    assert.ok(firstDone, "first poll handled every mail");
    assert.equal(first, { armed: false, obeyed: 1, refused: 2, deleted: [1, 2, 3], left: 0, modemRefused: [], timeouts: 0 });
    const firstAnswer = await received(firstReport);
    assert.is(firstAnswer.subject, "Pump house: status");
    assert.match(firstAnswer.body, /^Armed: no$/m);
    // Second poll: the replayed DISARM is refused, the fresh ARM obeyed.
    const [secondDone, second, secondReport] = step("second poll").reports as [boolean, Record<string, unknown>, unknown];
    assert.ok(secondDone, "second poll handled every mail");
    assert.equal(second, { armed: true, obeyed: 2, refused: 3, deleted: [1, 2, 3, 1, 2], left: 0, modemRefused: [], timeouts: 0 });
    assert.match((await received(secondReport)).body, /^Armed: yes$/m);

    // The heap after GC: as many live slots after the cycles as before them.
    const [end, mailsSent] = step("cycles").reports as [Record<string, unknown>, number];
    assert.equal(end, { ...second, deleted: [1, 2, 3, 1, 2] });
    assert.is(mailsSent, 2 + 2 + 2 * (WARM_UP_CYCLES + CYCLES), "every alarm and all-clear mailed");
    // The idle step right after the warm-up measures what a step leaves behind by itself.
    const before = step("idle").heapAfterGc!;
    const drift = before - step("warm-up").heapAfterGc!;
    const after = step("cycles").heapAfterGc!;
    console.log(`  XS heap after GC: ${before} slots after ${WARM_UP_CYCLES} cycles, ${after} after ${CYCLES} more (harness drift ${drift} per step); ${Math.round(step("cycles").meterUsage.compute / CYCLES)} compute per cycle`);
    assert.ok(after - before - drift <= 0, `${CYCLES} alarm cycles grew the XS heap by ${after - before - drift} slots`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
