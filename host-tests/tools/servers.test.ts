import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTransport } from "nodemailer";
import { simpleParser, type AddressObject } from "mailparser";
import { startMailServers, type MailServers, type MailServersOptions } from "../../sim/servers/index.ts";

const execFileAsync = promisify(execFile);
const test = suite("mail servers (smtp-server + Dovecot POP3, and the Node POP3 fallback)");

// Dovecot's master takes about a second to shut down, so instances a test is done with are
// stopped in the background and all awaited once at the end.
const pendingStops: Promise<void>[] = [];
test.after(async () => {
  await Promise.all(pendingStops);
});

async function withServers(options: MailServersOptions, body: (servers: MailServers) => Promise<void>): Promise<void> {
  const servers = await startMailServers(options);
  try {
    await body(servers);
  } finally {
    pendingStops.push(servers.stop());
  }
}

function smtpTransport(servers: MailServers, auth?: { user: string; pass: string }, authMethod?: string) {
  return createTransport({
    host: servers.host,
    port: servers.smtpPort,
    secure: false,
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
    ...(authMethod ? { authMethod } : {}),
  });
}

function credentials(servers: MailServers, name: string): { user: string; pass: string } {
  const user = servers.users.find((candidate) => candidate.name === name);
  if (!user) throw new Error(`no user ${name}`);
  return { user: user.name, pass: user.password };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { responseCode?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { responseCode?: number };
  }
  throw new Error("expected a rejection");
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return "";
  return (Array.isArray(value) ? value : [value]).map((address) => address.text).join(", ");
}

/** A deliberately tiny POP3 client speaking raw bytes, so what RETR returns can be compared byte for byte. */
class Pop3Client {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static async open(port: number): Promise<{ client: Pop3Client; greeting: string }> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new Pop3Client(socket);
    return { client, greeting: await client.readLine() };
  }

  /** Waits until `find` locates the end of what is wanted, then removes and returns it. */
  private async take(find: (buffer: Buffer) => number, what: string): Promise<Buffer> {
    for (;;) {
      const end = find(this.buffer);
      if (end >= 0) {
        const taken = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end);
        return taken;
      }
      if (this.ended) throw new Error(`POP3 connection closed while waiting for ${what}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async readLine(): Promise<string> {
    const line = await this.take((buffer) => {
      const index = buffer.indexOf("\r\n");
      return index < 0 ? -1 : index + 2;
    }, "a line");
    return line.subarray(0, -2).toString("latin1");
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.readLine();
  }

  /** A multi-line command: the status line, then (after +OK) the dot-unstuffed body bytes. */
  async multiline(line: string): Promise<{ status: string; body: Buffer }> {
    const status = await this.command(line);
    if (!status.startsWith("+OK")) return { status, body: Buffer.alloc(0) };
    const raw = await this.take((buffer) => {
      if (buffer.subarray(0, 3).equals(Buffer.from(".\r\n"))) return 3;
      const index = buffer.indexOf("\r\n.\r\n");
      return index < 0 ? -1 : index + 5;
    }, "the end of a multi-line response");
    const content = raw.subarray(0, raw.length - 3).toString("latin1"); // drop ".\r\n"
    const unstuffed = content.replace(/(^|\r\n)\./g, "$1");
    return { status, body: Buffer.from(unstuffed, "latin1") };
  }

  /** Several single-line commands in one write, and their status lines in order. */
  async pipelined(lines: string[]): Promise<string[]> {
    this.socket.write(lines.map((line) => `${line}\r\n`).join(""));
    const answers: string[] = [];
    for (let index = 0; index < lines.length; index++) answers.push(await this.readLine());
    return answers;
  }

  async login(user: string, password: string): Promise<string> {
    const userStatus = await this.command(`USER ${user}`);
    if (!userStatus.startsWith("+OK")) return userStatus;
    return this.command(`PASS ${password}`);
  }

  async quit(): Promise<string> {
    const status = await this.command("QUIT");
    this.socket.end();
    return status;
  }
}

async function pop3Session<T>(servers: MailServers, user: string, body: (client: Pop3Client) => Promise<T>): Promise<T> {
  const { client, greeting } = await Pop3Client.open(servers.pop3Port);
  assert.ok(greeting.startsWith("+OK"), greeting);
  const { user: name, pass } = credentials(servers, user);
  const login = await client.login(name, pass);
  assert.ok(login.startsWith("+OK"), login);
  const result = await body(client);
  assert.ok((await client.quit()).startsWith("+OK"));
  return result;
}

test("AUTH PLAIN: a To and a Bcc recipient each get the message, bytes and headers intact", () =>
  withServers({}, async (servers) => {
    const info = await smtpTransport(servers, credentials(servers, "alarm")).sendMail({
      from: "Alarm Panel <alarm@simmail.test>",
      to: "Alice <alice@simmail.test>",
      bcc: "bob@simmail.test",
      subject: "Zone 3 open",
      text: "Front door opened.\n.leading dot stays\nEnd",
    });
    assert.equal(info.accepted, ["alice@simmail.test", "bob@simmail.test"]);

    const [aliceMail] = await servers.waitForMessages("alice", 1);
    const [bobMail] = await servers.waitForMessages("bob", 1);
    assert.ok(aliceMail && bobMail);
    assert.ok(aliceMail.equals(bobMail), "both recipients get identical bytes");
    assert.equal((await servers.messages("carol")).length, 0);

    const parsed = await simpleParser(aliceMail);
    assert.is(parsed.subject, "Zone 3 open");
    assert.is(addressText(parsed.from), '"Alarm Panel" <alarm@simmail.test>');
    assert.is(addressText(parsed.to), '"Alice" <alice@simmail.test>');
    assert.not.ok(parsed.headers.has("bcc"), "Bcc stays in the envelope only");
    assert.is(parsed.text?.trim(), "Front door opened.\n.leading dot stays\nEnd");
    assert.ok(aliceMail.includes("\r\n.leading dot stays\r\n"), "SMTP dot-stuffing is undone");

    assert.equal(servers.envelopes, [
      { from: "alarm@simmail.test", to: ["alice@simmail.test", "bob@simmail.test"], size: aliceMail.length, authUser: "alarm" },
    ]);

    const mailUid = Number((await execFileAsync("id", ["-u", "mail"])).stdout.trim());
    const newDir = join(servers.dir, "mail", "alice", "Maildir", "new");
    const [file] = await fs.readdir(newDir);
    assert.ok(file);
    assert.is((await fs.stat(join(newDir, file))).uid, mailUid, "maildir files belong to mail");
    assert.equal(await fs.readdir(join(servers.dir, "mail", "alice", "Maildir", "tmp")), [], "nothing left in tmp/");
  }));

test("AUTH LOGIN works and records the authenticated user", () =>
  withServers({}, async (servers) => {
    await smtpTransport(servers, credentials(servers, "dave"), "LOGIN").sendMail({
      from: "dave@simmail.test",
      to: "carol@simmail.test",
      subject: "login",
      text: "via AUTH LOGIN",
    });
    const [mail] = await servers.waitForMessages("carol", 1);
    assert.ok(mail);
    assert.is((await simpleParser(mail)).subject, "login");
    assert.is(servers.envelopes[0]?.authUser, "dave");
  }));

test("SMTP refuses a wrong password (535), unauthenticated senders (530) and unknown recipients (550)", () =>
  withServers({}, async (servers) => {
    const message = { from: "alarm@simmail.test", to: "alice@simmail.test", subject: "x", text: "x" };

    const badPassword = await rejection(smtpTransport(servers, { user: "alarm", pass: "wrong" }).sendMail(message));
    assert.is(badPassword.responseCode, 535, badPassword.message);
    const unknownUser = await rejection(smtpTransport(servers, { user: "mallory", pass: "alarm-secret" }).sendMail(message));
    assert.is(unknownUser.responseCode, 535, unknownUser.message);

    const anonymous = await rejection(smtpTransport(servers).sendMail(message));
    assert.is(anonymous.responseCode, 530, anonymous.message);

    const alarm = smtpTransport(servers, credentials(servers, "alarm"));
    const unknownRecipient = await rejection(alarm.sendMail({ ...message, to: "nobody@simmail.test" }));
    assert.is(unknownRecipient.responseCode, 550, unknownRecipient.message);
    const otherDomain = await rejection(alarm.sendMail({ ...message, to: "alice@elsewhere.test" }));
    assert.is(otherDomain.responseCode, 550, otherDomain.message);

    assert.equal(servers.envelopes, [], "nothing was accepted");
    assert.equal(await servers.messages("alice"), []);

    // With one good and one bad recipient only the good one is accepted and delivered.
    const mixed = await alarm.sendMail({ ...message, to: ["nobody@simmail.test", "ALICE@simmail.test"] });
    assert.equal(mixed.rejected, ["nobody@simmail.test"]);
    assert.equal(mixed.accepted, ["ALICE@simmail.test"]);
    assert.is((await servers.waitForMessages("alice", 1)).length, 1);
    assert.equal(servers.envelopes[0]?.to, ["ALICE@simmail.test"]);
  }));

test("a message over the 20 MiB size limit is refused with 552", () =>
  withServers({}, async (servers) => {
    const line = `${"y".repeat(998)}\r\n`;
    const raw = `Subject: huge\r\n\r\n${line.repeat(Math.ceil((20 * 1024 * 1024) / line.length) + 1)}`;
    const error = await rejection(
      smtpTransport(servers, credentials(servers, "alarm")).sendMail({
        envelope: { from: "alarm@simmail.test", to: ["alice@simmail.test"] },
        raw,
      }),
    );
    assert.is(error.responseCode, 552, error.message);
    assert.equal(await servers.messages("alice"), []);
  }));

test("with smtpAuthRequired false an unauthenticated client may send", () =>
  withServers({ smtpAuthRequired: false }, async (servers) => {
    await smtpTransport(servers).sendMail({ from: "panel@simmail.test", to: "bob@simmail.test", subject: "open", text: "relay" });
    assert.is((await servers.waitForMessages("bob", 1)).length, 1);
    assert.equal(servers.envelopes, [{ from: "panel@simmail.test", to: ["bob@simmail.test"], size: servers.envelopes[0]?.size ?? -1 }]);
    assert.not.ok("authUser" in (servers.envelopes[0] ?? {}));
  }));

const POP3_SERVERS = [["dovecot", "POP3 (Dovecot)"], ["node", "POP3 (the Node fallback)"]] as const;
for (const [pop3, label] of POP3_SERVERS) {
test(`${label}: STAT, LIST, UIDL, RETR (dot-unstuffed, byte-exact), DELE and QUIT`, () =>
  withServers({ pop3 }, async (servers) => {
    await smtpTransport(servers, credentials(servers, "alarm")).sendMail({
      from: "alarm@simmail.test",
      to: "alice@simmail.test",
      subject: "first",
      text: "sent over SMTP",
    });
    await servers.waitForMessages("alice", 1);
    const dotted = Buffer.from("From: x@simmail.test\r\nSubject: dots\r\n\r\n.\r\n..two\r\n.x\r\nGr\u00fc\u00dfe \u2713\r\n", "utf8");
    const name = await servers.deliver("alice", dotted);
    assert.match(name, /^\d+\.M\d+P\d+Q\d+\.simmail$/);
    await servers.deliver("alice", "Subject: third\r\n\r\nbody\r\n");
    const delivered = await servers.messages("alice");
    assert.is(delivered.length, 3);
    assert.ok(delivered[1]?.equals(dotted), "messages() is in delivery order");

    const uidls = await pop3Session(servers, "alice", async (client) => {
      const total = delivered.reduce((sum, message) => sum + message.length, 0);
      assert.is(await client.command("STAT"), `+OK 3 ${total}`);

      const list = await client.multiline("LIST");
      assert.is(list.body.toString(), delivered.map((message, index) => `${index + 1} ${message.length}\r\n`).join(""));

      const uidl = await client.multiline("UIDL");
      const ids = uidl.body.toString().trim().split("\r\n").map((line) => line.split(" ")[1] ?? "");
      assert.is(ids.length, 3);
      for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/i, "pop3_uidl_format %08Xu%08Xv");
      assert.is(new Set(ids).size, 3, "UIDLs are unique");

      for (let index = 0; index < delivered.length; index++) {
        const retr = await client.multiline(`RETR ${index + 1}`);
        assert.ok(retr.status.startsWith("+OK"), retr.status);
        assert.ok(retr.body.equals(delivered[index] ?? Buffer.alloc(0)), `message ${index + 1} comes back byte for byte`);
      }
      assert.ok((await client.command("RETR 4")).startsWith("-ERR"));
      assert.ok((await client.command("DELE 1")).startsWith("+OK"));
      return ids;
    });

    const remaining = await servers.messages("alice");
    assert.is(remaining.length, 2, "DELE + QUIT removed the message from the maildir");
    assert.ok(remaining[0]?.equals(dotted) && remaining[1]?.equals(delivered[2] ?? Buffer.alloc(0)));

    await pop3Session(servers, "alice", async (client) => {
      assert.ok((await client.command("STAT")).startsWith("+OK 2 "));
      const ids = (await client.multiline("UIDL")).body.toString().trim().split("\r\n").map((line) => line.split(" ")[1]);
      assert.equal(ids, uidls.slice(1), "UIDLs are stable across sessions");
    });
  }));

test(`${label} numbers messages in delivery order when deliveries share a millisecond or the clock steps back`, () =>
  withServers({ pop3 }, async (servers) => {
    // Dovecot orders new maildir files by the time in their names, then by the rest as text.
    const realNow = Date.now;
    const start = realNow();
    const clockReadings = [start, start, start, start, start - 1000, start - 2000, start - 2000, start + 500];
    const sent = clockReadings.map((_, index) => `Subject: ${index + 1}\r\n\r\n${"x".repeat(index + 1)}\r\n`);
    try {
      for (const [index, reading] of clockReadings.entries()) {
        Date.now = () => reading;
        await servers.deliver("dave", sent[index] ?? "");
      }
    } finally {
      Date.now = realNow;
    }
    const delivered = await servers.messages("dave");
    assert.equal(delivered.map((message) => message.toString()), sent, "messages() is in delivery order");
    await pop3Session(servers, "dave", async (client) => {
      const list = await client.multiline("LIST");
      assert.is(list.body.toString(), sent.map((message, index) => `${index + 1} ${message.length}\r\n`).join(""));
    });
  }));

test(`${label} answers -ERR to a wrong password or an unknown user`, () =>
  withServers({ pop3 }, async (servers) => {
    await servers.deliver("bob", "Subject: keep\r\n\r\nkeep\r\n");
    for (const [user, password] of [["bob", "not-bobs"], ["nobody", "bob-secret"]] as const) {
      const { client } = await Pop3Client.open(servers.pop3Port);
      const status = await client.login(user, password);
      assert.ok(status.startsWith("-ERR"), `${user}: ${status}`);
      await client.quit();
    }
    assert.is((await servers.messages("bob")).length, 1);
    await pop3Session(servers, "bob", async (client) => {
      assert.ok((await client.command("STAT")).startsWith("+OK 1 "));
    });
  }));

test(`${label}: CAPA, TOP, RSET, NOOP, pipelined commands, and -ERR for bad numbers and commands out of state`, () =>
  withServers({ pop3 }, async (servers) => {
    const first = "From: x@simmail.test\r\nSubject: top\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n";
    await servers.deliver("carol", first);
    await servers.deliver("carol", "Subject: bare LF\n\nbody\n");
    const { client } = await Pop3Client.open(servers.pop3Port);
    const capa = await client.multiline("CAPA");
    assert.ok(capa.status.startsWith("+OK"), capa.status);
    for (const capability of ["TOP", "UIDL", "USER"]) assert.ok(capa.body.toString().split("\r\n").includes(capability), `CAPA lists ${capability}`);
    assert.ok((await client.command("STAT")).startsWith("-ERR"), "no STAT before login");
    assert.ok((await client.command("PASS carol-secret")).startsWith("-ERR"), "no PASS before USER");
    assert.ok((await client.login("carol", "carol-secret")).startsWith("+OK"));
    assert.ok((await client.command("USER carol")).startsWith("-ERR"), "no USER after login");

    const top = await client.multiline("TOP 1 1");
    assert.ok(top.status.startsWith("+OK"), top.status);
    assert.is(top.body.toString(), "From: x@simmail.test\r\nSubject: top\r\n\r\nline 1\r\n");
    assert.is((await client.multiline("TOP 1 2")).body.toString(), "From: x@simmail.test\r\nSubject: top\r\n\r\nline 1\r\n.line 2\r\n", "dot-stuffed and unstuffed");
    const bare = "Subject: bare LF\r\n\r\nbody\r\n";
    assert.is(await client.command("LIST 2"), `+OK 2 ${bare.length}`, "sizes count CRLF line ends");
    assert.is((await client.multiline("RETR 2")).body.toString(), bare, "bare LFs go out as CRLF");

    for (const bad of ["RETR 0", "RETR 3", "RETR x", "DELE 9", "TOP 1", "LIST 3"]) assert.ok((await client.command(bad)).startsWith("-ERR"), bad);
    assert.ok((await client.command("FROB")).startsWith("-ERR"), "an unknown command");
    assert.ok((await client.command("DELE 1")).startsWith("+OK"));
    assert.ok((await client.command("RETR 1")).startsWith("-ERR"), "a deleted message is gone from the session");
    assert.is(await client.command("STAT"), `+OK 1 ${bare.length}`);
    assert.ok((await client.command("RSET")).startsWith("+OK"));
    assert.is(await client.command("STAT"), `+OK 2 ${first.length + bare.length}`, "RSET undeletes");
    assert.ok((await client.command("NOOP")).startsWith("+OK"));

    // Three commands in one write: answered in order.
    const [noop, list, stat] = await client.pipelined(["NOOP", "LIST 1", "STAT"]);
    assert.ok(noop?.startsWith("+OK"), noop);
    assert.equal([list, stat], [`+OK 1 ${first.length}`, `+OK 2 ${first.length + bare.length}`]);
    assert.ok((await client.quit()).startsWith("+OK"));
    assert.is((await servers.messages("carol")).length, 2, "QUIT after RSET deletes nothing");
  }));
}

test("two instances started together share nothing", async () => {
  const [first, second] = await Promise.all([
    startMailServers(),
    startMailServers({ domain: "other.test", users: [{ name: "eve", password: "eve-pw", address: "eve@other.test" }] }),
  ]);
  try {
    assert.is.not(first.dir, second.dir);
    assert.is(new Set([first.smtpPort, first.pop3Port, second.smtpPort, second.pop3Port]).size, 4);
    assert.is(second.domain, "other.test");
    assert.is(first.domain, "simmail.test");
    assert.equal(first.users.map((user) => user.address), ["alarm", "alice", "bob", "carol", "dave"].map((name) => `${name}@simmail.test`));

    await smtpTransport(first, credentials(first, "alarm")).sendMail({ from: "alarm@simmail.test", to: "alice@simmail.test", subject: "a", text: "a" });
    await smtpTransport(second, credentials(second, "eve")).sendMail({ from: "eve@other.test", to: "eve@other.test", subject: "e", text: "e" });
    const wrongServer = await rejection(
      smtpTransport(second, credentials(second, "eve")).sendMail({ from: "eve@other.test", to: "alice@simmail.test", subject: "x", text: "x" }),
    );
    assert.is(wrongServer.responseCode, 550);
    const alarmOnSecond = await rejection(
      smtpTransport(second, credentials(first, "alarm")).sendMail({ from: "alarm@simmail.test", to: "eve@other.test", subject: "x", text: "x" }),
    );
    assert.is(alarmOnSecond.responseCode, 535);

    await first.waitForMessages("alice", 1);
    await second.waitForMessages("eve", 1);
    assert.is(first.envelopes.length, 1);
    assert.is(second.envelopes.length, 1);
    await pop3Session(first, "alice", async (client) => assert.ok((await client.command("STAT")).startsWith("+OK 1 ")));
    await pop3Session(second, "eve", async (client) => assert.ok((await client.command("STAT")).startsWith("+OK 1 ")));
    const { client } = await Pop3Client.open(second.pop3Port);
    assert.ok((await client.login("alice", "alice-secret")).startsWith("-ERR"), "first's users do not exist on second");
    await client.quit();
  } finally {
    pendingStops.push(first.stop(), second.stop());
  }
});

test("stop() ends Dovecot and SMTP, removes the temp dir, and may be called twice", async () => {
  const servers = await startMailServers();
  const config = join(servers.dir, "dovecot.conf");
  const running = await execFileAsync("pgrep", ["-f", config]);
  assert.ok(running.stdout.trim().length > 0, "Dovecot runs while started");

  await Promise.all([servers.stop(), servers.stop()]);
  await servers.stop();

  const after = await execFileAsync("pgrep", ["-f", config]).then(
    (result) => ({ code: 0, stdout: result.stdout }),
    (error: { code: number; stdout: string }) => error,
  );
  assert.is(after.code, 1, `no Dovecot left behind: ${after.stdout}`);
  assert.is((await rejection(fs.access(servers.dir))).code, "ENOENT", "temp dir removed");
  for (const port of [servers.smtpPort, servers.pop3Port]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    assert.ok(refused, `port ${port} is closed`);
  }
});

test("waitForMessages resolves on a later delivery and rejects after its timeout", () =>
  withServers({}, async (servers) => {
    setTimeout(() => void servers.deliver("carol", "Subject: later\r\n\r\nlater\r\n"), 50);
    const messages = await servers.waitForMessages("carol", 1, 2000);
    assert.is(messages.length, 1);
    const started = Date.now();
    const error = await rejection(servers.waitForMessages("carol", 2, 150));
    assert.ok(Date.now() - started >= 150);
    assert.match(error.message, /carol has 1 message\(s\), expected 2 within 150 ms/);
  }));

test("unknown mailbox names and bad options give specific errors", async () => {
  await withServers({}, async (servers) => {
    assert.match((await rejection(servers.messages("zed"))).message, /unknown mail user "zed"/);
    assert.match((await rejection(servers.deliver("../alice", "x"))).message, /unknown mail user/);
  });
  const cases: Array<[MailServersOptions, RegExp]> = [
    [{ users: [] }, /users must not be empty/],
    [{ users: [{ name: "../x", password: "p", address: "x@simmail.test" }] }, /name must be letters/],
    [{ users: [{ name: "x", password: "a:b", address: "x@simmail.test" }] }, /password must be non-empty without ':'/],
    [{ users: [{ name: "x", password: "", address: "x@simmail.test" }] }, /password must be non-empty/],
    [{ users: [{ name: "x", password: "p", address: "not an address" }] }, /invalid address/],
    [{ users: [{ name: "x", password: "p", address: "x@a.test" }, { name: "X", password: "q", address: "y@a.test" }] }, /duplicate name/],
    [{ users: [{ name: "x", password: "p", address: "x@a.test" }, { name: "y", password: "q", address: "X@a.test" }] }, /duplicate address/],
    [{ domain: "bad domain" }, /invalid domain/],
    [{ pop3: "node", tls: true }, /the Node POP3 server has no TLS/],
  ];
  for (const [options, expected] of cases) {
    assert.match((await rejection(startMailServers(options))).message, expected);
  }
});

test.run();
