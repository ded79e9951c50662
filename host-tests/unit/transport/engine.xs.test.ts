// XS suite: the bundled core under the real XS engine (the engine that runs on the device).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { listSessions, readSession } from "../../kit/transcript.ts";
import * as simmail from "../../../src/index.ts";
import { runInXs, STUB_PORTS_JS } from "../../kit/xs/run-xs.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = `${root}dist/xs/simmail-core.js`;
if (!existsSync(CORE)) execFileSync(process.execPath, ["build/build.mjs"], { cwd: root, stdio: "ignore" });

/** Plain JS shared by the Node and XS runs: replays a modem stream through the engine. */
const DRIVER = `${STUB_PORTS_JS}
globalThis.replayStream = function (lib, bytes, cuts) {
  const events = [];
  const serial = stubSerial(() => {});
  const engine = new lib.AtEngine({ serial, timers: stubTimers(), syncOnStart: false });
  const data = [];
  const handler = {
    table: new lib.MatchTable([{ text: "+", id: 0 }, { text: "OK", id: 1 }, { text: "ERROR", id: 2 }, { text: "DOWNLOAD", id: 3 }]),
    receiveLength: 0,
    onUrc(id, line) {
      const text = line.text();
      events.push("line:" + text);
      const m = /^\\+POP3READ: [12],(\\d+)$/.exec(text);
      if (m && Number(m[1]) > 0) { this.receiveLength = Number(m[1]); return lib.Verdict.Receive; }
      return lib.Verdict.Continue;
    },
    onLine() { return lib.Verdict.NotMine; },
    onData(buf, offset, length) {
      let s = "";
      for (let i = 0; i < length; i++) s += String.fromCharCode(buf[offset + i]);
      data.push(s);
    },
  };
  engine.addUrcHandler(handler);
  let from = 0;
  for (const cut of cuts.concat([bytes.length])) {
    engine.onReadable(serial.give(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push("data:" + data.join(""));
  events.push("stray:" + engine.stats.strayLines);
  return events;
};
globalThis.lineFlood = function (lib, lines) {
  const line = new Uint8Array(14);
  const text = "+CSQ: 20,99\\r\\n";
  for (let i = 0; i < text.length; i++) line[i] = text.charCodeAt(i);
  let left = 0;
  let pos = 0;
  const serial = {
    read(buffer) {
      let n = 0;
      while (n < buffer.length && left > 0) {
        buffer[n++] = line[pos];
        pos = (pos + 1) % text.length;
        if (pos === 0) left--;
      }
      return n;
    },
    write() { return true; },
  };
  const engine = new lib.AtEngine({ serial, timers: stubTimers(), syncOnStart: false });
  let sum = 0;
  engine.addUrcHandler({
    table: new lib.MatchTable([{ text: "+CSQ: ", id: 0 }]),
    receiveLength: 0,
    onUrc(id, l) { sum += l.int() + l.int(); return lib.Verdict.Continue; },
    onLine() { return lib.Verdict.NotMine; },
    onData() {},
  });
  return function flood(count) {
    left = count;
    pos = 0;
    engine.onReadable(count * text.length);
    return sum;
  };
};
`;

function nodeReplay(bytes: Uint8Array, cuts: number[]): string[] {
  const context = {} as { replayStream(lib: unknown, bytes: Uint8Array, cuts: number[]): string[] };
  new Function("globalThis", DRIVER)(context);
  return context.replayStream(simmail, bytes, cuts);
}

const xs = suite("XS: the bundled core on the real XS engine");

xs("recorded sessions give the same lines and data under XS as under Node, whole and cut", async () => {
  const sessions = listSessions().map((name) => ({ name, bytes: Array.from(readSession(name).modem) }));
  const cutsFor = (length: number) => [[], [1], [Math.floor(length / 2)], Array.from({ length: Math.floor(length / 7) }, (_, i) => (i + 1) * 7)];
  const steps = sessions.map((s) => ({
    name: s.name,
    code: `{
      const bytes = new Uint8Array(${JSON.stringify(s.bytes)});
      for (const cuts of ${JSON.stringify(cutsFor(s.bytes.length))}) report(replayStream(simmail, bytes, cuts));
    }`,
  }));
  const { steps: results } = await runInXs({ scripts: [CORE], steps: [{ name: "driver", code: DRIVER }, ...steps] });
  for (const s of sessions) {
    const result = results.find((r) => r.name === s.name)!;
    const bytes = new Uint8Array(s.bytes);
    const expected = cutsFor(bytes.length).map((cuts) => nodeReplay(bytes, cuts));
    assert.equal(result.reports, expected, `${s.name}: XS and Node agree`);
    assert.ok(result.meterUsage.compute > 0);
    console.log(`  XS ${s.name}: compute ${result.meterUsage.compute}, heap ${result.meterUsage.currentHeapCount} slots`);
  }
});

xs("no allocation per line: the XS heap stays flat across 10,000 lines after warm-up", async () => {
  const { steps: results } = await runInXs({
    scripts: [CORE],
    steps: [
      { name: "driver", code: DRIVER },
      { name: "setup", code: "globalThis.flood = lineFlood(simmail, 0); flood(1000); gc();" },
      { name: "baseline", code: "gc();" },
      { name: "10000 lines", code: "report(flood(10000)); gc();" },
      { name: "another 10000", code: "report(flood(10000)); gc();" },
    ],
  });
  const base = results.find((r) => r.name === "baseline")!.meterUsage.currentHeapCount;
  const after = results.find((r) => r.name === "10000 lines")!.meterUsage.currentHeapCount;
  const again = results.find((r) => r.name === "another 10000")!;
  assert.equal(results.find((r) => r.name === "10000 lines")!.reports, [(20 + 99) * 11000]);
  console.log(`  XS heap: ${base} slots before, ${after} after 10,000 lines, ${again.meterUsage.currentHeapCount} after 20,000; compute ${again.meterUsage.compute} for 10,000 lines`);
  assert.ok(after - base <= 2, `heap grew by ${after - base} slots over 10,000 lines`);
  assert.ok(again.meterUsage.currentHeapCount - base <= 2, "and stays flat");
});

xs.run();
