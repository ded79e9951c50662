// XS suite: the classic dialect's result texts under the real XS engine. `+POP3: <text>` and
// `+SMTP: <text>` come from the modem; looking them up as object keys would keep every text
// ever seen in XS's key table for good. A thousand failed logins, each answered with a text
// never seen before, must leave the heap after GC where it was. And the text output
// (AT+POP3READ) tells mail text from its framing line by line without keeping anything.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runInXs, STUB_PORTS_JS, type XsStepResult } from "../../kit/xs/run-xs.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = `${root}dist/xs/simmail-core.js`;
if (!existsSync(CORE)) execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });

const WARM_UP = 50;
const LOGINS = 1000;

/** A classic-dialect modem on a scripted serial: AT+POP3IN fails with a new text each time. */
const DRIVER = `${STUB_PORTS_JS}
globalThis.classicLogins = function (lib) {
  let line = "";
  let answered = 0;
  const later = (work) => Promise.resolve().then(work);
  const serial = stubSerial((bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 13) { answer(line); line = ""; }
      else if (bytes[i] !== 10) line += String.fromCharCode(bytes[i]);
    }
    later(() => engine.onWritable(128));
    return true;
  });
  const engine = new lib.AtEngine({ serial, timers: stubTimers(), syncOnStart: false });
  const client = new lib.ClassicPop3Client(engine);
  function reply(text) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    later(() => engine.onReadable(serial.give(bytes)));
  }
  function answer(command) {
    if (command.startsWith("AT+POP3SRV=")) reply("\\r\\nOK\\r\\n");
    else if (command === "AT+POP3IN") reply("\\r\\nOK\\r\\n\\r\\n+POP3: SERVER ERROR 4.7." + ++answered + " try later\\r\\n");
    else reply("\\r\\nERROR\\r\\n");
  }
  const settings = { server: { host: "mail.example.net", user: "alarm", password: "secret" } };
  return async function logins(count) {
    const seen = { failed: 0, last: "", meanings: [] };
    for (let i = 0; i < count; i++) {
      try {
        await client.login(settings);
      } catch (error) {
        seen.failed++;
        seen.last = error.message;
        if (!seen.meanings.includes(error.meaning)) seen.meanings.push(error.meaning);
      }
    }
    // The SMTP side's lookup, with texts the modem might print after +SMTP:.
    for (let i = 0; i < count; i++) {
      const error = new lib.SmtpError(0, "SERVER ERROR 5.7." + i);
      if (!seen.meanings.includes(error.meaning)) seen.meanings.push(error.meaning);
    }
    seen.known = [new lib.Pop3Error(0, "INVALID UN/PWD").meaning, new lib.SmtpError(0, "BAD RCPT", "a@example.net").meaning, new lib.SmtpError(0, "constructor").meaning];
    return seen;
  };
};
`;

/** A classic modem printing a saved mail of `lines` look-alike lines for every AT+POP3READ. */
const READER = `
globalThis.classicReads = function (lib, lines) {
  // Never an empty line before OK or ERROR: that one the framing cannot tell from the end.
  const kinds = ["a text line", "OK", "ERROR", "+POP3: SUCCESS", "+SMTP: OK", "", "another line"];
  let text = "Date: Tue, 9 Mar 2010 17:11:30 +0800\\r\\nSubject: look-alikes\\r\\n\\r\\n";
  for (let i = 0; i < lines; i++) text += kinds[i % kinds.length] + "\\r\\n";
  const output = "\\r\\n" + text + "\\r\\nOK\\r\\n";
  const reply = new Uint8Array(output.length);
  for (let i = 0; i < output.length; i++) reply[i] = output.charCodeAt(i);
  const later = (work) => Promise.resolve().then(work);
  const serial = stubSerial((bytes) => {
    if (bytes[bytes.length - 1] === 13) later(() => engine.onReadable(serial.give(reply)));
    later(() => engine.onWritable(128));
    return true;
  });
  const engine = new lib.AtEngine({ serial, timers: stubTimers(), syncOnStart: false });
  const client = new lib.ClassicPop3Client(engine);
  let total = 0;
  const sink = { write(buf, offset, length) { total += length; } };
  return async function reads(count) {
    total = 0;
    for (let i = 0; i < count; i++) await client.readSaved("100202110457/EMAIL000.TXT", sink);
    return { total, expected: count * text.length };
  };
};
`;

const xs = suite("XS: classic result texts without heap growth");

xs(`${LOGINS} classic logins failed with texts never seen before leave the XS heap where it was`, async () => {
  const { steps } = await runInXs({
    scripts: [CORE],
    steps: [
      { name: "driver", code: `${DRIVER}; globalThis.logins = classicLogins(simmail);` },
      { name: "warm-up", code: `logins(${WARM_UP}).then(report);`, gc: true },
      { name: "idle", code: "", gc: true },
      { name: "logins", code: `logins(${LOGINS}).then(report);`, gc: true },
    ],
  });
  const step = (name: string): XsStepResult => steps.find((s) => s.name === name)!;
  const [seen] = step("logins").reports as [{ failed: number; last: string; meanings: string[]; known: string[] }];
  assert.is(seen.failed, LOGINS, "every login failed");
  assert.is(seen.last, `POP3 failed: SERVER ERROR 4.7.${WARM_UP + LOGINS} try later unknown result`);
  assert.equal(seen.meanings, ["unknown result"]);
  // Known texts still get their meaning; a text that names an Object.prototype member is unknown.
  assert.equal(seen.known, ["invalid user name and password combination", "invalid recipient address", "unknown result"]);

  const before = step("idle").heapAfterGc!;
  const drift = before - step("warm-up").heapAfterGc!;
  const after = step("logins").heapAfterGc!;
  console.log(`  XS heap after GC: ${before} slots after ${WARM_UP} failed logins, ${after} after ${LOGINS} more and ${LOGINS} SMTP results (harness drift ${drift} per step)`);
  assert.ok(after - before - drift <= 0, `${LOGINS} result texts grew the XS heap by ${after - before - drift} slots`);
});

xs("classic text output: 20 mails of 600 look-alike lines each, every byte delivered, the XS heap flat", async () => {
  const { steps } = await runInXs({
    scripts: [CORE],
    steps: [
      { name: "driver", code: `${STUB_PORTS_JS}${READER}; globalThis.reads = classicReads(simmail, 600);` },
      { name: "warm-up", code: "reads(2).then(report);", gc: true },
      { name: "baseline", code: "", gc: true },
      { name: "reads", code: "reads(20).then(report);", gc: true },
    ],
  });
  const step = (name: string): XsStepResult => steps.find((s) => s.name === name)!;
  const [read] = step("reads").reports as [{ total: number; expected: number }];
  assert.is(read.total, read.expected, "the text whole, look-alike lines included");
  const before = step("baseline").heapAfterGc!;
  const after = step("reads").heapAfterGc!;
  console.log(`  XS heap after GC: ${before} slots before, ${after} after 20 classic reads of 600 lines`);
  assert.ok(after - before <= 2, `20 reads grew the XS heap by ${after - before} slots`);
});

xs.run();
