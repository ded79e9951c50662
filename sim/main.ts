// A simulated SIM7000 on a real pty, with real local mail servers behind it:
//   node --import tsx sim/main.ts --pty /tmp/simmail-modem [--dialect classic] [--baud N]
// Prints where it listens for people, with commands to paste; with --json, or when stdout is not
// a terminal, one JSON line (ports, host names, accounts) first. Runs until SIGINT or SIGTERM.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PortInUseError, startMailServers, type MailServers } from "./servers/index.ts";
import { SimModem, type Dialect, type SimOptions } from "./modem/modem.ts";
import { NodeSimModem } from "./modem/node-modem.ts";
import type { FieldProfile } from "./modem/field.ts";
import { FIELD_SESSIONS } from "./modem/abandoned-sessions.ts";
import { PtyBridge } from "./pty.ts";

/** Fixed by default, so that commands typed against one run work against the next. */
const DEFAULT_PORTS = { smtp: 2525, pop3: 1100 };

const USAGE = `usage: node --import tsx sim/main.ts --pty <path> [options]
  --pty <path>          where the serial device appears (a symlink to /dev/pts/N)
  --dialect <name>      sim7000 (default) or classic
  --baud <rate>         pace output at this rate and report it in AT+IPR? (default: no pacing, 115200)
  --autobaud            ignore input until an "AT" arrives; that line is not answered
  --boot                print the boot lines (RDY ...) at start; default: the modem is already up
  --no-echo             start with echo off (the SIM7000 starts with ATE1)
  --timeout-scale <x>   multiply server timeouts (EMAILTO) by x
  --trace               log commands, URCs and the mail dialogue on stderr
  --tls                 a firmware with AT+EMAILSSL/AT+CSSLCFG trusting the servers' test CA, and the
                        servers' TLS listeners (SMTPS, SMTP with STARTTLS, POP3S; STLS on POP3)
  --smtp-port <n>       the SMTP server's port (default ${DEFAULT_PORTS.smtp}; 0: any free port)
  --pop3-port <n>       the POP3 server's port (default ${DEFAULT_PORTS.pop3}; 0: any free port)
  --json                the JSON line on stdout even on a terminal
  --classic-failure-error  classic: a failure result is followed by ERROR, not OK (some firmwares)
  --file <modem path>=<file>  classic: put a copy of <file> in the modem's file system (repeatable)
  --field               behave like modems in the field (sim/modem/field.ts, docs/FIELD.md):
                        switched on at start, silent for its boot window, boot lines anywhere ...
  --field-json <json>   the field profile with these entries changed, e.g. '{"sim":"absent"}'`;

/** Names the simulated modem resolves to the local servers. */
const HOST_NAMES = ["mail.simmail.test", "smtp.simmail.test", "pop3.simmail.test", "mail.sim.com", "localhost"];

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n(--help, or simmail help sim, lists the options)\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse();
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const path = values.pty ?? fail("--pty <path> is required");
  const dialect = (values.dialect ?? "sim7000") as Dialect;
  if (dialect !== "sim7000" && dialect !== "classic") fail(`--dialect must be sim7000 or classic, not "${dialect}"`);
  const baud = values.baud === undefined ? undefined : Number(values.baud);
  if (baud !== undefined && !Number.isInteger(baud)) fail(`--baud must be a number, not "${values.baud}"`);
  const timeoutScale = values["timeout-scale"] === undefined ? 1 : Number(values["timeout-scale"]);
  if (!(timeoutScale > 0)) fail(`--timeout-scale must be a positive number, not "${values["timeout-scale"]}"`);

  const port = (flag: "smtp-port" | "pop3-port", fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 65535) fail(`--${flag} must be a port number 0-65535, not "${text}"`);
    return n;
  };
  const ports = { smtp: port("smtp-port", DEFAULT_PORTS.smtp), pop3: port("pop3-port", DEFAULT_PORTS.pop3) };
  const withTls = values.tls === true;
  if (withTls && dialect !== "sim7000") fail("--tls needs the sim7000 dialect (the classic one has no TLS commands)");
  const files = (values.file ?? []).map((text) => {
    const at = text.indexOf("=");
    if (at <= 0) fail(`--file must be <modem path>=<file>, not "${text}"`);
    try {
      return { path: text.slice(0, at), bytes: readFileSync(text.slice(at + 1)) };
    } catch (error) {
      return fail(`--file ${text}: ${(error as Error).message}`);
    }
  });
  if (files.length > 0 && dialect !== "classic") fail("--file needs the classic dialect (the SIM7000 one has no file commands here)");
  // Dovecot where it can run; elsewhere (not root, not installed) the Node POP3 server.
  let servers: MailServers;
  try {
    servers = await startMailServers({ tls: withTls, pop3: "auto", ports });
  } catch (error) {
    const message = (error as Error).message.replace(/^startMailServers: /, "");
    const flag = error instanceof PortInUseError ? ` (--${error.protocol.toLowerCase()}-port N picks another, 0 any free one)` : "";
    process.stderr.write(`sim: ${message}${flag}\n`);
    process.exit(1);
  }
  const hosts = Object.fromEntries(HOST_NAMES.map((name) => [name, servers.host]));
  let sim: SimModem;
  let pty: PtyBridge | null = null;
  let field: SimOptions["field"];
  try {
    field = values["field-json"] !== undefined ? (JSON.parse(values["field-json"]) as Partial<FieldProfile>) : values.field === true ? true : undefined;
  } catch (error) {
    await servers.stop();
    fail(`--field-json: ${(error as Error).message}`);
  }
  try {
    sim = new NodeSimModem({
      field,
      dialect,
      hosts,
      baud,
      // Left out unless given: the field profile turns autobauding on.
      ...(values.autobaud === true ? { autobaud: true } : {}),
      echo: values["no-echo"] !== true,
      timeoutScale,
      quirks: { classicFailureError: values["classic-failure-error"] === true },
      // A session the host abandons ends as on real modems (30-45 s for a send, ~60 s for POP3).
      abandonedSessions: FIELD_SESSIONS,
      ...(withTls ? { tls: { commands: true, ca: [servers.tls!.ca] } } : {}),
      // With --baud the pty paces output; AT+IPR=<rate> changes the pace.
      onBaudChange: (rate) => pty?.setBaud(baud === undefined ? null : rate),
      trace: values.trace ? (text) => process.stderr.write(`sim: ${text}\n`) : undefined,
    });
  } catch (error) {
    await servers.stop();
    fail((error as Error).message);
  }
  try {
    pty = await PtyBridge.open(path, { baud });
  } catch (error) {
    sim.close();
    await servers.stop();
    process.stderr.write(`sim: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // Said once the simulator is up, so that a refusal above stays the only line.
  if (servers.pop3Fallback !== null) process.stderr.write(`sim: POP3 by the built-in Node server, as Dovecot cannot run here: ${servers.pop3Fallback}\n`);
  for (const file of files) sim.fs.write(file.path, file.bytes);
  const bridge = pty;
  bridge.connect(sim);
  // A field modem is switched on now: its boot window starts.
  sim.powerOn({ quiet: values.boot !== true && field === undefined });

  const summary = {
    pty: path,
    device: bridge.device,
    dialect,
    baud: baud ?? 115200,
    smtp: { host: "mail.simmail.test", address: servers.host, port: servers.smtpPort },
    pop3: { host: "mail.simmail.test", address: servers.host, port: servers.pop3Port, server: servers.pop3Server },
    ...(withTls ? { tls: { smtps: servers.smtpsPort, smtpStarttls: servers.smtpStarttlsPort, pop3s: servers.pop3sPort, ca: servers.tls!.caPath } } : {}),
    hostNames: HOST_NAMES,
    domain: servers.domain,
    users: servers.users,
  };
  if (values.json === true || process.stdout.isTTY !== true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  const smtp = `mail.simmail.test:${servers.smtpPort}`;
  const pop3 = `mail.simmail.test:${servers.pop3Port}`;
  const cli = "simmail";
  const [sender, reader] = [servers.users[0], servers.users[2] ?? servers.users[0]];
  process.stdout.write([
    `Simulated ${dialect === "classic" ? "SIMCom (classic email dialect)" : "SIM7000"} modem on ${path} (${bridge.device}).`,
    `SMTP: mail.simmail.test:${servers.smtpPort}   POP3: mail.simmail.test:${servers.pop3Port}   (names resolve to ${servers.host} inside the modem)`,
    ...(withTls ? [`TLS: SMTPS ${servers.smtpsPort}, SMTP+STARTTLS ${servers.smtpStarttlsPort} (AUTH only after it), POP3S ${servers.pop3sPort}, STLS on ${servers.pop3Port}; test CA ${servers.tls!.caPath}`] : []),
    `Accounts (log in with the name): ${servers.users.map((u) => `${u.name}/${u.password} <${u.address}>`).join(", ")}`,
    "",
    "Try, in another terminal:",
    `  ${cli} probe --port ${path}`,
    `  SIMMAIL_PASSWORD=${sender.password} ${cli} send --port ${path} --apn internet --smtp ${smtp} --user ${sender.name} --from ${sender.address} --to ${reader.address} --subject Hello --body "It works"`,
    `  SIMMAIL_PASSWORD=${reader.password} ${cli} inbox --port ${path} --apn internet --pop3 ${pop3} --user ${reader.name} list`,
    "",
    "Ctrl-C stops it.",
    "",
  ].join("\n"));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    sim.close();
    await bridge.close();
    await servers.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

function parse() {
  return parseArgs({
    options: {
      pty: { type: "string" },
      dialect: { type: "string" },
      baud: { type: "string" },
      autobaud: { type: "boolean" },
      boot: { type: "boolean" },
      "no-echo": { type: "boolean" },
      "timeout-scale": { type: "string" },
      trace: { type: "boolean" },
      tls: { type: "boolean" },
      "smtp-port": { type: "string" },
      "pop3-port": { type: "string" },
      json: { type: "boolean" },
      "classic-failure-error": { type: "boolean" },
      file: { type: "string", multiple: true },
      field: { type: "boolean" },
      "field-json": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }).values;
}

main().catch((error: unknown) => {
  process.stderr.write(`sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
