// The "field" profile: what public logs of real SIM7000G/E, SIM800, SIM7600, SIM5360, SIM7080
// and A7670 modules show and the spec never mentions (docs/FIELD.md). One entry per behaviour
// in FieldProfile, each with its default in FIELD_DEFAULTS and its note in FIELD_NOTES (the
// compiler insists on both): add a behaviour by adding an entry to all three and its hook
// below. SimModem asks a FieldBehaviour at a few points (boot, autobaud, echo, replies, SIM and
// registration); everything else about the profile lives here.

import { seededRandom } from "../random.ts";
import { FIELD_SESSIONS } from "./abandoned-sessions.ts";
import type { BootLine, FaultTrigger, SimFaults, SimOptions } from "./modem.ts";

export type ModemFamily = "sim7000" | "sim800" | "sim7600" | "a7670";

export interface FieldProfile {
  /** After power-on nothing is answered for this long, and until `bootSyncs` ATs were seen (autobaud). */
  bootSilenceMs: number;
  bootSyncs: number;
  /** Bytes of noise when the supply comes up and around every reset. */
  garbage: boolean;
  /** Whose boot lines the modem prints (they come once the silence ends, as the answer to that AT). */
  family: ModemFamily;
  /** "answer": RDY heads the boot lines, the only answer the AT that ended the silence gets; "missing": no RDY at all. */
  rdy: "answer" | "missing";
  /** Every n-th reply has a boot line before it (between a command's echo and its reply; between SMTPFT/POP3READ chunks). 0: never. */
  strayEvery: number;
  /** Echoes come back in lower case. */
  lowerCaseEcho: boolean;
  /** Echo comes back on after every n-th command (as after a wake from sleep). 0: never. */
  wakeEvery: number;
  /** Empty lines as they come: an information line then OK without one, none between echo and result, one before DOWNLOAD (seeded, about half of the replies). */
  unevenLines: boolean;
  /** `+SAPBR: 1,1,"..."` with a space after the colon, as real modems print it. */
  sapbrSpace: boolean;
  /** What AT+CPIN? finds. */
  sim: "ready" | "absent" | "failure" | "pin";
  /** How a refused command is written: "+CME ERROR: 10" (numeric), "+CME ERROR: SIM not inserted" (verbose) or bare ERROR (plain). */
  errors: "numeric" | "verbose" | "plain";
  /** `<stat>` of +CREG/+CGREG/+CEREG with a ready SIM: 1 home, 5 or 11 roaming, 2 searching, 3 denied, 0 not searching. */
  registration: number;
  /** "send-fails": the SIM7000G firmware without email: every send answered +SMTPSEND: 65. */
  email: "full" | "send-fails";
  /** Command prefix -> the reply lines it gets instead of its answer (`+CMS ERROR:`, an information line then `ERROR`). */
  refuse: Record<string, string[]>;
  /** Fault triggers (resets, the power-down texts) as SimFaults.triggers. */
  triggers: FaultTrigger[];
  /** Seed of the uneven empty lines. */
  seed: number;
}

export const FIELD_DEFAULTS: FieldProfile = {
  bootSilenceMs: 12_000,
  bootSyncs: 3,
  garbage: true,
  family: "sim7000",
  rdy: "answer",
  strayEvery: 5,
  lowerCaseEcho: true,
  wakeEvery: 7,
  unevenLines: true,
  sapbrSpace: true,
  sim: "ready",
  errors: "verbose",
  registration: 1,
  email: "full",
  refuse: {},
  triggers: [],
  seed: 16,
};

export const FIELD_NOTES: Record<keyof FieldProfile, string> = {
  bootSilenceMs: "silent after power-on (autobaud); a SIM7600 took over 10 s after a power cut",
  bootSyncs: "ATs an autobauding SIM7000 needs before it answers",
  garbage: "noise bytes while the supply comes up and around resets",
  family: "boot lines by family: RDY, +CFUN: 1, +CPIN: READY, SMS Ready, Call Ready, DST: 0, *PSUTTZ, SMS DONE, PB DONE, *ATREADY: 1, +CMTI, +APP PDP",
  rdy: "RDY as the only answer to the AT that ends the silence, or no RDY at all",
  strayEvery: "boot lines between a command and its reply, and between the chunks of a transfer",
  lowerCaseEcho: "echoes in lower case",
  wakeEvery: "echo back on after a wake, with ATE0's reply holding its own echo",
  unevenLines: "no empty line before OK or after the echo, an extra one before DOWNLOAD",
  sapbrSpace: "+SAPBR: with a space after the colon",
  sim: "SIM ready, missing, failed, or asking for its PIN",
  errors: "+CME ERROR numeric or verbose, or bare ERROR",
  registration: "registration state, roaming as 5 or 11",
  email: "SIM7000G firmware without email: +SMTPSEND: 65 for every send",
  refuse: "any command answered with given lines: +CMS ERROR: without a code, an information line then ERROR",
  triggers: "resets and power-downs: NORMAL POWER DOWN, UNDER-VOLTAGE POWER DOWN, UNDER-VOLTAGE WARNNING POWER DOWN + text, or nothing",
  seed: "seed of the uneven empty lines",
};

const BURSTS: Record<ModemFamily, string[]> = {
  sim7000: ["RDY", "+CFUN: 1", "+CPIN: READY", "SMS Ready", "DST: 0", '*PSUTTZ: 26/01/08,11:36:13","+04",0', "+APP PDP: 0,ACTIVE"],
  sim800: ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"],
  sim7600: ["RDY", "+CPIN: READY", "SMS DONE", "PB DONE", '+CMTI: "SM",4'],
  a7670: ["*ATREADY: 1", "RDY", "+CPIN: READY", "SMS DONE", "PB DONE", "+APP PDP: 0,DEACTIVE"],
};

/** Lines that may land anywhere (never a reset report, never what the command itself answers). */
const STRAYS = ["SMS Ready", "Call Ready", "DST: 0", '*PSUTTZ: 26/01/08,11:36:13","+04",0', "SMS DONE", "PB DONE", '+CMTI: "SM",4', "+APP PDP: 0,ACTIVE", "+CFUN: 1", "+CPIN: READY"];

const GARBAGE = Uint8Array.from([0x00, 0xff, 0xf8, 0x1c, 0x80, 0xfe, 0x00, 0x7f]);

const SIM_ERRORS: Record<Exclude<FieldProfile["sim"], "ready" | "pin">, { code: number; text: string }> = {
  absent: { code: 10, text: "SIM not inserted" },
  failure: { code: 13, text: "SIM failure" },
};

const REGISTERED = new Set([1, 5, 9, 10, 11]);
const CRLF = "\r\n";

/** A profile from defaults and `changes` (checked: a mistyped entry is refused, naming it). */
export function fieldProfile(changes: Partial<FieldProfile> = {}): FieldProfile {
  for (const key of Object.keys(changes)) if (!(key in FIELD_DEFAULTS)) throw new RangeError(`field profile: no entry "${key}" (entries: ${Object.keys(FIELD_DEFAULTS).join(", ")})`);
  const profile = { ...FIELD_DEFAULTS, ...changes };
  if (!(profile.family in BURSTS)) throw new RangeError(`field profile: family must be ${Object.keys(BURSTS).join(", ")}`);
  return profile;
}

/** What the profile changes in the modem's options (SimModem merges it under the caller's own). */
export function fieldOptions(profile: FieldProfile): Partial<SimOptions> & { faults: Partial<SimFaults> } {
  const lines = BURSTS[profile.family].filter((text) => profile.rdy !== "missing" || text !== "RDY");
  const cpin = { ready: "+CPIN: READY", pin: "+CPIN: SIM PIN", absent: "+CPIN: NOT INSERTED", failure: "+CPIN: NOT INSERTED" }[profile.sim];
  const bootSequence: BootLine[] = lines.map((text, i) => ({ delayMs: i === 0 ? 0 : 150, text: text === "+CPIN: READY" ? cpin : text }));
  return {
    autobaud: true,
    autobaudSyncs: profile.bootSyncs,
    bootSequence,
    quirks: { sapbrQueryNoSpace: !profile.sapbrSpace },
    network: { attached: profile.sim === "ready" && REGISTERED.has(profile.registration) },
    faults: { emailSupport: profile.email === "send-fails" ? "send-fails" : "full", triggers: profile.triggers },
    // A session the host abandons holds the modem as on real SIM7000s (sim/modem/abandoned-sessions.ts).
    abandonedSessions: FIELD_SESSIONS,
  };
}

/** What the modem exposes to its field behaviour. */
export interface FieldHost {
  now(): number;
  setEcho(on: boolean): void;
  readonly echo: boolean;
}

/** The profile at run time: SimModem's hooks. */
export class FieldBehaviour {
  readonly profile: FieldProfile;
  private readonly host: FieldHost;
  private readonly random: () => number;
  private poweredAt = 0;
  private replies = 0;
  private commands = 0;
  private stray = 0;

  constructor(profile: FieldProfile, host: FieldHost) {
    this.profile = profile;
    this.host = host;
    this.random = seededRandom(profile.seed);
  }

  /** Power-on or reset: the noise to print now (power-on also starts the silence). */
  booting(powerOn: boolean): Uint8Array | null {
    if (powerOn) this.poweredAt = this.host.now();
    return this.profile.garbage ? GARBAGE : null;
  }

  /** Autobaud: whether `seen` ATs end the silence now (after a reset, one AT does). */
  unlocks(seen: number, afterReset: boolean): boolean {
    if (afterReset) return true;
    return seen >= this.profile.bootSyncs && this.host.now() - this.poweredAt >= this.profile.bootSilenceMs;
  }

  echoByte(b: number): number {
    return this.profile.lowerCaseEcho && b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  }

  /** The lines a command gets instead of its answer, or null. */
  refusal(line: string): string | null {
    const upper = line.toUpperCase();
    for (const [prefix, lines] of Object.entries(this.profile.refuse)) {
      if (upper.startsWith(prefix.toUpperCase())) return `${CRLF}${lines.join(`${CRLF}${CRLF}`)}${CRLF}`;
    }
    return null;
  }

  /** AT+CPIN?'s reply: `+CPIN: ...` then OK, or the refusal in the profile's error form. */
  simReply(): { info: string } | { error: string } {
    const sim = this.profile.sim;
    if (sim === "ready") return { info: "+CPIN: READY" };
    if (sim === "pin") return { info: "+CPIN: SIM PIN" };
    const { code, text } = SIM_ERRORS[sim];
    const errors = this.profile.errors;
    return { error: errors === "plain" ? "ERROR" : `+CME ERROR: ${errors === "numeric" ? code : text}` };
  }

  registration(): number {
    return this.profile.sim === "ready" ? this.profile.registration : 0;
  }

  /** A command line was read: after every n-th, echo comes back on (a wake). */
  commandRead(): void {
    const every = this.profile.wakeEvery;
    if (every > 0 && ++this.commands % every === 0) this.host.setEcho(true);
  }

  /**
   * A command's final reply, as a field modem writes it: a boot line first now and then (never
   * one the command itself answers), empty lines as they come. `carries`: "data" the reply
   * holds counted bytes (POP3READ): its lines stay as they are; "mail-text" it holds mail text
   * as lines (classic POP3 output): nothing may go into it either.
   */
  reply(command: string, text: string, carries: "nothing" | "data" | "mail-text"): string {
    this.replies++;
    let shaped = text;
    if (this.profile.unevenLines && carries === "nothing" && this.random() < 0.5) {
      shaped = shaped.replace(/\r\n\r\nOK\r\n$/, "\r\nOK\r\n");
      if (this.host.echo && shaped.startsWith(CRLF)) shaped = shaped.slice(2);
    }
    const every = this.profile.strayEvery;
    if (every > 0 && carries !== "mail-text" && this.replies % every === 0) {
      const name = /^AT([+*][A-Z]+)/i.exec(command)?.[1]?.toUpperCase() ?? "";
      let line = STRAYS[this.stray++ % STRAYS.length];
      if (name !== "" && line.startsWith(name)) line = STRAYS[this.stray++ % STRAYS.length];
      shaped = `${CRLF}${line}${CRLF}${shaped.startsWith(CRLF) ? "" : CRLF}${shaped}`;
    }
    return shaped;
  }

  /** The `DOWNLOAD` prompt: now and then an empty line before it. */
  prompt(text: string): string {
    return this.profile.unevenLines && text === `${CRLF}DOWNLOAD${CRLF}` && this.random() < 0.5 ? `${CRLF}${text}` : text;
  }
}
