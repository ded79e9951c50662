// Shared by the simulator's tests: the real mail servers of a suite with modems that reach
// them, tiny scripted TCP servers for answers the real servers never give, an independent POP3
// query to learn the real server's values, and dot-stuffing.

import { createServer, connect, type Server, type Socket } from "node:net";
import type { Test } from "uvu";
import { mailUsers, startMailServers, type MailServers } from "../../sim/servers/index.ts";
import type { SimOptions } from "../../sim/modem/modem.ts";
import { SimDriver } from "./sim-driver.ts";

export interface SuiteMailServers {
  /** The servers, once the suite's `before` has started them. */
  readonly servers: MailServers;
  /** A quiet SimDriver (no echo) whose `host` names the servers; `options` added. */
  modem(options?: SimOptions): SimDriver;
}

/**
 * The real SMTP and POP3 servers for `test`'s suite, started in its `before` and stopped in
 * its `after`: `users` with the passwords `<user>-pw`, reached by the modems as `host`.
 */
export function suiteMailServers(test: Test, users: readonly string[], host: string): SuiteMailServers {
  let servers: MailServers | null = null;
  test.before(async () => {
    servers = await startMailServers({ users: mailUsers(users, "-pw") });
  });
  test.after(async () => {
    await servers?.stop();
  });
  return {
    get servers() {
      if (servers === null) throw new Error("the suite's mail servers are started by its before hook");
      return servers;
    },
    modem: (options = {}) => new SimDriver({ echo: false, hosts: { [host]: "127.0.0.1" }, ...options }),
  };
}

export interface FakeServer {
  port: number;
  /** Lines each connection received, in order. */
  received: string[][];
  close(): Promise<void>;
}

/**
 * A line-based TCP server on 127.0.0.1: `greeting` is sent on connect (null: nothing), then
 * each received line is answered by `answer(line, index)` (null: say nothing, "CLOSE": hang up).
 */
export function fakeServer(greeting: string | null, answer: (line: string, index: number) => string | null): Promise<FakeServer> {
  const received: string[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const lines: string[] = [];
    received.push(lines);
    if (greeting !== null) socket.write(`${greeting}\r\n`);
    let buffer = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      buffer += text;
      for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        lines.push(line);
        const reply = answer(line, lines.length - 1);
        if (reply === "CLOSE") socket.destroy();
        else if (reply !== null) socket.write(`${reply}\r\n`);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        received,
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** A loopback port with nothing listening (bound, then released). */
export function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Logs in over POP3 (USER/PASS) and runs `commands`; returns each command's whole answer
 * (status line, and for multi-line commands everything up to the dotline) as Latin-1 text.
 * `multi` marks the commands whose answers are multi-line.
 */
export async function pop3Query(port: number, user: string, password: string, commands: Array<{ command: string; multi?: boolean }>): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  let buffer = "";
  let wake: (() => void) | null = null;
  socket.on("data", (text: string) => {
    buffer += text;
    wake?.();
  });
  const failed = new Promise<never>((_, reject) => socket.once("error", reject));
  const until = async (done: () => number): Promise<string> => {
    for (;;) {
      const end = done();
      if (end >= 0) {
        const out = buffer.slice(0, end);
        buffer = buffer.slice(end);
        return out;
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), failed]);
    }
  };
  const line = () => until(() => {
    const i = buffer.indexOf("\r\n");
    return i < 0 ? -1 : i + 2;
  });
  const multiLine = () => until(() => {
    if (!buffer.startsWith("+OK")) {
      const i = buffer.indexOf("\r\n");
      return i < 0 ? -1 : i + 2;
    }
    const i = buffer.indexOf("\r\n.\r\n");
    return i < 0 ? -1 : i + 5;
  });
  try {
    await line();
    socket.write(`USER ${user}\r\n`);
    await line();
    socket.write(`PASS ${password}\r\n`);
    const pass = await line();
    if (!pass.startsWith("+OK")) throw new Error(`POP3 login as ${user} failed: ${pass.trim()}`);
    const answers: string[] = [];
    for (const { command, multi } of commands) {
      socket.write(`${command}\r\n`);
      answers.push(multi ? await multiLine() : await line());
    }
    socket.write("QUIT\r\n");
    await line();
    return answers;
  } finally {
    socket.destroy();
  }
}

/** SMTP/POP3 dot-stuffing of a message made of CRLF lines. */
export function dotStuff(message: Buffer): Buffer {
  const text = message.toString("latin1");
  return Buffer.from(text.replace(/(^|\r\n)\./g, "$1.."), "latin1");
}

/** Deterministic bytes for attachments. */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
