// `npm start`: the whole main job on this machine. A simulated SIM7000 on a pty with real
// mail servers behind it; the alarm mailer (the firmware's own app) brings the modem up, an
// input goes into alarm, the alarm mail goes out with the day's log attached, and the mailbox
// is read back over POP3 through the modem.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleParser } from "mailparser";
import { AlarmApp, type AlarmConfig } from "../src/app/alarm.ts";
import { Pop3Client, type MailSink } from "../src/mail/pop3.ts";
import { HostSerial } from "../src/host/serial.ts";
import { hostPlatform, SettableInput } from "../src/host/platform.ts";
import { nodeTimers } from "../src/host/timers.ts";

interface SimInfo {
  smtp: { host: string; port: number };
  pop3: { host: string; port: number };
  users: Array<{ name: string; password: string; address: string }>;
}

const say = (text: string) => process.stdout.write(`${text}\n`);
const root = fileURLToPath(new URL("../", import.meta.url));

function startSimulator(pty: string): Promise<{ child: ChildProcess; info: SimInfo }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "host-tests/sim/main.ts"), "--pty", pty], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("the simulator did not start within 60 s")), 60_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n").find((l) => l.trim().startsWith("{"));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as SimInfo });
    });
    child.on("exit", (code) => reject(new Error(`the simulator exited (${code}) before it was ready`)));
  });
}

class Collect implements MailSink {
  chunks: Buffer[] = [];
  write(buf: Uint8Array, offset: number, length: number): void {
    this.chunks.push(Buffer.from(buf.subarray(offset, offset + length)));
  }
}

function waitFor(app: AlarmApp, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s (last error: ${app.lastError || "none"})`)), timeoutMs);
    const previous = app.onProgress;
    app.onProgress = (step) => {
      previous?.(step);
      if (step === what) {
        clearTimeout(timer);
        app.onProgress = previous;
        resolve();
      }
    };
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "simmail-demo-"));
  const pty = join(work, "modem");
  say("1. Starting the simulated SIM7000 with local SMTP and POP3 servers behind it ...");
  const { child, info } = await startSimulator(pty);
  const [device, recipient] = [info.users.find((u) => u.name === "alarm") ?? info.users[0], info.users.find((u) => u.name === "alice") ?? info.users[1]];
  say(`   modem on ${pty}; SMTP ${info.smtp.host}:${info.smtp.port}, POP3 ${info.pop3.host}:${info.pop3.port}`);
  const serial = await HostSerial.open(pty, 115200);
  const door = new SettableInput(0);
  const config: AlarmConfig = {
    deviceId: "pump-house-1",
    siteName: "Pump house",
    modem: { dialect: "sim7000", apn: "internet", skipTime: false, ntpServer: "pool.ntp.org" },
    smtp: {
      host: info.smtp.host, port: info.smtp.port, user: device.name, password: device.password,
      from: { address: device.address, name: "Pump house alarm" },
      to: [{ address: recipient.address, name: "Operations" }],
    },
    pop3: null,
    inputs: [{ name: "door", alarmWhen: 1, debounceMs: 50 }],
    sender: { gatherMs: 500 },
  };
  const app = new AlarmApp(config, hostPlatform({ serial, dataDir: join(work, "flash"), inputs: { door } }));
  let exitCode = 0;
  try {
    say("2. Bringing the modem up (AT sync, SIM, signal, attach, bearer, network time) ...");
    const ready = waitFor(app, "modem-ready", 60_000);
    void app.start();
    await ready;
    say(`   modem ready; clock set to ${new Date(app.wall.now()!).toISOString()}`);

    say("3. The door input goes into alarm ...");
    const sent = waitFor(app, "mail-sent", 120_000);
    door.level = 1;
    await sent;
    say(`   alarm mail sent through the modem (${app.mailsSent} mail, outbox now ${app.outbox.depth})`);

    say(`4. Reading ${recipient.address}'s mailbox back over POP3 through the modem ...`);
    const pop3 = new Pop3Client(app.engine, nodeTimers);
    await pop3.login({ server: { host: info.pop3.host, port: info.pop3.port, user: recipient.name, password: recipient.password } });
    const { count } = await pop3.stat();
    const sink = new Collect();
    await pop3.retrieve(count, sink);
    await pop3.logout();
    const mail = await simpleParser(Buffer.concat(sink.chunks));
    const attachment = mail.attachments[0];
    say(`   mail ${count}: "${mail.subject}" from ${mail.from?.text}`);
    say(`   attachment: ${attachment ? `${attachment.filename}, ${attachment.size} bytes` : "none"}`);
    if (!attachment || !/door/.test(attachment.content.toString("utf8"))) throw new Error("the attached log does not hold the door event");
    say(`\nsummary: alarm mail with its log sent and read back through the simulated SIM7000 in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    exitCode = 1;
    say(`\nsummary: FAILED: ${(error as Error).message}`);
  } finally {
    await app.stop();
    await serial.close();
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = exitCode;
}

await main();
