// The CLI as a user runs it: a subprocess on a real pty, the simulated SIM7000 and real mail
// servers behind it (sim/main.ts in its own process).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { PtyBridge } from "../../sim/pty.ts";
import { ROOT as root, firstJsonLine, runSimmail as simmail, startSimulator, type SimInfo, type SimProcess } from "../kit/cli-process.ts";

const cli = suite("CLI: simmail over a real pty");

let sim: SimProcess;
let info: SimInfo;
let work: string;
let port: string;

cli.before(async () => {
  sim = await startSimulator("simmail-cli-");
  ({ info, work, port } = sim);
});

cli.after(() => sim.stop());

const smtp = () => `${info.smtp.host}:${info.smtp.port}`;
const pop3 = () => `${info.pop3.host}:${info.pop3.port}`;

cli("probe reports identity, SIM, signal, clock and email limits; --json is machine-readable", async () => {
  const human = await simmail(["probe", "--port", port]);
  assert.is(human.status, 0, human.stderr);
  assert.match(human.stdout, /SIM:\s+READY/);
  assert.match(human.stdout, /email:\s+sim7000 dialect \(found by its test commands\); subject ≤ 512/);
  const json = await simmail(["probe", "--port", port, "--json"]);
  const data = JSON.parse(json.stdout);
  assert.is(data.ok, true);
  assert.is(data.sim, "READY");
  assert.is(data.email.limits.body, 5120);
});

cli("a 256 KiB attachment goes out with send and comes back byte-identical with inbox read", async () => {
  const attachment = join(work, "data.bin");
  const bytes = randomBytes(256 * 1024);
  writeFileSync(attachment, bytes);
  const sent = await simmail(["send", "--port", port, "--apn", "internet", "--smtp", smtp(), "--user", "alarm",
    "--from", "Pump house <alarm@simmail.test>", "--to", "Bob <bob@simmail.test>", "--to", "carol@simmail.test",
    "--subject", "CLI: Grüße", "--body", "line 1\nline 2", "--attach", attachment], "alarm-secret");
  assert.is(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /sent to 2 recipients/);

  const list = await simmail(["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", "list"], "bob-secret");
  assert.is(list.status, 0, list.stderr);
  assert.match(list.stdout, /^1\t\d+\t[^\t]+\tPump house\tCLI: Grüße$/m, "number, size, date, sender, subject");

  const headers = await simmail(["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", "headers", "1"], "bob-secret");
  assert.is(headers.status, 0, headers.stderr);
  assert.match(headers.stdout, /^Subject: /m);

  const out = join(work, "mail.eml");
  const read = await simmail(["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", "read", "1", "--out", out], "bob-secret");
  assert.is(read.status, 0, read.stderr);
  const mail = await simpleParser(readFileSync(out));
  assert.is(mail.subject, "CLI: Grüße");
  assert.is(mail.attachments.length, 1);
  assert.ok(Buffer.compare(mail.attachments[0].content, bytes) === 0, "attachment identical");

  const deleted = await simmail(["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", "delete", "1"], "bob-secret");
  assert.is(deleted.status, 0, deleted.stderr);
  const empty = await simmail(["inbox", "--port", port, "--pop3", pop3(), "--user", "bob", "list"], "bob-secret");
  assert.is(empty.stdout.trim(), "no mail");
});

cli("--verbose traces the AT dialogue on stderr with the password masked", async () => {
  const run = await simmail(["send", "--port", port, "--smtp", smtp(), "--user", "alarm", "--from", "alarm@simmail.test",
    "--to", "dave@simmail.test", "--subject", "trace", "--body", "x", "--verbose"], "alarm-secret");
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /> AT\+SMTPAUTH=1,"alarm","\*+"/);
  assert.not.ok(run.stderr.includes("alarm-secret"), "the password never appears");
  assert.match(run.stderr, /< \+SMTPSEND: 1/);
});

cli("exit 1: bad usage or a refused parameter, nothing sent", async () => {
  const noPort = await simmail(["probe"]);
  assert.is(noPort.status, 1);
  assert.match(noPort.stderr, /--port \(or SIMMAIL_PORT\) is required/);
  const password = await simmail(["send", "--port", port, "--password", "x"]);
  assert.is(password.status, 1);
  assert.match(password.stderr, /SIMMAIL_PASSWORD/);
  const quoted = await simmail(["send", "--port", port, "--smtp", smtp(), "--from", 'a"b@simmail.test', "--to", "bob@simmail.test", "--subject", "s", "--body", "b"]);
  assert.is(quoted.status, 1, quoted.stderr);
  assert.match(quoted.stderr, /^simmail: --from must not contain a double quote/m);
  const refused = await simmail(["send", "--port", port, "--apn", "internet", "--smtp", smtp(), "--from", "a@simmail.test", "--to", "bob@simmail.test", "--subject", "two\nlines", "--body", "b"]);
  assert.is(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /refused: subject.*nothing was sent/);
});

cli("exit 2: the network's failure code and its meaning", async () => {
  const run = await simmail(["send", "--port", port, "--smtp", smtp(), "--user", "alarm", "--from", "alarm@simmail.test",
    "--to", "bob@simmail.test", "--subject", "s", "--body", "b"], "wrong-password");
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /SMTP failed: 67 authentication failed/);
});

cli("exit 3: a port where no modem answers", async () => {
  const silent = await PtyBridge.open(join(work, "silent"), {});
  try {
    const run = await simmail(["probe", "--port", silent.path]);
    assert.is(run.status, 3, run.stderr);
    assert.match(run.stderr, /no answer from the modem/);
  } finally {
    await silent.close();
  }
});

cli("on a TTY a long transfer shows a progress bar; without one it does not", async () => {
  const attachment = join(work, "progress.bin");
  writeFileSync(attachment, randomBytes(48 * 1024));
  const args = ["send", "--port", port, "--smtp", smtp(), "--user", "alarm", "--from", "alarm@simmail.test",
    "--to", "alice@simmail.test", "--subject", "progress", "--body", "b", "--attach", attachment];
  const plain = await simmail(args, "alarm-secret");
  assert.is(plain.status, 0, plain.stderr);
  assert.not.match(plain.stderr, /KiB\/s/);
  // `script` gives the command a pseudo-terminal, as a person's shell would.
  const command = [process.execPath, join(root, "bin/simmail"), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const tty = await new Promise<string>((resolve) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, SIMMAIL_PASSWORD: "alarm-secret" }, cwd: root });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("close", () => resolve(out));
  });
  assert.match(tty, /sending \[#+ *\] \d+\/49152 B [\d.]+ KiB\/s ETA \d+s/);
  assert.match(tty, /sent to 1 recipient/);
});

cli("sim starts a simulated modem with mail servers on a pty that probe can use; send and inbox speak its classic dialect", async () => {
  const path = join(work, "second-modem");
  const child = spawn(process.execPath, [join(root, "bin/simmail"), "sim", "--pty", path, "--dialect", "classic", "--smtp-port", "0", "--pop3-port", "0"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const summary = await firstJsonLine<SimInfo & { dialect: string; users: unknown[] }>(child, "simmail sim");
    assert.is(summary.dialect, "classic");
    assert.ok(summary.users.length > 0, "credentials printed");
    const probe = await simmail(["probe", "--port", path, "--dialect", "classic"]);
    assert.is(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /email:\s+classic dialect/);
    const common = ["--port", path, "--dialect", "classic", "--apn", "internet"];
    const sent = await simmail(["send", ...common, "--smtp", `${summary.smtp.host}:${summary.smtp.port}`, "--user", "alarm",
      "--from", "alarm@simmail.test", "--to", "bob@simmail.test", "--subject", "classic", "--body", "one line"], "alarm-secret");
    assert.is(sent.status, 0, sent.stderr);
    assert.match(sent.stdout, /sent to 1 recipient/);
    const list = await simmail(["inbox", ...common, "--pop3", `${summary.pop3.host}:${summary.pop3.port}`, "--user", "bob", "list"], "bob-secret");
    assert.is(list.status, 0, list.stderr);
    assert.match(list.stdout, /^1\t\d+\t[^\t]+\talarm@simmail\.test\tclassic$/m, "the mail listed");
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
});

cli.run();
