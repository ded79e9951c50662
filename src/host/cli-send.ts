// simmail send: one mail through the modem's SMTP, its attachment streamed from this computer or
// named in the modem's own file system (classic), the session ended first if interrupted.

import { readFileSync } from "node:fs";
import type { Address, MailMessage, ServerAccount } from "../mail/message.ts";
import { connect, ensureBearer, link, password, type Connection } from "./cli-connection.ts";
import { FileSource, inputFile, parseAddress } from "./cli-input.ts";
import { label, one, securityOptions, serverFlag, settingFlag, UsageError, type Options } from "./cli-options.ts";
import { Progress } from "./cli-progress.ts";
import type { Out } from "./cli-text.ts";
import { ensureModemClock } from "./modem-clock.ts";
import { explainHeldSession, SessionGuard } from "./session-guard.ts";

export async function send(o: Options, out: Out): Promise<void> {
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
