import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  CommandLedger, CommandVerifier, newNonce, secretFromText, signCommandSubject, signedText,
  type CommandLedgerOptions, type CommandVerdict,
} from "../../../src/app/remote-command.ts";
import { nodeCrypto } from "../../../src/host/crypto.ts";
import { MockFlash, PowerCut } from "../../kit/mock-flash.ts";

const SECRET = secretFromText("correct horse battery staple 42");
const DEVICE = "pump-house-1";
const NOW_MS = Date.UTC(2026, 5, 17, 12, 0, 0);
const NOW = NOW_MS / 1000;
const OPS = "ops@example.com";

let nonceCounter = 0;
function nonce(): string {
  return (++nonceCounter).toString(16).padStart(16, "0");
}

function subject(command: string, seconds = NOW, n = nonce(), secret = SECRET, device = DEVICE): string {
  return signCommandSubject(nodeCrypto, secret, device, command, seconds, n);
}

function setup(ledgerOptions: CommandLedgerOptions = {}, flash = new MockFlash()) {
  const ledger = new CommandLedger(flash.kv, ledgerOptions);
  const verifier = new CommandVerifier({ crypto: nodeCrypto, secret: SECRET, deviceId: DEVICE, allowlist: [OPS, "Boss@Example.org "], ledger });
  return { flash, ledger, verifier };
}

function reason(verdict: CommandVerdict): string {
  return verdict.accepted ? `accepted ${verdict.command}` : verdict.reason;
}

const crypto = suite("remote commands: crypto binding and signing");

crypto("the host HMAC-SHA256 matches RFC 4231 test case 2", () => {
  const mac = nodeCrypto.hmacSha256(new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?"));
  assert.is(Buffer.from(mac).toString("hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert.is(nodeCrypto.randomBytes(8).length, 8);
});

crypto("a signed subject: format and the exact text the mac covers", () => {
  const s = signCommandSubject(nodeCrypto, SECRET, DEVICE, "DISARM", 1781697600, "00112233AABBCCDD");
  const [word, command, seconds, n, mac] = s.split(" ");
  assert.equal([word, command, seconds, n], ["SIMMAIL", "DISARM", "1781697600", "00112233aabbccdd"]);
  assert.is(signedText("DISARM", 1781697600, "00112233AABBCCDD", DEVICE), "DISARM|1781697600|00112233aabbccdd|pump-house-1");
  const expected = nodeCrypto.hmacSha256(SECRET, new TextEncoder().encode("DISARM|1781697600|00112233aabbccdd|pump-house-1"));
  assert.is(mac, Buffer.from(expected).toString("hex"));
  // The worked example of docs/REMOTE-COMMANDS.md (computed there with openssl).
  assert.is(s, "SIMMAIL DISARM 1781697600 00112233aabbccdd 9e5c9bec377bfc01dce14726253086ef4149984abd4a464e967a7d04d5c138c3");
  assert.match(newNonce(nodeCrypto), /^[0-9a-f]{16}$/);
  assert.match(signCommandSubject(nodeCrypto, SECRET, DEVICE, "TEST", NOW), /^SIMMAIL TEST \d+ [0-9a-f]{16} [0-9a-f]{64}$/);
});

crypto("signing and configuration refuse bad input by name", () => {
  assert.throws(() => secretFromText("short"), /the secret is 5 bytes long; use 16 or more/);
  assert.throws(() => signCommandSubject(nodeCrypto, SECRET, "pump house", "ARM", NOW, nonce()), /device id "pump house" must be 1-64 of A-Z a-z 0-9 \. _ -/);
  assert.throws(() => signCommandSubject(nodeCrypto, SECRET, DEVICE, "arm", NOW, nonce()), /command "arm" must be 1-16 capital letters/);
  assert.throws(() => signCommandSubject(nodeCrypto, SECRET, DEVICE, "ARM", -1, nonce()), /-1 is not a time in unix seconds/);
  assert.throws(() => signCommandSubject(nodeCrypto, SECRET, DEVICE, "ARM", NOW, "xyz"), /nonce "xyz" is not 16 hex digits/);
  const ledger = new CommandLedger(new MockFlash().kv);
  const base = { crypto: nodeCrypto, secret: SECRET, deviceId: DEVICE, allowlist: [OPS], ledger };
  assert.throws(() => new CommandVerifier({ ...base, secret: new Uint8Array(8) }), /secret must be 16 bytes or more/);
  assert.throws(() => new CommandVerifier({ ...base, allowlist: ["ops"] }), /allowlist entry 1 \("ops"\) is not an email address/);
  assert.throws(() => new CommandVerifier({ ...base, windowSeconds: 1200 }), /the ledger keeps nonces 600 s, less than the 1200 s window/);
  assert.throws(() => new CommandLedger(new MockFlash().kv, { maxNonces: 0 }), /maxNonces must be a whole number 1-255, not 0/);
});

crypto.run();

const verdicts = suite("remote commands: verdicts");

verdicts("a valid command is accepted once; the same mail again is already processed, the same token replayed", () => {
  const { verifier, ledger } = setup();
  const s = subject("DISARM");
  const first = verifier.verify({ from: `"Ops Team" <${OPS}>`, subject: s, uid: "uid-1" }, NOW_MS);
  assert.equal(first, { accepted: true, command: "DISARM", sender: OPS, timestamp: NOW, nonce: s.split(" ")[3] });
  assert.ok(ledger.hasUid("uid-1") && ledger.hasNonce(s.split(" ")[3]));
  assert.is(reason(verifier.verify({ from: OPS, subject: s, uid: "uid-1" }, NOW_MS + 60_000)), "already-processed");
  const replay = verifier.verify({ from: OPS, subject: s, uid: "uid-2" }, NOW_MS + 60_000);
  assert.is(reason(replay), "replayed-token");
  assert.match((replay as { detail: string }).detail, /nonce [0-9a-f]{16} was used before/);
});

verdicts("every command word; case-insensitive sender; text before SIMMAIL is allowed", () => {
  const { verifier } = setup();
  for (const command of ["ARM", "DISARM", "STATUS", "TEST"]) {
    assert.is(reason(verifier.verify({ from: "BOSS@example.ORG", subject: `Re: [EXT] ${subject(command)}` }, NOW_MS)), `accepted ${command}`);
  }
  const lower = subject("ARM").replace(/[0-9a-f]{64}$/, (mac) => mac.toUpperCase()).replace("SIMMAIL", "simmail");
  assert.is(reason(verifier.verify({ from: OPS, subject: `  ${lower}  ` }, NOW_MS)), "accepted ARM");
});

verdicts("forged senders are refused, display names do not count", () => {
  const { verifier } = setup();
  const s = subject("DISARM");
  for (const from of ["intruder@example.net", `"${OPS}" <intruder@example.net>`, `${OPS}.evil.net`, "", "Ops Team"]) {
    const verdict = verifier.verify({ from, subject: s }, NOW_MS);
    assert.is(reason(verdict), "forged-sender", from);
  }
  assert.match((verifier.verify({ from: "", subject: s }, NOW_MS) as { detail: string }).detail, /no sender address/);
  assert.is(reason(verifier.verify({ from: OPS, subject: s }, NOW_MS)), "accepted DISARM", "the token was not used up by the forgeries");
});

verdicts("ambiguous or unreadable senders are refused: From fields, mailboxes, cut values, encoded words; details are printable", () => {
  const { verifier } = setup();
  const s = subject("DISARM");
  const cases: Array<[Partial<{ from: string; fromFields: number; fromTruncated: boolean; subjectTruncated: boolean }>, string, RegExp]> = [
    [{ from: OPS, fromFields: 2 }, "forged-sender", /the mail has 2 From fields/],
    [{ from: `${OPS}, intruder@example.net` }, "forged-sender", /names 2 mailboxes/],
    [{ from: OPS, fromTruncated: true }, "forged-sender", /From field is too long/],
    [{ from: "=?UTF-8?Q?ops=40example.com?=" }, "forged-sender", /^=\?utf-8\?q\?ops=40example\.com\?= is not on the allowlist$/],
    [{ from: "=?UTF-8?Q?=3Cops=40example.com=3E=2C?= <intruder@example.net>" }, "forged-sender", /^intruder@example\.net is not/],
    [{ from: "intruder\x1b[31m\x00@example.net" }, "forged-sender", /^intruder\?\[31m\?@example\.net is not on the allowlist$/],
    [{ from: OPS, subjectTruncated: true }, "malformed-subject", /subject is too long/],
  ];
  for (const [fields, expected, detail] of cases) {
    const verdict = verifier.verify({ from: OPS, subject: s, ...fields }, NOW_MS);
    assert.is(reason(verdict), expected, JSON.stringify(fields));
    assert.match((verdict as { detail: string }).detail, detail);
  }
  const long = verifier.verify({ from: OPS, subject: `SIMMAIL ${"\x07".repeat(300)} 1 2 3` }, NOW_MS) as { detail: string };
  assert.ok(long.detail.length <= 163 && !/[\x00-\x1f]/.test(long.detail), long.detail);
  assert.is(reason(verifier.verify({ from: `=?UTF-8?B?T3BzIFRlYW0=?= <${OPS}>`, subject: s, fromFields: 1 }, NOW_MS)), "accepted DISARM", "an encoded display name is fine");
});

verdicts("bad tokens: altered digit, other command, other device, other secret", () => {
  const { verifier } = setup();
  const good = subject("ARM");
  const flipped = good.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
  assert.is(reason(verifier.verify({ from: OPS, subject: flipped }, NOW_MS)), "bad-token");
  assert.is(reason(verifier.verify({ from: OPS, subject: good.replace("ARM", "DISARM") }, NOW_MS)), "bad-token");
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("ARM", NOW, nonce(), SECRET, "cold-room") }, NOW_MS)), "bad-token");
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("ARM", NOW, nonce(), secretFromText("another secret of 32 characters!")) }, NOW_MS)), "bad-token");
  const parts = good.split(" ");
  const otherTime = [parts[0], parts[1], String(NOW + 1), parts[3], parts[4]].join(" ");
  assert.is(reason(verifier.verify({ from: OPS, subject: otherTime }, NOW_MS)), "bad-token");
});

verdicts("stale tokens: outside ±window of the device clock; the edges are inside", () => {
  const { verifier } = setup();
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("STATUS", NOW - 601) }, NOW_MS)), "stale-token");
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("STATUS", NOW + 601) }, NOW_MS)), "stale-token");
  const old = verifier.verify({ from: OPS, subject: subject("STATUS", NOW - 3600) }, NOW_MS);
  assert.match((old as { detail: string }).detail, /3600 s before the device's clock \(\d+\); the window is ±600 s/);
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("STATUS", NOW - 600) }, NOW_MS)), "accepted STATUS");
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("STATUS", NOW + 600) }, NOW_MS + 999)), "accepted STATUS");
});

verdicts("unknown commands and malformed subjects", () => {
  const { verifier } = setup();
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("REBOOT") }, NOW_MS)), "unknown-command");
  const cases: Array<[string, RegExp]> = [
    ["Hello there", /no SIMMAIL command/],
    ["SIMMAIL ARM", /followed by 4 words .* not 1/],
    [`${subject("ARM")} thanks`, /not 5/],
    [subject("ARM").replace(/ (\d+) /, " 0$1 "), /is not a time in unix seconds/],
    [subject("ARM").replace(/ [0-9a-f]{16} /, " 0123 "), /nonce "0123" is not 16 hex digits/],
    [subject("ARM").replace(/[0-9a-f]{64}$/, "zz".repeat(32)), /token is not 64 hex digits/],
    [subject("ARM").replace("ARM", "AR-M"), /"AR-M" is not a command word/],
  ];
  for (const [s, detail] of cases) {
    const verdict = verifier.verify({ from: OPS, subject: s }, NOW_MS);
    assert.is(reason(verdict), "malformed-subject", s);
    assert.match((verdict as { detail: string }).detail, detail);
  }
  assert.throws(() => verifier.verify({ from: OPS, subject: subject("ARM"), uid: "has space" }, NOW_MS), /"has space" is not a POP3 unique id/);
});

verdicts("without the wall time: clock-unknown, and the mail is not marked processed", () => {
  const { verifier, ledger } = setup();
  const s = subject("TEST");
  assert.is(reason(verifier.verify({ from: OPS, subject: s, uid: "u1" }, null)), "clock-unknown");
  assert.is(ledger.hasUid("u1"), false);
  assert.is(reason(verifier.verify({ from: OPS, subject: s, uid: "u1" }, NOW_MS)), "accepted TEST");
});

verdicts("refused mails are remembered by UIDL too (a lost DELE does not log them twice)", () => {
  const { verifier } = setup();
  assert.is(reason(verifier.verify({ from: "spam@example.net", subject: "Buy now", uid: "spam-1" }, NOW_MS)), "forged-sender");
  assert.is(reason(verifier.verify({ from: "spam@example.net", subject: "Buy now", uid: "spam-1" }, NOW_MS)), "already-processed");
});

verdicts.run();

verdicts("senders compare by ASCII case only; a From of two addresses or a non-ASCII address is refused, whichever it would name", () => {
  const flash = new MockFlash();
  const ledger = new CommandLedger(flash.kv);
  const verifier = new CommandVerifier({ crypto: nodeCrypto, secret: SECRET, deviceId: DEVICE, allowlist: ["kiosk-ops@example.com"], ledger });
  const cases: Array<[string, string, RegExp]> = [
    // U+212A KELVIN SIGN: toLowerCase() makes it "k", which would match the allowlist.
    ["\u212Aiosk-ops@example.com", "forged-sender", /is not a plain ASCII address/],
    ["<mallory@evil.test> <kiosk-ops@example.com>", "forged-sender", /holds more than one address/],
    ["Ops <kiosk-ops@example.com> mallory@evil.test", "forged-sender", /holds more than one address/],
  ];
  for (const [from, expected, detail] of cases) {
    const verdict = verifier.verify({ from, subject: subject("DISARM") }, NOW_MS);
    assert.is(reason(verdict), expected, from);
    assert.match(verdict.accepted ? "" : verdict.detail, detail, from);
  }
  assert.is(reason(verifier.verify({ from: "Kiosk-OPS@Example.COM", subject: subject("DISARM") }, NOW_MS)), "accepted DISARM", "ASCII case still folds");
});

verdicts("a clock set back holds commands; the ledger's floor rises with nonces dropped by age; both survive a restart", () => {
  const { flash, ledger, verifier } = setup();
  const s = subject("DISARM", NOW);
  assert.is(reason(verifier.verify({ from: OPS, subject: s, uid: "u1" }, NOW_MS)), "accepted DISARM");
  // A later mail, 660 s on: the DISARM's nonce is dropped by age, the floor rises to it.
  assert.is(reason(verifier.verify({ from: OPS, subject: "hello", uid: "u2" }, NOW_MS + 660_000)), "malformed-subject");
  assert.is(ledger.floorFor(NOW + 660), NOW, "the floor is the dropped nonce's time");
  // The clock set back to T+60 (forged network time): the same subject again is held, not obeyed.
  const back = verifier.verify({ from: OPS, subject: s, uid: "u3" }, NOW_MS + 60_000);
  assert.is(reason(back), "clock-unknown");
  assert.match(back.accepted ? "" : back.detail, /reads earlier than a time it has seen/);
  // After a restart the ledger still knows the time and the floor.
  const again = new CommandVerifier({ crypto: nodeCrypto, secret: SECRET, deviceId: DEVICE, allowlist: [OPS], ledger: new CommandLedger(flash.kv) });
  assert.is(reason(again.verify({ from: OPS, subject: s, uid: "u4" }, NOW_MS + 60_000)), "clock-unknown");
  assert.is(reason(again.verify({ from: OPS, subject: s, uid: "u5" }, NOW_MS + 600_000)), "replayed-token", "in the window again, but not newer than the floor");
});

verdicts("ARM and DISARM are obeyed only in signing order; other commands are not ordered", () => {
  const { flash, verifier } = setup();
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("ARM", NOW + 120) }, NOW_MS)), "accepted ARM");
  const older = verifier.verify({ from: OPS, subject: subject("DISARM", NOW) }, NOW_MS);
  assert.is(reason(older), "out-of-order");
  assert.match(older.accepted ? "" : older.detail, new RegExp(`DISARM signed at ${NOW}, before the ${NOW + 120} of the last ARM or DISARM obeyed`));
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("STATUS", NOW) }, NOW_MS)), "accepted STATUS");
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("DISARM", NOW + 130) }, NOW_MS)), "accepted DISARM");
  const restarted = new CommandVerifier({ crypto: nodeCrypto, secret: SECRET, deviceId: DEVICE, allowlist: [OPS], ledger: new CommandLedger(flash.kv) });
  assert.is(reason(restarted.verify({ from: OPS, subject: subject("ARM", NOW + 125) }, NOW_MS)), "out-of-order", "the order survives a restart");
});

const ledgerSuite = suite("remote commands: the ledger");

ledgerSuite("persists across a restart", () => {
  const flash = new MockFlash();
  const s = subject("DISARM");
  const before = setup({}, flash);
  assert.is(reason(before.verifier.verify({ from: OPS, subject: s, uid: "m1" }, NOW_MS)), "accepted DISARM");
  const after = setup({}, flash);
  assert.is(after.ledger.lost, false);
  assert.is(reason(after.verifier.verify({ from: OPS, subject: s, uid: "m1" }, NOW_MS + 5000)), "already-processed");
  assert.is(reason(after.verifier.verify({ from: OPS, subject: s, uid: "m2" }, NOW_MS + 5000)), "replayed-token");
});

ledgerSuite("stays bounded: old nonces expire with the window, the oldest go first when full", () => {
  const { verifier, ledger } = setup({ maxNonces: 8, maxUids: 4 });
  const subjects: string[] = [];
  for (let i = 0; i < 20; i++) {
    subjects.push(subject("STATUS", NOW + i));
    assert.is(reason(verifier.verify({ from: OPS, subject: subjects[i], uid: `m${i}` }, NOW_MS + i * 1000)), "accepted STATUS");
  }
  assert.is(ledger.nonceCount, 8);
  assert.is(ledger.uidCount, 4);
  assert.ok(ledger.hasUid("m19") && !ledger.hasUid("m15"));
  // The evicted nonces cannot be replayed: the floor rose to the newest evicted timestamp.
  const replay = verifier.verify({ from: OPS, subject: subjects[3], uid: "again-3" }, NOW_MS + 20_000);
  assert.is(reason(replay), "replayed-token");
  assert.match((replay as { detail: string }).detail, /at or before \d+ cannot be proven new \(the ledger forgot older ones: it was full, or they aged out\)/);
  assert.is(reason(verifier.verify({ from: OPS, subject: subjects[12], uid: "again-12" }, NOW_MS + 20_000)), "replayed-token");
  // Twenty minutes on, everything held has expired: one new command leaves one nonce.
  assert.is(reason(verifier.verify({ from: OPS, subject: subject("ARM", NOW + 1200), uid: "late" }, NOW_MS + 1_200_000)), "accepted ARM");
  assert.is(ledger.nonceCount, 1);
});

ledgerSuite("a damaged ledger is treated as lost: only tokens signed after the first check are accepted", () => {
  const flash = new MockFlash();
  const before = setup({}, flash);
  before.verifier.verify({ from: OPS, subject: subject("ARM"), uid: "m1" }, NOW_MS);
  const stored = flash.kv.get("cmd-ledger")!;
  stored[6] ^= 0xff;
  flash.kv.put("cmd-ledger", stored);
  const after = setup({}, flash);
  assert.is(after.ledger.lost, true);
  const older = after.verifier.verify({ from: OPS, subject: subject("DISARM", NOW + 30), uid: "m2" }, NOW_MS + 60_000);
  assert.is(reason(older), "replayed-token");
  assert.match((older as { detail: string }).detail, /the ledger was lost/);
  assert.is(reason(after.verifier.verify({ from: OPS, subject: subject("DISARM", NOW + 61), uid: "m3" }, NOW_MS + 65_000)), "accepted DISARM");
  const reloaded = setup({}, flash);
  assert.is(reloaded.ledger.lost, false);
  assert.is(reason(reloaded.verifier.verify({ from: OPS, subject: subject("DISARM", NOW + 59), uid: "m4" }, NOW_MS + 70_000)), "replayed-token", "the floor was persisted");
});

ledgerSuite("a power cut while the ledger is written never lets a command run twice", () => {
  let tookOld = 0;
  let tookNew = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const flash = new MockFlash({ seed });
    const s = subject("DISARM");
    const { verifier } = setup({}, flash);
    flash.cutAfter(1);
    assert.throws(() => verifier.verify({ from: OPS, subject: s, uid: "m1" }, NOW_MS), (e: unknown) => e instanceof PowerCut);
    // The command was not obeyed: verify threw before returning a verdict.
    flash.reboot();
    const again = setup({}, flash).verifier.verify({ from: OPS, subject: s, uid: "m1" }, NOW_MS + 30_000);
    if (flash.lastCut!.tookNew) {
      tookNew++;
      assert.is(reason(again), "already-processed");
    } else {
      tookOld++;
      assert.is(reason(again), "accepted DISARM");
    }
  }
  assert.ok(tookOld > 5 && tookNew > 5, `${tookOld} old, ${tookNew} new`);
});

ledgerSuite.run();
