// The shipped firmware in the Moddable runtime, end to end: manifest.json built for lin
// (mcconfig -m -p lin, release, config pointing it at the simulator), run in mcsim on a private
// Xvfb display, against the simulated SIM7000 on a pty and the real mail servers (smtp-server
// and Dovecot POP3). mcsim-rig.ts has the machinery.
//
//   1. An input edge (a pin file set to 0) gives an alarm mail with the day's log attached.
//   2. mcsim killed (SIGKILL, by PID) in the data phase of the next alarm's mail, between two
//      AT+SMTPFT chunks, and started again: that mail goes out, with the event recorded before
//      the kill (the outbox survived on the lin file system).
//   3. A signed DISARM and a copy of it, put in the command mailbox while mcsim was down: the
//      DISARM is obeyed once (answered by a status mail saying "Armed: no"), the copy refused
//      as replayed, both deleted.
//
// The SDK is $MODDABLE, else ../shared/moddable beside the repo (moddable-sdk.ts). Without one
// the suite is one test that says so. With one, a missing Debian package is a failure naming it.

import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { secretFromText, signCommandSubject } from "../../src/app/remote-command.ts";
import { nodeCrypto } from "../../src/host/crypto.ts";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { buildForLin, changedSince, isPreloaded, Mcsim, setPin, simulatorConfig, startDisplay, startPtyModem, type Display, type PtyModem } from "./mcsim-rig.ts";
import { locateModdable, missingHostPackages } from "./moddable-sdk.ts";

const sdk = locateModdable();
const test = suite("the firmware in the Moddable simulator (mcsim, lin)");

/** The manifest's lin inputs: Input 1 on GPIO 32, Input 2 on 33, both alarm at 0. */
const INPUT_1 = 32;
const INPUT_2 = 33;
const DEVICE_ID = "simmail-1";
const SITE = "Unnamed site";
const BRING_UP_MS = 60_000;
const MAIL_MS = 90_000;

if (!sdk.found) {
  test(`skipped: no Moddable SDK (${sdk.reason})`, () => {
    assert.not.ok(locateModdable().found, "there is really no SDK");
    console.log(`\n  mcsim: skipped: ${sdk.reason}; the firmware was not run in the Moddable runtime`);
  });
} else {
  const secret = randomBytes(16).toString("hex");
  let scratch = "";
  let storageDirectory = "";
  let servers: MailServers | null = null;
  let modem: PtyModem | null = null;
  let display: Display | null = null;
  let mcsim: Mcsim | null = null;
  let image = "";
  let pins = "";
  let home = "";
  /** Messages delivered to the operator so far, parsed. */
  const operatorMail = async (): Promise<ParsedMail[]> => Promise.all((await servers!.messages("ops")).map((raw) => simpleParser(raw)));
  const startMcsim = () => {
    mcsim = Mcsim.start({ sdk, image, display: display!, home, logFile: join(scratch, "mcsim.log") });
    return mcsim;
  };
  /** Waits until `count` mails reached the operator, with the run's output in the failure message. */
  const waitForMail = async (count: number, run: Mcsim): Promise<ParsedMail[]> => {
    try {
      await servers!.waitForMessages("ops", count, MAIL_MS);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nmcsim output:\n${run.tail()}\nsimulator:\n${modem!.trace.slice(-30).map((l) => `  | ${l}`).join("\n")}`);
    }
    return operatorMail();
  };

  test.before(async () => {
    const missing = missingHostPackages(sdk, { mcsim: true });
    if (missing.length > 0) throw new Error(`running the firmware in mcsim needs these Debian packages: ${missing.join(", ")} (apt-get install them; .ci/run does)`);
    scratch = mkdtempSync(join(tmpdir(), "simmail-mcsim-"));
    pins = join(scratch, "pins");
    home = join(scratch, "home");
    // The lin file module's root is /tmp/: a name of our own there, removed afterwards.
    storageDirectory = `simmail-mcsim-${randomBytes(6).toString("hex")}`;
    servers = await startMailServers({ users: mailUsers(["alarm", "ops"]) });
    modem = await startPtyModem(join(scratch, "modem"), servers, { traceFile: join(scratch, "simulator.log") });
    const buildStarted = Date.now() - 1000;
    image = await buildForLin(sdk, {
      outDir: join(scratch, "build"),
      config: simulatorConfig({ modemDevice: modem.pty.path, pinsDirectory: pins, storageDirectory, servers, deviceUser: "alarm", operatorUser: "ops", commandSecret: secret }),
    });
    // The app bundle ("main") must preload (its objects in flash, docs/DEVICE.md, Memory): a
    // bundle that cannot (a generator or RegExp kept at load, a throw in its body) fails the build.
    assert.ok(isPreloaded(join(scratch, "build"), "main"), "the app module main is preloaded");
    const written = changedSince(sdk.path, buildStarted);
    assert.equal(written, [], `the build wrote nothing in the SDK (${sdk.path})`);
    display = await startDisplay();
  });

  test.after(async () => {
    await mcsim?.kill("SIGTERM");
    await display?.stop();
    await modem?.close();
    await servers?.stop();
    if (storageDirectory !== "") rmSync(join("/tmp", storageDirectory), { recursive: true, force: true });
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  test("an input edge gives an alarm mail with the day's log attached", async () => {
    const run = startMcsim();
    await run.waitForLine(/^simmail: modem ready: /, BRING_UP_MS);
    setPin(pins, INPUT_1, 0);
    const [mail] = await waitForMail(1, run);
    assert.match(mail.subject ?? "", new RegExp(`^${SITE}: Input 1: ALARM`));
    assert.match(mail.text ?? "", /ALARM {2}Input 1=0 {2}Input 1: ALARM/, "the event is in the body");
    assert.is(mail.attachments.length, 1, "one attachment");
    const log = mail.attachments[0];
    assert.is(log.filename, `${DEVICE_ID}-log.txt`);
    const text = log.content.toString("utf8");
    assert.match(text, new RegExp(`^${SITE}: events of the last 24 hours\\r\\n`), "the log's title");
    assert.match(text, /ALARM {2}Input 1=0 {2}Input 1: ALARM\r\n/, "the alarm is in the log");
    assert.match(text, /input {2}Input 2=1 {2}Input 2: normal \(at start\)\r\n/, "so are the levels at start");
    // Back to normal: mailed as an event too (armed); waited for so the next step starts clean.
    setPin(pins, INPUT_1, 1);
    const mails = await waitForMail(2, run);
    assert.match(mails[1].subject ?? "", new RegExp(`^${SITE}: Input 1: normal`));
  });

  test("mcsim killed in the middle of a send and started again sends the mail (the outbox survives)", async () => {
    const first = mcsim!;
    const before = (await operatorMail()).length;
    // SIGKILL at the simulator's "+SMTPFT: 1,<max>" that follows a chunk: the mail's headers,
    // body and part of the attachment are with the SMTP server, the final dot is not.
    let sawChunk = false;
    let killedAt = 0;
    modem!.onTrace = (line) => {
      if (/^command AT\+SMTPFT=[1-9]/.test(line)) sawChunk = true;
      else if (sawChunk && killedAt === 0 && /^urc \+SMTPFT: 1,/.test(line)) {
        first.killNow("SIGKILL");
        killedAt = Date.now();
      }
    };
    setPin(pins, INPUT_2, 0);
    const deadline = Date.now() + MAIL_MS;
    while (killedAt === 0 && first.running && first.aborted() === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    modem!.onTrace = null;
    assert.ok(killedAt > 0, `mcsim reached the attachment data of the Input 2 mail and was killed\n${first.tail()}`);
    assert.is((await first.exited).signal, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.is((await operatorMail()).length, before, "the interrupted mail did not arrive");
    // While it is down: Input 2 back to normal (so the restart sees no new alarm), and the
    // commands for the next test.
    setPin(pins, INPUT_2, 1);
    const now = Math.floor(Date.now() / 1000);
    const disarm = signCommandSubject(nodeCrypto, secretFromText(secret), DEVICE_ID, "DISARM", now);
    for (const copy of ["first", "replay"]) {
      await servers!.deliver("alarm", `From: Ops <ops@simmail.test>\r\nTo: alarm@simmail.test\r\nSubject: ${disarm}\r\nMessage-ID: <${copy}-${now}@simmail.test>\r\n\r\n${copy}\r\n`);
    }

    const second = startMcsim();
    await second.waitForLine(/^simmail: modem ready: /, BRING_UP_MS);
    const mails = await waitForMail(before + 1, second);
    const resent = mails[before];
    assert.match(resent.subject ?? "", new RegExp(`^${SITE}: Input 2: ALARM`), `the Input 2 alarm (got "${resent.subject}")`);
    const line = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)Z {2}#\d+ {2}ALARM {2}Input 2=0 {2}Input 2: ALARM$/m.exec((resent.text ?? "").replace(/\r/g, ""));
    assert.ok(line, `the event line is in the body:\n${resent.text}`);
    const recorded = Date.parse(`${line![1].replace(" ", "T")}Z`);
    assert.ok(recorded <= killedAt, `the event was recorded before the kill (${line![1]}Z), not after the restart`);
    assert.is(resent.attachments.length, 1, "the log is attached");
    assert.match(resent.attachments[0].content.toString("utf8"), /ALARM {2}Input 2=0 {2}Input 2: ALARM\r\n/);
    assert.is(mails.filter((m) => /Input 2: ALARM/.test(m.subject ?? "")).length, 1, "sent once");
  });

  test("a signed DISARM is obeyed once and a replay of it refused", async () => {
    const run = mcsim!;
    await run.waitForLine(/^simmail: command mail refused: replayed-token$/, MAIL_MS);
    assert.equal(run.traced(/^command DISARM /), ["command DISARM from ops@simmail.test"], "obeyed once");
    assert.equal(run.traced(/^command mail refused: /), ["command mail refused: replayed-token"], "the copy refused as replayed");
    // Every obeyed command is answered with a status mail.
    const deadline = Date.now() + MAIL_MS;
    let status: ParsedMail | undefined;
    while (status === undefined && Date.now() < deadline) {
      status = (await operatorMail()).find((m) => m.subject === `${SITE}: status`);
      if (status === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(status, `a status mail answered the DISARM\n${run.tail()}`);
    assert.match(status!.text ?? "", /^Armed: no$/m);
    assert.is((await operatorMail()).filter((m) => m.subject === `${SITE}: status`).length, 1, "one answer");
    assert.equal(await servers!.messages("alarm"), [], "both command mails were deleted");
    assert.ok(existsSync(join("/tmp", storageDirectory)), "the app's files are on the lin file system");
  });
}

test.run();
