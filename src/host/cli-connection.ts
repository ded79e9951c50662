// The CLI's link to a modem: the port and link settings read from the flags, the engine and
// modem over the serial port, the dialect the probe picks, the bearer, and the password asked for.

import { AtEngine, type AtTracer } from "../transport/engine.ts";
import { Modem, type Dialect } from "../modem/modem.ts";
import { probeEmail, type EmailCapabilities } from "../modem/probe.ts";
import type { MailDialect } from "../mail/dialect.ts";
import { openMailDialect } from "../mail/dialects.ts";
import { CLASSIC_LIMITS } from "../mail/classic.ts";
import { one, settingFlag, UsageError, type Options } from "./cli-options.ts";
import { requireService, startModem } from "./cli-modem.ts";
import { syncPayingOwed } from "./session-guard.ts";
import { askHidden } from "./prompt.ts";
import { HostSerial } from "./serial.ts";
import { nodeTimers } from "./timers.ts";

function stderrTracer(): AtTracer {
  return {
    line: (direction, text) => process.stderr.write(`${direction === "tx" ? ">" : "<"} ${text}\n`),
    data: (direction, length) => process.stderr.write(`${direction === "tx" ? ">" : "<"} [${length} bytes]\n`),
  };
}

/** What every modem command takes from the flags, read by their settings' rules before the port opens. */
export interface Link {
  path: string;
  baud: number;
  /** As --dialect (or SIMMAIL_DIALECT) says; null: the probe tells it. */
  dialect: Dialect | null;
  cid: number;
  apn: string | null;
  bootSeconds: number;
}

export function link(o: Options): Link {
  return {
    path: one(o, "port"),
    baud: settingFlag<number>(o, "baud")!,
    dialect: o.values.has("dialect") ? (settingFlag<string>(o, "dialect") as Dialect) : null,
    cid: settingFlag<number>(o, "cid")!,
    apn: settingFlag<string>(o, "apn"),
    bootSeconds: settingFlag<number>(o, "boot-wait")!,
  };
}

export interface Connection {
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

export async function connect(o: Options, link: Link): Promise<Connection> {
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
export async function openDialect(c: Connection): Promise<{ mail: MailDialect; capabilities: EmailCapabilities }> {
  const capabilities = await probeEmail(c.engine, c.dialect ?? undefined);
  c.mail = openMailDialect(capabilities, c.modem, nodeTimers, c.link.baud);
  return { mail: c.mail, capabilities };
}

/** AT until it answers (the boot window), with a terminal notice. */
export function start(c: Connection): Promise<void> {
  return startModem(c.modem, { bootSeconds: c.link.bootSeconds, baud: c.link.baud, notice: process.stderr.isTTY === true, sync: () => syncPayingOwed(c.engine, c.modem) });
}

/** Sync, the dialect, the SIM and the network, then its bearer: opened with --apn, or checked to be open. */
export async function ensureBearer(c: Connection): Promise<MailDialect> {
  const { apn, cid } = c.link;
  await start(c);
  const { mail } = await openDialect(c);
  await requireService(c.modem);
  await mail.openBearer({ cid, ...(apn !== null ? { apn } : {}) });
  return mail;
}

/** SIMMAIL_PASSWORD, else asked for on a terminal; refused (nothing opened) when neither is there. */
export async function password(user: string, host: string): Promise<string> {
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
