// Each fault option and what it does on the wire.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mailUsers, startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import type { SimOptions } from "../../../sim/modem/modem.ts";
import { delay } from "../../kit/sim-support.ts";

const test = suite("sim: faults");

const USERS = ["alarm", "ann", "ben", "cid", "dan", "eve", "fay", "gus", "hal", "ivy", "joe"];
let servers: MailServers;

test.before(async () => {
  servers = await startMailServers({ users: mailUsers(USERS, "-pw") });
});

test.after(async () => {
  await servers.stop();
});

const SHORT_BOOT = [{ delayMs: 0, text: "RDY" }, { delayMs: 5, text: "+CPIN: READY" }];

function modem(options: SimOptions = {}): SimDriver {
  return new SimDriver({ echo: false, hosts: { "mail.simmail.test": "127.0.0.1" }, bootSequence: SHORT_BOOT, bearerDelayMs: 1, ...options });
}

async function ok(d: SimDriver, line: string): Promise<void> {
  assert.is(await d.command(line), "\r\nOK\r\n", line);
}

/** Settings for a mail from alarm to `to`; `file` sets a text attachment. */
async function compose(d: SimDriver, to: string, file = false): Promise<void> {
  await ok(d, `AT+SMTPSRV="mail.simmail.test",${servers.smtpPort}`);
  await ok(d, 'AT+SMTPAUTH=1,"alarm","alarm-pw"');
  await ok(d, 'AT+SMTPFROM="alarm@simmail.test"');
  await ok(d, `AT+SMTPRCPT=0,0,"${to}@simmail.test"`);
  await ok(d, 'AT+SMTPSUB="fault test"');
  await ok(d, file ? 'AT+SMTPFILE=1,"log.txt",0' : "AT+SMTPFILE=0");
}

async function chunk(d: SimDriver, data: string): Promise<void> {
  d.send(`AT+SMTPFT=${data.length}\r`);
  await d.expect(`\r\n+SMTPFT: 2,${data.length}\r\n`);
  d.send(data);
  await d.expect("\r\nOK\r\n");
}

test("reset at a chosen command: no answer, boot lines, state forgotten, echo back on", async () => {
  const d = modem({ echo: true, faults: { triggers: [{ command: "AT+SMTPFT=", occurrence: 2, action: "reset" }] } });
  try {
    d.send("ATE0\r");
    await d.expect("ATE0\r\r\nOK\r\n");
    await compose(d, "ann", true);
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    await chunk(d, "first part\r\n");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    d.send("AT+SMTPFT=5\r");
    await d.expect("\r\nRDY\r\n");
    await d.expect("\r\n+CPIN: READY\r\n");
    d.send("AT+SMTPSRV?\r");
    await d.expect('AT+SMTPSRV?\r\r\n+SMTPSRV: "",25\r\n\r\nOK\r\n');
    await d.quiet(100);
    assert.equal(await servers.messages("ann"), [], "the half-sent mail was dropped with the connection");
  } finally {
    d.close();
  }
});

test("reset right after a URC, and on demand", async () => {
  const d = modem({ faults: { triggers: [{ urc: "+SMTPFT: 1", action: "reset" }] } });
  try {
    await compose(d, "ben", true);
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n\r\nRDY\r\n");
    // The second reset comes before the first boot's +CPIN line, which is never printed.
    d.sim.reset();
    await d.expect("\r\nRDY\r\n\r\n+CPIN: READY\r\n");
    await d.quiet(20);
  } finally {
    d.close();
  }
});

test("bearer drop at a chosen command: +SAPBR 1: DEACT and the session's failure", async () => {
  await servers.deliver("cid", "Subject: x\r\n\r\nbody\r\n");
  const d = modem({ faults: { triggers: [{ command: "AT+POP3NUM", action: "drop-bearer", cid: 1 }] } });
  try {
    await ok(d, "AT+SAPBR=1,1");
    await ok(d, "AT+EMAILCID=1");
    await ok(d, `AT+POP3SRV="mail.simmail.test","cid","cid-pw",${servers.pop3Port}`);
    await ok(d, "AT+POP3IN");
    await d.expect("\r\n+POP3IN: 1\r\n");
    d.send("AT+POP3NUM\r");
    await d.expect("\r\n+SAPBR 1: DEACT\r\n\r\n+POP3OUT: 61\r\n\r\nERROR\r\n");
  } finally {
    d.close();
  }
});

test("server faults: refused, silent, slow, hanging up", async () => {
  const d = modem({ timeoutScale: 0.01 });
  const attempt = async (timeout: number) => {
    await ok(d, `AT+EMAILTO=${timeout}`);
    await ok(d, "AT+SMTPSEND");
    const urc = await d.waitFor(/\r\n\+SMTPSEND: \d+\r\n/, 5000);
    return Number(/(\d+)\r\n$/.exec(urc)![1]);
  };
  try {
    await compose(d, "dan");
    d.sim.setFaults({ server: { kind: "refuse" } });
    assert.is(await attempt(120), 63);
    d.sim.setFaults({ server: { kind: "silent" } });
    assert.is(await attempt(10), 64);
    d.sim.setFaults({ server: { kind: "silent", afterLines: 3 } });
    assert.is(await attempt(10), 64, "greeting and part of the EHLO answer, then nothing");
    d.sim.setFaults({ server: { kind: "hangup", afterLines: 1 } });
    assert.is(await attempt(120), 63);
    d.sim.setFaults({ server: { kind: "slow", delayMs: 150 } });
    assert.is(await attempt(10), 64, "each answer 150 ms late, EMAILTO=10 scaled to 100 ms");
    d.sim.setFaults({ server: { kind: "slow", delayMs: 20 } });
    const started = Date.now();
    assert.is(await attempt(120), 1, "slow but within the timeout");
    assert.ok(Date.now() - started >= 8 * 20, "at least eight server answers (greeting to end of data), each 20 ms late");
    d.sim.setFaults({ server: null });
    assert.is(await attempt(120), 1);
    assert.is((await servers.messages("dan")).length, 2);
  } finally {
    d.close();
  }
});

test("seeded output noise: dropped, corrupted and inserted bytes, reproducible", async () => {
  const script = "AT+CSQ\rAT+CGMR\rAT+SMTPSRV=?\rAT+POP3SRV=?\rAT+CBC\r";
  const capture = async (noise: SimOptions["faults"]) => {
    const d = modem({ faults: noise });
    try {
      d.send(script);
      await delay(20);
      return d.take();
    } finally {
      d.close();
    }
  };
  const clean = await capture({});
  const damaged = await capture({ outputNoise: { seed: 42, dropRate: 0.05, corruptRate: 0.05, insertRate: 0.05 } });
  const again = await capture({ outputNoise: { seed: 42, dropRate: 0.05, corruptRate: 0.05, insertRate: 0.05 } });
  const other = await capture({ outputNoise: { seed: 43, dropRate: 0.05, corruptRate: 0.05, insertRate: 0.05 } });
  assert.is(clean.split("OK").length - 1, 5);
  assert.is.not(damaged, clean);
  assert.is(again, damaged, "the same seed damages the same bytes");
  assert.is.not(other, damaged);
  assert.is(await capture({ outputNoise: { seed: 1, dropRate: 1 } }), "", "everything dropped");
  const onlyDrops = await capture({ outputNoise: { seed: 7, dropRate: 0.2 } });
  assert.ok(onlyDrops.length < clean.length);
  let at = 0;
  for (const c of onlyDrops) at = clean.indexOf(c, at) + 1;
  assert.ok(at > 0, "dropping keeps the order of what is left");
});

test("duplicated URCs", async () => {
  const d = modem({ faults: { duplicateUrcs: true } });
  try {
    await compose(d, "eve", true);
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n\r\n+SMTPFT: 1,1360\r\n");
    await chunk(d, "log line\r\n");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n\r\n+SMTPFT: 1,1360\r\n");
    await ok(d, "AT+SMTPFT=0");
    await d.expect("\r\n+SMTPSEND: 1\r\n\r\n+SMTPSEND: 1\r\n");
    assert.is((await servers.messages("eve")).length, 1, "one mail, however many URCs");
  } finally {
    d.close();
  }
});

test("a smaller <maxLength> mid-transfer, and confirmations below the request", async () => {
  const d = modem({ faults: { ftShrink: { afterChunks: 1, maxLength: 500 }, ftConfirmLimit: 300 } });
  try {
    await compose(d, "fay", true);
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    const text = "x".repeat(398) + "\r\n";
    d.send("AT+SMTPFT=400\r");
    await d.expect("\r\n+SMTPFT: 2,300\r\n", 2000);
    d.send(text.slice(0, 300));
    await d.expect("\r\nOK\r\n\r\n+SMTPFT: 1,500\r\n");
    assert.is(await d.command("AT+SMTPFT=501"), "\r\nERROR\r\n", "over the new maxLength");
    d.send("AT+SMTPFT=100\r");
    await d.expect("\r\n+SMTPFT: 2,100\r\n");
    d.send(text.slice(300));
    await d.expect("\r\nOK\r\n\r\n+SMTPFT: 1,500\r\n");
    await ok(d, "AT+SMTPFT=0");
    await d.expect("\r\n+SMTPSEND: 1\r\n");
    const [mail] = await servers.waitForMessages("fay", 1);
    assert.ok(mail.toString("latin1").includes(`\r\n\r\n${text}\r\n--`), "the whole attachment arrived");
  } finally {
    d.close();
  }
});

test("power down: NORMAL POWER DOWN, UNDER-VOLTAGE POWER DOWN, the warning, AT+CPOWD", async () => {
  const d = modem({ echo: true, faults: { triggers: [{ command: "AT+CSQ", action: "normal-power-down" }, { command: "AT+CBC", action: "under-voltage-warning" }] } });
  try {
    d.send("ATE0\r");
    await d.expect("ATE0\r\r\nOK\r\n");
    d.send("AT+CBC\r");
    await d.expect("\r\nUNDER-VOLTAGE WARNNING\r\n\r\n+CBC: 0,80,4000\r\n\r\nOK\r\n");
    d.send("AT+CSQ\r");
    await d.expect("\r\nNORMAL POWER DOWN\r\n");
    d.send("AT\r");
    await d.quiet(30);
    assert.not.ok(d.sim.powered);
    d.sim.powerOn();
    await d.expect("\r\nRDY\r\n\r\n+CPIN: READY\r\n");
    d.sim.setFaults({ triggers: [{ command: "AT", action: "under-voltage-power-down" }] });
    d.send("AT\r");
    await d.expect("AT\r\r\nUNDER-VOLTAGE POWER DOWN\r\n", 500);
    d.sim.powerOn({ quiet: true });
    d.send("ATE0\rAT+CPOWD=1\r");
    await d.expect("ATE0\r\r\nOK\r\n\r\nNORMAL POWER DOWN\r\n");
    d.sim.powerOn({ quiet: true });
    d.send("ATE0\rAT+CPOWD=0\r");
    await d.expect("ATE0\r\r\nOK\r\n");
    await d.quiet(30);
    assert.not.ok(d.sim.powered, "urgent power down says nothing");
  } finally {
    d.close();
  }
});

test("firmwares without working email", async () => {
  const absent = modem({ faults: { emailSupport: "absent" } });
  try {
    for (const line of ["AT+SMTPSRV=?", "AT+EMAILCID=?", "AT+POP3READ=?", "AT+SMTPSEND"]) assert.is(await absent.command(line), "\r\nERROR\r\n", line);
    assert.is(await absent.command("AT+CSQ"), "\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
  } finally {
    absent.close();
  }
  const broken = modem({ faults: { emailSupport: "broken" } });
  try {
    for (const line of ["AT+SMTPSRV=?", "AT+EMAILTO=30", "AT+POP3IN"]) assert.is(await broken.command(line), "\r\n+SMTPSEND: 65\r\n\r\nOK\r\n", line);
  } finally {
    broken.close();
  }
  const failing = modem({ faults: { emailSupport: "send-fails" } });
  try {
    assert.is(await failing.command("AT+SMTPSRV=?"), "\r\n+SMTPSRV: 64,(1-65535)\r\n\r\nOK\r\n");
    await compose(failing, "gus");
    await ok(failing, "AT+SMTPSEND");
    await failing.expect("\r\n+SMTPSEND: 65\r\n");
    await ok(failing, `AT+POP3SRV="mail.simmail.test","gus","gus-pw",${servers.pop3Port}`);
    await ok(failing, "AT+POP3IN");
    await failing.expect("\r\n+POP3IN: 65\r\n");
    assert.equal(await servers.messages("gus"), []);
  } finally {
    failing.close();
  }
});

test("a forced network time result", async () => {
  const d = modem({ ntpDelayMs: 1, faults: { ntpResult: 65 } });
  try {
    await ok(d, "AT+SAPBR=1,1");
    await ok(d, 'AT+CNTP="pool.ntp.org",0');
    await ok(d, "AT+CNTP");
    await d.expect("\r\n+CNTP: 65\r\n");
    d.sim.setFaults({ ntpResult: null });
    await ok(d, "AT+CNTP");
    await d.waitFor(/\r\n\+CNTP: 1,"\d{4}\/\d\d\/\d\d,\d\d:\d\d:\d\d"\r\n/);
  } finally {
    d.close();
  }
});

test("invalid attachment data is refused chunk by chunk; the transfer goes on", async () => {
  const d = modem();
  try {
    await compose(d, "hal");
    await ok(d, 'AT+SMTPFILE=2,"x.bin",1');
    await ok(d, "AT+SMTPSEND");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    d.send("AT+SMTPFT=4\r");
    await d.expect("\r\n+SMTPFT: 2,4\r\n");
    d.send("\x00\x01\x02\x03");
    await d.expect("\r\nERROR\r\n\r\n+SMTPFT: 1,1360\r\n", 2000);
    await chunk(d, "AAEC");
    await d.expect("\r\n+SMTPFT: 1,1360\r\n");
    await ok(d, "AT+SMTPFT=0");
    await d.expect("\r\n+SMTPSEND: 1\r\n");
  } finally {
    d.close();
  }
});

test("fault options are checked", () => {
  assert.throws(() => modem({ faults: { triggers: [{ action: "reset" }] } }), /exactly one of command or urc/);
  assert.throws(() => modem({ smtp: { ftMaxLength: 0 } }), /ftMaxLength/);
  assert.throws(() => modem({ baud: 12345 }), /not a SIM7000 rate/);
  assert.throws(() => modem({ hosts: { "mail.x": "not-an-ip" } }), /not an IPv4 address/);
  const d = modem();
  try {
    assert.throws(() => d.sim.dropBearer(0), /setNetwork/);
  } finally {
    d.close();
  }
});

test.run();
