// manifest_core.json as another Moddable project uses it: examples/send-one (an app of its own
// that includes the core manifest and imports "simmail") built for lin with the Moddable SDK,
// run in mcsim against the simulated SIM7000 on a pty and the real mail servers, and its one
// mail checked where it landed. The SDK is $MODDABLE, else ../shared/moddable (moddable-sdk.ts);
// without one the suite is one test that says so.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { buildForLin, Mcsim, startDisplay, startPtyModem, type Display, type PtyModem } from "./mcsim-rig.ts";
import { locateModdable, missingHostPackages } from "./moddable-sdk.ts";

const repo = join(import.meta.dirname, "..", "..");
const sdk = locateModdable();
const test = suite("manifest_core.json: examples/send-one in the Moddable simulator");

if (!sdk.found) {
  test(`skipped: no Moddable SDK (${sdk.reason})`, () => {
    assert.not.ok(locateModdable().found, "there is really no SDK");
    console.log(`\n  core-manifest: skipped: ${sdk.reason}; examples/send-one was not built`);
  });
} else {
  let scratch = "";
  let servers: MailServers | null = null;
  let modem: PtyModem | null = null;
  let display: Display | null = null;
  let mcsim: Mcsim | null = null;

  test.before(async () => {
    const missing = missingHostPackages(sdk, { mcsim: true });
    if (missing.length > 0) throw new Error(`running an app in mcsim needs these Debian packages: ${missing.join(", ")} (apt-get install them; .ci/run does)`);
    scratch = mkdtempSync(join(tmpdir(), "simmail-core-manifest-"));
    servers = await startMailServers({ users: mailUsers(["alarm", "ops"]) });
    modem = await startPtyModem(join(scratch, "modem"), servers, { traceFile: join(scratch, "simulator.log") });
    display = await startDisplay();
  });

  test.after(async () => {
    await mcsim?.kill("SIGTERM");
    await display?.stop();
    await modem?.close();
    await servers?.stop();
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  test("an app that includes manifest_core.json and imports \"simmail\" sends its mail from mcsim", async () => {
    const manifest = join(repo, "examples/send-one/manifest.json");
    assert.ok(JSON.parse(readFileSync(manifest, "utf8")).include.includes("../../manifest_core.json"), "the example includes the core manifest");
    const alarm = servers!.users.find((u) => u.name === "alarm")!;
    const image = await buildForLin(sdk, {
      outDir: join(scratch, "build"),
      manifest,
      config: { modemDevice: modem!.pty.path, smtpHost: "mail.simmail.test", smtpPort: servers!.smtpPort, smtpUser: alarm.name, smtpPassword: alarm.password, mailFrom: alarm.address, mailTo: "ops@simmail.test" },
    });
    assert.match(image, /\/send-one\/mc\.so$/, "the example's own image");
    mcsim = Mcsim.start({ sdk, image, display: display!, home: join(scratch, "home"), logFile: join(scratch, "mcsim.log") });
    await mcsim.waitForLine(/^send-one: (sent|failed)/, 90_000);
    assert.equal(mcsim.lines.filter((line) => line.startsWith("send-one:")), ["send-one: sent"], mcsim.tail());
    await servers!.waitForMessages("ops", 1, 10_000);
    const [raw] = await servers!.messages("ops");
    const mail = await simpleParser(raw);
    assert.is(mail.subject, "Hello from Moddable");
    assert.is(mail.from?.value[0].address, "alarm@simmail.test");
    assert.match(mail.text ?? "", /Sent with the simmail core\./);
  });
}

test.run();
