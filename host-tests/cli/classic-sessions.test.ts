// Interrupted sessions in the classic dialect (issue 16), as a user meets them: bin/simmail as a
// process against the simulator on a pty, paced at 115,200 baud so that a mail takes seconds to
// print. SIGTERM in the middle of `inbox read --out`: the note has no way to stop a text output,
// and its modem takes a command written meanwhile once the output is over; so AT+POP3OUT is
// answered after the mail's last line. Exit 143, no file left, and the next inbox works at once.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { runSimmail as simmail, startSimmail, startSimulator, type SimProcess } from "../kit/cli-process.ts";

type Info = SimProcess["info"] & { smtp: { address: string } };

const test = suite("CLI: interrupted sessions, classic dialect");
let sim: SimProcess<Info>;

/** About 120 KB of text: some 10 s on the wire at 115,200 baud. */
const BIG_TEXT = Array.from({ length: 1500 }, (_, i) => `line ${String(i).padStart(5, "0")} of a long report, the pumps and the doors`).join("\r\n");

test.before(async () => {
  sim = await startSimulator<Info>("simmail-classic-sessions-", ["--dialect", "classic", "--baud", "115200"]);
  const transport = createTransport({ host: sim.info.smtp.address, port: sim.info.smtp.port, secure: false, ignoreTLS: true, auth: { user: "alarm", pass: "alarm-secret" } });
  await transport.sendMail({
    envelope: { from: "ops@simmail.test", to: ["bob@simmail.test"] },
    raw: `From: ops@simmail.test\r\nTo: bob@simmail.test\r\nSubject: long report\r\n\r\n${BIG_TEXT}\r\n`,
  });
  transport.close();
});
test.after(() => sim.stop());

const inboxArgs = (...rest: string[]) => ["inbox", "--port", sim.port, "--apn", "internet", "--pop3", `${sim.info.pop3.host}:${sim.info.pop3.port}`, "--user", "bob", ...rest];

test("SIGTERM while inbox read --out prints a mail: AT+POP3OUT answered after the output, exit 143, no file left; the next inbox works at once", async () => {
  const out = join(sim.work, "report.eml");
  const run = startSimmail(inboxArgs("read", "1", "--out", out, "--verbose"), "bob-secret");
  await run.stderrMatch(/line 00100 of a long report/);
  run.child.kill("SIGTERM");
  const result = await run.done;
  assert.is(result.status, 143, result.stderr.slice(-3000));
  assert.match(result.stderr, /interrupted \(SIGTERM\): the inbox session stopped; logged out of POP3/);
  assert.match(result.stderr, /^> AT\+POP3OUT$/m, "the session ended with the note's AT+POP3OUT");
  assert.match(result.stderr, /line 01499 of a long report[^\n]*\n< OK\n< \+POP3: SUCCESS\n< OK\n/, "the output ran to its end, then the logout was answered");
  assert.not.ok(existsSync(out), "no mail under the name given");
  assert.equal(readdirSync(sim.work).filter((name) => name.includes("report.eml")), [], "no temporary file left");
  const started = Date.now();
  const list = await simmail(inboxArgs("list"), "bob-secret");
  assert.is(list.status, 0, list.stderr);
  assert.match(list.stdout, /long report/);
  assert.ok(Date.now() - started < 30_000, "at once, not after a held session ends");
});

test.run();
