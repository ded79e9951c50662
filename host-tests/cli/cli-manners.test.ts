// The CLI's manners, each as a user meets it with the CLI run as a process: --version, help per
// command, one-line usage errors with a hint, environment defaults, the password when
// SIMMAIL_PASSWORD is unset (refused off a terminal, asked for on one), serial ports that cannot
// be opened, mailboxes that are not, and `simmail sign`.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHmac } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runProcess, runSimmail, runSimmailOnTerminal, startSimulator, type CliRun, type SimProcess } from "../kit/cli-process.ts";

const NO_PORT = "/nonexistent/simmail-cli-manners";
const SEND = ["send", "--port", NO_PORT, "--smtp", "mail.example.com", "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", "--body", "b"];
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

/** `bin/simmail` with exactly `env` added to a clean environment (no SIMMAIL_* from outside). */
function simmailWith(args: string[], env: Record<string, string>): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SIMMAIL_")));
  return runProcess(process.execPath, [join(ROOT, "bin/simmail"), ...args], { env: { ...clean, ...env } });
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

const manners = suite("CLI manners: version, help, usage errors, environment defaults");

manners("--version prints the package's version, also as JSON", async () => {
  const plain = await runSimmail(["--version"]);
  assert.is(plain.status, 0, plain.stderr);
  assert.is(plain.stdout, `simmail ${VERSION}\n`);
  const json = await runSimmail(["--version", "--json"]);
  assert.equal(JSON.parse(json.stdout), { ok: true, version: VERSION });
});

manners("simmail help send and simmail send --help print that command's help, and only it", async () => {
  const [help, flag, sign, all] = await Promise.all([runSimmail(["help", "send"]), runSimmail(["send", "--help"]), runSimmail(["help", "sign"]), runSimmail(["help"])]);
  assert.is(help.status, 0, help.stderr);
  assert.is(flag.stdout, help.stdout, "the same text both ways");
  assert.match(help.stdout, /^simmail send --port PATH --smtp HOST\[:PORT\]/);
  assert.match(help.stdout, /Common options:\n {2}--port PATH/);
  assert.not.match(help.stdout, /simmail inbox|simmail probe/, "no other command's synopsis");
  assert.match(sign.stdout, /^simmail sign --device ID COMMAND/);
  assert.is(all.status, 0);
  for (const command of ["probe", "send", "inbox", "sim", "sign"]) assert.match(all.stdout, new RegExp(`^ {2}${command} `, "m"), `the full usage lists ${command}`);
  assert.match(all.stdout, /SIMMAIL_PORT\s+default for --port/, "and the environment defaults");
  const unknown = await runSimmail(["help", "fly"]);
  assert.is(unknown.status, 1);
  assert.equal(lines(unknown.stderr), ['simmail: no command "fly"', "(simmail help lists the commands)"]);
});

manners("a usage error is one line and a hint, not the whole usage", async () => {
  const cases: Array<[string[], string[]]> = [
    [["send", "--port", NO_PORT], ["simmail: --smtp (or SIMMAIL_SMTP) is required", "(simmail help send lists its options)"]],
    [["inbox", "--port", NO_PORT, "--pop3", "p.example.com", "--user", "u", "list", "--colour"], ["simmail: unknown option --colour", "(simmail help inbox lists its options)"]],
    [["fly"], ['simmail: unknown command "fly"', "(simmail help lists the commands)"]],
    [[], ["simmail: no command given", "(simmail help lists the commands)"]],
  ];
  const runs = await Promise.all(cases.map(([args]) => runSimmail(args, "pw")));
  runs.forEach((run, i) => {
    assert.is(run.status, 1, cases[i][0].join(" "));
    assert.equal(lines(run.stderr), cases[i][1], cases[i][0].join(" "));
    assert.not.match(run.stderr, /Usage:/);
  });
});

manners("SIMMAIL_PORT, SIMMAIL_SMTP, SIMMAIL_FROM ... stand in for their flags; a flag given wins; a bad value names the variable", async () => {
  const env = { SIMMAIL_PORT: NO_PORT, SIMMAIL_SMTP: "mail.example.com:587", SIMMAIL_FROM: "Pump house <alarm@example.com>", SIMMAIL_CID: "2", SIMMAIL_PASSWORD: "pw" };
  const fromEnvironment = await simmailWith(["send", "--to", "b@example.com", "--subject", "s", "--body", "b", "--user", "alarm"], env);
  assert.is(fromEnvironment.status, 1, fromEnvironment.stderr);
  assert.match(fromEnvironment.stderr, new RegExp(`^simmail: cannot open ${NO_PORT}: no such device`), "every required value came from the environment");
  const flagWins = await simmailWith(["send", "--port", "/nonexistent/other", "--to", "b@example.com", "--subject", "s", "--body", "b"], env);
  assert.match(flagWins.stderr, /^simmail: cannot open \/nonexistent\/other:/);
  const bad = await simmailWith(["send", "--to", "b@example.com", "--subject", "s", "--body", "b"], { ...env, SIMMAIL_CID: "9" });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^simmail: SIMMAIL_CID must be a whole number from 1 to 3/);
  const badServer = await simmailWith(["send", "--to", "b@example.com", "--subject", "s", "--body", "b"], { ...env, SIMMAIL_SMTP: "mail.example.com:0" });
  assert.match(badServer.stderr, /^simmail: SIMMAIL_SMTP port must be a whole number from 1 to 65535/);
});

manners("--user without SIMMAIL_PASSWORD, off a terminal: refused before the port opens, saying the variable is unset", async () => {
  const unset = await simmailWith([...SEND, "--user", "alarm"], {});
  assert.is(unset.status, 1);
  assert.equal(lines(unset.stderr), ["simmail: --user alarm needs a password and SIMMAIL_PASSWORD is not set: set it (or run simmail on a terminal to be asked)", "(simmail help send lists its options)"]);
  const empty = await simmailWith(["inbox", "--port", NO_PORT, "--pop3", "pop.example.com", "--user", "alarm", "list"], { SIMMAIL_PASSWORD: "" });
  assert.match(empty.stderr, /^simmail: --user alarm needs a password and SIMMAIL_PASSWORD is empty/);
  const without = await simmailWith(SEND, {});
  assert.match(without.stderr, /^simmail: cannot open /, "no --user: no password needed");
});

manners("a mailbox with a < and no closing > is refused, as are other broken ones", async () => {
  const cases: Array<[string, string, RegExp]> = [
    ["--to", "Alice <alice@simmail.test", /^simmail: --to "Alice <alice@simmail\.test" is not a mailbox: write local@domain or Name <local@domain>/],
    ["--to", "Alice <alice@simmail.test> extra", /^simmail: --to "Alice <alice@simmail\.test> extra" is not a mailbox/],
    ["--cc", "<<a@b.example>>", /^simmail: --cc "<<a@b\.example>>" is not a mailbox/],
    ["--from", "Pump house <alarm@>", /^simmail: --from "alarm@" is not an email address/],
  ];
  const runs = await Promise.all(cases.map(([flag, value]) => {
    const args = [...SEND];
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = value;
    else args.push(flag, value);
    return runSimmail(args, "pw");
  }));
  runs.forEach((run, i) => {
    assert.is(run.status, 1, cases[i][1]);
    assert.match(run.stderr, cases[i][2]);
    assert.not.match(run.stderr, /cannot open/, "refused before the port");
  });
  const good = await runSimmail([...SEND, "--cc", '"Ops, night shift" <ops@example.com>'], "pw");
  assert.match(good.stderr, /^simmail: cannot open /, "a quoted name with a comma is a mailbox");
});

manners("--attach and --body-file are checked before the port opens: a directory, a missing or unreadable file is a refusal", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-inputs-"));
  try {
    const missing = join(scratch, "missing.txt");
    const cases: Array<[string[], string]> = [
      [["--attach", scratch], `simmail: --attach ${scratch}: is a directory, not a file`],
      [["--attach", missing], `simmail: --attach ${missing}: no such file`],
      [["--attach", "/dev/null"], "simmail: --attach /dev/null: is not a regular file"],
    ];
    const runs = await Promise.all(cases.map(([flags]) => runSimmail([...SEND, ...flags], "pw")));
    runs.forEach((run, i) => {
      assert.is(run.status, 1, run.stderr);
      assert.is(lines(run.stderr)[0], cases[i][1]);
      assert.not.match(run.stderr, /cannot open/, "refused before the port");
    });
    const body = SEND.slice(0, SEND.indexOf("--body"));
    const bodyCases: Array<[string, string]> = [
      [scratch, `simmail: --body-file ${scratch}: is a directory, not a file`],
      [missing, `simmail: --body-file ${missing}: no such file`],
    ];
    const bodyRuns = await Promise.all(bodyCases.map(([path]) => runSimmail([...body, "--body-file", path], "pw")));
    bodyRuns.forEach((run, i) => {
      assert.is(run.status, 1, run.stderr);
      assert.is(lines(run.stderr)[0], bodyCases[i][1]);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

manners.run();

const ports = suite("CLI manners: serial ports that cannot be opened");

ports("no such device, a directory, a file that is not a serial port: one line each, the path once, exit 1", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-ports-"));
  try {
    const notSerial = join(scratch, "plain-file");
    writeFileSync(notSerial, "");
    const cases: Array<[string, string]> = [
      [NO_PORT, `cannot open ${NO_PORT}: no such device; check --port (or SIMMAIL_PORT) and that the modem's USB-serial adapter is plugged in`],
      [scratch, `cannot open ${scratch}: is a directory, not a serial port`],
      [notSerial, `cannot open ${notSerial}: not a serial port`],
    ];
    const runs = await Promise.all(cases.map(([port]) => runSimmail(["probe", "--port", port])));
    runs.forEach((run, i) => {
      assert.is(run.status, 1, run.stderr);
      assert.is(run.stderr, `simmail: ${cases[i][1]}\n`);
      assert.not.match(run.stderr, /Error:/);
      assert.is(run.stderr.split(cases[i][0]).length, 2, "the path once");
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

ports("permission denied on a dialout port: the hint says how to join the group", async () => {
  if (process.getuid?.() !== 0) throw new Error("this test runs the CLI as another user and needs root, like the rest of npm test");
  const dialout = readFileSync("/etc/group", "utf8").split("\n").find((line) => line.startsWith("dialout:"));
  if (dialout === undefined) throw new Error("this machine has no dialout group in /etc/group");
  const scratch = mkdtempSync(join(tmpdir(), "simmail-ports-"));
  try {
    chmodSync(scratch, 0o755);
    const port = join(scratch, "ttyUSB9");
    writeFileSync(port, "");
    chownSync(port, 0, Number(dialout.split(":")[2]));
    chmodSync(port, 0o660);
    const run = await runProcess(process.execPath, [join(ROOT, "bin/simmail"), "probe", "--port", port], { uid: 65534, gid: 65534, env: { ...process.env, HOME: scratch } });
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, `simmail: cannot open ${port}: permission denied; the port belongs to the group dialout: sudo usermod -aG dialout $USER, then log in again\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

ports.run();

const sign = suite("CLI: simmail sign");

const SECRET = "correct horse battery staple 42";

sign("prints a subject whose mac is HMAC-SHA256 of COMMAND|time|nonce|device under the secret", async () => {
  const run = await simmailWith(["sign", "--device", "pump-house-1", "disarm", "--at", "1781697600"], { SIMMAIL_COMMAND_SECRET: SECRET });
  assert.is(run.status, 0, run.stderr);
  const m = /^SIMMAIL DISARM 1781697600 ([0-9a-f]{16}) ([0-9a-f]{64})\n$/.exec(run.stdout);
  assert.ok(m, run.stdout);
  const mac = createHmac("sha256", SECRET).update(`DISARM|1781697600|${m![1]}|pump-house-1`).digest("hex");
  assert.is(m![2], mac);
  const again = await simmailWith(["sign", "--device", "pump-house-1", "DISARM", "--at", "1781697600"], { SIMMAIL_COMMAND_SECRET: SECRET });
  assert.is.not(again.stdout, run.stdout, "a fresh nonce each time");
});

sign("the secret from --secret-file (its first line), the device from SIMMAIL_DEVICE, the time now by default", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "simmail-sign-"));
  try {
    const file = join(scratch, "secret");
    writeFileSync(file, `${SECRET}\n`);
    const before = Math.floor(Date.now() / 1000);
    const run = await simmailWith(["sign", "STATUS", "--secret-file", file, "--json"], { SIMMAIL_DEVICE: "pump-house-1" });
    assert.is(run.status, 0, run.stderr);
    const data = JSON.parse(run.stdout);
    assert.is(data.device, "pump-house-1");
    assert.ok(data.at >= before && data.at <= before + 60, `signed now (${data.at})`);
    const [, command, at, nonce, mac] = data.subject.split(" ");
    assert.is(command, "STATUS");
    assert.is(mac, createHmac("sha256", SECRET).update(`STATUS|${at}|${nonce}|pump-house-1`).digest("hex"));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

sign("no secret, a short secret, an unknown command or a bad device id: exit 1 with what is wrong", async () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["sign", "--device", "pump-house-1", "ARM"], {}, /^simmail: sign needs the device's commandSecret: set SIMMAIL_COMMAND_SECRET or give --secret-file FILE$/m],
    [["sign", "--device", "pump-house-1", "ARM"], { SIMMAIL_COMMAND_SECRET: "short" }, /the secret is 5 bytes long; use 16 or more/],
    [["sign", "--device", "pump-house-1", "OPEN"], { SIMMAIL_COMMAND_SECRET: SECRET }, /^simmail: "OPEN" is none of ARM, DISARM, STATUS, TEST$/m],
    [["sign", "--device", "pump house", "ARM"], { SIMMAIL_COMMAND_SECRET: SECRET }, /^simmail: --device must be 1-64 of A-Z a-z 0-9 \. _ - \(got "pump house"\)$/m],
    [["sign", "ARM"], { SIMMAIL_COMMAND_SECRET: SECRET }, /^simmail: --device \(or SIMMAIL_DEVICE\) is required$/m],
    [["sign", "--device", "d1", "ARM", "--at", "yesterday"], { SIMMAIL_COMMAND_SECRET: SECRET }, /--at must be a time in unix seconds/],
  ];
  const runs = await Promise.all(cases.map(([args, env]) => simmailWith(args, env)));
  runs.forEach((run, i) => {
    assert.is(run.status, 1, cases[i][0].join(" "));
    assert.match(run.stderr, cases[i][2]);
    assert.is(run.stdout, "");
  });
});

sign.run();

const terminal = suite("CLI manners on a terminal: the password is asked for");

let sim: SimProcess;
terminal.before(async () => {
  sim = await startSimulator("simmail-manners-");
});
terminal.after(() => sim.stop());

terminal("send --user with SIMMAIL_PASSWORD unset asks for it without echo, then sends", async () => {
  const smtp = `${sim.info.smtp.host}:${sim.info.smtp.port}`;
  const run = await runSimmailOnTerminal(["send", "--port", sim.port, "--apn", "internet", "--smtp", smtp, "--user", "alarm", "--from", "alarm@simmail.test", "--to", "bob@simmail.test", "--subject", "asked", "--body", "x"], { after: /password for alarm at mail\.simmail\.test \(SIMMAIL_PASSWORD is not set\): $/, text: "alarm-secret\r" });
  assert.is(run.status, 0, run.screen);
  assert.match(run.screen, /sent to 1 recipient/);
  assert.not.ok(run.screen.includes("alarm-secret"), "the typed password is not echoed");
  const wrong = await runSimmailOnTerminal(["inbox", "--port", sim.port, "--apn", "internet", "--pop3", `${sim.info.pop3.host}:${sim.info.pop3.port}`, "--user", "bob", "list"], { after: /password for bob/, text: "\u0003" });
  assert.is(wrong.status, 1, wrong.screen);
  assert.match(wrong.screen, /--user bob needs a password: none was typed/);
});

terminal.run();
