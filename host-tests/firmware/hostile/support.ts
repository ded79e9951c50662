// Shared by the hostile-input suites: a rig (mock UART with a transcript → simulated SIM7000 →
// real servers) and the AT-injection check over the bytes the host sent.

import * as assert from "uvu/assert";
import { firmwareRig } from "../../kit/firmware-rig.ts";
import { Modem, openClassicBearer } from "../../../src/index.ts";
import type { Dialect } from "./corpus.ts";

export function rig(dialect: Dialect) {
  const { clock, sim, engine, run, uart } = firmwareRig({ sim: { dialect }, uart: { record: true } });
  const modem = new Modem(engine, clock);
  /** Bytes the host has written since the last call. */
  let seen = 0;
  function sentSinceLastCall(): Buffer {
    const writes = uart.transcript.filter((entry) => entry.dir === "tx").slice(seen);
    seen += writes.length;
    return Buffer.concat(writes.map((entry) => entry.bytes));
  }
  async function bringUp(): Promise<void> {
    await run(modem.sync());
    if (dialect === "sim7000") await run(modem.openBearer({ apn: "internet", cid: 1 }));
    else await run(openClassicBearer(engine, "internet"));
  }
  return { clock, sim, engine, modem, run, sentSinceLastCall, bringUp };
}

/**
 * The host's bytes as AT command lines, each checked: printable ASCII, starts with AT, quotes
 * balanced, and `;` (command concatenation, V.250 5.4) only inside quotes. Payloads announced
 * by AT+SMTPBODY=<n> / AT+SMTPFT=<n> (sim7000) are length-counted data, not lines: skipped.
 */
export function commandLines(bytes: Buffer, dialect: Dialect): string[] {
  const lines: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const cr = bytes.indexOf(13, at);
    assert.ok(cr >= 0, `the host left an unterminated command: ${JSON.stringify(bytes.subarray(at).toString("latin1"))}`);
    const line = bytes.subarray(at, cr).toString("latin1");
    at = cr + 1;
    checkCommandLine(line);
    lines.push(line);
    const payload = dialect === "sim7000" ? /^AT\+(?:SMTPBODY|SMTPFT)=(\d+)$/.exec(line) : null;
    if (payload !== null) at += Number(payload[1]);
  }
  return lines;
}

export function checkCommandLine(line: string): void {
  assert.ok(/^AT/.test(line), `a command line must start with AT: ${JSON.stringify(line)}`);
  assert.ok(/^[\x20-\x7e]*$/.test(line), `only printable ASCII in a command line: ${JSON.stringify(line)}`);
  let inQuotes = false;
  for (const ch of line) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === ";" && !inQuotes) assert.unreachable(`";" outside quotes would start another command: ${line}`);
  }
  assert.not.ok(inQuotes, `unbalanced quotes: ${line}`);
}
