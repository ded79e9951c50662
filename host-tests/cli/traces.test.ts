// The CLI's output never holds the mail password, whatever it prints: a verbose send and a
// verbose inbox read (the whole AT dialogue on stderr), a refused login, --json, in both
// dialects, over a real pty to the simulator and its real servers (sim/main.ts).
// The app's own trace (full send and poll) is checked in inbound.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runSimmail as simmail, startSimulator, type SimInfo, type SimProcess } from "../kit/cli-process.ts";
import { createTransport } from "nodemailer";
import { DIALECTS } from "../firmware/hostile/corpus.ts";

/** The simulator's accounts: user <name>, password <name>-secret. */
const PASSWORD = "alarm-secret";

for (const dialect of DIALECTS) {
  const traces = suite(`hostile traces: the CLI never prints the password (${dialect})`);
  let sim: SimProcess;
  let info: SimInfo;
  let port: string;

  traces.before(async () => {
    sim = await startSimulator("simmail-traces-", ["--dialect", dialect]);
    ({ info, port } = sim);
  });
  traces.after(() => sim.stop());

  const common = () => ["--port", port, "--dialect", dialect, "--apn", "internet"];

  traces("verbose send, then verbose inbox list and read of that mail, then --json", async () => {
    const sent = await simmail(["send", ...common(), "--smtp", `${info.smtp.host}:${info.smtp.port}`, "--user", "alarm",
      "--from", "Pump house <alarm@simmail.test>", "--to", "Alarm <alarm@simmail.test>", "--subject", "trace check", "--body", "x", "--verbose"], PASSWORD);
    assert.is(sent.status, 0, sent.output);
    assert.match(sent.output, /> AT\+SMTPAUTH=1,"alarm","\*{12}"/);
    const pop3 = ["--pop3", `${info.pop3.host}:${info.pop3.port}`, "--user", "alarm"];
    const listed = await simmail(["inbox", ...common(), ...pop3, "list", "--verbose"], PASSWORD);
    assert.is(listed.status, 0, listed.output);
    assert.match(listed.output, /> AT\+POP3SRV="[^"]+","alarm","\*{12}",\d+/);
    const read = await simmail(["inbox", ...common(), ...pop3, "read", "1", "--verbose"], PASSWORD);
    assert.is(read.status, 0, read.output);
    assert.is(read.stdout, "x\n", "the mail's text");
    const json = await simmail(["inbox", ...common(), ...pop3, "list", "--json"], PASSWORD);
    assert.is(json.status, 0, json.output);
    for (const run of [sent, listed, read, json]) assert.not.ok(run.output.includes(PASSWORD), `the password in:\n${run.output}`);
  });

  traces("a refused login and a refused parameter name the problem, not the password", async () => {
    const wrong = "wrong-pw-7c1d";
    const refused = await simmail(["inbox", ...common(), "--pop3", `${info.pop3.host}:${info.pop3.port}`, "--user", "alarm", "list", "--verbose"], wrong);
    assert.is(refused.status, 2, refused.output);
    assert.not.ok(refused.output.includes(wrong), refused.output);
    const injected = "pw\rAT+CFUN=0";
    const bad = await simmail(["send", ...common(), "--smtp", `${info.smtp.host}:${info.smtp.port}`, "--user", "alarm",
      "--from", "alarm@simmail.test", "--to", "alarm@simmail.test", "--subject", "s", "--body", "b", "--verbose"], injected);
    assert.is(bad.status, 1, bad.output);
    assert.match(bad.output, /SMTP password: must not contain a line break/);
    assert.not.ok(bad.output.includes("AT+CFUN"), bad.output);
  });

  traces("a mail author's terminal escapes never reach the terminal through the --verbose trace", async () => {
    const escape = "\u001b]0;owned\u0007\u001b[2J";
    // Raw, as a hostile sender's server would hand it over: the escapes unencoded in the header.
    const transport = createTransport({ host: "127.0.0.1", port: info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: PASSWORD } });
    await transport.sendMail({ envelope: { from: "mallory@simmail.test", to: ["alarm@simmail.test"] }, raw: `From: mallory@simmail.test\r\nTo: alarm@simmail.test\r\nSubject: escape ${escape} here\r\n\r\nbody ${escape}\r\n` });
    transport.close();
    const pop3 = ["--pop3", `${info.pop3.host}:${info.pop3.port}`, "--user", "alarm"];
    const list = await simmail(["inbox", ...common(), ...pop3, "list"], PASSWORD);
    const last = list.stdout.trim().split("\n").length;
    const read = await simmail(["inbox", ...common(), ...pop3, "headers", String(last), "--verbose"], PASSWORD);
    assert.is(read.status, 0, read.output);
    if (dialect === "classic") assert.match(read.stderr, /Subject: escape \?\]0;owned\?\?\[2J here/, "the header line is traced, escapes shown as ?");
    assert.not.ok(/[\u001b\u0007]/.test(read.stderr), `no ESC or BEL on stderr: ${JSON.stringify(read.stderr.slice(0, 400))}`);
  });

  traces.run();
}
