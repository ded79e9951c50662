// simmail command line: the firmware's own core driving a modem over a real serial port.
// Exit status: 0 done; 1 bad usage, a refused parameter or a port that cannot be opened (nothing sent); 2 the modem or the
// network reported a failure; 3 no answer from the modem in time; 130 / 143 interrupted by SIGINT / SIGTERM (the
// session the modem held was ended first: session-guard.ts).

import { existsSync, readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AtError, AtParameterError, AtTimeoutError } from "../transport/errors.ts";
import { ModemError } from "../modem/errors.ts";
import type { Mailbox } from "../mail/dialect.ts";
import { InsecureCredentialsError, MailError, MailParameterError } from "../mail/errors.ts";
import type { ServerAccount } from "../mail/message.ts";
import { deviceIdProblem, REMOTE_COMMANDS, secretFromText, signCommandSubject } from "../app/remote-command.ts";
import { connect, ensureBearer, link, openDialect, password, start } from "./cli-connection.ts";
import { commandHelp, COMMAND_HELP, USAGE, usageHint, version } from "./cli-help.ts";
import { inbox, type OpenMailbox } from "./cli-inbox.ts";
import { label, one, parseCommandLine, securityOptions, serverFlag, settingFlag, UsageError, type Options } from "./cli-options.ts";
import { serviceLines, serviceReport } from "./cli-modem.ts";
import { send } from "./cli-send.ts";
import { printable, printableLine, terminalJson, type Out } from "./cli-text.ts";
import { nodeCrypto } from "./crypto.ts";
import { explainHeldSession, InterruptedError, SessionGuard } from "./session-guard.ts";
import { SerialOpenError } from "./serial.ts";

export const EXIT = { ok: 0, usage: 1, failure: 2, noAnswer: 3 } as const;

async function probe(o: Options, out: Out): Promise<void> {
  const c = await connect(o, link(o));
  try {
    await start(c);
    const identity = await c.modem.identity();
    const service = await serviceReport(c.modem);
    const { sim, signal, registration } = service;
    const attached = await c.modem.attached();
    const operator = await c.modem.operator();
    const { mail, capabilities: caps } = await openDialect(c);
    const bearer = await mail.bearerState(c.link.cid);
    const clock = await c.modem.clock();
    const battery = await c.modem.battery();
    const human = [
      `modem:    ${identity.model} (${identity.revision})`,
      ...serviceLines(service),
      `signal:   ${signal.dbm === null ? "unknown" : `${signal.dbm} dBm`} (rssi ${signal.rssi})`,
      `packet:   ${attached ? "attached" : "not attached"}${operator ? `, ${operator}` : ""}`,
      bearer ? `bearer:   ${bearer.status === 1 ? `open, ${bearer.ip}` : "closed"}` : `bearer:   not queried (the ${mail.name} dialect has no bearer query)`,
      `clock:    ${clock ? `${clock.text} (${new Date(clock.epochMs).toISOString()})` : "unknown"}`,
      `battery:  ${battery.percent}% ${battery.millivolts} mV`,
      `email:    ${caps.dialect} dialect (${caps.detected ? "found by its test commands" : `as ${label(o, "dialect")} says`}); subject ≤ ${caps.limits.subject}, body ≤ ${caps.limits.body}, server ≤ ${caps.limits.smtpServer} characters`,
      `tls:      ${caps.tls === null ? "none (no AT+EMAILSSL: passwords go in clear text)" : `AT+EMAILSSL ${caps.tls.modes[0]}-${caps.tls.modes[1]}${caps.tls.contexts ? `, contexts ${caps.tls.contexts[0]}-${caps.tls.contexts[1]}` : ""}${caps.tls.sslConfig ? ", AT+CSSLCFG (version, SNI)" : ""}`}`,
    ].join("\n");
    out(human, { identity, sim, simProblem: service.simProblem, registration, signal, attached, operator, bearer, clock, battery, email: caps });
  } finally {
    await c.close();
  }
}

/** The POP3 session `inbox` works in: the flags read, the password asked for, logged in; logged out after. */
const openMailbox: OpenMailbox = async (o, work) => {
  const pop3 = serverFlag(o, "pop3");
  const user = settingFlag<string>(o, "user") ?? one(o, "user"); // required: "--user is required"
  const modem = link(o);
  const timeoutSeconds = settingFlag<number>(o, "timeout")!;
  const security = securityOptions(o, modem.dialect, true);
  const server: ServerAccount = { ...pop3, user, password: await password(user, pop3.host) };
  const c = await connect(o, modem);
  c.engine.redact(server.password ?? "");
  let opened: Mailbox | null = null;
  const guard = new SessionGuard(c.engine, { what: "the inbox session", ended: "logged out of POP3 (AT+POP3OUT)", end: async () => {
    if (opened?.loggedIn) await opened.logout();
  } });
  try {
    const mail = await ensureBearer(c);
    const client = (opened = mail.mailbox);
    await client.login({ server, cid: c.link.cid, timeoutSeconds, ...security });
    try {
      await work(client, mail.can);
    } finally {
      // Interrupted: the guard logs out once the engine takes commands again.
      if (client.loggedIn && !c.engine.interrupted) await client.logout();
    }
  } catch (error) {
    throw explainHeldSession(await guard.failed(error), c.engine, c.mail?.name ?? c.dialect);
  } finally {
    guard.release();
    await c.close();
  }
};

/** The simulator's own flags, forwarded as given (it checks them). */
const SIM_VALUES = ["dialect", "baud", "timeout-scale", "smtp-port", "pop3-port", "field-json"];
const SIM_SWITCHES = ["tls", "autobaud", "boot", "no-echo", "trace", "json", "field"];

const SIM_NEEDS_CHECKOUT =
  "sim needs a checkout of the simmail repository: the simulator (sim/) is not in the installed package, and it runs " +
  "through tsx with the devDependencies smtp-server and mailparser (and python3 for the pty); clone the repository, " +
  "run npm ci there, then ./bin/simmail sim --pty PATH";

function sim(o: Options): Promise<number> {
  const pty = one(o, "pty");
  const script = fileURLToPath(new URL("../../sim/main.ts", import.meta.url));
  // The simulator is TypeScript run through tsx with devDependencies: a checkout has it, the
  // published package does not.
  if (!existsSync(script)) throw new UsageError(SIM_NEEDS_CHECKOUT, false);
  const args = ["--import", "tsx", script, "--pty", pty];
  // --name=value: a value that starts with a dash stays a value.
  for (const flag of SIM_VALUES) if (o.values.has(flag)) args.push(`--${flag}=${one(o, flag)}`);
  for (const flag of SIM_SWITCHES) if (o.flags.has(flag)) args.push(`--${flag}`);
  const child = spawn(process.execPath, args, { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 0)));
}

/** A signed command subject for a device, the secret from SIMMAIL_COMMAND_SECRET or --secret-file. */
function sign(o: Options, out: Out): void {
  const deviceId = one(o, "device");
  const idProblem = deviceIdProblem(deviceId);
  if (idProblem !== null) throw new UsageError(`${label(o, "device")} ${idProblem} (got "${deviceId}")`);
  const [command, extra] = o.rest;
  if (command === undefined || extra !== undefined) throw new UsageError(`sign takes one command: ${REMOTE_COMMANDS.join(", ")}`);
  const upper = command.toUpperCase();
  if (!(REMOTE_COMMANDS as readonly string[]).includes(upper)) throw new UsageError(`"${command}" is none of ${REMOTE_COMMANDS.join(", ")}`);
  const at = one(o, "at", String(Math.floor(Date.now() / 1000)));
  if (!/^\d{1,10}$/.test(at) || Number(at) > 0xffffffff) throw new UsageError(`--at must be a time in unix seconds (got "${at}")`);
  let secretText: string;
  const file = o.values.get("secret-file")?.[0];
  if (file !== undefined) {
    try {
      secretText = readFileSync(file, "utf8").split(/\r?\n/)[0];
    } catch (error) {
      throw new UsageError(`--secret-file ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
    }
  } else {
    const given = process.env.SIMMAIL_COMMAND_SECRET;
    if (given === undefined || given === "") throw new UsageError("sign needs the device's commandSecret: set SIMMAIL_COMMAND_SECRET or give --secret-file FILE");
    secretText = given;
  }
  let secret: Uint8Array;
  try {
    secret = secretFromText(secretText);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const subject = signCommandSubject(nodeCrypto, secret, deviceId, upper, Number(at));
  out(subject, { subject, device: deviceId, command: upper, at: Number(at) });
}

/** Maps an error to the documented exit status and a message that names the cause. */
export function classify(error: unknown): { status: number; message: string } {
  if (error instanceof UsageError || error instanceof SerialOpenError) return { status: EXIT.usage, message: error.message };
  if (error instanceof InterruptedError) return { status: error.status, message: error.message };
  if (error instanceof MailParameterError || error instanceof AtParameterError) return { status: EXIT.usage, message: `refused: ${error.message} (nothing was sent to the modem)` };
  if (error instanceof InsecureCredentialsError) return { status: EXIT.usage, message: `refused: ${error.message} (the password was not sent)` };
  const cause = error instanceof ModemError ? error.cause : error;
  if (cause instanceof AtTimeoutError || error instanceof AtTimeoutError) {
    return { status: EXIT.noAnswer, message: `no answer from the modem: ${(error as Error).message}` };
  }
  if (error instanceof MailError || error instanceof ModemError || error instanceof AtError) return { status: EXIT.failure, message: (error as Error).message };
  return { status: EXIT.failure, message: error instanceof Error ? error.message : String(error) };
}

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseCommandLine(argv, process.env);
  } catch (error) {
    const command = argv.find((arg) => !arg.startsWith("-")) ?? "";
    process.stderr.write(`simmail: ${classify(error).message}\n${usageHint(command)}\n`);
    return EXIT.usage;
  }
  const json = options.flags.has("json");
  // What is printed may hold text from a mail or the modem: no terminal controls get through.
  const out: Out = (human, data) => {
    if (json) process.stdout.write(`${terminalJson({ ok: true, ...data })}\n`);
    else if (human !== "") process.stdout.write(`${printable(human)}\n`);
  };
  if (options.flags.has("version") || options.command === "version") {
    out(`simmail ${version()}`, { version: version() });
    return EXIT.ok;
  }
  if (options.command === "help" || options.flags.has("help")) {
    const topic = options.command === "help" ? options.rest[0] : options.command;
    if (topic === undefined || topic === "") process.stdout.write(`${USAGE}\n`);
    else if (Object.prototype.hasOwnProperty.call(COMMAND_HELP, topic)) process.stdout.write(`${commandHelp(topic)}\n`);
    else {
      process.stderr.write(`simmail: no command "${topic}"\n${usageHint("")}\n`);
      return EXIT.usage;
    }
    return EXIT.ok;
  }
  if (options.command === "") {
    process.stderr.write(`simmail: no command given\n${usageHint("")}\n`);
    return EXIT.usage;
  }
  try {
    switch (options.command) {
      case "probe": await probe(options, out); break;
      case "send": await send(options, out); break;
      case "inbox": await inbox(options, out, openMailbox); break;
      case "sign": sign(options, out); break;
      case "sim": return await sim(options);
      default: throw new UsageError(`unknown command "${options.command}"`);
    }
    return EXIT.ok;
  } catch (error) {
    const { status, message } = classify(error);
    if (json) process.stdout.write(`${terminalJson({ ok: false, status, error: message.split("\n")[0] })}\n`);
    process.stderr.write(`simmail: ${message.split("\n").map(printableLine).join("\n")}\n`);
    if (status === EXIT.usage && error instanceof UsageError && error.hint) process.stderr.write(`${usageHint(options.command)}\n`);
    return status;
  }
}
