// The SMTP settings both dialects write the same way: server, authentication, sender and the
// To/Cc/Bcc lists (each list cleared first: the modem keeps them from the last mail).

import type { AtEngine } from "../transport/engine.ts";
import { query } from "../modem/basic.ts";
import type { ServerAccount } from "./message.ts";

export interface CheckedRecipient {
  address: string;
  /** ASCII text (non-ASCII names arrive RFC 2047-encoded), or null for none. */
  name: string | null;
}

export async function writeServer(engine: AtEngine, server: ServerAccount): Promise<void> {
  await query(engine, (c) => c.text.raw("AT+SMTPSRV=").quoted(server.host, "SMTP server").raw(",").int(server.port ?? 25), 5000);
  if (server.user !== undefined) {
    const user = server.user;
    const password = server.password ?? "";
    await query(engine, (c) => c.text.raw("AT+SMTPAUTH=1,").quoted(user, "SMTP user").raw(",").quoted(password, "SMTP password", true), 5000);
  } else {
    await query(engine, (c) => c.text.raw("AT+SMTPAUTH=0"), 5000);
  }
}

/** `recipients[0]` To, `[1]` Cc, `[2]` Bcc. */
export async function writeParties(engine: AtEngine, fromAddress: string, fromName: string | null, recipients: CheckedRecipient[][]): Promise<void> {
  await query(engine, (c) => {
    c.text.raw("AT+SMTPFROM=").quoted(fromAddress, "sender address");
    if (fromName !== null) c.text.raw(",").quoted(fromName, "sender name");
  }, 5000);
  for (let type = 0; type < 3; type++) {
    await query(engine, (c) => c.text.raw("AT+SMTPRCPT=").int(type), 5000);
    const list = recipients[type];
    for (let index = 0; index < list.length; index++) {
      const r = list[index];
      await query(engine, (c) => {
        c.text.raw("AT+SMTPRCPT=").int(type).raw(",").int(index).raw(",").quoted(r.address, "recipient address");
        if (r.name !== null) c.text.raw(",").quoted(r.name, "recipient name");
      }, 5000);
    }
  }
}
