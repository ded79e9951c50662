// XS suite: compute per byte on the two firmware hot paths (bench/paths.ts), under the real XS
// engine. XS's meter is deterministic, so these bounds hold on any machine: they fail when a
// per-byte JavaScript loop comes back (dot-unstuffing, a byte ring, a byte-by-byte payload copy:
// retrieve cost 148 and send 130 units per byte with them).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBench } from "../../bench/xs.ts";
import { runInXs } from "./run-xs.ts";

const test = suite("xs/paths");
const root = fileURLToPath(new URL("../../", import.meta.url));
const BYTES = 64 * 1024;

test("send and retrieve cost at most their bounds per payload byte, the responder's work taken out", async () => {
  execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });
  const dir = mkdtempSync(join(tmpdir(), "simmail-paths-"));
  try {
    const bench = await bundleBench(dir);
    const { steps } = await runInXs({
      scripts: [`${root}dist/xs/simmail-core.js`, bench],
      steps: [
        {
          name: "set-up",
          code: `globalThis.B = simmailBench; globalThis.P = B.createPathBench(simmail); globalThis.att = B.patternBytes(${BYTES});
                 globalThis.ans = B.pop3Answer(${BYTES}); P.send(B.patternBytes(3000)).then(() => P.retrieve(B.pop3Answer(3000).wire));`,
        },
        { name: "send", code: "P.send(att).then(report);" },
        { name: "send responder", code: "B.replayResponder(B.createPathBench(simmail).sendScript, P.sendLog).then(report);" },
        { name: "retrieve", code: "P.retrieve(ans.wire).then((n) => report([n, ans.delivered, P.lastFrom]));" },
        { name: "retrieve responder", code: "globalThis.R = B.createPathBench(simmail).retrieveScript; R.load(ans.wire); B.replayResponder(R, P.retrieveLog).then(report);" },
      ],
    }, 300_000);
    const compute = (name: string) => steps.find((s) => s.name === name)!.meterUsage.compute;
    const [delivered, expected, from] = steps.find((s) => s.name === "retrieve")!.reports[0] as [number, number, string];
    assert.is(delivered, expected, "every mail byte reached the sink, dots unstuffed");
    assert.is(from, "Ops <ops@example.net>", "the header reader read the mail");
    assert.ok((steps.find((s) => s.name === "send")!.reports[0] as number) >= BYTES / 1360, "the attachment went in SMTPFT chunks");
    const retrieve = (compute("retrieve") - compute("retrieve responder")) / delivered;
    const send = (compute("send") - compute("send responder")) / BYTES;
    assert.ok(retrieve <= 40, `retrieve: ${retrieve.toFixed(1)} units per byte (goal 40)`);
    // The goal is 40 (issue 17); base64 in JavaScript alone costs about 35 per raw byte under XS.
    assert.ok(send <= 70, `send: ${send.toFixed(1)} units per byte (now about 66; goal 40)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
