// simmail command line: the firmware's own core driving a modem over a real serial port.
// Exit status: 0 done; 1 bad usage, a refused parameter or a port that cannot be opened (nothing sent); 2 the modem or the
// network reported a failure; 3 no answer from the modem in time; 130 / 143 interrupted by SIGINT / SIGTERM (the
// session the modem held was ended first: session-guard.ts).

import { accessSync, closeSync, constants, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AtEngine, type AtTracer } from "../transport/engine.ts";
import { AtError, AtParameterError, AtTimeoutError } from "../transport/errors.ts";
import { Modem, type Dialect } from "../modem/modem.ts";
import { ModemError } from "../modem/errors.ts";
import { probeEmail, type EmailCapabilities } from "../modem/probe.ts";
import type { Mailbox, MailDialect } from "../mail/dialect.ts";
import { openMailDialect } from "../mail/dialects.ts";
import { CLASSIC_LIMITS } from "../mail/classic.ts";
import { InsecureCredentialsError, MailError, MailParameterError } from "../mail/errors.ts";
import { addressProblem, type Address, type ByteSource, type MailMessage, type ServerAccount } from "../mail/message.ts";
import { deviceIdProblem, REMOTE_COMMANDS, secretFromText, signCommandSubject } from "../app/remote-command.ts";
import { commandHelp, COMMAND_HELP, USAGE, usageHint, version } from "./cli-help.ts";
import { inbox, type OpenMailbox } from "./cli-inbox.ts";
import { label, one, parseCommandLine, securityOptions, serverFlag, settingFlag, UsageError, type Options } from "./cli-options.ts";
import { requireService, serviceLines, serviceReport, startModem } from "./cli-modem.ts";
import { Progress } from "./cli-progress.ts";
import { printable, printableLine, terminalJson } from "./cli-text.ts";
import { nodeCrypto } from "./crypto.ts";
import { ensureModemClock } from "./modem-clock.ts";
import { explainHeldSession, InterruptedError, SessionGuard, syncPayingOwed } from "./session-guard.ts";
import { askHidden } from "./prompt.ts";
import { HostSerial, SerialOpenError } from "./serial.ts";
import { nodeTimers } from "./timers.ts";

export const EXIT = { ok: 0, usage: 1, failure: 2, noAnswer: 3 } as const;

/** A mailbox as typed: local@domain, or a display name then <local@domain>, nothing after the >. */
const MAILBOX = /^\s*(?:(.*?)\s*<([^<>]*)>|([^<>]*))\s*$/;

/** `--flag`'s mailbox, checked by the one address rule; a name in quotes loses them. */
function parseAddress(flag: string, text: string): Address {
  const m = MAILBOX.exec(text);
  if (m === null) throw new UsageError(`${flag} "${text}" is not a mailbox: write local@domain or Name <local@domain>, with one < and a > at the end`);
  const address = (m[2] ?? m[3]).trim();
  const problem = addressProblem(address);
  if (problem !== null) throw new UsageError(`${flag} ${problem}`);
  const name = (m[1] ?? "").replace(/^"(.*)"$/, "$1");
  return name === "" ? { address } : { address, name };
}

/** Why `path` (given with `flag`) is not a regular file this process can read, or null. */
function unreadableFile(path: string): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
  }
  if (stats.isDirectory()) return "is a directory, not a file";
  if (!stats.isFile()) return "is not a regular file";
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return "permission denied";
  }
  return null;
}

/** `path` checked to be a readable regular file before anything is sent; a refusal names `flag`. */
function inputFile(flag: string, path: string): string {
  const problem = unreadableFile(path);
  if (problem !== null) throw new UsageError(`${flag} ${path}: ${problem}`);
  return path;
}

/** A file read in place, block by block, as the attachment's byte source. */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  private position = 0;
  constructor(path: string) {
    try {
      this.fd = openSync(path, "r");
    } catch (error) {
      throw new UsageError(`--attach ${path}: ${unreadableFile(path) ?? (error as Error).message}`);
    }
    this.size = fstatSync(this.fd).size;
  }
  read(out: Uint8Array, offset: number, max: number): number {
    const n = readSync(this.fd, out, offset, max, this.position);
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
  close(): void {
    closeSync(this.fd);
  }
}

function stderrTracer(): AtTracer {
  return {
    line: (direction, text) => process.stderr.write(`${direction === "tx" ? ">" : "<"} ${text}\n`),
    data: (direction, length) => process.stderr.write(`${direction === "tx" ? ">" : "<"} [${length} bytes]\n`),
  };
}

/** What every modem command takes from the flags, read by their settings' rules before the port opens. */
interface Link {
  path: string;
  baud: number;
  /** As --dialect (or SIMMAIL_DIALECT) says; null: the probe tells it. */
  dialect: Dialect | null;
  cid: number;
  apn: string | null;
  bootSeconds: number;
}

function link(o: Options): Link {
  return {
    path: one(o, "port"),
    baud: settingFlag<number>(o, "baud")!,
    dialect: o.values.has("dialect") ? (settingFlag<string>(o, "dialect") as Dialect) : null,
    cid: settingFlag<number>(o, "cid")!,
    apn: settingFlag<string>(o, "apn"),
    bootSeconds: settingFlag<number>(o, "boot-wait")!,
  };
}

interface Connection {
  serial: HostSerial;
  engine: AtEngine;
  modem: Modem;
  link: Link;
  /** The dialect asked for (the probe confirms it), or null: the probe picks it; before `mail` is made. */
  dialect: Dialect | null;
  mail: MailDialect | null;
  close(): Promise<void>;
}

/** The classic dialect prints mail as text lines: room for a line of the longest body it sends. */
const CLI_LINE_CAPACITY = 2 * CLASSIC_LIMITS.body;

async function connect(o: Options, link: Link): Promise<Connection> {
  const serial = await HostSerial.open(link.path, link.baud);
  const engine = new AtEngine({ serial, timers: nodeTimers, syncAttempts: 6, lineCapacity: CLI_LINE_CAPACITY, bootWindowMs: link.bootSeconds * 1000 });
  if (o.flags.has("verbose")) engine.tracer = stderrTracer();
  serial.attach(engine);
  const modem = new Modem(engine, nodeTimers);
  const connection: Connection = {
    serial, engine, modem, link, dialect: link.dialect, mail: null,
    async close() {
      connection.mail?.close();
      modem.close();
      engine.close();
      await serial.close();
    },
  };
  return connection;
}

/** The modem's dialect, picked by the probe unless --dialect names it (the probe checks that its email commands are there). */
async function openDialect(c: Connection): Promise<{ mail: MailDialect; capabilities: EmailCapabilities }> {
  const capabilities = await probeEmail(c.engine, c.dialect ?? undefined);
  c.mail = openMailDialect(capabilities, c.modem, nodeTimers);
  return { mail: c.mail, capabilities };
}

/** AT until it answers (the boot window), with a terminal notice. */
function start(c: Connection): Promise<void> {
  return startModem(c.modem, { bootSeconds: c.link.bootSeconds, baud: c.link.baud, notice: process.stderr.isTTY === true, sync: () => syncPayingOwed(c.engine, c.modem) });
}

/** Sync, the dialect, the SIM and the network, then its bearer: opened with --apn, or checked to be open. */
async function ensureBearer(c: Connection): Promise<MailDialect> {
  const { apn, cid } = c.link;
  await start(c);
  const { mail } = await openDialect(c);
  await requireService(c.modem);
  await mail.openBearer({ cid, ...(apn !== null ? { apn } : {}) });
  return mail;
}

/** SIMMAIL_PASSWORD, else asked for on a terminal; refused (nothing opened) when neither is there. */
async function password(user: string, host: string): Promise<string> {
  const given = process.env.SIMMAIL_PASSWORD;
  if (given !== undefined && given !== "") return given;
  const unset = given === undefined ? "SIMMAIL_PASSWORD is not set" : "SIMMAIL_PASSWORD is empty";
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
    throw new UsageError(`--user ${user} needs a password and ${unset}: set it (or run simmail on a terminal to be asked)`);
  }
  const typed = await askHidden(`password for ${user} at ${host} (${unset}): `);
  if (typed === null || typed === "") throw new UsageError(`--user ${user} needs a password: none was typed`);
  return typed;
}

export type Out = (human: string, json: Record<string, unknown>) => void;

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

async function send(o: Options, out: Out): Promise<void> {
  const modem = link(o);
  const user = settingFlag<string>(o, "user");
  const smtp = serverFlag(o, "smtp");
  const timeoutSeconds = settingFlag<number>(o, "timeout")!;
  const security = securityOptions(o, modem.dialect, user !== null);
  const list = (name: string): Address[] => (o.values.get(name) ?? []).map((text) => parseAddress(`--${name}`, text));
  const bodyFile = o.values.get("body-file")?.[0];
  const bodyText = o.values.get("body")?.[0];
  if ((bodyFile === undefined) === (bodyText === undefined)) throw new UsageError("give exactly one of --body and --body-file");
  const body = bodyFile !== undefined ? readFileSync(inputFile("--body-file", bodyFile), "utf8") : bodyText!;
  const message: MailMessage = {
    from: parseAddress(label(o, "from"), one(o, "from")),
    to: list("to"), cc: list("cc"), bcc: list("bcc"),
    subject: one(o, "subject"),
    body,
  };
  const attach = o.values.get("attach")?.[0];
  const encoding = one(o, "attach-encoding", "host");
  if (encoding !== "host" && encoding !== "modem") throw new UsageError(`--attach-encoding must be host or modem (got "${encoding}")`);
  const server: ServerAccount = { ...smtp, ...(user !== null ? { user, password: await password(user, smtp.host) } : {}) };
  // A file of this computer (the SIM7000 dialect streams it) is opened before the first command,
  // so that a directory or an unreadable file never leaves the modem mid-transfer; a classic
  // modem's own file, named from its drive (C:/Picture/x.jpg), waits for the probe.
  const modemFile = attach !== undefined && (modem.dialect === "classic" || (modem.dialect === null && /^[CD]:/i.test(attach)));
  let source: FileSource | null = attach !== undefined && !modemFile ? new FileSource(inputFile("--attach", attach)) : null;
  let progress: Progress | null = null;
  let c: Connection | null = null;
  let guard: SessionGuard | null = null;
  let sending = false;
  try {
    c = await connect(o, modem);
    const conn = c;
    guard = new SessionGuard(c.engine, { what: "the send", ended: "the modem's SMTP session was ended; nothing was sent", end: async () => {
      if (sending) await conn.mail!.endSend(conn.link.cid);
    } });
    if (server.password !== undefined) c.engine.redact(server.password);
    const mail = await ensureBearer(c);
    if (attach !== undefined && mail.can.attachments === "bytes") {
      source ??= new FileSource(inputFile("--attach", attach));
      message.attachment = { name: attach.split("/").pop()!, type: "binary", source, encoding };
    } else if (attach !== undefined) {
      source?.close();
      source = null;
      message.attachment = { name: attach }; // a file in the modem's own file system
    }
    await ensureModemClock(c.modem, (text) => process.stderr.write(`simmail: ${text}\n`));
    progress = new Progress("sending", process.stderr.isTTY === true && source !== null);
    const started = Date.now();
    sending = true;
    await mail.send({ server, cid: c.link.cid, timeoutSeconds, ...security }, message, {
      onProgress: (done, total) => progress?.update(done, total),
    });
    progress.end();
    const recipients = message.to.length + (message.cc?.length ?? 0) + (message.bcc?.length ?? 0);
    out(`sent to ${recipients} recipient${recipients === 1 ? "" : "s"} in ${((Date.now() - started) / 1000).toFixed(1)} s`, {
      sent: true, recipients, attachmentBytes: source?.size ?? 0,
    });
  } catch (error) {
    throw c === null ? error : explainHeldSession(await guard!.failed(error), c.engine, c.mail?.name ?? c.dialect);
  } finally {
    guard?.release();
    progress?.end();
    source?.close();
    await c?.close();
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
