// The simulator as Node runs it (`simmail sim`, the host tests): real sockets to the mail
// servers and mailparser for the classic dialect's POP3GET. Under XS the same SimModem runs on
// in-memory servers (host-tests/kit/xs/alarm-xs-entry.ts).

import { simpleParser } from "mailparser";
import type { MessageParser } from "./classic-email.ts";
import { SimModem, type SimOptions, type SimPlatform } from "./modem.ts";
import { nodeSockets } from "./node-sockets.ts";

const parseWithMailparser: MessageParser = async (message) => {
  const parsed = await simpleParser(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  return { text: parsed.text ?? "", attachments: parsed.attachments.map((a) => ({ filename: a.filename, content: a.content })) };
};

export const NODE_PLATFORM: SimPlatform = { connector: nodeSockets, parseMessage: parseWithMailparser };

export class NodeSimModem extends SimModem {
  constructor(options: SimOptions = {}) {
    super(options, NODE_PLATFORM);
  }
}
