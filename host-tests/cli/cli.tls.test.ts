// The CLI's TLS options as a user runs them: `simmail sim --tls` (a firmware with AT+EMAILSSL,
// TLS servers) on a real pty, then probe, send over TLS and STARTTLS, read over POP3S, and the
// refusals of --require-tls.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { runSimmail as simmail, startSimulator, type SimInfo, type SimProcess } from "../kit/cli-process.ts";

const cli = suite("tls: simmail --tls / --starttls / --require-tls over a real pty");

type Info = Required<SimInfo>;
let sim: SimProcess<Info>;
let info: Info;
let port: string;

cli.before(async () => {
  sim = await startSimulator<Info>("simmail-cli-tls-", ["--tls"]);
  ({ info, port } = sim);
});

cli.after(() => sim.stop());

const mail = (server: string, subject: string, extra: string[]) => [
  "send", "--port", port, "--apn", "internet", "--smtp", server, "--user", "alarm",
  "--from", "Alarm <alarm@simmail.test>", "--to", "Alice <alice@simmail.test>", "--subject", subject, "--body", `${subject} body`, ...extra,
];

cli("probe names the TLS commands", async () => {
  const run = await simmail(["probe", "--port", port]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^tls: {6}AT\+EMAILSSL 0-2, contexts 0-5, AT\+CSSLCFG \(version, SNI\)$/m);
  const json = JSON.parse((await simmail(["probe", "--port", port, "--json"])).stdout);
  assert.equal(json.email.tls, { modes: [0, 2], contexts: [0, 5], sslConfig: true });
});

cli("send over --tls (TLS 1.2, SNI) and --starttls with --require-tls, read back over POP3S and STLS", async () => {
  const host = info.smtp.host;
  const first = await simmail(mail(`${host}:${info.tls.smtps}`, "over TLS", ["--tls", "--tls-version", "tls1.2", "--sni", host, "--require-tls"]), "alarm-secret");
  assert.is(first.status, 0, first.stderr);
  const second = await simmail(mail(`${host}:${info.tls.smtpStarttls}`, "over STARTTLS", ["--starttls", "--require-tls"]), "alarm-secret");
  assert.is(second.status, 0, second.stderr);
  const list = await simmail(["inbox", "--port", port, "--pop3", `${host}:${info.tls.pop3s}`, "--tls", "--require-tls", "--user", "alice", "--json", "list"], "alice-secret");
  assert.is(list.status, 0, list.stderr);
  assert.is(JSON.parse(list.stdout).messages.length, 2);
  const file = join(sim.work, "over-starttls.eml");
  const read = await simmail(["inbox", "--port", port, "--pop3", `${host}:${info.pop3.port}`, "--starttls", "--require-tls", "--user", "alice", "read", "2", "--out", file], "alice-secret");
  assert.is(read.status, 0, read.stderr);
  const parsed = await simpleParser(readFileSync(file));
  assert.is(parsed.subject, "over STARTTLS");
  assert.is(parsed.text?.trim(), "over STARTTLS body");
});

cli("--require-tls without TLS is refused (status 1, password not sent); a wrong SNI fails with 63 (status 2)", async () => {
  const host = info.smtp.host;
  const clear = await simmail(mail(`${host}:${info.smtp.port}`, "clear", ["--require-tls"]), "alarm-secret");
  assert.is(clear.status, 1);
  assert.match(clear.stderr, /refused: refusing to send the SMTP password in clear text: security is "none" \(requireSecureCredentials\) \(the password was not sent\)/);
  const pop = await simmail(["inbox", "--port", port, "--pop3", `${host}:${info.pop3.port}`, "--require-tls", "--user", "alice", "list"], "alice-secret");
  assert.is(pop.status, 1);
  assert.match(pop.stderr, /refusing to send the POP3 password in clear text/);
  const both = await simmail(mail(`${host}:${info.tls.smtps}`, "both", ["--tls", "--starttls"]), "alarm-secret");
  assert.is(both.status, 1);
  assert.match(both.stderr, /give at most one of --tls and --starttls/);
  const version = await simmail(mail(`${host}:${info.tls.smtps}`, "v", ["--tls", "--tls-version", "tls1.4"]), "alarm-secret");
  assert.is(version.status, 1);
  assert.match(version.stderr, /--tls-version must be "ssl3\.0", "tls1\.0", "tls1\.1", "tls1\.2" or "all"/);
  const sni = await simmail(mail(`${host}:${info.tls.smtps}`, "sni", ["--tls", "--sni", "wrong.example"]), "alarm-secret");
  assert.is(sni.status, 2);
  assert.match(sni.stderr, /SMTP failed: 63 SMTP TCP connection error \(or the TLS handshake failed/);
});

cli.run();
