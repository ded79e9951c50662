// What `simmail help [COMMAND]`, `simmail COMMAND --help`, `simmail --version` and a usage
// error print. Ranges and defaults come from the settings schema, so the help says what the
// flags take.

import { readFileSync } from "node:fs";
import { numberDefault, setting } from "../app/settings-schema.ts";
import { REMOTE_COMMANDS } from "../app/remote-command.ts";
import { TLS_VERSIONS } from "../mail/security.ts";
import { ENVIRONMENT_DEFAULTS } from "./cli-options.ts";

const range = (key: string) => `${setting(key).range!.min}-${setting(key).range!.max}`;

/** Each command: its synopsis and what it does, as `simmail help COMMAND` prints them. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  probe: `simmail probe --port PATH [common options]
  Modem identity, SIM, signal, network, bearer, clock, battery, email support and limits, and
  which email dialect its test commands show (sim7000, or the application note's classic).`,
  send: `simmail send --port PATH --smtp HOST[:PORT] [--user NAME] --from "Name <addr>"
       --to "Name <addr>" [--to ...] [--cc ...] [--bcc ...] --subject TEXT
       (--body TEXT | --body-file PATH) [--attach PATH] [--attach-encoding host|modem]
       [common options]
  Sends one mail. An address is local@domain or Name <local@domain>. With --user, the password
  comes from SIMMAIL_PASSWORD, or is asked for on a terminal. --attach-encoding modem lets the
  modem do the base64 (the default, host, sends it encoded). On a classic modem --attach names
  a file of its own file system (C:/Picture/photo.jpg: AT+FSCD to the folder, then the name).`,
  inbox: `simmail inbox --port PATH --pop3 HOST[:PORT] --user NAME
       (list | headers N [--raw] | read N [--out FILE] [--save-parts DIR [--force]] | delete N)
       [common options]
  Reads the mailbox over POP3, headers decoded (RFC 2047: UTF-8, ISO-8859-1, Windows-1252):
  list: one line per mail as it is read: number, size, date, sender, subject (--json: and the
  unique id, for up to 1000 mails). headers N: From, To, Cc, Date and Subject of mail N; --raw:
  the header block as served (up to 1 MiB).
  read N: its text decoded on stdout; --out FILE keeps the mail's exact bytes instead;
  --save-parts DIR saves its attachments there under their names made safe (--force replaces
  files of the same name). delete N: marks N for deletion. What cannot be decoded is shown as
  written, with a note on stderr. The password comes from SIMMAIL_PASSWORD, or is asked for.`,
  sim: `simmail sim --pty PATH [--dialect sim7000|classic] [--baud N] [--tls] [--smtp-port N]
       [--pop3-port N] [--autobaud] [--boot] [--no-echo] [--timeout-scale X] [--trace] [--json]
       [--field [--field-json JSON]]
  A simulated modem on the pty PATH with local mail servers behind it, printing commands to
  paste against it. --tls: a firmware with AT+EMAILSSL, and TLS servers. --smtp-port and
  --pop3-port: the servers' ports (default 2525 and 1100, the same at every start; 0: any free
  port). --autobaud: silent until an AT arrives. --boot: the boot lines at start. --no-echo:
  echo off at start. --timeout-scale X: server timeouts times X. --trace: the AT dialogue and
  mail on stderr. --json: the JSON summary even on a terminal (always when not one).
  --field: behave like modems in the field (boot silence, boot lines anywhere, odd echoes and
  empty lines: docs/FIELD.md); --field-json '{"sim":"absent",...}' changes its entries.
  Runs from a checkout of the repository after npm ci (the simulator and its devDependencies
  smtp-server, mailparser and tsx are not in the installed package).`,
  sign: `simmail sign --device ID COMMAND [--at UNIX-SECONDS] [--secret-file FILE]
  Prints a signed command subject for device ID (${REMOTE_COMMANDS.join(", ")}), to mail to the
  device (docs/REMOTE-COMMANDS.md). The secret is the device's commandSecret: from
  SIMMAIL_COMMAND_SECRET, or the first line of --secret-file. --at: the signing time (default now).`,
};

const COMMON = `Common options:
  --port PATH        serial device of the modem
  --baud N           default ${numberDefault("modemBaud")}
  --boot-wait S      how long a starting modem may stay silent, ${range("modemBootSeconds")} s, default ${numberDefault("modemBootSeconds")}
  --dialect D        sim7000 or classic (default: the probe tells them apart)
  --apn NAME         open the bearer with this APN (without it, it must already be open)
  --cid N            bearer profile ${range("pdpContext")}, default ${numberDefault("pdpContext")}
  --timeout S        server response timeout in seconds (AT+EMAILTO) ${range("smtpTimeoutSeconds")}, default ${numberDefault("smtpTimeoutSeconds")}
  --tls | --starttls TLS from the first byte (ports 465/995) or STARTTLS/STLS (AT+EMAILSSL)
  --tls-version V    ${Object.keys(TLS_VERSIONS).join(", ")} (AT+CSSLCFG="sslversion")
  --sni NAME         server name for SNI and the certificate check (AT+CSSLCFG="sni")
  --require-tls      refuse to send the password unless the session uses TLS
  --verbose          AT trace on stderr (passwords masked)
  --json             machine-readable result on stdout`;

const ENVIRONMENT = `Environment:
  SIMMAIL_PASSWORD   the SMTP/POP3 password (never taken on the command line)
  SIMMAIL_COMMAND_SECRET  the secret for sign
${Object.entries(ENVIRONMENT_DEFAULTS).map(([flag, variable]) => `  ${variable.padEnd(18)} default for --${flag}`).join("\n")}`;

export const USAGE = `Usage: simmail <command> [options]      (simmail help <command> for one command)

Commands:
${Object.values(COMMAND_HELP).map((help) => `  ${help.split("\n")[0].replace(/^simmail /, "")}`).join("\n")}

${COMMON}

${ENVIRONMENT}

Exit status: 0 done; 1 bad usage, a refused value or a serial port that cannot be opened
(nothing sent); 2 the modem or the network reported a failure; 3 no answer from the modem in time.`;

/** The help of one command, with the common options where it takes them. */
export function commandHelp(command: string): string {
  const help = COMMAND_HELP[command];
  return command === "sign" || command === "sim" ? help : `${help}\n\n${COMMON}`;
}

/** The hint under a usage error: where the options of `command` are listed. */
export function usageHint(command: string): string {
  return Object.prototype.hasOwnProperty.call(COMMAND_HELP, command) ? `(simmail help ${command} lists its options)` : "(simmail help lists the commands)";
}

/** The version in simmail's package.json, found from this file up (src/host or dist/lib/host). */
export function version(): string {
  for (let dir = new URL("./", import.meta.url); ; dir = new URL("../", dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "simmail" && pkg.version !== undefined) return pkg.version;
    } catch {
      // No package.json here: look one folder up.
    }
    if (dir.pathname === "/") return "unknown";
  }
}
