// Link sync: whether host and modem are in step, and what gets them there. Before the engine
// writes a command on an out-of-step link it asks this machine, which sends `AT` until `OK`
// (autobauding, a modem just switched on, the late output of a timed-out command) and then
// waits for the line to fall quiet. It also says what a RDY means: the boot of a modem that
// may be switching on (or that was told to restart), or a reset that loses the work in flight.
//
//   state    event                                   next     action
//   -------  --------------------------------------  -------  --------------------------------------
//   Booting  work waits                              Booting  send AT (tries: enough for bootWindowMs)
//   Booting  RDY                                     Booting  count a boot
//   Booting  AT answered ERROR                       Syncing  send AT again while tries are left
//   Unknown  work waits                              Syncing  send AT (tries = syncAttempts)
//   Booting, Syncing  AT answered OK                 Quiet    arm the gap (quietMs), its limit (syncTimeoutMs)
//   Booting, Syncing  AT timed out, tries left       same     send AT again
//   Booting, Syncing  AT timed out, no tries left    same     fail the waiting command; the next one syncs anew
//   Quiet    any byte                                Quiet    re-arm the gap
//   Quiet    gap silent                              Ready    the engine starts the queued work
//   Quiet    gap limit reached (never quiet)         Syncing  a failed try: send AT again, or give up as above
//   Ready    timeout, requestSync                    Unknown  (the next command syncs first)
//   Ready    an ordered restart's RDY                Unknown  (the next command syncs first)
//   Ready, Unknown  the ordered restart accepted     Booting  (booting(): the next sync has the boot window)
//   Quiet    requestSync                             Unknown  (the engine sends AT at once)
//   Quiet, Syncing  the engine aborts all work       Unknown
//   any      RDY / +CPIN: NOT READY unexpected       Unknown  the engine fails all work (a reset)
//   any      NORMAL / UNDER-VOLTAGE POWER DOWN       Booting  the engine fails all work
//
// A restart the host ordered (expectBoot) is remembered apart from the state: its RDY, before
// or after the OK of the command that ordered it, is that boot; a sync the modem answers ends
// the expectation.

import type { Line } from "./bytes.ts";
import { AtCommand } from "./command.ts";
import { AtTimeoutError, ModemResetError, type ModemResetKind } from "./errors.ts";
import { MatchTable } from "./match.ts";
import type { Deadline, TimerPort } from "./ports.ts";

export const LinkState = { Unknown: 0, Booting: 1, Syncing: 2, Quiet: 3, Ready: 4 } as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

/** What a reset or power report line means, given what the link expects. */
export const Report = {
  /** The RDY of a modem switching on: counted, nothing lost. */
  Boot: 0,
  /** The RDY of the restart the host ordered: the command that ordered it is done. */
  OrderedBoot: 1,
  /** A reset or power-down: the work in flight is lost. */
  Lost: 2,
} as const;
export type Report = (typeof Report)[keyof typeof Report];

/** What the machine needs from the engine. */
export interface LinkHost {
  /** Writes `cmd` (prepared) now, ahead of the queue (the engine is idle). */
  sendSync(cmd: AtCommand): void;
  /** The link is in step: start the queued work. */
  linkReady(): void;
  /** Every try failed: fail the command that waited for the sync (with `giveUpError`). */
  syncGaveUp(): void;
}

/** The engine's options of the same names (EngineOptions). */
export interface LinkSyncOptions {
  timers: TimerPort;
  /** Send `AT` until `OK` before the first command (autobauding, a modem perhaps switching on). Default true. */
  syncOnStart?: boolean;
  /** Per-try timeout of the `AT`, and how long the modem may go on talking after its OK. Default 500 ms. */
  syncTimeoutMs?: number;
  /** Tries before the waiting command fails. Default 10. */
  syncAttempts?: number;
  /** Silence (not one byte) required after the OK. Default 50 ms. */
  quietMs?: number;
  /**
   * How long a modem that is booting (just opened, switched on, restarted) may stay silent:
   * in autobaud mode a SIM7000 says nothing for 10-15 s, until it has seen several ATs.
   * Default 0: syncAttempts tries, as for any sync.
   */
  bootWindowMs?: number;
}

export interface LinkStats {
  resyncs: number;
  boots: number;
}

class SyncCommand extends AtCommand {
  constructor(timeoutMs: number) {
    super(4);
    this.text.raw("AT").end();
    this.timeoutMs = timeoutMs;
  }
}

export class LinkSync {
  state: LinkState;
  /** The `AT` this machine sends; the engine hands its end back to `syncEnded`. */
  readonly command: SyncCommand;
  private readonly host: LinkHost;
  private readonly stats: LinkStats;
  private readonly gap: Deadline;
  /** Bounds the quiet gap: a modem that never falls silent fails the try. */
  private readonly gapLimit: Deadline;
  private readonly syncTimeoutMs: number;
  private readonly syncAttempts: number;
  /** Tries while Booting: the boot window's worth, at least syncAttempts. */
  private readonly bootAttempts: number;
  private readonly quietMs: number;
  private triesLeft = 0;
  /** The tries the current (or last) sync was given. */
  private lastTries = 0;
  /** A restart was ordered (expectBoot) and neither its RDY nor an answered sync came yet. */
  private restartOrdered = false;

  constructor(options: LinkSyncOptions, host: LinkHost, stats: LinkStats) {
    this.host = host;
    this.stats = stats;
    this.state = options.syncOnStart ?? true ? LinkState.Booting : LinkState.Ready;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 500;
    this.syncAttempts = options.syncAttempts ?? 10;
    this.quietMs = options.quietMs ?? 50;
    this.bootAttempts = Math.max(this.syncAttempts, Math.ceil((options.bootWindowMs ?? 0) / this.syncTimeoutMs));
    this.command = new SyncCommand(this.syncTimeoutMs);
    this.gap = options.timers.deadline(() => this.gapSilent());
    this.gapLimit = options.timers.deadline(() => this.gapNeverQuiet());
  }

  get ready(): boolean {
    return this.state === LinkState.Ready;
  }

  get quiet(): boolean {
    return this.state === LinkState.Quiet;
  }

  /** Work waits and the engine is idle: send `AT` (unless the gap is already running). */
  start(): void {
    if (this.state === LinkState.Ready || this.state === LinkState.Quiet) return;
    if (this.state === LinkState.Unknown) this.state = LinkState.Syncing;
    if (this.triesLeft === 0) this.triesLeft = this.lastTries = this.state === LinkState.Booting ? this.bootAttempts : this.syncAttempts;
    this.send();
  }

  /** The next command syncs first (a timeout, a bearer loss, the caller's request). */
  requestSync(): void {
    if (this.state === LinkState.Ready || this.state === LinkState.Quiet) this.leave(LinkState.Unknown);
  }

  /** The next command restarts the modem: its RDY is that boot. */
  expectBoot(): void {
    this.restartOrdered = true;
  }

  /** The ordered restart was accepted: the modem boots now (its RDY may never come), so the next sync has the boot window. */
  booting(): void {
    if (this.state === LinkState.Ready || this.state === LinkState.Unknown) this.leave(LinkState.Booting);
  }

  /** Bytes arrived: during the gap, it starts again. */
  heard(): void {
    if (this.state === LinkState.Quiet) this.gap.arm(this.quietMs);
  }

  /** The engine aborted everything: a sync cut short (its `AT`, its gap) must start again. */
  aborted(): void {
    if (this.state === LinkState.Syncing || this.state === LinkState.Quiet) this.leave(LinkState.Unknown);
  }

  /** The engine ended this machine's `AT` (error null: OK). */
  syncEnded(error: Error | null): void {
    if (error instanceof ModemResetError) return; // `report` has set the state
    if (!(error instanceof AtTimeoutError) && this.state === LinkState.Booting) this.state = LinkState.Syncing;
    if (error === null) {
      // The try succeeds only once the gap is quiet (gapSilent); until then it may still fail.
      this.restartOrdered = false;
      this.state = LinkState.Quiet;
      this.gap.arm(this.quietMs);
      this.gapLimit.arm(this.syncTimeoutMs);
      return;
    }
    this.failedTry();
  }

  /** A reset or power report line: what it means, and the state it leaves. */
  report(kind: ModemResetKind): Report {
    if (kind === "reset" && (this.state === LinkState.Booting || this.restartOrdered)) {
      this.stats.boots++;
      if (!this.restartOrdered) return Report.Boot;
      this.restartOrdered = false;
      if (this.state === LinkState.Ready) this.state = LinkState.Unknown;
      return Report.OrderedBoot;
    }
    // Switched off: the RDY of the next power-on is expected.
    this.leave(kind === "power-down" || kind === "under-voltage" ? LinkState.Booting : LinkState.Unknown);
    this.triesLeft = 0;
    return Report.Lost;
  }

  close(): void {
    this.gap.close();
    this.gapLimit.close();
  }

  private send(): void {
    this.stats.resyncs++;
    this.command.prepare();
    this.host.sendSync(this.command);
  }

  private failedTry(): void {
    if (--this.triesLeft > 0) {
      this.send();
      return;
    }
    // The modem never answered: fail the command that was waiting; the next one tries anew.
    this.host.syncGaveUp();
  }

  /** The error of the command that waited while every try failed. */
  giveUpError(waiting: string): AtTimeoutError {
    return new AtTimeoutError(`AT (sync before ${waiting}, ${this.lastTries} tries)`, this.syncTimeoutMs);
  }

  private gapSilent(): void {
    if (this.state !== LinkState.Quiet) return;
    this.gapLimit.disarm();
    this.triesLeft = 0;
    this.state = LinkState.Ready;
    this.host.linkReady();
  }

  /** The modem kept talking for a whole sync timeout after the sync's OK: that try failed. */
  private gapNeverQuiet(): void {
    if (this.state !== LinkState.Quiet) return;
    this.gap.disarm();
    this.state = LinkState.Syncing;
    this.failedTry();
  }

  private leave(next: LinkState): void {
    this.gap.disarm();
    this.gapLimit.disarm();
    this.state = next;
  }
}

const REPORT_KINDS: ModemResetKind[] = ["reset", "sim-not-ready", "power-down", "under-voltage"];
// Power-down texts vary by firmware: SIMCom's own misspelling, free text after it. A bare
// `UNDER-VOLTAGE WARNNING` is only a warning (the modem stays on): not listed.
const REPORT_TABLE = new MatchTable([
  { text: "RDY", exact: true, id: 0 },
  { text: "+CPIN: NOT READY", exact: true, id: 1 },
  { text: "NORMAL POWER DOWN", id: 2 },
  { text: "UNDER-VOLTAGE POWER DOWN", id: 3 },
  { text: "UNDER-VOLTAGE WARNNING POWER DOWN", id: 3 },
  { text: "UNDER-VOLTAGE WARNING POWER DOWN", id: 3 },
]);

/** The kind of reset or power report `line` is, or null. */
export function matchReport(line: Line): ModemResetKind | null {
  const id = REPORT_TABLE.match(line);
  return id < 0 ? null : REPORT_KINDS[id];
}
