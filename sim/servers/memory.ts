// Mail servers in memory, for the simulator where there are no sockets (under XS): an SMTP
// server (EHLO/HELO, AUTH LOGIN and PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that keeps every
// message it accepts, and a POP3 server (RFC 1939: USER/PASS, STAT, LIST, UIDL, TOP, RETR, DELE,
// RSET, NOOP, QUIT; CAPA) over one mailbox. Both reach the modem through `connector`, each
// chunk a `latencyMs` hop on the given clock. No TLS: that needs real sockets (node-sockets.ts).
// The servers are memory-smtp.ts and memory-pop3.ts, on the connection of memory-stream.ts.

import type { Scheduler } from "../scheduler.ts";
import type { ByteStream, Connector, PendingStream } from "../modem/network.ts";
import { Pop3Session, type Pop3Maildrop, type StoredMail } from "./memory-pop3.ts";
import { SmtpSession, type DeliveredMail } from "./memory-smtp.ts";
import { MemoryStream, type MemoryAccount } from "./memory-stream.ts";

export interface MemoryMailOptions {
  clock: Scheduler;
  smtp: MemoryAccount;
  pop3: MemoryAccount;
  /** Each chunk's trip between modem and server. Default 5 ms. */
  latencyMs?: number;
}

export class MemoryMailService implements Pop3Maildrop {
  readonly connector: Connector;
  /** Every message the SMTP server accepted, oldest first. */
  readonly delivered: DeliveredMail[] = [];
  /** The POP3 mailbox; a QUIT removes what DELE marked. */
  readonly mailbox: StoredMail[] = [];
  /** The message numbers of every DELE, in order. */
  readonly deleted: number[] = [];
  readonly smtp: MemoryAccount;
  readonly pop3: MemoryAccount;

  constructor(options: MemoryMailOptions) {
    this.smtp = options.smtp;
    this.pop3 = options.pop3;
    const clock = options.clock;
    const latencyMs = options.latencyMs ?? 5;
    const service = this;
    this.connector = {
      open(address: string, port: number): PendingStream {
        const stream = new MemoryStream(clock, latencyMs);
        const at = (account: MemoryAccount) => account.address === address && account.port === port;
        if (at(service.smtp)) stream.server = new SmtpSession(stream, service.smtp, service.delivered);
        else if (at(service.pop3)) stream.server = new Pop3Session(stream, service);
        else return { stream, ready: Promise.reject(new Error(`nothing listens on ${address}:${port} (connection refused)`)) };
        return { stream, ready: Promise.resolve() };
      },
      secure(plain: ByteStream): PendingStream<string> {
        return { stream: plain, ready: Promise.reject(new Error("the in-memory servers speak no TLS (real TLS runs under Node: sim/modem/node-sockets.ts)")) };
      },
    };
  }
}
