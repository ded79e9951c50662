// Issue #6 (d) through AlarmApp: a power cut at every flash write of a short run (boot count,
// events, delivery marks, the command ledger, the armed flag), the device rebooted on the same
// flash with the modem restarted; the SMTP server's mails hold every event, in order, and
// events twice only from the mail in flight at the cut. `npm run soak -- --power-cuts` does
// the same for every write of a 200-event run (RELIABILITY.md).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startMailServers, type MailServers } from "../../sim/servers/index.ts";
import { soakUsers } from "./rig.ts";
import { runPowerCutSweep } from "./power-cuts.ts";

let servers: MailServers;
const cuts = suite("soak: a power cut at every flash write, through the app");

cuts.before(async () => {
  servers = await startMailServers({ users: soakUsers(["ops"]) });
});
cuts.after(async () => {
  await servers.stop();
});

cuts("every write of an 8-event run: nothing lost, duplicates only from the mail in flight", async () => {
  const report = await runPowerCutSweep({ servers, recipient: "ops", events: 8 });
  assert.equal(report.violations, []);
  assert.is(report.runs, report.writes, "one run per write");
  assert.is(report.lost, 0);
  assert.ok(report.mails >= 3, `${report.mails} mails without a cut`);
  assert.ok((report.cutsByKind.append ?? 0) > 0 && (report.cutsByKind.put ?? 0) > 0, `cuts hit appends and puts: ${JSON.stringify(report.cutsByKind)}`);
  assert.ok(report.tornAppends > 0, "some appends were torn");
  assert.ok(report.runsWithInFlightDuplicate > 0, "some cuts hit a delivery mark: that mail went twice, as documented");
});

cuts.run();
