// The simulator on a real pty, opened with `serialport` as a program would open a modem; and
// the CLI entry that puts it there with mail servers behind it.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SerialPort } from "serialport";
import { NodeSimModem } from "../../../sim/modem/node-modem.ts";
import { PtyBridge } from "../../../sim/pty.ts";

const test = suite("sim: pty");

const MAIN = fileURLToPath(new URL("../../../sim/main.ts", import.meta.url));
let dir = "";

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), "simmail-pty-"));
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A serial port on `path` collecting what it reads. */
async function openPort(path: string): Promise<{ port: SerialPort; waitFor: (text: string, ms?: number) => Promise<string> }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  let received = "";
  port.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  const waitFor = async (text: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!received.includes(text)) {
      if (Date.now() > deadline) throw new Error(`waited for ${JSON.stringify(text)}, read ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const end = received.indexOf(text) + text.length;
    const out = received.slice(0, end);
    received = received.slice(end);
    return out;
  };
  return { port, waitFor };
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

test("a program opens the pty with serialport, sends AT and reads OK", async () => {
  const path = join(dir, "modem");
  const pty = await PtyBridge.open(path);
  const sim = new NodeSimModem({ echo: false });
  pty.connect(sim);
  sim.powerOn({ quiet: true });
  const { port, waitFor } = await openPort(path);
  try {
    assert.match(readlinkSync(path), /^\/dev\/pts\/\d+$/);
    assert.is(pty.device, readlinkSync(path));
    port.write("AT\r");
    assert.is(await waitFor("OK\r\n"), "\r\nOK\r\n");
    port.write("AT+CSQ\rATI\r");
    assert.is(await waitFor("R1529\r\n\r\nOK\r\n"), "\r\n+CSQ: 27,99\r\n\r\nOK\r\n\r\nSIM7000G R1529\r\n\r\nOK\r\n");
  } finally {
    await closePort(port);
    sim.close();
    await pty.close();
  }
  assert.not.ok(existsSync(path), "the link is removed");
});

test("with a baud rate the pty paces the modem's output", async () => {
  const path = join(dir, "slow-modem");
  const pty = await PtyBridge.open(path, { baud: 9600 });
  const sim = new NodeSimModem({ echo: false });
  pty.connect(sim);
  sim.powerOn({ quiet: true });
  const { port, waitFor } = await openPort(path);
  try {
    const started = Date.now();
    port.write("AT+IPR=?\rAT+IPR=?\r");
    const reply = (await waitFor("\r\nOK\r\n")) + (await waitFor("\r\nOK\r\n"));
    const elapsed = Date.now() - started;
    assert.ok(reply.length > 200, `${reply.length} bytes`);
    assert.ok(elapsed >= (reply.length * 10_000) / 9600 - 30, `${reply.length} bytes at 9600 baud took ${elapsed} ms`);
  } finally {
    await closePort(port);
    sim.close();
    await pty.close();
  }
});

test("main.ts: JSON line with ports and accounts, a mail round trip over the pty, clean stop on SIGINT", async () => {
  const path = join(dir, "cli-modem");
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--pty", path], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (!stdout.includes("Ctrl-C")) {
      if (Date.now() > deadline) throw new Error(`main.ts did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const info = JSON.parse(stdout.split("\n")[0]) as {
      pty: string; device: string; dialect: string; smtp: { host: string; port: number }; pop3: { host: string; port: number };
      users: Array<{ name: string; password: string; address: string }>;
    };
    assert.is(info.pty, path);
    assert.is(info.dialect, "sim7000");
    assert.ok(info.smtp.port > 0 && info.pop3.port > 0);
    const bob = info.users.find((u) => u.name === "bob")!;
    const { port, waitFor } = await openPort(path);
    try {
      const step = async (line: string, until = "\r\nOK\r\n") => {
        port.write(`${line}\r`);
        return waitFor(until);
      };
      await step("ATE0");
      await step(`AT+SMTPSRV="${info.smtp.host}",${info.smtp.port}`);
      await step(`AT+SMTPAUTH=1,"${bob.name}","${bob.password}"`);
      await step(`AT+SMTPFROM="${bob.address}"`);
      await step(`AT+SMTPRCPT=0,0,"${bob.address}"`);
      await step('AT+SMTPSUB="over the pty"');
      await step("AT+SMTPBODY=2", "DOWNLOAD\r\n");
      port.write("hi");
      await waitFor("\r\nOK\r\n");
      await step("AT+SMTPSEND");
      assert.is(await waitFor("+SMTPSEND: 1\r\n"), "\r\n+SMTPSEND: 1\r\n");
      await step(`AT+POP3SRV="${info.pop3.host}","${bob.name}","${bob.password}",${info.pop3.port}`);
      await step("AT+POP3IN");
      await waitFor("\r\n+POP3IN: 1\r\n");
      await step("AT+POP3NUM");
      assert.is(await waitFor("\r\n+POP3NUM: 1,1,"), "\r\n+POP3NUM: 1,1,", "one mail: the one just sent");
      assert.match(await waitFor("\r\n"), /^\d+\r\n$/);
    } finally {
      await closePort(port);
    }
    child.kill("SIGINT");
    assert.is(await exited, 0, stderr);
    assert.not.ok(existsSync(path), "the link is gone after SIGINT");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("main.ts refuses bad arguments with a usage text", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--dialect", "klingon", "--pty", join(dir, "x")], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.is(code, 1);
  assert.match(stderr, /--dialect must be sim7000 or classic/);
  assert.match(stderr, /^\(--help, or simmail help sim, lists the options\)$/m, "one line and a hint, not the whole usage");
});

test.run();
