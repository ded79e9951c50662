// The command poll: one read of the command mailbox over POP3. STAT, then one mail at a time
// (memory stays the same however full the mailbox is): UIDL and LIST (a mail processed before,
// or over the size cap, is deleted unread), its From and Subject into one header reader, the
// verdict (./remote-command.ts), the command obeyed or the refusal counted, DELE. Refusals go
// into the event log once per poll, counted by reason (./refusal-tally.ts).
// Failures are handed to the app, whose recovery table decides what the modem needs.
// What the commands do is here too, with the armed flag they persist.

import type { MailDialect } from "../mail/dialect.ts";
import { MailReadStoppedError } from "../mail/errors.ts";
import type { ReadLimit } from "../mail/pop3-reader.ts";
import { HeaderReader } from "../mail/codec/header-reader.ts";
import { pop3Settings, ALARM_DEFAULTS, type AlarmConfig } from "./alarm-config.ts";
import { CommandLedger, isUid } from "./command-ledger.ts";
import type { InputMonitor } from "./inputs.ts";
import type { Outbox } from "./outbox.ts";
import type { Crypto, KeyValueStore, WallClock } from "./ports.ts";
import { RefusalTally } from "./refusal-tally.ts";
import { CommandVerifier, secretFromText, type CommandRefusal, type RemoteCommand } from "./remote-command.ts";
import type { SenderPolicy } from "./sender-policy.ts";

const ARMED_KEY = "armed";

/** What became of one mail of the poll. */
const DONE = 0;
/** Kept in the mailbox until the clock is known. */
const KEPT = 1;
/** A read stopped part way (events due, or a mail whose UIDL is now in the ledger): log out, read the rest right after. */
const SESSION_ENDED = 2;
/** A read stopped part way on a mail without a UIDL: log out, and wait for the next interval. */
const SESSION_ENDED_UNMARKED = 3;
type ReadOutcome = typeof DONE | typeof KEPT | typeof SESSION_ENDED | typeof SESSION_ENDED_UNMARKED;

/** Whether the inputs guard, as the last ARM or DISARM left it (armed when none ever came). */
export function storedArmed(store: KeyValueStore): boolean {
  const armed = store.get(ARMED_KEY);
  return armed === null ? true : armed[0] === 1;
}

export interface CommandPollOptions {
  config: AlarmConfig;
  pop3: NonNullable<AlarmConfig["pop3"]>;
  crypto: Crypto;
  /** Holds the command ledger and the armed flag. */
  store: KeyValueStore;
  wall: WallClock;
  outbox: Outbox;
  inputs: InputMonitor;
  /** Answers every obeyed command with a status mail. */
  policy: SenderPolicy;
  /** Whether events are due to go out: the poll then gives way, and the rest is read right after. */
  eventsDue: () => boolean;
  /** A step of the poll failed (`what` says which). */
  failed: (what: string, error: unknown) => void;
  trace: (text: string) => void;
}

export class CommandPoll {
  /** Commands obeyed and mails refused since start. */
  obeyed = 0;
  refused = 0;
  private readonly options: CommandPollOptions;
  private readonly verifier: CommandVerifier;
  /** One reader for every command mail's From and Subject (the poll never reads a body). */
  private readonly headers = new HeaderReader({ fields: ["From", "Subject"] });
  /** This poll's refusals, by reason. */
  private readonly tally = new RefusalTally();
  /** Every headers read: at most the size cap, and it gives way to due events. */
  private readonly readLimit: ReadLimit;

  constructor(options: CommandPollOptions) {
    const { config, pop3 } = options;
    this.options = options;
    this.verifier = new CommandVerifier({
      crypto: options.crypto,
      secret: secretFromText(pop3.secret),
      deviceId: config.deviceId,
      allowlist: pop3.allowlist,
      ledger: new CommandLedger(options.store),
      ...(pop3.windowSeconds !== undefined ? { windowSeconds: pop3.windowSeconds } : {}),
    });
    this.readLimit = { maxBytes: pop3.maxMailBytes ?? ALARM_DEFAULTS.maxMailBytes, interrupt: options.eventsDue };
  }


  /** Time between polls. */
  get intervalMs(): number {
    return this.options.pop3.pollIntervalMs ?? ALARM_DEFAULTS.pollIntervalMs;
  }

  /** Reads the command mailbox once; resolves true when mails were left to read right after the sender's turn. */
  async run(mail: MailDialect): Promise<boolean> {
    const { config, pop3, trace } = this.options;
    const client = mail.mailbox;
    const tally = this.tally;
    tally.reset();
    let mailsLeft = false;
    try {
      await client.login(pop3Settings(config, pop3));
      const { count } = await client.stat();
      const limit = Math.min(count, pop3.maxMailsPerPoll ?? ALARM_DEFAULTS.maxMailsPerPoll);
      let gaveWay = false;
      let unmarked = false;
      let kept = 0;
      for (let n = 1; n <= limit; n++) {
        // Events that are due go out before the rest is read: a mail flood cannot hold up an alarm.
        if (this.options.eventsDue()) {
          gaveWay = true;
          break;
        }
        const read = await this.readOne(mail, n);
        if (read === KEPT) kept++;
        // The modem holds the rest of an answer and takes nothing but the logout now.
        if (read === SESSION_ENDED) gaveWay = true;
        if (read === SESSION_ENDED_UNMARKED) unmarked = true;
        if (read >= SESSION_ENDED) break;
      }
      // Mails kept until the clock is set are not read again before the next poll.
      // A mail the modem could not be stopped on nor marked waits for the interval, not a loop.
      mailsLeft = !unmarked && (gaveWay || (count > limit && kept === 0));
    } catch (error) {
      this.options.failed("command poll failed", error);
    } finally {
      this.logRefusals();
      if (client.loggedIn) {
        await client.logout().catch((error: unknown) => {
          // Without QUIT the server keeps every mail: read them again only at the next interval.
          mailsLeft = false;
          this.options.failed("POP3 logout failed", error);
        });
      }
    }
    if (tally.total > 0) trace(`command poll: ${tally.describe()}`);
    return mailsLeft;
  }

  /**
   * Mail `n`: known by its UIDL, or over the size cap, it is deleted unread; else its From and
   * Subject are read (stopped past the cap, or when events fall due) and judged. A refused mail
   * is deleted whatever else fails: the refusal is only counted here, and logged once per poll.
   */
  private async readOne(mail: MailDialect, n: number): Promise<ReadOutcome> {
    const client = mail.mailbox;
    const verifier = this.verifier;
    const wall = this.options.wall;
    // A server's UID outside the spec (empty, overlong) cannot go in the ledger; the nonce still can.
    const answer = mail.can.uidl ? await client.uid(n) : null;
    const uid = answer !== null && isUid(answer) ? answer : undefined;
    let verdict = verifier.processedBefore(uid);
    if (verdict === null) {
      const size = await client.list(n);
      const cap = this.readLimit.maxBytes;
      if (size > cap) verdict = verifier.refuseUnread("oversize", `${size} bytes, over the ${cap} of commandMailMaxBytes`, uid, wall.now());
    }
    if (verdict === null) {
      const headers = this.headers;
      headers.reset();
      try {
        await client.headers(n, headers, this.readLimit);
      } catch (error) {
        if (!(error instanceof MailReadStoppedError)) throw error;
        if (error.why === "too-large") {
          this.countRefusal(verifier.refuseUnread("oversize", `its headers passed the ${this.readLimit.maxBytes} bytes of commandMailMaxBytes`, uid, wall.now()));
          // Deleted at once where the modem still takes commands; else next time, unread, by its UIDL.
          if (error.sessionEnded) return uid !== undefined ? SESSION_ENDED : SESSION_ENDED_UNMARKED;
          await client.delete(n);
          return DONE;
        }
        this.options.trace(`command poll gave way inside mail ${n} after ${error.received} bytes: events are due`);
        return SESSION_ENDED;
      }
      headers.end();
      verdict = verifier.verify({
        from: headers.raw("From") ?? "",
        subject: headers.get("Subject") ?? "",
        fromFields: headers.count("From"),
        fromTruncated: headers.isTruncated("From"),
        subjectTruncated: headers.isTruncated("Subject"),
        ...(uid !== undefined ? { uid } : {}),
      }, wall.now());
    }
    if (!verdict.accepted && verdict.reason === "clock-unknown") return KEPT;
    // Acted on before the DELE: the verdict is in the ledger already, so a DELE that fails
    // (modem reset, bearer lost) must not lose an accepted command; the mail read again is
    // refused as already processed.
    if (verdict.accepted) {
      this.obeyed++;
      this.obey(verdict.command, verdict.sender);
    } else {
      this.countRefusal(verdict);
    }
    await client.delete(n);
    return DONE;
  }

  private countRefusal(verdict: CommandRefusal): void {
    this.refused++;
    this.tally.add(verdict.reason, verdict.sender, verdict.detail);
    this.options.trace(`command mail refused: ${verdict.reason}`);
    this.options.trace(`refused mail: ${verdict.sender !== "" ? `from ${verdict.sender}: ` : ""}${verdict.detail}`);
  }

  /**
   * One note in the event log per poll for all its refusals, by reason: a flood of junk mail
   * costs one record per poll, never one per mail, and never a mail's deletion. A note that
   * cannot be written (outbox full of alarms) is traced; the mails are gone all the same.
   */
  private logRefusals(): void {
    const tally = this.tally;
    if (tally.total === 0) return;
    try {
      this.options.outbox.append({ type: "command", source: "pop3", state: 0, alarm: false, notify: false, text: tally.describe() });
    } catch (error) {
      this.options.trace(`logging the command poll's refusals failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private obey(command: RemoteCommand, sender: string): void {
    const { store, outbox, inputs, policy, trace } = this.options;
    trace(`command ${command} from ${sender}`);
    if (command === "ARM" || command === "DISARM") {
      const armed = command === "ARM";
      inputs.armed = armed;
      store.put(ARMED_KEY, new Uint8Array([armed ? 1 : 0]));
    }
    // Every obeyed command is answered with a status mail.
    policy.requestStatus();
    // Obeyed whether or not the log takes it (an outbox full of undelivered alarms): the mail
    // is deleted and the status mail says the state.
    try {
      if (command === "TEST") outbox.append({ type: "test", source: sender, state: 1, alarm: false, text: `remote test from ${sender}` });
      else outbox.append({ type: "command", source: sender, state: 1, alarm: false, notify: false, text: `${command} by ${sender}` });
    } catch (error) {
      trace(`logging command ${command} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
