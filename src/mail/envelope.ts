// The SMTP settings both dialects write the same way: server, authentication, sender and the
// To/Cc/Bcc lists (each list cleared first: the modem keeps them from the last mail).

import type { AtEngine } from "../transport/engine.ts";
import { query } from "../modem/basic.ts";
import { encodeHeaderWord } from "./codec/rfc2047.ts";
import { isAscii } from "./codec/utf8.ts";
import { checkText, type ServerAccount } from "./message.ts";

export interface CheckedRecipient {
  address: string;
  /** ASCII text (non-ASCII names arrive RFC 2047-encoded), or null for none. */
  name: string | null;
}

/** RFC 5322 specials that could split or end a display name (the quote is refused outright). */
const ADDRESS_SPECIALS = /[(),:;<>@[\]\\]/;

/**
 * A display name as the modem gets it, or null for none: plain ASCII as is; non-ASCII text,
 * or text with address specials (so `ops@x.y, Eve <eve@z>` stays one name whatever the modem
 * does with quotes), as RFC 2047 encoded words.
 */
export function displayName(field: string, name: string | undefined, max: number): string | null {
  if (name === undefined || name === "") return null;
  // Quotes, line breaks and controls are refused even where encoding could carry them.
  checkText("smtp", field, name, Number.MAX_SAFE_INTEGER, true);
  const text = isAscii(name) && !ADDRESS_SPECIALS.test(name) ? name : encodeHeaderWord(name);
  return checkText("smtp", field, text, max);
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
