// Real mail servers for host tests, the simulator and the demo: an `smtp-server` SMTP listener
// that delivers into maildirs, and a private Dovecot serving those maildirs over POP3 (or, where
// Dovecot cannot run, the small Node POP3 server in pop3.ts).
// Every startMailServers() call gets its own temp dir, loopback ports and accounts.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { connect, createServer, isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { maildirFiles } from "./maildir.ts";
import { MaildirPop3Server } from "./pop3.ts";

export interface MailUser { name: string; password: string; address: string }

export interface Envelope {
  from: string; to: string[]; size: number; authUser?: string;
  /** Set when the message came over TLS: the cipher's protocol and the SNI name the client sent. */
  tls?: { protocol: string; servername: string | null };
}

/** The test PKI of a TLS instance (PEM files in the instance's dir). */
export interface TestPki {
  /** The CA certificate (PEM) a client must trust. */
  ca: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  /** Names in the server certificate's subjectAltName (DNS names, then IP addresses). */
  names: string[];
}

/** Which POP3 server serves the maildirs. */
export type Pop3Server = "dovecot" | "node";

export interface MailServers {
  host: "127.0.0.1"; smtpPort: number; pop3Port: number;
  pop3Server: Pop3Server;
  /** With `pop3: "auto"`, why Dovecot could not run here (e.g. "not root"); otherwise null. */
  pop3Fallback: string | null;
  /** The accounts (SMTP AUTH and POP3 log in with `name` and `password`). */
  users: MailUser[];
  /** Mail domain of the default accounts, e.g. 'simmail.test'. */
  domain: string;
  /** This instance's temp dir: dovecot.conf, dovecot.log, users (passwd-file), mail/<name>/Maildir. */
  dir: string;
  /** Raw RFC 5322 messages delivered to a user's maildir (new + cur), oldest first. */
  messages(user: string): Promise<Buffer[]>;
  /** Puts a raw message straight into a user's maildir (for POP3 tests), returns its file name. */
  deliver(user: string, raw: Buffer | string): Promise<string>;
  /** Resolves when `count` messages are in the user's maildir, rejects after timeoutMs. */
  waitForMessages(user: string, count: number, timeoutMs?: number): Promise<Buffer[]>;
  /** SMTP envelope log: {from, to[], size, authUser} per accepted message. */
  envelopes: Envelope[];
  /**
   * With `tls: true`: the test CA and server certificate, SMTP over implicit TLS (`smtpsPort`),
   * SMTP with STARTTLS where AUTH is only offered after it (`smtpStarttlsPort`), POP3 over
   * implicit TLS (`pop3sPort`) and STLS on `pop3Port`. Otherwise null and 0.
   */
  tls: TestPki | null;
  smtpsPort: number;
  smtpStarttlsPort: number;
  pop3sPort: number;
  /** Stops both servers and removes the temp dir; safe to call more than once. */
  stop(): Promise<void>;
}

export interface MailServersOptions {
  /** Defaults: alarm, alice, bob, carol, dave @ domain, password `<name>-secret`. */
  users?: MailUser[];
  /** Default true: MAIL FROM before AUTH (PLAIN or LOGIN, allowed over plain TCP) gets 530. */
  smtpAuthRequired?: boolean;
  /** Default 'simmail.test'. */
  domain?: string;
  /** Default false. True adds the TLS listeners (see MailServers.tls); the plain ones stay as they are. Needs Dovecot. */
  tls?: boolean;
  /**
   * Default "dovecot" (needs root and Dovecot). "node": the Node POP3 server of pop3.ts, which
   * needs neither. "auto": Dovecot where it can run, else the Node one (see `pop3Fallback`).
   */
  pop3?: Pop3Server | "auto";
  /** Fixed ports for the plain SMTP and POP3 listeners; 0 or left out: any free port. A port in use is an error naming it. */
  ports?: { smtp?: number; pop3?: number };
}

const HOST = "127.0.0.1";
/** SIMMAIL_DOVECOT names another binary (scripts/ensure-dovecot.sh reads it too). */
const DOVECOT = process.env.SIMMAIL_DOVECOT || "/usr/sbin/dovecot";
const INSTALL_DOVECOT = "as root: apt-get install dovecot-pop3d, or run scripts/ensure-dovecot.sh";
const OPENSSL = "/usr/bin/openssl";
const DEFAULT_DOMAIN = "simmail.test";
const DEFAULT_USER_NAMES = ["alarm", "alice", "bob", "carol", "dave"];
const SMTP_SIZE_LIMIT = 20 * 1024 * 1024;
const DOVECOT_START_TIMEOUT_MS = 10_000;
const DOVECOT_STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;

const execFileAsync = promisify(execFile);

/** Accounts `<name>@<domain>` with the password `<name><passwordSuffix>`. */
export function mailUsers(names: readonly string[], passwordSuffix = "-secret", domain = DEFAULT_DOMAIN): MailUser[] {
  return names.map((name) => ({ name, password: `${name}${passwordSuffix}`, address: `${name}@${domain}` }));
}

export async function startMailServers(options: MailServersOptions = {}): Promise<MailServers> {
  const domain = options.domain ?? DEFAULT_DOMAIN;
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(domain)) {
    throw new Error(`startMailServers: invalid domain ${JSON.stringify(domain)} (letters, digits, '.' and '-' only)`);
  }
  const users = options.users ?? mailUsers(DEFAULT_USER_NAMES, "-secret", domain);
  validateUsers(users);
  const withTls = options.tls ?? false;
  const choice = options.pop3 ?? "dovecot";
  const problem = choice === "node" ? null : await dovecotProblem();
  if (problem !== null && (choice === "dovecot" || withTls)) {
    throw new Error(`startMailServers: Dovecot${withTls ? " (for TLS)" : ""} cannot run here: ${problem}`);
  }
  if (choice === "node" && withTls) throw new Error("startMailServers: the Node POP3 server has no TLS; TLS needs Dovecot");
  const pop3Server: Pop3Server = choice === "node" || problem !== null ? "node" : "dovecot";
  for (const [name, port] of Object.entries(options.ports ?? {})) {
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error(`startMailServers: the ${name} port must be 0-65535, not ${port}`);
  }
  const servers = new RunningMailServers(users.map((user) => ({ ...user })), domain, options.smtpAuthRequired ?? true, withTls, pop3Server, problem, { smtp: options.ports?.smtp ?? 0, pop3: options.ports?.pop3 ?? 0 });
  try {
    await servers.start();
  } catch (error) {
    await servers.stop();
    throw error;
  }
  return servers;
}

/** Why Dovecot cannot run here, with what to do about it; null when it can. */
export async function dovecotProblem(): Promise<string | null> {
  // Dovecot runs as root with mail_uid=mail, and the maildirs are chowned to mail.
  if (process.getuid?.() !== 0) return "not root (simmail runs its private Dovecot as root)";
  try {
    await fs.access(DOVECOT, fs.constants.X_OK);
  } catch {
    return `${DOVECOT} not found (${INSTALL_DOVECOT})`;
  }
  return null;
}

function validateUsers(users: MailUser[]): void {
  if (users.length === 0) throw new Error("startMailServers: users must not be empty");
  const names = new Set<string>();
  const addresses = new Set<string>();
  for (const user of users) {
    const label = `startMailServers: user ${JSON.stringify(user.name)}`;
    // The name becomes a path component and a passwd-file key, so keep it to a safe alphabet.
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(user.name)) throw new Error(`${label}: name must be letters, digits, '.', '_' or '-'`);
    if (user.password.length === 0 || /[:\r\n\0]/.test(user.password)) {
      throw new Error(`${label}: password must be non-empty without ':', CR, LF or NUL (passwd-file format)`);
    }
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(user.address)) throw new Error(`${label}: invalid address ${JSON.stringify(user.address)}`);
    const name = user.name.toLowerCase();
    const address = user.address.toLowerCase();
    if (names.has(name)) throw new Error(`${label}: duplicate name`);
    if (addresses.has(address)) throw new Error(`${label}: duplicate address ${user.address}`);
    names.add(name);
    addresses.add(address);
  }
}

interface SystemIds { uid: number; gid: number }

async function lookupUser(name: string): Promise<SystemIds | undefined> {
  try {
    const { stdout } = await execFileAsync("getent", ["passwd", name]);
    const fields = stdout.trim().split(":");
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
  } catch {
    return undefined;
  }
}

async function lookupGroupId(name: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync("getent", ["group", name]);
    return Number(stdout.trim().split(":")[2]);
  } catch {
    return undefined;
  }
}

/** The first of `candidates` that exists as a system user (Debian's package creates dovecot and dovenull). */
async function firstExistingUser(role: string, candidates: string[]): Promise<{ name: string } & SystemIds> {
  for (const name of candidates) {
    const ids = await lookupUser(name);
    if (ids) return { name, ...ids };
  }
  throw new Error(`startMailServers: no system user for Dovecot's ${role} (tried ${candidates.join(", ")}); install dovecot-pop3d`);
}

/** A fixed port another program listens on. */
export class PortInUseError extends Error {
  override readonly name: string = "PortInUseError";
  constructor(readonly protocol: "SMTP" | "POP3", readonly port: number) {
    super(`startMailServers: ${protocol} port ${port} on ${HOST} is in use by another program`);
  }
}

/** A loopback port nobody listens on right now (Dovecot binds it itself, so a race is retried). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A fresh CA and a server certificate it signed for `names` (DNS names or IPv4 addresses), as
 * PEM files in `dir` (openssl CLI, P-256 keys: fast). Also used by tests for an untrusted CA.
 */
/** A CA the servers' certificates do not come from (for the "untrusted CA" cases), and a way to remove its files. */
export async function createForeignCa(): Promise<{ ca: string; remove(): Promise<void> }> {
  const dir = await fs.mkdtemp(join(tmpdir(), "simmail-foreign-ca-"));
  const { ca } = await createTestPki(dir, ["mail.simmail.test"], "some other CA");
  return { ca, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export async function createTestPki(dir: string, names: string[], label = "simmail test CA"): Promise<TestPki> {
  const caKey = join(dir, "ca.key");
  const caPath = join(dir, "ca.pem");
  const keyPath = join(dir, "server.key");
  const csrPath = join(dir, "server.csr");
  const certPath = join(dir, "server.pem");
  const extPath = join(dir, "server.ext");
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const subjectAltName = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(",");
  await execFileAsync(OPENSSL, ["req", "-x509", ...key, "-keyout", caKey, "-out", caPath, "-days", "2", "-subj", `/CN=${label}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  await execFileAsync(OPENSSL, ["req", ...key, "-keyout", keyPath, "-out", csrPath, "-subj", `/CN=${names[0]}`]);
  await fs.writeFile(extPath, `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await execFileAsync(OPENSSL, ["x509", "-req", "-in", csrPath, "-CA", caPath, "-CAkey", caKey, "-CAcreateserial",
    "-out", certPath, "-days", "2", "-extfile", extPath]);
  return { ca: await fs.readFile(caPath, "utf8"), caPath, certPath, keyPath, names };
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

// Dovecot masters still running at process exit get SIGTERM so a crashed test run leaves none behind.
const runningDovecots = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackDovecot(child: ChildProcess): void {
  runningDovecots.add(child);
  child.once("exit", () => runningDovecots.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const running of runningDovecots) running.kill("SIGTERM");
    });
  }
}

let deliverySequence = 0;
/** The last maildir stamp handed out, in microseconds since the epoch. */
let lastDeliveryMicros = 0;

/**
 * A maildir stamp later than every earlier one, as Dovecot's own maildir_filename_generate does.
 * Dovecot numbers new messages by the seconds and then the M<microseconds> in their names and
 * only then by comparing the rest as text, where "Q10" sorts before "Q9": two deliveries in the
 * same millisecond (or a clock stepping back) would reach POP3 in another order than messages().
 */
function nextDeliveryMicros(): number {
  lastDeliveryMicros = Math.max(Date.now() * 1000, lastDeliveryMicros + 1);
  return lastDeliveryMicros;
}

class RunningMailServers implements MailServers {
  readonly host = HOST;
  smtpPort = 0;
  pop3Port = 0;
  smtpsPort = 0;
  smtpStarttlsPort = 0;
  pop3sPort = 0;
  tls: TestPki | null = null;
  dir = "";
  readonly envelopes: Envelope[] = [];
  private readonly smtpListeners: SMTPServer[] = [];
  private dovecot: ChildProcess | undefined;
  private dovecotStderr = "";
  private nodePop3: MaildirPop3Server | undefined;
  /** Who owns the maildirs: mail for Dovecot (mail_uid = mail); null leaves them to this process's user. */
  private mailIds: SystemIds | null = null;
  private stopping: Promise<void> | undefined;

  constructor(readonly users: MailUser[], readonly domain: string, private readonly smtpAuthRequired: boolean, private readonly withTls: boolean,
    readonly pop3Server: Pop3Server, readonly pop3Fallback: string | null, private readonly fixedPorts: { smtp: number; pop3: number }) {}

  async start(): Promise<void> {
    if (this.pop3Server === "dovecot") {
      const mailUser = await lookupUser("mail");
      const mailGid = await lookupGroupId("mail");
      if (!mailUser || mailGid === undefined) throw new Error("startMailServers: system user/group 'mail' not found");
      this.mailIds = { uid: mailUser.uid, gid: mailGid };
    }

    this.dir = await fs.mkdtemp(join(tmpdir(), "simmail-servers-"));
    // Paths end up unquoted in dovecot.conf and in mail_location, where '%' would be expanded.
    if (!/^[A-Za-z0-9_./-]+$/.test(this.dir)) {
      throw new Error(`startMailServers: temp dir ${this.dir} has characters Dovecot's config cannot take; set TMPDIR`);
    }
    // Dovecot's unprivileged processes (mail, dovecot, dovenull) must be able to traverse it.
    await fs.chmod(this.dir, 0o711);
    await fs.mkdir(join(this.dir, "mail"), { mode: 0o711 });
    for (const user of this.users) await this.createMaildir(user.name);

    this.smtpPort = await this.startSmtp("plain", this.fixedPorts.smtp);
    if (this.withTls) {
      const pkiDir = join(this.dir, "pki");
      await fs.mkdir(pkiDir, { mode: 0o755 });
      this.tls = await createTestPki(pkiDir, [`mail.${this.domain}`, `smtp.${this.domain}`, `pop3.${this.domain}`, "localhost", HOST]);
      // Dovecot's config process reads the key as root; the login processes get it from there.
      this.smtpsPort = await this.startSmtp("implicit-tls");
      this.smtpStarttlsPort = await this.startSmtp("starttls");
    }
    if (this.pop3Server === "dovecot") await this.startDovecot();
    else await this.startNodePop3();
  }

  private async startNodePop3(): Promise<void> {
    const mailboxes = this.users.map((user) => ({ name: user.name, password: user.password, maildir: this.maildir(user.name) }));
    this.nodePop3 = new MaildirPop3Server(mailboxes, `simmail POP3 (Node) ${randomBytes(6).toString("hex")} ready.`);
    this.pop3Port = await this.nodePop3.listen(HOST, this.fixedPorts.pop3).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EADDRINUSE" ? new PortInUseError("POP3", this.fixedPorts.pop3) : error;
    });
  }

  private async chownToMail(path: string): Promise<void> {
    if (this.mailIds !== null) await fs.chown(path, this.mailIds.uid, this.mailIds.gid);
  }

  private maildir(user: string): string {
    const account = this.users.find((candidate) => candidate.name === user);
    if (!account) {
      throw new Error(`unknown mail user ${JSON.stringify(user)} (users: ${this.users.map((u) => u.name).join(", ")})`);
    }
    return join(this.dir, "mail", account.name, "Maildir");
  }

  private async createMaildir(user: string): Promise<void> {
    const home = join(this.dir, "mail", user);
    const maildir = join(home, "Maildir");
    for (const path of [home, maildir, join(maildir, "new"), join(maildir, "cur"), join(maildir, "tmp")]) {
      await fs.mkdir(path, { mode: 0o700 });
      await this.chownToMail(path);
    }
  }

  async deliver(user: string, raw: Buffer | string): Promise<string> {
    const maildir = this.maildir(user);
    const bytes = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
    const micros = nextDeliveryMicros();
    deliverySequence += 1;
    // Maildir unique name: time, microseconds, pid and a delivery counter (which also orders messages()).
    const name = `${Math.floor(micros / 1_000_000)}.M${micros % 1_000_000}P${process.pid}Q${deliverySequence}.simmail`;
    const temporary = join(maildir, "tmp", name);
    await fs.writeFile(temporary, bytes, { mode: 0o600 });
    await this.chownToMail(temporary);
    await fs.rename(temporary, join(maildir, "new", name));
    return name;
  }

  async messages(user: string): Promise<Buffer[]> {
    const maildir = this.maildir(user);
    // The POP3 server may move a file from new/ to cur/ (or delete it) between readdir and readFile.
    for (let attempt = 1; ; attempt++) {
      try {
        return await readMaildir(maildir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt === 5) throw error;
      }
    }
  }

  async waitForMessages(user: string, count: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.messages(user);
      if (found.length >= count) return found;
      if (Date.now() >= deadline) {
        throw new Error(`waitForMessages: ${user} has ${found.length} message(s), expected ${count} within ${timeoutMs} ms`);
      }
      await delay(20);
    }
  }

  private userByAddress(address: string): MailUser | undefined {
    const wanted = address.toLowerCase();
    return this.users.find((user) => user.address.toLowerCase() === wanted);
  }

  /**
   * "plain": no STARTTLS, AUTH over clear text. "implicit-tls": TLS from the first byte.
   * "starttls": STARTTLS offered, AUTH only after it (smtp-server hides it before).
   */
  private async startSmtp(mode: "plain" | "implicit-tls" | "starttls", port = 0): Promise<number> {
    const pki = mode === "plain" ? null : this.tls!;
    const tlsOptions = pki === null ? {} : { key: await fs.readFile(pki.keyPath), cert: await fs.readFile(pki.certPath) };
    const smtp = new SMTPServer({
      ...tlsOptions,
      secure: mode === "implicit-tls",
      disabledCommands: mode === "plain" ? ["STARTTLS"] : [],
      allowInsecureAuth: mode === "plain",
      authMethods: ["PLAIN", "LOGIN"],
      authOptional: !this.smtpAuthRequired,
      size: SMTP_SIZE_LIMIT,
      banner: "simmail test SMTP",
      logger: false,
      // Don't let a client that keeps its connection open hold up stop().
      closeTimeout: 500,
      onAuth: (auth, _session, callback) => {
        const user = this.users.find((candidate) => candidate.name === auth.username);
        if (!user || user.password !== auth.password) {
          callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
          return;
        }
        callback(null, { user: user.name });
      },
      onRcptTo: (address, _session, callback) => {
        callback(this.userByAddress(address.address) ? null : smtpError(550, `5.1.1 <${address.address}>: no such user here`));
      },
      onData: (stream, session, callback) => this.receive(stream, session, callback),
    });
    // Failed handshakes and dropped clients are the tests' business, not a server crash.
    smtp.on("error", () => {});
    this.smtpListeners.push(smtp);
    return new Promise((resolve, reject) => {
      smtp.server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new PortInUseError("SMTP", port) : error));
      smtp.listen(port, HOST, () => {
        smtp.server.off("error", reject);
        const address = smtp.server.address();
        if (typeof address === "object" && address) resolve(address.port);
        else reject(new Error("startMailServers: the SMTP listener has no port"));
      });
    });
  }

  private receive(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("error", (error) => callback(error));
    stream.once("end", () => {
      if (stream.sizeExceeded) {
        callback(smtpError(552, `5.3.4 Message exceeds the ${SMTP_SIZE_LIMIT}-byte limit`));
        return;
      }
      // Bytes are stored exactly as received (no Return-Path/Delivered-To added): the envelope
      // is in `envelopes`, and what the modem sent is what POP3 hands back.
      const raw = Buffer.concat(chunks);
      const to = session.envelope.rcptTo.map((recipient) => recipient.address);
      const mailboxes = new Set(to.map((address) => this.userByAddress(address)?.name).filter((name) => name !== undefined));
      (async () => {
        for (const user of mailboxes) await this.deliver(user, raw);
      })().then(
        () => {
          const mailFrom = session.envelope.mailFrom;
          const envelope: Envelope = { from: mailFrom ? mailFrom.address : "", to, size: raw.length };
          if (typeof session.user === "string") envelope.authUser = session.user;
          if (session.secure && session.tlsOptions) {
            envelope.tls = { protocol: session.tlsOptions.version, servername: typeof session.servername === "string" ? session.servername : null };
          }
          this.envelopes.push(envelope);
          callback(null, `Delivered to ${mailboxes.size} mailbox(es)`);
        },
        (error: unknown) => callback(smtpError(451, `4.3.0 Delivery failed: ${error instanceof Error ? error.message : String(error)}`)),
      );
    });
  }

  private async startDovecot(): Promise<void> {
    const loginUser = await firstExistingUser("login processes", ["dovenull", "nobody"]);
    const internalUser = await firstExistingUser("internal processes", ["dovecot", "mail"]);
    const usersFile = join(this.dir, "users");
    // passwd-file: name:{PLAIN}password:uid:gid:gecos:home:shell (uid/gid come from mail_uid/mail_gid).
    const lines = this.users.map((user) => `${user.name}:{PLAIN}${user.password}::::${join(this.dir, "mail", user.name)}::\n`);
    await fs.writeFile(usersFile, lines.join(""), { mode: 0o640 });
    // The auth process runs as the internal user and reads the file itself.
    await fs.chown(usersFile, 0, internalUser.gid);

    for (let attempt = 1; ; attempt++) {
      const port = this.fixedPorts.pop3 !== 0 ? this.fixedPorts.pop3 : await freeLoopbackPort();
      const securePort = this.withTls ? await freeLoopbackPort() : 0;
      const greeting = `simmail POP3 ${randomBytes(6).toString("hex")} ready.`;
      await fs.rm(this.dovecotLogPath(), { force: true }); // only this attempt's log explains its failure
      await fs.writeFile(this.dovecotConfigPath(), this.dovecotConfig(port, securePort, greeting, usersFile, loginUser.name, internalUser.name));
      const child = spawn(DOVECOT, ["-F", "-c", this.dovecotConfigPath()], { stdio: ["ignore", "ignore", "pipe"] });
      this.dovecot = child;
      this.dovecotStderr = "";
      child.once("error", (error) => (this.dovecotStderr += `${DOVECOT}: ${error.message}\n`));
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (text: string) => (this.dovecotStderr += text));
      trackDovecot(child);
      try {
        await waitForGreeting(child, port, `+OK ${greeting}`);
        this.pop3Port = port;
        this.pop3sPort = securePort;
        return;
      } catch (error) {
        await this.stopDovecot();
        const output = `${this.dovecotStderr}${await this.dovecotLogTail()}`;
        const inUse = /Address already in use/.test(output);
        if (inUse && this.fixedPorts.pop3 !== 0) throw new PortInUseError("POP3", port);
        if (attempt < PORT_ATTEMPTS && inUse) continue;
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`startMailServers: Dovecot did not start (${reason}).\n${output.trim() || "(no output)"}`);
      }
    }
  }

  private dovecotConfigPath(): string {
    return join(this.dir, "dovecot.conf");
  }

  private dovecotLogPath(): string {
    return join(this.dir, "dovecot.log");
  }

  private async dovecotLogTail(): Promise<string> {
    try {
      const log = await fs.readFile(this.dovecotLogPath(), "utf8");
      return log.split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  }

  private dovecotConfig(port: number, securePort: number, greeting: string, usersFile: string, loginUser: string, internalUser: string): string {
    const pki = this.tls;
    // With TLS: STLS on the plain listener (clear-text logins stay allowed there, as before) and
    // a pop3s listener; TLS 1.2 at least, like the SMTP listeners (Node's default minimum).
    const ssl = pki === null ? "ssl = no" : `ssl = yes
ssl_cert = <${pki.certPath}
ssl_key = <${pki.keyPath}
ssl_min_protocol = TLSv1.2`;
    const pop3s = pki === null ? "" : `
  inet_listener pop3s {
    address = ${HOST}
    port = ${securePort}
    ssl = yes
  }`;
    const dir = this.dir;
    // chroot needs CAP_SYS_CHROOT, which containers often lack, so no service chroots.
    const unchrooted = ["pop3-login", "anvil", "ipc", "old-stats", "aggregator", "director"]
      .map((service) => `service ${service} {\n  chroot =\n}\n`)
      .join("");
    return `# Generated by sim/servers for one test instance; no system config is read.
protocols = pop3
listen = ${HOST}
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = simmail-${randomBytes(4).toString("hex")}
log_path = ${this.dovecotLogPath()}
${ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Tests fail logins on purpose: the 2 s failure delay becomes Dovecot's 0.5 s minimum, and the
# per-IP penalty (anvil-auth-penalty, disabled below) would otherwise grow up to 15 s.
auth_failure_delay = 0
login_greeting = ${greeting}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = mail
mail_gid = mail
default_login_user = ${loginUser}
default_internal_user = ${internalUser}
mail_location = maildir:${dir}/mail/%u/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${usersFile}
}
service pop3-login {
  inet_listener pop3 {
    address = ${HOST}
    port = ${port}
  }${pop3s}
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${unchrooted}`;
  }

  private async stopDovecot(): Promise<void> {
    const child = this.dovecot;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // SIGTERM lets the master stop and reap its children (it waits about a second for its log
    // process); SIGKILL is only the fallback for a master that hangs.
    const forceKill = setTimeout(() => child.kill("SIGKILL"), DOVECOT_STOP_TIMEOUT_MS);
    child.kill("SIGTERM");
    await exited;
    clearTimeout(forceKill);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.smtpListeners.map((smtp) => new Promise<void>((resolve) => smtp.close(() => resolve()))));
      await this.nodePop3?.close();
      await this.stopDovecot();
      if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

/** The messages in a maildir's new/ and cur/, in delivery order. */
async function readMaildir(maildir: string): Promise<Buffer[]> {
  return Promise.all((await maildirFiles(maildir)).map((path) => fs.readFile(path)));
}

/** Resolves once `port` answers with this instance's own greeting (not some other listener's). */
async function waitForGreeting(child: ChildProcess, port: number, expected: string): Promise<void> {
  const deadline = Date.now() + DOVECOT_START_TIMEOUT_MS;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dovecot exited with ${child.exitCode ?? child.signalCode}`);
    }
    const line = await readFirstLine(port).catch((error: Error) => {
      lastProblem = error.message;
      return undefined;
    });
    if (line === expected) return;
    if (line !== undefined) lastProblem = `port ${port} answered ${JSON.stringify(line)}`;
    await delay(25);
  }
  throw new Error(`no POP3 greeting on ${HOST}:${port} within ${DOVECOT_START_TIMEOUT_MS} ms: ${lastProblem}`);
}

function readFirstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, HOST);
    let received = "";
    socket.setEncoding("latin1");
    socket.setTimeout(2000, () => socket.destroy(new Error("greeting timed out")));
    socket.on("data", (text: string) => {
      received += text;
      const end = received.indexOf("\r\n");
      if (end >= 0) {
        socket.end("QUIT\r\n");
        resolve(received.slice(0, end));
      }
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("connection closed before a greeting")));
  });
}
