// The CLI's setting flags (--cid, --timeout, --smtp HOST:PORT ...) as a user types them, the
// CLI run as a process: every flag that sets a setting at the bounds of the setting's range and
// one past them, generated from the settings schema through the CLI's own flag table; then
// hand-written cases. A refused value exits 1 naming the flag, the range and its source before
// the serial port is opened; accepted values get as far as opening it (a port that does not
// exist: exit 1 too, with its own one-line message).

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { setting } from "../../src/app/settings-schema.ts";
import { SETTING_FLAGS } from "../../src/host/cli-options.ts";
import { runSimmail, type CliRun } from "../kit/cli-process.ts";
import { edges, type RefusedEdge } from "../kit/setting-edges.ts";

const NO_PORT = "/nonexistent/simmail-cli-flags";
const PASSWORD = "a-password";
const BASE = {
  send: ["--smtp", "mail.example.com", "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", "--body", "b"],
  inbox: ["--pop3", "mail.example.com", "--user", "u"],
};
/** The command with `flags`, and the base flags they do not give themselves. */
function line(command: keyof typeof BASE, flags: string[]): string[] {
  const base: string[] = [];
  for (let i = 0; i < BASE[command].length; i += 2) {
    if (!flags.includes(BASE[command][i])) base.push(BASE[command][i], BASE[command][i + 1]);
  }
  return [command, "--port", NO_PORT, ...base, ...flags, ...(command === "inbox" ? ["list"] : [])];
}
const COMMANDS = {
  send: (flags: string[]) => line("send", flags),
  inbox: (flags: string[]) => line("inbox", flags),
};
type Command = keyof typeof COMMANDS;
/** Flags a flag needs beside it to be judged (test-side, like the device suite's CONTEXT). */
const CONTEXT: Record<string, string[]> = { "tls-version": ["--tls"], sni: ["--tls"] };

interface FlagCase {
  command: Command;
  flags: string[];
  what: string;
  refused?: RefusedEdge & { label: string };
}

/**
 * Every case of every setting flag, for each command whose key differs (--user is smtpUser for
 * send, pop3User for inbox; --cid is pdpContext for both, judged once). A refused value is a
 * run of its own; accepted ones share runs, the k-th value of every flag in run k, except flags
 * that need others beside them (CONTEXT), which run alone.
 */
function cases(): FlagCase[] {
  const out: FlagCase[] = [];
  const judgedKeys = new Set<string>();
  for (const command of Object.keys(COMMANDS) as Command[]) {
    const protocol = command === "send" ? "smtp" : "pop3";
    const shared: Array<Array<{ flags: string[]; what: string }>> = [];
    for (const [flag, { key, portKey }] of Object.entries(SETTING_FLAGS)) {
      if ((flag === "smtp" && command !== "send") || (flag === "pop3" && command !== "inbox")) continue;
      const context = CONTEXT[flag];
      const judged = [{ rule: setting(key.replace("<protocol>", protocol)), label: portKey === undefined ? `--${flag}` : `--${flag} host`, form: (v: string) => v }];
      if (portKey !== undefined) judged.push({ rule: setting(portKey), label: `--${flag} port`, form: (v: string) => `mail.example.com:${v}` });
      const values: Array<{ flags: string[]; what: string }> = [];
      for (const { rule, label, form } of judged) {
        if (judgedKeys.has(rule.key)) continue;
        judgedKeys.add(rule.key);
        const { accepted, refused } = edges(rule);
        const what = (value: string, note: string) => `${command} --${flag} ${form(value)} (${note})`;
        for (const edge of accepted) values.push({ flags: [`--${flag}`, form(edge.value)], what: what(edge.value, edge.note) });
        for (const edge of refused) out.push({ command, flags: [...(context ?? []), `--${flag}`, form(edge.value)], what: what(edge.value, edge.note), refused: { ...edge, label } });
      }
      if (context !== undefined) for (const value of values) out.push({ command, flags: [...context, ...value.flags], what: value.what });
      else values.forEach((value, k) => (shared[k] ??= []).push(value));
    }
    for (const run of shared) out.push({ command, flags: run.flatMap((v) => v.flags), what: run.map((v) => v.what).join("; ") });
  }
  return out;
}

/** Runs `all` two at a time (the machine is shared). */
async function runAll<T, R>(all: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(all.length);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const i = next++;
      results[i] = await run(all[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

function assertRefused(run: CliRun, what: string, label: string, range?: RefusedEdge["range"]): void {
  assert.is(run.status, 1, `${what}: exit ${run.status}\n${run.stderr}`);
  const first = run.stderr.split("\n")[0];
  assert.ok(first.startsWith(`simmail: ${label} `), `${what}: "${first}" does not name ${label}`);
  if (range !== undefined) for (const part of [String(range.min), String(range.max), range.source]) assert.ok(first.includes(part), `${what}: "${first}" does not state ${part}`);
  assert.not.match(run.stderr, /cannot open/, `${what}: refused before opening the port`);
}

function assertAccepted(run: CliRun, what: string): void {
  assert.is(run.status, 1, `${what}: exit ${run.status}\n${run.stderr}`);
  assert.is(run.stderr, `simmail: cannot open ${NO_PORT}: no such device; check --port (or SIMMAIL_PORT) and that the modem's USB-serial adapter is plugged in\n`, `${what}: got as far as the port`);
}

const generated = suite("CLI: every setting flag at its bounds and one past them");

generated("from the settings schema, through the CLI's flag table", async () => {
  const all = cases();
  assert.ok(all.length > 30, `${all.length} runs`);
  const runs = await runAll(all, (c) => runSimmail(COMMANDS[c.command](c.flags), PASSWORD));
  all.forEach((c, i) => (c.refused ? assertRefused(runs[i], c.what, c.refused.label, c.refused.range) : assertAccepted(runs[i], c.what)));
});

generated.run();

// ---------------------------------------------------------------------------------------------

const pinned = suite("CLI: the setting flags' ranges, written out");

pinned("--cid, --timeout, --baud and the ports: the bounds from the spec and the modem's limits", async () => {
  const refused: Array<[Command, string[], RegExp]> = [
    ["send", ["--cid", "4"], /^simmail: --cid must be a whole number from 1 to 3 \(AT\+SAPBR profiles 1-3 within AT\+EMAILCID 0-3, src\/modem\/limits\.ts\), not "4"$/m],
    ["send", ["--cid", "0"], /--cid must be a whole number from 1 to 3/],
    ["inbox", ["--timeout", "121"], /^simmail: --timeout must be a whole number from 10 to 120 \(AT\+EMAILTO, spec 3\.2\.2\), not "121"$/m],
    ["send", ["--timeout", "9"], /--timeout must be a whole number from 10 to 120/],
    ["send", ["--baud", "299"], /--baud must be a whole number from 300 to 4000000/],
    ["send", ["--smtp", "mail.example.com:65536"], /^simmail: --smtp port must be a whole number from 1 to 65535 \(AT\+SMTPSRV port, spec 3\.2\.3\), not "65536"$/m],
    ["inbox", ["--pop3", "mail.example.com:0"], /--pop3 port must be a whole number from 1 to 65535 \(AT\+POP3SRV port, spec 3\.2\.13\)/],
    ["send", ["--smtp", `${"a".repeat(65)}:25`], /--smtp host must be 1 to 64 characters long \(AT\+SMTPSRV=\? on the SIM7000/],
    ["send", ["--sni", "mail.example.com"], /^simmail: --sni is set but security is "none" \(src\/mail\/security\.ts\)$/m],
    ["send", ["--tls", "--dialect", "classic"], /^simmail: --tls "tls" needs AT\+EMAILSSL, which this modem firmware lacks/m],
    ["send", ["--tls-version", "tls1.2"], /--tls-version is set but security is "none"/],
  ];
  const accepted: Array<[Command, string[]]> = [
    ["send", ["--cid", "3", "--timeout", "120", "--baud", "4000000", "--smtp", "mail.example.com:65535"]],
    ["inbox", ["--cid", "1", "--timeout", "10", "--baud", "300", "--pop3", "mail.example.com:1", "--tls", "--tls-version", "tls1.2", "--sni", "mail.example.com"]],
  ];
  const runs = await runAll([...refused.map(([c, f]) => COMMANDS[c](f)), ...accepted.map(([c, f]) => COMMANDS[c](f))], (args) => runSimmail(args, PASSWORD));
  refused.forEach(([command, flags, message], i) => {
    assert.is(runs[i].status, 1, `${command} ${flags.join(" ")}: ${runs[i].stderr}`);
    assert.match(runs[i].stderr, message, `${command} ${flags.join(" ")}`);
  });
  accepted.forEach(([command, flags], i) => assertAccepted(runs[refused.length + i], `${command} ${flags.join(" ")}`));
});

pinned("the usage text states the ranges and defaults of the schema", async () => {
  const help = await runSimmail(["--help"]);
  assert.is(help.status, 0);
  assert.match(help.stdout, /--cid N\s+bearer profile 1-3, default 1/);
  assert.match(help.stdout, /--timeout S\s+server response timeout in seconds \(AT\+EMAILTO\) 10-120, default 30/);
  assert.match(help.stdout, /--baud N\s+default 115200/);
});

pinned("parseArgs keeps the old forms: --name=value, a value that starts with a dash, a flag given twice", async () => {
  const [inline, dash, twice, bare] = await runAll([
    COMMANDS.send(["--cid=3"]),
    ["send", "--port", NO_PORT, "--smtp", "mail.example.com", "--from", "a@example.com", "--to", "b@example.com", "--subject", "-5 degrees", "--body", "--"],
    COMMANDS.send(["--cid", "1", "--cid", "2"]),
    COMMANDS.send(["--verbose=yes"]),
  ], (args) => runSimmail(args, PASSWORD));
  assertAccepted(inline, "--cid=3");
  assertAccepted(dash, "values starting with a dash");
  assert.is(twice.status, 1);
  assert.match(twice.stderr, /--cid given more than once/);
  assert.is(bare.status, 1);
  assert.match(bare.stderr, /--verbose takes no value/);
});

pinned.run();
