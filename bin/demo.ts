// `npm start`: the whole main job on this machine. A simulated SIM7000 on a pty with real
// mail servers behind it; the alarm mailer (the firmware's own app) brings the modem up, an
// input goes into alarm, the alarm mail goes out with the day's log attached, and the mailbox
// is read back over POP3 through the modem.
// POP3 is Dovecot where scripts/ensure-dovecot.sh (the same as `npm test` runs) finds or installs
// it and this is root; elsewhere the built-in Node POP3 server (sim/servers/pop3.ts).
// Whatever goes wrong ends in one "summary: FAILED: ..." line and exit status 1.

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
  pop3: { host: string; port: number; server: "dovecot" | "node" };
  users: Array<{ name: string; password: string; address: string }>;
}

const say = (text: string) => process.stdout.write(`${text}\n`);
const root = fileURLToPath(new URL("../", import.meta.url));

/** Runs scripts/ensure-dovecot.sh, showing its lines; true when Dovecot can run (exit 0). */
function ensureDovecot(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("bash", [join(root, "scripts/ensure-dovecot.sh")], { cwd: root, stdio: ["ignore", "inherit", "pipe"] });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      for (const line of text.split("\n")) if (line.trim() !== "") say(`   ${line.trim()}`);
    });
    child.once("error", (error) => {
      say(`   cannot run scripts/ensure-dovecot.sh: ${error.message}`);
      resolve(false);
    });
    child.once("close", (code) => resolve(code === 0));
  });
}

function startSimulator(pty: string): Promise<{ child: ChildProcess; info: SimInfo }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "sim/main.ts"), "--pty", pty, "--smtp-port", "0", "--pop3-port", "0"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // The simulator's last line on stderr says why it stopped, if it does.
    let lastProblem = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      const lines = text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("sim: POP3 by"));
      if (lines.length > 0) lastProblem = lines[lines.length - 1].replace(/^sim: /, "");
    });
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error("the simulated modem did not start within 60 s"));
    }, 60_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const line = buffered.split("\n").find((l) => l.trim().startsWith("{"));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({ child, info: JSON.parse(line) as SimInfo });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulated modem did not start: ${lastProblem || `it exited with ${code}`}`));
    });
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
  let sim: ChildProcess | null = null;
  let serial: HostSerial | null = null;
  let app: AlarmApp | null = null;
  try {
    say("1. Mail servers: Dovecot for POP3 where it can run (scripts/ensure-dovecot.sh, as npm test runs it) ...");
    if (!(await ensureDovecot())) say("   so the demo's POP3 server is the built-in Node one instead");

    say("2. Starting the simulated SIM7000 with local SMTP and POP3 servers behind it ...");
    const { child, info } = await startSimulator(pty);
    sim = child;
    const [device, recipient] = [info.users.find((u) => u.name === "alarm") ?? info.users[0], info.users.find((u) => u.name === "alice") ?? info.users[1]];
    const pop3Server = info.pop3.server === "dovecot" ? "Dovecot" : "the built-in Node server";
    say(`   modem on ${pty}; SMTP ${info.smtp.host}:${info.smtp.port}, POP3 ${info.pop3.host}:${info.pop3.port} (${pop3Server})`);
    serial = await HostSerial.open(pty, 115200);
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
    const alarm = new AlarmApp(config, hostPlatform({ serial, dataDir: join(work, "flash"), inputs: { door } }));
    app = alarm;

    say("3. Bringing the modem up (AT sync, SIM, signal, attach, bearer, network time) ...");
    const ready = waitFor(alarm, "modem-ready", 60_000);
    void alarm.start();
    await ready;
    say(`   modem ready; clock set to ${new Date(alarm.wall.now()!).toISOString()}`);

    say("4. The door input goes into alarm ...");
    const sent = waitFor(alarm, "mail-sent", 120_000);
    door.level = 1;
    await sent;
    say(`   alarm mail sent through the modem (${alarm.mailsSent} mail, outbox now ${alarm.outbox.depth})`);

    say(`5. Reading ${recipient.address}'s mailbox back over POP3 through the modem ...`);
    const pop3 = new Pop3Client(alarm.engine, nodeTimers);
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
  } finally {
    await app?.stop();
    await serial?.close();
    if (sim !== null && sim.exitCode === null && sim.signalCode === null) {
      const exited = new Promise((r) => sim!.once("exit", r));
      sim.kill("SIGTERM");
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  }
}

// An expected failure (no python3, a server that does not start, ...) is one line, not a stack trace.
await main().catch((error: unknown) => {
  say(`\nsummary: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
