// A simulated SIMCom SIM7000 (or, with dialect "classic", an older SIMCom module with the
// application note's email commands) that answers AT commands byte for byte as the spec shows
// and does real SMTP/POP3 work behind them. Transport-agnostic: bytes from the host go in
// through `receive()`, bytes toward the host leave through `send`. See README.md.

import type { ModemSerial } from "./serial.ts";
import { RealClock, type Scheduler, type TimerHandle } from "../scheduler.ts";
import { seededRandom } from "../random.ts";
import { AtParamError, AtSyntaxError, locateCommand, Params, parseCommand, type AtCommand } from "./at-parser.ts";
import { SPEC_SESSIONS, type AbandonedSessionTimes } from "./abandoned-sessions.ts";
import { ClassicEmail, type MessageParser } from "./classic-email.ts";
import { SimFileSystem, type FileSystemOptions } from "./file-system.ts";
import { SimNetwork, type Connector, type ServerFault } from "./network.ts";
import { Sim7000Email } from "./sim7000-email.ts";
import { FieldBehaviour, fieldOptions, fieldProfile, type FieldProfile } from "./field.ts";
import { DEFAULT_LIMITS as MODEM_LIMITS, type EmailLimits } from "../../src/modem/limits.ts";
import { concatBytes, latin1Bytes, latin1Text } from "./bytes.ts";

export type Dialect = "sim7000" | "classic";

/**
 * String lengths and ranges the test commands report and the write commands enforce: the
 * SIM7000's, as the firmware knows them (src/modem/limits.ts), and the simulator's own two.
 */
export interface SimLimits extends Omit<EmailLimits, "cid" | "timeout" | "recipientIndex"> {
  /** Recipients per type (To, Cc, Bcc): indexes 0..n-1. */
  recipientsPerType: number;
  /** Longest command line (bytes before CR); longer lines get ERROR. */
  commandLine: number;
}

// cid and timeout ranges are the commands' own business; the index range becomes a count.
const { cid: _cid, timeout: _timeout, recipientIndex, ...lengths } = MODEM_LIMITS;

export const DEFAULT_LIMITS: SimLimits = {
  ...lengths,
  recipientsPerType: recipientIndex[1] + 1,
  commandLine: 1024,
};

/** Things the spec's transcripts show that a tidier modem would print differently. */
export interface SimQuirks {
  /** `+POP3UIDL: 1,<n>,` then the UID on the next line (spec 5.7). Default true. */
  uidlOnNextLine: boolean;
  /** The negative RSET answer spelled `+POP3REST: 0` (spec 3.2.21). Default true. */
  rsetNegativeSpelling: boolean;
  /** `+SAPBR:1,1,"10.89.193.1"` without a space after the colon (spec 4.1). Default true. */
  sapbrQueryNoSpace: boolean;
  /** Classic POP3NUM as the app note prints it: `+POP3: 2 2134`, but `+POP3: 0, 0` when empty. Default true. */
  classicNumAsAppNote: boolean;
  /**
   * Classic: the URC for a session that fails after `+SMTP: OK` without a more specific
   * reason (timeout, dropped connection, unexpected reply). The app note's table lists this
   * case under "AUTH REQUIRED", evidently a typo. Default "SERVER ERROR".
   */
  classicSessionFailure: "SERVER ERROR" | "AUTH REQUIRED";
  /**
   * Classic: a failure result given with the command's answer (`+SMTP: NETWORK ERROR`,
   * `+POP3: INVALID UN/PWD`) is followed by ERROR rather than OK, as on some firmwares (the
   * note shows only successes). Default false.
   */
  classicFailureError: boolean;
}

export const DEFAULT_QUIRKS: SimQuirks = {
  uidlOnNextLine: true,
  rsetNegativeSpelling: true,
  sapbrQueryNoSpace: true,
  classicNumAsAppNote: true,
  classicSessionFailure: "SERVER ERROR",
  classicFailureError: false,
};

export interface SimNetworkState {
  /** Packet service attached (AT+CGATT?). */
  attached: boolean;
  /** The auto-activated default PDN, used by email with AT+EMAILCID=0. */
  pdnActive: boolean;
  /** AT+CSQ values. */
  rssi: number;
  ber: number;
  /** AT+COPS? operator (numeric form) and access technology (9 = NB-IoT, 7 = LTE-M). */
  operator: string;
  accessTechnology: number;
}

export type FaultAction =
  | "reset"
  | "drop-bearer"
  | "normal-power-down"
  | "under-voltage-power-down"
  | "under-voltage-warning"
  | "under-voltage-warning-power-down"
  | "silent-power-down";

/**
 * A fault at a chosen point: before the modem acts on a command line that starts with
 * `command` (case-insensitive), or right after it emits a URC that starts with `urc`;
 * on the `occurrence`-th match (default 1), once.
 */
export interface FaultTrigger {
  command?: string;
  urc?: string;
  occurrence?: number;
  action: FaultAction;
  /** Bearer profile for "drop-bearer". Default 1. */
  cid?: number;
}

export interface SimFaults {
  triggers: FaultTrigger[];
  /** How the mail servers misbehave for connections opened from now on. */
  server: ServerFault | null;
  /** Seeded damage to every byte toward the host. Rates are probabilities per byte. */
  outputNoise: { seed: number; dropRate?: number; corruptRate?: number; insertRate?: number } | null;
  /** Every URC is sent twice. */
  duplicateUrcs: boolean;
  /** After this many AT+SMTPFT chunks, `+SMTPFT: 1,<maxLength>` reports the smaller maxLength. */
  ftShrink: { afterChunks: number; maxLength: number } | null;
  /** `+SMTPFT: 2,<cnf>` confirms at most this many bytes, whatever was requested. */
  ftConfirmLimit: number | null;
  /**
   * "full": working email. "absent": every email command answers ERROR (a firmware without
   * them). "broken": every email command, any form, answers `+SMTPSEND: 65` then OK.
   * "send-fails": commands work but every AT+SMTPSEND ends `+SMTPSEND: 65` and every
   * AT+POP3IN `+POP3IN: 65` without contacting a server.
   */
  emailSupport: "full" | "absent" | "broken" | "send-fails";
  /** Forces the `+CNTP: <code>` result (e.g. 61 or 65). */
  ntpResult: number | null;
  /**
   * Echo stays on whatever ATE0 says, and each command's echo comes late: just before the
   * output that answers the next command (seen on modems after a wake, and as an echo arriving
   * after its command timed out).
   */
  lateEcho: boolean;
  /** A lying server: AT+POP3LIST reports each size divided by this (1: the truth). */
  listSizeDivisor: number;
}

export interface SmtpOptions {
  /** The `<maxLength>` of `+SMTPFT: 1,<maxLength>`. Default 1360 (spec 5.3). */
  ftMaxLength: number;
  /**
   * For `<encodeType>` 1 (base64): "host" (default) the host sends base64 text and the modem
   * passes it on (refolded into 76-character lines); "modem" the host sends raw bytes and the
   * modem encodes them.
   */
  attachmentEncoding: "host" | "modem";
}

export interface Pop3Options {
  /** Whether POP3READ data starts with the server's "+OK ..." status line. Default false. */
  statusLine: boolean;
  /** An extra CRLF between the POP3READ data and `\r\nOK\r\n`. Default false. */
  readExtraCrlf: boolean;
  /** Release server data to POP3READ at most `bytes` per `intervalMs` (modem clock). Default: as it arrives. */
  trickle: { bytes: number; intervalMs: number } | null;
  /** The modem's read buffer; the server is paused while it is full. Default 16384. */
  bufferBytes: number;
  /** `+POP3READ: 3,<n>` is repeated this often while unread data waits. Default 5000 ms. */
  reminderMs: number;
  /** With data unread this long, the modem quits the session: `+POP3OUT: 69`. Default 60000 ms. */
  abandonMs: number;
}

export interface SimTlsOptions {
  /**
   * Whether the firmware has AT+EMAILSSL and AT+CSSLCFG (as SIM7080 and SIM800 firmwares do).
   * Default false: a plain SIM7000 firmware answers them ERROR. sim7000 dialect only.
   */
  commands: boolean;
  /** The CA certificates (PEM) the modem trusts, as if loaded with AT+CSSLCFG="convert". Default none. */
  ca: string[];
}

export interface BootLine {
  delayMs: number;
  text: string;
}

export interface SimOptions {
  /** Bytes toward the host. Can be set later with `attach()` or `setSink()`. */
  send?: (bytes: Uint8Array) => void;
  /** Clock of everything the host sees (boot URCs, bearer delays, POP3READ reminders). Default real time. */
  scheduler?: Scheduler;
  dialect?: Dialect;
  /** Name → IPv4 address. IPv4 literals always work; other names get the DNS error. */
  hosts?: Record<string, string>;
  /** Echo after power-on (ATE1 is the SIM7000's default). Default true. */
  echo?: boolean;
  /** Autobauding: input is ignored until an "AT" arrives, and that line is not answered. Default false. */
  autobaud?: boolean;
  /** "AT"s swallowed by autobauding before the modem answers. Default 1. */
  autobaudSyncs?: number;
  /** The fixed rate AT+IPR? reports when not autobauding. Default 115200. */
  baud?: number;
  limits?: Partial<SimLimits>;
  quirks?: Partial<SimQuirks>;
  identity?: Partial<{ manufacturer: string; model: string; revision: string; imei: string; productLine: string }>;
  network?: Partial<SimNetworkState>;
  battery?: { charging?: number; percent?: number; millivolts?: number };
  /** The modem clock at power-on (UTC ms) and its time zone. Default 1980-01-06 00:00:00, zone 0. */
  clock?: { startMs?: number; timezoneQuarters?: number };
  /** What AT+CNTP sets the clock to (UTC ms). Default the host's clock. */
  networkTime?: () => number;
  /** AT+CNTP: time until `+CNTP: ...`. Default 1000 ms. */
  ntpDelayMs?: number;
  /** AT+SAPBR=1/0: time until OK. Default 500 ms. */
  bearerDelayMs?: number;
  /** What the modem prints after power-on and resets. Default RDY, +CFUN: 1, +CPIN: READY, SMS Ready. */
  bootSequence?: BootLine[];
  smtp?: Partial<SmtpOptions>;
  pop3?: Partial<Pop3Options>;
  tls?: Partial<SimTlsOptions>;
  /** Multiplies server timeouts (EMAILTO, the classic 30 s): tests use e.g. 0.01. Default 1. */
  timeoutScale?: number;
  /** Clock of server timeouts. Default real time (the servers are real). */
  networkClock?: Scheduler;
  fileSystem?: FileSystemOptions;
  /** How long a session the host abandoned lives (abandoned-sessions.ts). Default SPEC_SESSIONS: for ever. */
  abandonedSessions?: Partial<AbandonedSessionTimes>;
  faults?: Partial<SimFaults>;
  /** Called after AT+IPR=<rate> was answered (a pty or UART can follow). */
  onBaudChange?: (baud: number) => void;
  /** Debug log: commands, URCs, network dialogue. */
  trace?: (text: string) => void;
  /** Behave like modems in the field (./field.ts, docs/FIELD.md): true for the whole profile, or its entries changed. */
  field?: boolean | Partial<FieldProfile>;
}

/** What the simulator needs of the platform it runs on (node-modem.ts gives Node's). */
export interface SimPlatform {
  /** Where the network's bytes go: real sockets under Node, in-memory servers under XS. */
  connector: Connector;
  /** The classic dialect's MIME parser (for POP3GET); null where only the SIM7000 dialect runs. */
  parseMessage: MessageParser | null;
}

const DEFAULT_BOOT: BootLine[] = [
  { delayMs: 0, text: "RDY" },
  { delayMs: 400, text: "+CFUN: 1" },
  { delayMs: 400, text: "+CPIN: READY" },
  { delayMs: 2000, text: "SMS Ready" },
];

/** 1980-01-06 00:00:00 UTC: where a SIM7000's clock starts before network time. */
export const MODEM_EPOCH_MS = Date.UTC(1980, 0, 6);

const SUPPORTED_RATES = [0, 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 921600, 2000000, 2900000, 3000000, 3200000, 3684000, 4000000];

const CRLF = "\r\n";

/** `\r\nOK\r\n`, or info lines then OK: `\r\n+X: a\r\n+X: b\r\n\r\nOK\r\n`. */
export function okResponse(...info: string[]): string {
  return info.length === 0 ? `${CRLF}OK${CRLF}` : `${CRLF}${info.join(CRLF)}${CRLF}${CRLF}OK${CRLF}`;
}

export const ERROR_RESPONSE = `${CRLF}ERROR${CRLF}`;

/** A string in AT output: `"text"`. */
export function quoted(text: string): string {
  return `"${text}"`;
}

/** The `AT+SMTPRCPT?` answer lines, by type then index (both dialects list them alike). */
export function recipientListing(recipients: ReadonlyArray<ReadonlyMap<number, { address: string; name: string }>>): string[] {
  const lines: string[] = [];
  recipients.forEach((list, type) => {
    for (const index of [...list.keys()].sort((a, b) => a - b)) {
      const r = list.get(index)!;
      lines.push(`+SMTPRCPT: ${type},${index},${quoted(r.address)},${quoted(r.name)}`);
    }
  });
  return lines;
}

/** What an email dialect sees of the modem; everything it emits is dropped after a reset. */
export class ModemPort {
  private readonly modem: SimModem;
  readonly epoch: number;

  constructor(modem: SimModem, epoch: number) {
    this.modem = modem;
    this.epoch = epoch;
  }

  get alive(): boolean {
    return this.modem.currentEpoch === this.epoch && this.modem.powered;
  }

  get options(): ResolvedOptions {
    return this.modem.options;
  }

  get faults(): SimFaults {
    return this.modem.faults;
  }

  get network(): SimNetwork {
    return this.modem.network;
  }

  get fs(): SimFileSystem {
    return this.modem.fs;
  }

  /** Final response of the command being executed (info lines and OK/ERROR). */
  reply(text: string): void {
    if (this.alive) this.modem.finishCommand(text);
  }

  /** Bytes in the middle of a command's response (e.g. `DOWNLOAD`), the command goes on. */
  write(text: string | Uint8Array): void {
    const field = this.modem.field;
    if (this.alive) this.modem.emit(typeof text === "string" ? latin1Bytes(field === null ? text : field.prompt(text)) : text);
  }

  urc(text: string): void {
    if (this.alive) this.modem.emitUrc(text);
  }

  /** The next `length` bytes from the host are data for `done` (no echo). */
  expectData(length: number, done: (data: Uint8Array) => void): void {
    if (this.alive) this.modem.startDataPhase(length, done);
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    return this.modem.bootTimer(() => {
      if (this.alive) callback();
    }, ms);
  }

  clearTimer(handle: TimerHandle): void {
    this.modem.cancelBootTimer(handle);
  }

  bearerUp(cid: number): boolean {
    return this.modem.bearerUp(cid);
  }

  bearerIp(cid: number): string {
    return this.modem.bearerIp(cid);
  }

  /** Classic dialect: the socket PDP context (AT+CGSOCKCONT=1,...) is configured. */
  socketContextReady(): boolean {
    return this.modem.socketContextConfigured();
  }

  /** The modem clock: UTC ms and zone in quarter hours. */
  clock(): { epochMs: number; timezoneQuarters: number } {
    return this.modem.clockNow();
  }

  get imei(): string {
    return this.modem.options.identity.imei;
  }

  /**
   * Counts `job` (a session step that waits on servers or other real-time work) as network
   * activity until it settles, so virtual-time drivers wait for it.
   */
  track(job: Promise<unknown>): void {
    const activity = this.modem.network.activity;
    activity.begin();
    job.then(
      () => activity.end(),
      (error: unknown) => {
        activity.end();
        throw error;
      },
    );
  }

  /** Server timeout in ms for `seconds` of modem time (scaled for tests). */
  timeoutMs(seconds: number): number {
    return this.modem.network.timeoutMs(seconds);
  }

  trace(text: string): void {
    this.modem.options.trace(text);
  }

}

/** A dialect's email commands. */
export interface EmailDialect {
  /** Executes the command if it is one of this dialect's; false if not. */
  handle(command: AtCommand, params: Params): boolean;
  /** The command must be refused now (sim7000: unread POP3 data holds the line). */
  blocks(command: AtCommand): boolean;
  /** A bearer profile (0 = default PDN) went down: its sessions fail. */
  bearerLost(cid: number): void;
  /** Drops everything silently (reset, power down, close). */
  shutdown(): void;
  /** Something waits on a server (for virtual-time drivers). */
  readonly networkBusy: boolean;
}

export interface ResolvedOptions {
  dialect: Dialect;
  echo: boolean;
  autobaud: boolean;
  autobaudSyncs: number;
  baud: number;
  limits: SimLimits;
  quirks: SimQuirks;
  identity: { manufacturer: string; model: string; revision: string; imei: string; productLine: string };
  battery: { charging: number; percent: number; millivolts: number };
  clockStartMs: number;
  timezoneQuarters: number;
  networkTime: () => number;
  ntpDelayMs: number;
  bearerDelayMs: number;
  bootSequence: BootLine[];
  smtp: SmtpOptions;
  pop3: Pop3Options;
  tls: SimTlsOptions;
  abandonedSessions: AbandonedSessionTimes;
  onBaudChange: (baud: number) => void;
  trace: (text: string) => void;
}

interface BearerProfile {
  status: 1 | 3;
  ip: string;
  params: { CONTYPE: string; APN: string; USER: string; PWD: string; PHONENUM: string; RATE: string };
}

function newProfile(): BearerProfile {
  return { status: 3, ip: "0.0.0.0", params: { CONTYPE: "GPRS", APN: "", USER: "", PWD: "", PHONENUM: "", RATE: "2" } };
}

/** Everything that a reset forgets. */
interface BootState {
  echo: boolean;
  autobaudLocked: boolean;
  autobaudSeen: number;
  ipr: number;
  cfun: number;
  profiles: BearerProfile[];
  pdpContexts: Map<number, { type: string; apn: string }>;
  ntpServer: string;
  ntpZone: number;
  ntpCid: number;
}

function resolveOptions(options: SimOptions): ResolvedOptions {
  const dialect = options.dialect ?? "sim7000";
  if (dialect !== "sim7000" && dialect !== "classic") throw new RangeError(`dialect must be "sim7000" or "classic", not "${String(dialect)}"`);
  const limits = { ...DEFAULT_LIMITS, ...(dialect === "classic" ? { commandLine: 5300 } : {}), ...options.limits };
  const smtp = { ftMaxLength: 1360, attachmentEncoding: "host" as const, ...options.smtp };
  if (!Number.isInteger(smtp.ftMaxLength) || smtp.ftMaxLength < 1) throw new RangeError(`smtp.ftMaxLength must be a positive integer, not ${smtp.ftMaxLength}`);
  if (smtp.attachmentEncoding !== "host" && smtp.attachmentEncoding !== "modem") throw new RangeError(`smtp.attachmentEncoding must be "host" or "modem"`);
  const pop3 = { statusLine: false, readExtraCrlf: false, trickle: null, bufferBytes: 16384, reminderMs: 5000, abandonMs: 60_000, ...options.pop3 };
  if (pop3.trickle !== null && !(pop3.trickle.bytes > 0 && pop3.trickle.intervalMs > 0)) throw new RangeError("pop3.trickle needs bytes > 0 and intervalMs > 0");
  const tls = { commands: false, ca: [], ...options.tls };
  if (tls.commands && dialect !== "sim7000") throw new RangeError("tls.commands: the classic dialect has no TLS commands");
  const baud = options.baud ?? 115200;
  if (!SUPPORTED_RATES.includes(baud) || baud === 0) throw new RangeError(`baud ${baud} is not a SIM7000 rate (${SUPPORTED_RATES.slice(1).join(", ")})`);
  return {
    dialect,
    echo: options.echo ?? true,
    autobaud: options.autobaud ?? false,
    autobaudSyncs: options.autobaudSyncs ?? 1,
    baud,
    limits,
    quirks: { ...DEFAULT_QUIRKS, ...options.quirks },
    identity: {
      manufacturer: "SIMCOM INC.",
      model: dialect === "classic" ? "SIMCOM_SIM5320E" : "SIMCOM_SIM7000G",
      productLine: dialect === "classic" ? "SIM5320E" : "SIM7000G R1529",
      revision: dialect === "classic" ? "SIM5320E_V1.5" : "1529B04SIM7000G",
      imei: "869951030000000",
      ...options.identity,
    },
    battery: { charging: 0, percent: 80, millivolts: 4000, ...options.battery },
    clockStartMs: options.clock?.startMs ?? MODEM_EPOCH_MS,
    timezoneQuarters: options.clock?.timezoneQuarters ?? 0,
    networkTime: options.networkTime ?? (() => Date.now()),
    ntpDelayMs: options.ntpDelayMs ?? 1000,
    bearerDelayMs: options.bearerDelayMs ?? 500,
    bootSequence: options.bootSequence ?? DEFAULT_BOOT,
    smtp,
    pop3,
    tls,
    abandonedSessions: { ...SPEC_SESSIONS, ...options.abandonedSessions },
    onBaudChange: options.onBaudChange ?? (() => {}),
    trace: options.trace ?? (() => {}),
  };
}

const EMAIL_COMMAND = /^\+(SMTP|POP3|EMAIL)/;

export class SimModem {
  readonly options: ResolvedOptions;
  readonly dialect: Dialect;
  readonly fs: SimFileSystem;
  readonly network: SimNetwork;
  faults: SimFaults;
  scheduler: Scheduler;
  networkState: SimNetworkState;

  private readonly schedulerGiven: boolean;
  private sink: ((bytes: Uint8Array) => void) | null;
  private detach: (() => void) | null = null;
  private epoch = 0;
  private on = false;
  private readonly timers = new Set<TimerHandle>();
  private state!: BootState;
  private email: EmailDialect | null = null;

  // Input: queued chunks, the command line being typed, a data phase in progress.
  private readonly inputQueue: Uint8Array[] = [];
  private inputOffset = 0;
  private lineBytes: number[] = [];
  private lineOverflow = false;
  private swallowLine = false;
  private previousByte = -1;
  /** The boot under way follows a reset, not a power-on. */
  private afterReset = false;
  private executing = false;
  private pumping = false;
  private dataPhase: { remaining: number; parts: Uint8Array[]; done: (data: Uint8Array) => void } | null = null;
  private echoBuffer: number[] = [];
  /** With the lateEcho fault: the last command's echo, sent before the next command's output. */
  private heldEcho: number[] = [];

  // Clock: UTC ms at `clockTick` on the scheduler.
  private clockBase = 0;
  private clockTick = 0;
  private timezone = 0;

  private readonly triggerCounts = new Map<FaultTrigger, number>();
  /** The field profile's hooks, or null (the spec's modem). */
  readonly field: FieldBehaviour | null;
  /** The command line being executed (for the field profile's replies). */
  private commandText = "";
  private noise: { random: () => number; seed: number } | null = null;
  private readonly parseMessage: MessageParser | null;

  constructor(given: SimOptions, platform: SimPlatform) {
    const profile = given.field === undefined || given.field === false ? null : fieldProfile(given.field === true ? {} : given.field);
    const fromField = profile === null ? null : fieldOptions(profile);
    const options: SimOptions = fromField === null ? given : {
      ...fromField, ...given,
      quirks: { ...fromField.quirks, ...given.quirks },
      network: { ...fromField.network, ...given.network },
      faults: { ...fromField.faults, ...given.faults },
    };
    this.options = resolveOptions(options);
    this.field = profile === null ? null : new FieldBehaviour(profile, {
      now: () => this.scheduler.now(),
      setEcho: (on) => (this.state.echo = on),
      get echo() {
        return modem.state.echo;
      },
    });
    const modem = this;
    this.dialect = this.options.dialect;
    if (this.dialect === "classic" && platform.parseMessage === null) throw new RangeError('dialect "classic" needs a MIME parser (SimPlatform.parseMessage), which this platform lacks');
    this.parseMessage = platform.parseMessage;
    this.sink = options.send ?? null;
    this.schedulerGiven = options.scheduler !== undefined;
    this.scheduler = options.scheduler ?? new RealClock();
    this.fs = new SimFileSystem(options.fileSystem);
    this.network = new SimNetwork({ connector: platform.connector, hosts: options.hosts ?? {}, clock: options.networkClock, timeoutScale: options.timeoutScale, trace: this.options.trace });
    this.networkState = { attached: true, pdnActive: true, rssi: 27, ber: 99, operator: "460 01", accessTechnology: 9, ...options.network };
    this.faults = {
      triggers: [],
      server: null,
      outputNoise: null,
      duplicateUrcs: false,
      lateEcho: false,
      listSizeDivisor: 1,
      ftShrink: null,
      ftConfirmLimit: null,
      emailSupport: "full",
      ntpResult: null,
    };
    this.setFaults(options.faults ?? {});
  }

  // ---- wiring -------------------------------------------------------------------------------

  /** Where bytes toward the host go. */
  setSink(send: (bytes: Uint8Array) => void): void {
    this.sink = send;
  }

  /**
   * Connects to the modem end of a kit UART (`createUartPair().modem`). Without an explicit
   * `scheduler` option the simulator adopts the UART's.
   */
  attach(serial: ModemSerial): void {
    if (!this.schedulerGiven && !this.on) this.scheduler = serial.scheduler;
    serial.onData = (bytes) => this.receive(bytes);
    this.sink = (bytes) => serial.write(bytes);
    this.detach = () => {
      if (serial.onData !== null) serial.onData = null;
    };
  }

  /** Powers off without a word, closes connections and detaches. */
  close(): void {
    this.switchOff();
    this.detach?.();
    this.detach = null;
    this.sink = null;
  }

  get powered(): boolean {
    return this.on;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** True while the simulator waits on a server (a virtual-time driver should let real time pass). */
  get networkBusy(): boolean {
    return this.network.activity.count > 0 || (this.email?.networkBusy ?? false);
  }

  /** Resolves once nothing waits on a server (immediately if nothing does). */
  async networkSettled(): Promise<void> {
    while (this.networkBusy) {
      if (this.network.activity.count > 0) await this.network.activity.idle();
      else await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Changes fault settings at run time (only the given fields). */
  setFaults(faults: Partial<SimFaults>): void {
    Object.assign(this.faults, faults);
    if (faults.triggers !== undefined) {
      this.triggerCounts.clear();
      for (const trigger of faults.triggers) {
        if ((trigger.command === undefined) === (trigger.urc === undefined)) throw new RangeError("a fault trigger needs exactly one of command or urc");
      }
    }
    if (faults.server !== undefined) this.network.fault = faults.server;
    if (faults.outputNoise !== undefined) {
      const noise = faults.outputNoise;
      this.noise = noise === null ? null : { random: seededRandom(noise.seed), seed: noise.seed };
    }
  }

  /** Changes the network the modem sees (attach, default PDN, signal). */
  setNetwork(change: Partial<SimNetworkState>): void {
    const wasAttached = this.networkState.attached;
    const pdnWasUp = this.bearerUp(0);
    Object.assign(this.networkState, change);
    if (!this.on) return;
    if (wasAttached && !this.networkState.attached) this.detachAll();
    if (pdnWasUp && !this.bearerUp(0)) this.email?.bearerLost(0);
  }

  // ---- power --------------------------------------------------------------------------------

  /**
   * Switches the modem on: the boot lines follow (RDY first, at once). `quiet`: the modem
   * has been on for a while, nothing is printed (a host that opens the port late).
   */
  powerOn(options: { quiet?: boolean } = {}): void {
    if (this.on) return;
    this.on = true;
    this.clockBase = this.options.clockStartMs;
    this.clockTick = this.scheduler.now();
    this.timezone = this.options.timezoneQuarters;
    this.boot(options.quiet ?? false, true);
  }

  /** Restarts as after a crash or AT+CFUN=1,1: state forgotten, echo back on, boot lines printed. */
  reset(): void {
    if (!this.on) return;
    this.options.trace("modem reset");
    this.endBoot();
    this.boot(false, false);
  }

  /** Prints the power-down text and goes silent until `powerOn()`. */
  powerDown(kind: "normal" | "under-voltage" | "under-voltage-warning" | "urgent" = "normal"): void {
    if (!this.on) return;
    if (kind === "normal") this.emit(latin1Bytes(`${CRLF}NORMAL POWER DOWN${CRLF}`));
    if (kind === "under-voltage") this.emit(latin1Bytes(`${CRLF}UNDER-VOLTAGE POWER DOWN${CRLF}`));
    // SIMCom's spelling, with free text after it on some firmwares.
    if (kind === "under-voltage-warning") this.emit(latin1Bytes(`${CRLF}UNDER-VOLTAGE WARNNING POWER DOWN, VBAT 3.28V${CRLF}`));
    this.switchOff();
  }

  private switchOff(): void {
    if (!this.on) return;
    this.endBoot();
    this.on = false;
  }

  private boot(quiet: boolean, powerOn: boolean): void {
    this.epoch++;
    this.afterReset = !powerOn;
    this.state = {
      echo: this.options.echo,
      autobaudLocked: !this.options.autobaud,
      autobaudSeen: 0,
      ipr: this.options.autobaud ? 0 : this.options.baud,
      cfun: 1,
      profiles: [newProfile(), newProfile(), newProfile()],
      pdpContexts: new Map(),
      ntpServer: "",
      ntpZone: 0,
      ntpCid: 1,
    };
    const port = new ModemPort(this, this.epoch);
    this.email = this.dialect === "classic" ? new ClassicEmail(port, this.parseMessage!) : new Sim7000Email(port);
    if (quiet) {
      if (this.field !== null) this.state.autobaudLocked = true; // long up: it found the rate long ago
      return;
    }
    const noise = this.field?.booting(powerOn) ?? null;
    if (noise !== null) this.deliver(noise);
    // A field modem in autobaud mode prints its boot lines once it has found the rate.
    if (this.field === null) this.printBootLines();
  }

  private printBootLines(): void {
    for (const line of this.options.bootSequence) {
      if (line.delayMs === 0) this.emitUrc(line.text);
      else this.bootTimer(() => this.emitUrc(line.text), line.delayMs);
    }
  }

  /** Forgets the running boot: timers, sessions, input, half-typed lines. */
  private endBoot(): void {
    for (const handle of this.timers) this.scheduler.clearTimer(handle);
    this.timers.clear();
    this.email?.shutdown();
    this.email = null;
    this.network.closeAll();
    this.inputQueue.length = 0;
    this.inputOffset = 0;
    this.lineBytes = [];
    this.lineOverflow = false;
    this.swallowLine = false;
    this.previousByte = -1;
    this.executing = false;
    this.dataPhase = null;
    this.echoBuffer = [];
    this.epoch++;
  }

  /** A timer that a reset or power down cancels. */
  bootTimer(callback: () => void, ms: number): TimerHandle {
    const handle = this.scheduler.setTimer(() => {
      this.timers.delete(handle);
      callback();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  cancelBootTimer(handle: TimerHandle): void {
    this.scheduler.clearTimer(handle);
    this.timers.delete(handle);
  }

  // ---- faults -------------------------------------------------------------------------------

  /** The network releases bearer profile `cid` (1-3): `+SAPBR <cid>: DEACT`, its sessions fail with 61. */
  dropBearer(cid = 1): void {
    if (!Number.isInteger(cid) || cid < 1 || cid > 3) throw new RangeError(`bearer profile ${cid} is not 1-3 (use setNetwork({ pdnActive: false }) for the default PDN)`);
    if (!this.on) return;
    const profile = this.state.profiles[cid - 1];
    if (profile.status === 1) {
      profile.status = 3;
      profile.ip = "0.0.0.0";
      this.emitUrc(`+SAPBR ${cid}: DEACT`);
    }
    this.email?.bearerLost(cid);
  }

  private detachAll(): void {
    for (let cid = 1; cid <= 3; cid++) this.dropBearer(cid);
    this.email?.bearerLost(0);
  }

  private runFault(trigger: FaultTrigger): void {
    this.options.trace(`fault: ${trigger.action}`);
    switch (trigger.action) {
      case "reset":
        this.reset();
        break;
      case "drop-bearer":
        this.dropBearer(trigger.cid ?? 1);
        break;
      case "normal-power-down":
        this.powerDown("normal");
        break;
      case "under-voltage-power-down":
        this.powerDown("under-voltage");
        break;
      case "under-voltage-warning":
        this.emitUrc("UNDER-VOLTAGE WARNNING");
        break;
      case "under-voltage-warning-power-down":
        this.powerDown("under-voltage-warning");
        break;
      case "silent-power-down":
        this.powerDown("urgent");
        break;
    }
  }

  /** The trigger for this command line or URC that is due now, if any. */
  private dueTrigger(kind: "command" | "urc", text: string): FaultTrigger | null {
    const upper = text.toUpperCase();
    for (const trigger of this.faults.triggers) {
      const pattern = kind === "command" ? trigger.command : trigger.urc;
      if (pattern === undefined || !upper.startsWith(pattern.toUpperCase())) continue;
      const count = (this.triggerCounts.get(trigger) ?? 0) + 1;
      this.triggerCounts.set(trigger, count);
      if (count === (trigger.occurrence ?? 1)) return trigger;
    }
    return null;
  }

  // ---- output -------------------------------------------------------------------------------

  /** Sends bytes toward the host (echo already typed goes first). */
  emit(bytes: Uint8Array): void {
    if (!this.on) return;
    if (this.faults.lateEcho) {
      // The echo held from the command before goes first; this command's echo waits its turn.
      if (this.heldEcho.length > 0) this.deliver(Uint8Array.from(this.heldEcho));
      this.heldEcho = this.echoBuffer;
      this.echoBuffer = [];
      this.deliver(bytes);
      return;
    }
    this.flushEcho();
    this.deliver(bytes);
  }

  private flushEcho(): void {
    if (this.echoBuffer.length === 0) return;
    const echo = Uint8Array.from(this.echoBuffer);
    this.echoBuffer = [];
    this.deliver(echo);
  }

  private deliver(bytes: Uint8Array): void {
    const noise = this.noise;
    const settings = this.faults.outputNoise;
    if (noise !== null && settings !== null) {
      const out: number[] = [];
      for (const b of bytes) {
        if (noise.random() < (settings.insertRate ?? 0)) out.push(Math.floor(noise.random() * 256));
        if (noise.random() < (settings.dropRate ?? 0)) continue;
        out.push(noise.random() < (settings.corruptRate ?? 0) ? (b ^ (1 + Math.floor(noise.random() * 255))) & 0xff : b);
      }
      bytes = Uint8Array.from(out);
    }
    if (bytes.length > 0) this.sink?.(bytes);
  }

  /** An unsolicited line: `\r\n<text>\r\n` (twice under `duplicateUrcs`); URC triggers run after it. */
  emitUrc(text: string): void {
    if (!this.on) return;
    this.options.trace(`urc ${text.split(CRLF)[0]}`);
    const bytes = latin1Bytes(`${CRLF}${text}${CRLF}`);
    this.emit(bytes);
    if (this.faults.duplicateUrcs) this.emit(bytes);
    const trigger = this.dueTrigger("urc", text);
    if (trigger) this.runFault(trigger);
  }

  /** Ends the command being executed with its final response. */
  finishCommand(text: string): void {
    this.executing = false;
    this.dataPhase = null;
    this.emit(latin1Bytes(this.field === null ? text : this.field.reply(this.commandText, text, this.replyCarries())));
    this.pump();
  }

  /** What the reply of the command being executed holds (the field profile leaves data and mail text alone). */
  private replyCarries(): "nothing" | "data" | "mail-text" {
    if (!/^AT\+(SMTP|POP3|EMAIL|FS)/i.test(this.commandText)) return "nothing";
    if (this.dialect === "classic") return "mail-text";
    return /^AT\+POP3READ/i.test(this.commandText) ? "data" : "nothing";
  }

  startDataPhase(length: number, done: (data: Uint8Array) => void): void {
    this.dataPhase = { remaining: length, parts: [], done };
    this.pump();
  }

  // ---- input --------------------------------------------------------------------------------

  /** Bytes from the host, split anywhere. Ignored while the modem is off. */
  receive(bytes: Uint8Array): void {
    if (!this.on || bytes.length === 0) return;
    this.inputQueue.push(Uint8Array.from(bytes));
    this.pump();
  }

  /** Consumes queued input while the modem is ready for it. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.on) {
        const phase = this.dataPhase;
        if (phase !== null && phase.remaining === 0) {
          this.dataPhase = null;
          phase.done(concatBytes(phase.parts));
          continue;
        }
        if (this.inputQueue.length === 0 || (phase === null && this.executing)) break;
        const chunk = this.inputQueue[0];
        if (phase !== null) {
          const take = Math.min(phase.remaining, chunk.length - this.inputOffset);
          phase.parts.push(chunk.slice(this.inputOffset, this.inputOffset + take));
          phase.remaining -= take;
          this.advanceInput(take);
          continue;
        }
        const b = chunk[this.inputOffset];
        this.advanceInput(1);
        this.commandByte(b);
      }
    } finally {
      this.pumping = false;
    }
    if (!this.faults.lateEcho) this.flushEcho();
  }

  private advanceInput(count: number): void {
    this.inputOffset += count;
    if (this.inputOffset >= this.inputQueue[0].length) {
      this.inputQueue.shift();
      this.inputOffset = 0;
    }
  }

  private commandByte(b: number): void {
    const state = this.state;
    if (!state.autobaudLocked) {
      // Autobauding: the rate is found on an "AT" (or "at"); that line itself is lost.
      if ((this.previousByte === 0x41 && b === 0x54) || (this.previousByte === 0x61 && b === 0x74)) {
        state.autobaudSeen++;
        if (this.field !== null) {
          if (this.field.unlocks(state.autobaudSeen, this.afterReset)) {
            state.autobaudLocked = true;
            this.printBootLines(); // RDY ...: the only answer this AT gets
          }
        } else if (state.autobaudSeen >= this.options.autobaudSyncs) state.autobaudLocked = true;
        this.swallowLine = true;
        this.previousByte = -1;
      } else this.previousByte = b;
      return;
    }
    if (this.swallowLine) {
      if (b === 0x0d) this.swallowLine = false;
      return;
    }
    // A LF right after CR (or any LF before a command starts) is not part of a command line.
    if (b === 0x0a && this.lineBytes.length === 0) return;
    if (state.echo || this.faults.lateEcho) this.echoBuffer.push(this.field === null ? b : this.field.echoByte(b));
    if (b === 0x0d) {
      const line = this.lineBytes;
      const overflow = this.lineOverflow;
      this.lineBytes = [];
      this.lineOverflow = false;
      this.commandLine(latin1Text(Uint8Array.from(line)), overflow);
      return;
    }
    if (b === 0x08) {
      this.lineBytes.pop();
      return;
    }
    if (this.lineBytes.length < this.options.limits.commandLine) this.lineBytes.push(b);
    else this.lineOverflow = true;
  }

  private commandLine(text: string, overflow: boolean): void {
    const located = locateCommand(text);
    if (located === null) return;
    this.options.trace(`command ${located}`);
    this.commandText = located;
    this.field?.commandRead();
    const trigger = this.dueTrigger("command", located);
    if (trigger) {
      const epoch = this.epoch;
      this.runFault(trigger);
      if (this.epoch !== epoch || !this.on) return;
    }
    this.executing = true;
    if (overflow) {
      this.finishCommand(ERROR_RESPONSE);
      return;
    }
    const refusal = this.field?.refusal(located) ?? null;
    if (refusal !== null) {
      this.finishCommand(refusal);
      return;
    }
    let command: AtCommand;
    try {
      command = parseCommand(located);
    } catch (error) {
      if (!(error instanceof AtSyntaxError)) throw error;
      this.options.trace(`  ${error.message}`);
      this.finishCommand(ERROR_RESPONSE);
      return;
    }
    try {
      this.execute(command);
    } catch (error) {
      if (!(error instanceof AtParamError)) throw error;
      this.options.trace(`  ${error.message}`);
      this.finishCommand(ERROR_RESPONSE);
    }
  }

  private execute(command: AtCommand): void {
    const email = this.email!;
    if (email.blocks(command)) {
      this.finishCommand(ERROR_RESPONSE);
      return;
    }
    const params = new Params(command);
    if (EMAIL_COMMAND.test(command.name)) {
      const support = this.faults.emailSupport;
      if (support === "absent") return this.finishCommand(ERROR_RESPONSE);
      if (support === "broken") return this.finishCommand(okResponse("+SMTPSEND: 65"));
    }
    if (email.handle(command, params)) return;
    if (this.general(command, params)) return;
    this.finishCommand(ERROR_RESPONSE);
  }

  // ---- clock and bearers --------------------------------------------------------------------

  clockNow(): { epochMs: number; timezoneQuarters: number } {
    return { epochMs: this.clockBase + (this.scheduler.now() - this.clockTick), timezoneQuarters: this.timezone };
  }

  private setClock(epochMs: number, timezoneQuarters: number): void {
    this.clockBase = epochMs;
    this.clockTick = this.scheduler.now();
    this.timezone = timezoneQuarters;
  }

  /** Whether bearer `cid` (0: the default PDN, 1-3: AT+SAPBR profiles) is up. */
  bearerUp(cid: number): boolean {
    if (!this.on || this.state.cfun !== 1 || !this.networkState.attached) return false;
    if (cid === 0) return this.networkState.pdnActive;
    return this.state.profiles[cid - 1]?.status === 1;
  }

  bearerIp(cid: number): string {
    if (cid === 0) return "10.89.193.100";
    return this.state.profiles[cid - 1]?.ip ?? "0.0.0.0";
  }

  // ---- general commands (bring-up, spec sections 4 and 5.1) --------------------------------

  private general(command: AtCommand, params: Params): boolean {
    const state = this.state;
    const { form, name } = command;
    const reply = (...info: string[]): true => {
      this.finishCommand(okResponse(...info));
      return true;
    };
    const identity = this.options.identity;
    switch (name) {
      case "":
        reply();
        return true;
      case "E":
        if (form !== "exec" || (command.basicValue ?? 0) > 1) return false;
        state.echo = command.basicValue === 1;
        reply();
        return true;
      case "V":
        // Numeric result codes (ATV0) are not simulated.
        if (form !== "exec" || command.basicValue !== 1) return false;
        reply();
        return true;
      case "Q":
        if (form !== "exec" || (command.basicValue ?? 0) !== 0) return false;
        reply();
        return true;
      case "Z":
      case "&F":
        if (form !== "exec") return false;
        state.echo = this.options.echo;
        reply();
        return true;
      case "&W":
        if (form !== "exec") return false;
        reply();
        return true;
      case "I":
        if (form !== "exec") return false;
        reply(identity.productLine);
        return true;
      case "+CGMR":
        if (form === "test") return reply();
        if (form !== "exec") return false;
        reply(`Revision:${identity.revision}`);
        return true;
      case "+CGMM":
      case "+GMM":
        if (form !== "exec") return false;
        reply(identity.model);
        return true;
      case "+CGMI":
      case "+GMI":
        if (form !== "exec") return false;
        reply(identity.manufacturer);
        return true;
      case "+CGSN":
      case "+GSN":
        if (form !== "exec") return false;
        reply(identity.imei);
        return true;
      case "+CPIN": {
        if (form !== "read") return false;
        const sim = this.field?.simReply() ?? { info: "+CPIN: READY" };
        if ("error" in sim) this.finishCommand(`${CRLF}${sim.error}${CRLF}`);
        else reply(sim.info);
        return true;
      }
      case "+CSQ":
        if (form === "test") return reply("+CSQ: (0-31,99),(0-7,99)");
        if (form !== "exec") return false;
        reply(`+CSQ: ${this.networkState.attached ? this.networkState.rssi : 99},${this.networkState.ber}`);
        return true;
      case "+CBC":
        if (form !== "exec") return false;
        reply(`+CBC: ${this.options.battery.charging},${this.options.battery.percent},${this.options.battery.millivolts}`);
        return true;
      case "+CFUN":
        return this.cfun(command, params);
      case "+CPOWD":
        if (form !== "write") return false;
        params.expectCount(1, 1);
        this.executing = false;
        this.powerDown(params.int(0, 0, 1, "mode") === 1 ? "normal" : "urgent");
        return true;
      case "+CGATT":
        return this.cgatt(command, params);
      case "+CREG":
      case "+CGREG":
      case "+CEREG":
        if (form !== "read") return false;
        reply(`${name}: 0,${this.field !== null ? this.field.registration() : this.networkState.attached ? 1 : 0}`);
        return true;
      case "+COPS":
        if (form === "read") {
          reply(this.networkState.attached ? `+COPS: 0,0,"${this.networkState.operator}",${this.networkState.accessTechnology}` : "+COPS: 0");
          return true;
        }
        if (form === "write") {
          params.expectCount(1, 1);
          params.int(0, 0, 0, "mode (only automatic, 0, is simulated)");
          reply();
          return true;
        }
        return false;
      case "+CGDCONT":
        return this.cgdcont(command, params);
      case "+CGSOCKCONT":
        return this.cgsockcont(command, params);
      case "+SAPBR":
        return this.sapbr(command, params);
      case "+CNTPCID":
        if (form === "test") return reply("+CNTPCID: (1-3)");
        if (form === "read") return reply(`+CNTPCID: ${state.ntpCid}`);
        if (form !== "write") return false;
        params.expectCount(1, 1);
        state.ntpCid = params.int(0, 1, 3, "cid");
        reply();
        return true;
      case "+CNTP":
        return this.cntp(command, params);
      case "+CCLK":
        return this.cclk(command, params);
      case "+IPR":
        if (form === "test") return reply(`+IPR: (${SUPPORTED_RATES.join(",")})`);
        if (form === "read") return reply(`+IPR: ${state.ipr}`);
        if (form !== "write") return false;
        params.expectCount(1, 1);
        {
          const rate = params.int(0, 0, 4_000_000, "rate");
          if (!SUPPORTED_RATES.includes(rate)) throw new AtParamError(`+IPR: ${rate} is not a supported rate`);
          state.ipr = rate;
          reply();
          if (rate !== 0) this.options.onBaudChange(rate);
        }
        return true;
      case "+CMEE":
        // Only CMEE=0 (plain ERROR) is simulated.
        if (form === "read") return reply("+CMEE: 0");
        if (form === "test") return reply("+CMEE: (0-2)");
        if (form !== "write") return false;
        params.expectCount(1, 1);
        params.int(0, 0, 0, "mode");
        reply();
        return true;
      default:
        return false;
    }
  }

  /** OK with optional info lines; true for the handler's "handled" result. */
  private reply(...info: string[]): true {
    this.finishCommand(okResponse(...info));
    return true;
  }

  private cfun(command: AtCommand, params: Params): boolean {
    const state = this.state;
    if (command.form === "test") return this.reply("+CFUN: (0,1,4),(0,1)");
    if (command.form === "read") return this.reply(`+CFUN: ${state.cfun}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 2);
    const fun = params.int(0, 0, 4, "fun");
    if (fun !== 0 && fun !== 1 && fun !== 4) throw new AtParamError(`+CFUN: ${fun} is not 0, 1 or 4`);
    const restart = params.has(1) ? params.int(1, 0, 1, "rst") : 0;
    this.finishCommand(okResponse());
    if (restart === 1) {
      // AT+CFUN=1,1: OK, then the module restarts.
      this.bootTimer(() => this.reset(), 100);
      return true;
    }
    const wasUp = state.cfun === 1;
    state.cfun = fun;
    if (wasUp && fun !== 1) this.detachAll();
    return true;
  }

  private cgatt(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.reply("+CGATT: (0,1)");
    if (command.form === "read") return this.reply(`+CGATT: ${this.networkState.attached && this.state.cfun === 1 ? 1 : 0}`);
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const attach = params.int(0, 0, 1, "state") === 1;
    this.finishCommand(okResponse());
    this.setNetwork({ attached: attach });
    return true;
  }

  private cgdcont(command: AtCommand, params: Params): boolean {
    const contexts = this.state.pdpContexts;
    if (command.form === "test") return this.reply('+CGDCONT: (1-24),"IP",,,(0-2),(0-4),(0-1),(0-1)');
    if (command.form === "read") {
      const lines = [...contexts.entries()].sort((a, b) => a[0] - b[0]).map(([cid, c]) => `+CGDCONT: ${cid},"${c.type}","${c.apn}","0.0.0.0",0,0,0,0`);
      this.finishCommand(okResponse(...lines));
      return true;
    }
    if (command.form !== "write") return false;
    params.expectCount(1, 8);
    const cid = params.int(0, 1, 24, "cid");
    if (params.count === 1) contexts.delete(cid);
    else {
      const type = params.string(1, 8, "PDP type", 1).toUpperCase();
      if (!["IP", "IPV6", "IPV4V6", "NON-IP"].includes(type)) throw new AtParamError(`+CGDCONT: PDP type "${type}" is unknown`);
      contexts.set(cid, { type, apn: params.has(2) ? params.string(2, 64, "APN") : "" });
    }
    this.finishCommand(okResponse());
    return true;
  }

  /** Classic dialect's socket PDP context (AT+CGSOCKCONT=1,"IP","APN"[,...]). */
  private cgsockcont(command: AtCommand, params: Params): boolean {
    if (this.dialect !== "classic") return false;
    const contexts = this.state.pdpContexts;
    if (command.form === "test") return this.reply('+CGSOCKCONT: (1-16),"IP",,,(0-2),(0-4)');
    if (command.form === "read") {
      const lines = [...contexts.entries()].sort((a, b) => a[0] - b[0]).map(([cid, c]) => `+CGSOCKCONT: ${cid},"${c.type}","${c.apn}","0.0.0.0",0,0`);
      this.finishCommand(okResponse(...lines));
      return true;
    }
    if (command.form !== "write") return false;
    params.expectCount(1, 6);
    const cid = params.int(0, 1, 16, "cid");
    if (params.count === 1) contexts.delete(cid);
    else {
      const type = params.string(1, 8, "PDP type", 1).toUpperCase();
      if (type !== "IP" && type !== "IPV6") throw new AtParamError(`+CGSOCKCONT: PDP type "${type}" is unknown`);
      contexts.set(cid, { type, apn: params.has(2) ? params.string(2, 64, "APN") : "" });
      if (params.has(3)) params.string(3, 15, "PDP address");
      if (params.has(4)) params.int(4, 0, 2, "d_comp");
      if (params.has(5)) params.int(5, 0, 4, "h_comp");
    }
    this.finishCommand(okResponse());
    return true;
  }

  /** Whether a PDP context was configured (the classic dialect's mandatory socket context). */
  socketContextConfigured(): boolean {
    return this.state.pdpContexts.has(1);
  }

  private sapbr(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.reply('+SAPBR: (0-4),(1-3),"ConParamTag","ConParamValue"');
    if (command.form !== "write") return false;
    const type = params.int(0, 0, 4, "cmd_type");
    const cid = params.int(1, 1, 3, "cid");
    const profile = this.state.profiles[cid - 1];
    const space = this.options.quirks.sapbrQueryNoSpace ? "" : " ";
    switch (type) {
      case 0: // close
        params.expectCount(2, 2);
        if (profile.status !== 1) throw new AtParamError(`+SAPBR: bearer ${cid} is not open`);
        this.bootTimer(() => {
          profile.status = 3;
          profile.ip = "0.0.0.0";
          this.email?.bearerLost(cid);
          this.finishCommand(okResponse());
        }, this.options.bearerDelayMs);
        return true;
      case 1: // open
        params.expectCount(2, 2);
        if (profile.status === 1) throw new AtParamError(`+SAPBR: bearer ${cid} is already open`);
        this.bootTimer(() => {
          if (!this.networkState.attached || this.state.cfun !== 1) {
            this.finishCommand(ERROR_RESPONSE);
            return;
          }
          profile.status = 1;
          profile.ip = `10.89.193.${cid}`;
          this.finishCommand(okResponse());
        }, this.options.bearerDelayMs);
        return true;
      case 2: // query
        params.expectCount(2, 2);
        this.finishCommand(okResponse(`+SAPBR:${space}${cid},${profile.status},"${profile.ip}"`));
        return true;
      case 3: {
        params.expectCount(4, 4);
        const tag = params.string(2, 16, "parameter").toUpperCase();
        if (!(tag in profile.params)) throw new AtParamError(`+SAPBR: unknown bearer parameter "${tag}"`);
        profile.params[tag as keyof BearerProfile["params"]] = params.string(3, 64, "value");
        this.finishCommand(okResponse());
        return true;
      }
      default: {
        params.expectCount(2, 2);
        const p = profile.params;
        this.finishCommand(okResponse(`+SAPBR:${CRLF}CONTYPE: ${p.CONTYPE}${CRLF}APN: ${p.APN}${CRLF}PHONENUM: ${p.PHONENUM}${CRLF}USER: ${p.USER}${CRLF}PWD: ${p.PWD}${CRLF}RATE: ${p.RATE}`));
        return true;
      }
    }
  }

  private cntp(command: AtCommand, params: Params): boolean {
    const state = this.state;
    if (command.form === "test") return this.reply("+CNTP: 64,(-47-48)");
    if (command.form === "read") return this.reply(`+CNTP: "${state.ntpServer}",${state.ntpZone}`);
    if (command.form === "write") {
      params.expectCount(1, 2);
      state.ntpServer = params.string(0, 64, "server", 1);
      state.ntpZone = params.has(1) ? params.int(1, -47, 48, "time zone") : 0;
      this.finishCommand(okResponse());
      return true;
    }
    if (state.ntpServer === "") throw new AtParamError("+CNTP: no NTP server set");
    this.finishCommand(okResponse());
    this.bootTimer(() => {
      const forced = this.faults.ntpResult;
      const code = forced ?? (this.bearerUp(state.ntpCid) ? 1 : 61);
      if (code !== 1) {
        this.emitUrc(`+CNTP: ${code}`);
        return;
      }
      this.setClock(this.options.networkTime(), state.ntpZone);
      const local = new Date(this.clockBase + state.ntpZone * 15 * 60_000);
      const p = (n: number) => String(n).padStart(2, "0");
      this.emitUrc(`+CNTP: 1,"${local.getUTCFullYear()}/${p(local.getUTCMonth() + 1)}/${p(local.getUTCDate())},${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}"`);
    }, this.options.ntpDelayMs);
    return true;
  }

  private cclk(command: AtCommand, params: Params): boolean {
    if (command.form === "test") return this.reply();
    if (command.form === "read") {
      const { epochMs, timezoneQuarters } = this.clockNow();
      this.finishCommand(okResponse(`+CCLK: "${formatModemClock(epochMs, timezoneQuarters)}"`));
      return true;
    }
    if (command.form !== "write") return false;
    params.expectCount(1, 1);
    const parsed = parseModemClock(params.string(0, 20, "time"));
    if (parsed === null) throw new AtParamError('+CCLK: time must be "yy/MM/dd,hh:mm:ss±zz"');
    this.setClock(parsed.epochMs, parsed.timezoneQuarters);
    this.finishCommand(okResponse());
    return true;
  }
}

/** `yy/MM/dd,hh:mm:ss±zz` in local time, zz in quarter hours (e.g. "18/12/26,10:36:57+32"). */
export function formatModemClock(epochMs: number, timezoneQuarters: number): string {
  const local = new Date(epochMs + timezoneQuarters * 15 * 60_000);
  const p = (n: number) => String(n).padStart(2, "0");
  const zone = `${timezoneQuarters < 0 ? "-" : "+"}${p(Math.abs(timezoneQuarters))}`;
  return `${p(local.getUTCFullYear() % 100)}/${p(local.getUTCMonth() + 1)}/${p(local.getUTCDate())},${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${zone}`;
}

export function parseModemClock(text: string): { epochMs: number; timezoneQuarters: number } | null {
  const m = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, zone] = m.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 || zone < -47 || zone > 48) return null;
  const local = Date.UTC(2000 + year, month - 1, day, hour, minute, second);
  return { epochMs: local - zone * 15 * 60_000, timezoneQuarters: zone };
}
