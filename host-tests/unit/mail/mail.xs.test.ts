// XS suite: SmtpClient's SMTPFT loop and Pop3Client's POP3READ loop under the real XS engine,
// driven by scripted responders inside XS: the heap after GC does not grow with the chunks.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { measureXs } from "../../../bench/xs.ts";

const xs = suite("XS: mail transfers without heap growth");

xs("1,000 SMTPFT chunks and 1,000 POP3READ chunks leave the XS heap where it was", async () => {
  const result = await measureXs(64 * 1024, 1000);
  if (!result.measured) throw new Error(`not measured: ${result.reason}`);
  console.log(`  XS heap after GC: SMTPFT ${result.smtp.before} → ${result.smtp.after}, POP3READ ${result.pop3.before} → ${result.pop3.after} (harness drift ${result.driftPerStep} per step)`);
  assert.ok(result.smtp.chunks >= 1000);
  assert.ok(result.pop3.chunks >= 1000);
  assert.ok(result.smtp.growth <= 0, `SMTPFT grew the heap by ${result.smtp.growth} slots`);
  assert.ok(result.pop3.growth <= 0, `POP3READ grew the heap by ${result.pop3.growth} slots`);
});

xs.run();
