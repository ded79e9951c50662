// XS suite: the classic dialect's result texts under the real XS engine. `+POP3: <text>` and
// `+SMTP: <text>` come from the modem; looking them up as object keys would keep every text
// ever seen in XS's key table for good. A thousand failed logins, each answered with a text
// never seen before, must leave the heap after GC where it was.
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

xs.run();
