// A lying clock, through the alarm mailer: a DISARM signed at T is obeyed at T; a junk mail
// checked at T+660 s drops its nonce from the ledger by age; the device reboots and its modem
// clock now reads T+60 s (as after a false network time), where the token is inside the window
// again. The same subject mailed again is refused as a replay: the ledger's floor rose to the
// dropped nonce's time. (The app reads the modem clock once per boot, so a modem reset alone
// would not move its wall time back: the device itself is rebooted, on the same flash.)
// With the floor's rise by age taken out of command-ledger.ts, the DISARM is obeyed twice. The
// highest-wall hold plays no part here: only mails that pass the MAC note the time, and the last was at T.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../../sim/servers/index.ts";
import { alarmConfig, setupAlarm, type AlarmStorage } from "../../kit/alarm-harness.ts";
import { secretFromText, signCommandSubject } from "../../../src/app/remote-command.ts";
import { nodeCrypto } from "../../../src/host/crypto.ts";

const HMAC_SECRET = "clock test hmac secret 0123456789";
const OPS = "ops@simmail.test";

const test = suite("hostile clock: a token is not obeyed twice after the clock goes back");

let servers: MailServers;
test.before(async () => {
  servers = await startMailServers({ users: [{ name: "alarm", password: "alarm-pw", address: "alarm@simmail.test" }, { name: "ops", password: "ops-pw", address: OPS }] });
});
test.after(() => servers.stop());

/** The device booted on `storage` (blank flash when absent) with its modem clock reading `clockSeconds`. */
function boot(clockSeconds: number, trace: string[], storage?: AlarmStorage) {
  const defaults = alarmConfig(servers, "ops");
  return setupAlarm(servers, "ops", {
    trace: (text) => trace.push(text),
    sim: { clock: { startMs: clockSeconds * 1000 } },
    ...(storage !== undefined ? { storage } : {}),
    config: {
      smtp: { ...defaults.smtp, user: "alarm", password: "alarm-pw", to: [{ address: OPS }] },
      pop3: { ...defaults.pop3!, user: "alarm", password: "alarm-pw", allowlist: [OPS], secret: HMAC_SECRET },
    },
  });
}

async function stop(device: ReturnType<typeof boot>): Promise<void> {
  let stopped = false;
  const stopping = device.app.stop().then(() => (stopped = true));
  await device.until(() => stopped);
  await stopping;
}

const commandLines = (trace: string[]) => trace.filter((line) => /^command (mail refused:|[A-Z]+ from)/.test(line));

test("DISARM signed at T obeyed, its nonce aged out at T+660, the clock back at T+60 after a reboot: the same subject is refused as a replay", async () => {
  const T = Math.floor(Date.now() / 1000);
  const deviceId = alarmConfig(servers, "ops").deviceId;
  const disarm = signCommandSubject(nodeCrypto, secretFromText(HMAC_SECRET), deviceId, "DISARM", T);

  const firstTrace: string[] = [];
  const first = boot(T, firstTrace);
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${disarm}\r\nMessage-ID: <disarm@x>\r\n\r\ndisarm\r\n`);
  void first.app.start();
  assert.ok(await first.until(() => first.app.commandsObeyed === 1), `obeyed at T (${first.app.lastError})\n${firstTrace.join("\n")}`);
  assert.is(first.app.status().armed, false);
  assert.ok(await first.until(() => first.sim.clockNow().epochMs >= (T + 660) * 1000, 700_000), "the modem clock reached T+660");
  await servers.deliver("alarm", "From: mallory@evil.test\r\nSubject: hello\r\nMessage-ID: <junk@x>\r\n\r\njunk\r\n");
  assert.ok(await first.until(() => first.app.commandsRefused === 1), `the junk mail checked after T+660 (${first.app.lastError})`);
  const polls = () => first.steps.filter((step) => step === "poll-done").length;
  const pollsAtRefusal = polls();
  assert.ok(await first.until(() => polls() > pollsAtRefusal), "that poll ended (the junk mail deleted)");
  assert.is((await servers.messages("alarm")).length, 0, "both mails deleted before the reboot");
  assert.equal(commandLines(firstTrace), ["command DISARM from ops@simmail.test", "command mail refused: forged-sender"]);
  await stop(first);

  const secondTrace: string[] = [];
  const second = boot(T + 60, secondTrace, first.storage);
  await servers.deliver("alarm", `From: ${OPS}\r\nSubject: ${disarm}\r\nMessage-ID: <replay@x>\r\n\r\nthe same disarm again\r\n`);
  void second.app.start();
  assert.ok(await second.until(() => second.steps.includes("poll-done")), `polled after the reboot (${second.app.lastError})`);
  const timeSet = secondTrace.find((line) => line.startsWith("time set from the network: "));
  const wallSeconds = Date.parse(timeSet?.slice("time set from the network: ".length) ?? "") / 1000;
  assert.ok(wallSeconds >= T + 60 && wallSeconds < T + 120, `the rebooted device's time is back near T+60 (${timeSet})`);
  assert.is(second.app.commandsObeyed, 0, secondTrace.join("\n"));
  assert.equal(commandLines(secondTrace), ["command mail refused: replayed-token"]);
  assert.ok(secondTrace.includes(`refused mail: from ${OPS}: tokens signed at or before ${T} cannot be proven new (the ledger forgot older ones: it was full, or they aged out); sign a new one`), secondTrace.join("\n"));
  assert.is((await servers.messages("alarm")).length, 0, "the replayed mail is deleted");
  await stop(second);
});

test.run();
