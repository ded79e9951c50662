// The CLI against a modem that behaves as modems in the field do (the simulator's field
// profile, sim/modem/field.ts; docs/FIELD.md), run as a user runs it: a process on a pty,
// the simulator in its own process on another.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PtyBridge } from "../../sim/pty.ts";
import { spawn } from "node:child_process";
import { ROOT, firstJsonLine, runSimmail, runSimmailOnTerminal, startSimulator, type SimInfo, type SimProcess } from "../kit/cli-process.ts";
import type { FieldProfile } from "../../sim/modem/field.ts";

/** A simulator with the field profile, `changes` to it (none: the whole profile as it ships). */
function fieldSim(changes?: Partial<FieldProfile>): Promise<SimProcess> {
  return startSimulator("simmail-field-", changes === undefined ? ["--field"] : ["--field-json", JSON.stringify(changes)]);
}

const smtpOf = (sim: SimProcess) => `${sim.info.smtp.host}:${sim.info.smtp.port}`;
const pop3Of = (sim: SimProcess) => `${sim.info.pop3.host}:${sim.info.pop3.port}`;
const sendArgs = (sim: SimProcess, subject: string, extra: string[] = []) => ["send", "--port", sim.port, "--apn", "internet", "--smtp", smtpOf(sim),
  "--user", "alarm", "--from", "alarm@simmail.test", "--to", "bob@simmail.test", "--subject", subject, "--body", "field test", ...extra];
const inboxArgs = (sim: SimProcess, ...rest: string[]) => ["inbox", "--port", sim.port, "--apn", "internet", "--pop3", pop3Of(sim), "--user", "bob", ...rest];

// ---- the whole profile: a modem switched on as the simulator starts -------------------------

const whole = suite("CLI field: the whole profile (boot silence, boot lines anywhere, odd echoes and lines)");
let sim: SimProcess;
whole.before(async () => {
  sim = await fieldSim();
});
whole.after(() => sim.stop());

whole("probe on a terminal right after power-on: says it waits for the modem, then SIM, registration and signal", async () => {
  const started = Date.now();
  const run = await runSimmailOnTerminal(["probe", "--port", sim.port]);
  assert.is(run.status, 0, run.screen);
  assert.ok(Date.now() - started >= 9_000, `answered only after the boot silence (${Date.now() - started} ms)`);
  assert.match(run.screen, /waiting for the modem to start \(up to 20 s\)\.\.\./);
  assert.match(run.screen, /SIM:\s+READY/);
  assert.match(run.screen, /network:\s+registered \(home network\) \(stat 1\)/);
  assert.match(run.screen, /signal:\s+-59 dBm \(rssi 27\)/);
  assert.match(run.screen, /^modem:\s+SIM7000G R1529 \(1529B04SIM7000G\)\r?$/m, "ATI and AT+CGMR without boot lines in them");
});

whole("send with an attachment and read it back: boot lines mid-transfer, echo coming back, uneven empty lines, +SAPBR: with a space", async () => {
  const attachment = join(sim.work, "log.bin");
  writeFileSync(attachment, Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 31) & 0xff)));
  const sent = await runSimmail([...sendArgs(sim, "through the field", ["--attach", attachment]), "--verbose"], "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /sent to 1 recipient/);
  assert.match(sent.stderr, /^< (SMS Ready|Call Ready|DST: 0|\*PSUTTZ|SMS DONE|PB DONE|\+CMTI|\+APP PDP|\+CFUN: 1|\+CPIN: READY)/m, "boot lines came between replies");
  assert.match(sent.stderr, /^< \+SAPBR: 1,1,"10\.89\.193\.1"/m, "+SAPBR: with its space");
  const list = await runSimmail(inboxArgs(sim, "list"), "bob-secret");
  assert.is(list.status, 0, list.stderr);
  assert.match(list.stdout, /through the field/);
});

whole("a bare ERROR for a feature the firmware lacks: TLS asked of a firmware without AT+EMAILSSL is refused in words", async () => {
  const run = await runSimmail(sendArgs(sim, "tls", ["--tls"]), "alarm-secret");
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /AT\+EMAILSSL/);
});

// ---- a modem that never answers ---------------------------------------------------------------

const silent = suite("CLI field: a modem that never answers");

silent("the boot window (--boot-wait), then what to check: power and PWRKEY, TX and RX, the baud rate", async () => {
  const work = mkdtempSync(join(tmpdir(), "simmail-field-silent-"));
  const pty = await PtyBridge.open(join(work, "silent"), {});
  try {
    const started = Date.now();
    const run = await runSimmailOnTerminal(["probe", "--port", pty.path, "--boot-wait", "3"]);
    assert.is(run.status, 3, run.screen);
    assert.ok(Date.now() - started >= 3_000, "waited the whole boot window");
    assert.match(run.screen, /waiting for the modem to start \(up to 3 s\)/);
    assert.match(run.screen, /did not answer AT within 3 s: check that it is powered and switched on \(PWRKEY\), that its TX and RX lines are not swapped, and the baud rate \(115200; --baud\)/);
    const refused = await runSimmail(["probe", "--port", pty.path, "--boot-wait", "0"]);
    assert.is(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /--boot-wait/);
  } finally {
    await pty.close();
    rmSync(work, { recursive: true, force: true });
  }
});

// ---- the SIM, the network, the firmware -------------------------------------------------------

const service = suite("CLI field: SIM, registration and firmware, checked before the bearer");
const quick = { bootSilenceMs: 0, bootSyncs: 1 } as const;

service("no SIM (+CME ERROR: 10): send and inbox say so, probe shows it", async () => {
  const absent = await fieldSim({ ...quick, sim: "absent", errors: "numeric" });
  try {
    const send = await runSimmail(sendArgs(absent, "no sim"), "alarm-secret");
    assert.is(send.status, 2, send.stderr);
    assert.match(send.stderr, /no SIM card found: check that it is inserted and seated \(AT\+CPIN\? answered \+CME ERROR: 10\)/);
    assert.not.match(send.stderr, /SAPBR/);
    const inbox = await runSimmail(inboxArgs(absent, "list"), "bob-secret");
    assert.is(inbox.status, 2, inbox.stderr);
    assert.match(inbox.stderr, /no SIM card found/);
    const probe = await runSimmail(["probe", "--port", absent.port]);
    assert.is(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /SIM:\s+no SIM card found/);
    assert.match(probe.stdout, /network:\s+not registered, not searching/);
  } finally {
    await absent.stop();
  }
});

service("a failed SIM in the verbose form (+CME ERROR: SIM failure)", async () => {
  const failed = await fieldSim({ ...quick, sim: "failure", errors: "verbose" });
  try {
    const send = await runSimmail(sendArgs(failed, "failed sim"), "alarm-secret");
    assert.is(send.status, 2, send.stderr);
    assert.match(send.stderr, /the SIM failed: check the card and its contacts, or try another SIM \(AT\+CPIN\? answered \+CME ERROR: SIM failure\)/);
  } finally {
    await failed.stop();
  }
});

service("roaming (stat 11, and 5) is registered: probe says roaming, send goes; denied (3) is refused before the bearer", async () => {
  for (const stat of [11, 5]) {
    const roaming = await fieldSim({ ...quick, registration: stat });
    try {
      const probe = await runSimmail(["probe", "--port", roaming.port]);
      assert.is(probe.status, 0, probe.stderr);
      assert.match(probe.stdout, new RegExp(`network:\\s+registered, roaming \\(stat ${stat}\\)`));
      if (stat === 11) {
        const send = await runSimmail(sendArgs(roaming, "roaming"), "alarm-secret");
        assert.is(send.status, 0, send.stderr);
      }
    } finally {
      await roaming.stop();
    }
  }
  const denied = await fieldSim({ ...quick, registration: 3 });
  try {
    const send = await runSimmail(sendArgs(denied, "denied"), "alarm-secret");
    assert.is(send.status, 2, send.stderr);
    assert.match(send.stderr, /not registered on a network: registration denied by the network/);
  } finally {
    await denied.stop();
  }
});

service("+SMTPSEND: 65 on a firmware without email: the message says what it usually means", async () => {
  const noEmail = await fieldSim({ ...quick, email: "send-fails" });
  try {
    const send = await runSimmail(sendArgs(noEmail, "65"), "alarm-secret");
    assert.is(send.status, 2, send.stderr);
    assert.match(send.stderr, /SMTP failed: 65 SMTP server response error; on SIM7000G this usually means the firmware has no email support/);
  } finally {
    await noEmail.stop();
  }
});

service("+CMS ERROR: without a code, and an information line followed by ERROR, in words", async () => {
  const odd = await fieldSim({ ...quick, refuse: { "AT+CBC": ["+CMS ERROR:"], "AT+CGATT?": ["+CGATT: 1", "ERROR"] } });
  try {
    const probe = await runSimmail(["probe", "--port", odd.port]);
    assert.is(probe.status, 2, probe.stderr);
    assert.match(probe.stderr, /attach query failed: the modem refused AT\+CGATT\?: ERROR \(after \+CGATT: 1\)/);
  } finally {
    await odd.stop();
  }
  const cms = await fieldSim({ ...quick, refuse: { "AT+CBC": ["+CMS ERROR:"] } });
  try {
    const probe = await runSimmail(["probe", "--port", cms.port]);
    assert.is(probe.status, 2, probe.stderr);
    assert.match(probe.stderr, /the modem refused AT\+CBC: \+CMS ERROR: \(no error code given\)/);
  } finally {
    await cms.stop();
  }
});

service("UNDER-VOLTAGE WARNNING POWER DOWN with text after it, mid-send: reported as a power-down for low voltage", async () => {
  const low = await fieldSim({ ...quick, triggers: [{ command: "AT+SMTPSEND", action: "under-voltage-warning-power-down" }] });
  try {
    const send = await runSimmail(sendArgs(low, "low voltage"), "alarm-secret");
    assert.is(send.status, 2, send.stderr);
    assert.match(send.stderr, /the modem powered down for low supply voltage/);
  } finally {
    await low.stop();
  }
});

const command = suite("CLI field: simmail sim --field and --field-json");

command("simmail sim forwards --field (the boot silence) and --field-json (a missing SIM)", async () => {
  const work = mkdtempSync(join(tmpdir(), "simmail-field-command-"));
  const start = async (args: string[]) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/simmail"), "sim", "--pty", join(work, `modem-${args[0]}`), "--smtp-port", "0", "--pop3-port", "0", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const info = await firstJsonLine<SimInfo & { pty: string }>(child, "simmail sim");
    return { info, stop: () => new Promise((r) => (child.once("exit", r), child.kill("SIGTERM"))) };
  };
  try {
    const absent = await start(["--field-json", JSON.stringify({ bootSilenceMs: 0, bootSyncs: 1, sim: "absent" })]);
    try {
      const probe = await runSimmail(["probe", "--port", absent.info.pty]);
      assert.is(probe.status, 0, probe.stderr);
      assert.match(probe.stdout, /SIM:\s+no SIM card found/);
    } finally {
      await absent.stop();
    }
    const silent = await start(["--field"]);
    try {
      const probe = await runSimmail(["probe", "--port", silent.info.pty, "--boot-wait", "4"]);
      assert.is(probe.status, 3, `silent for its boot window: ${probe.stderr}`);
    } finally {
      await silent.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

whole.run();
command.run();
silent.run();
service.run();
