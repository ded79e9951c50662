// The command poll: one read of the command mailbox over POP3. STAT, then one mail at a time
// (memory stays the same however full the mailbox is): its From and Subject into one header
// reader, the verdict (./remote-command.ts), the command obeyed or the refusal logged, DELE.
// Failures are handed to the app, whose recovery table decides what the modem needs.
// What the commands do is here too, with the armed flag they persist.

import type { MailDialect } from "../mail/dialect.ts";
import { HeaderReader } from "../mail/codec/header-reader.ts";
import { pop3Settings, ALARM_DEFAULTS, type AlarmConfig } from "./alarm-config.ts";
import { CommandLedger, isUid } from "./command-ledger.ts";
import type { InputMonitor } from "./inputs.ts";
import type { Outbox } from "./outbox.ts";
import type { Crypto, KeyValueStore, WallClock } from "./ports.ts";
import { CommandVerifier, secretFromText, type RemoteCommand } from "./remote-command.ts";
import type { SenderPolicy } from "./sender-policy.ts";

const ARMED_KEY = "armed";

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
  /** Commands obeyed and refused since start. */
  obeyed = 0;
  refused = 0;
  private readonly options: CommandPollOptions;
  private readonly verifier: CommandVerifier;
  /** One reader for every command mail's From and Subject (the poll never reads a body). */
  private readonly headers = new HeaderReader({ fields: ["From", "Subject"] });

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
  }

  /** Time between polls. */
  get intervalMs(): number {
    return this.options.pop3.pollIntervalMs ?? ALARM_DEFAULTS.pollIntervalMs;
  }

  /** Reads the command mailbox once; resolves true when mails were left to read right after the sender's turn. */
  async run(mail: MailDialect): Promise<boolean> {
    const { config, pop3, outbox, trace } = this.options;
    const client = mail.mailbox;
    let mailsLeft = false;
    try {
      await client.login(pop3Settings(config, pop3));
      const { count } = await client.stat();
      const limit = Math.min(count, pop3.maxMailsPerPoll ?? ALARM_DEFAULTS.maxMailsPerPoll);
      let gaveWay = false;
      let kept = 0;
      for (let n = 1; n <= limit; n++) {
        // Events that are due go out before the rest is read: a mail flood cannot hold up an alarm.
        if (this.options.eventsDue()) {
          gaveWay = true;
          break;
        }
        // A server's UID outside the spec (empty, overlong) cannot go in the ledger; the nonce still can.
        const answer = mail.can.uidl ? await client.uid(n) : null;
        const uid = answer !== null && isUid(answer) ? answer : undefined;
        const headers = this.headers;
        headers.reset();
        await client.headers(n, headers);
        headers.end();
        const verdict = this.verifier.verify({
          from: headers.raw("From") ?? "",
          subject: headers.get("Subject") ?? "",
          fromFields: headers.count("From"),
          fromTruncated: headers.isTruncated("From"),
          subjectTruncated: headers.isTruncated("Subject"),
          ...(uid !== undefined ? { uid } : {}),
        }, this.options.wall.now());
        if (!verdict.accepted && verdict.reason === "clock-unknown") {
          kept++;
          continue;
        }
        // Acted on before the DELE: the verdict is in the ledger already, so a DELE that fails
        // (modem reset, bearer lost) must not lose an accepted command; the mail read again is
        // refused as already processed.
        if (verdict.accepted) {
          this.obeyed++;
          this.obey(verdict.command, verdict.sender);
        } else {
          this.refused++;
          outbox.append({ type: "command", source: "pop3", state: 0, alarm: false, notify: false, text: `refused ${verdict.reason} from ${verdict.sender || "?"}: ${verdict.detail}` });
          trace(`command mail refused: ${verdict.reason}`);
        }
        await client.delete(n);
      }
      // Mails kept until the clock is set are not read again before the next poll.
      mailsLeft = gaveWay || (count > limit && kept === 0);
    } catch (error) {
      this.options.failed("command poll failed", error);
    } finally {
      if (client.loggedIn) {
        await client.logout().catch((error: unknown) => {
          // Without QUIT the server keeps every mail: read them again only at the next interval.
          mailsLeft = false;
          this.options.failed("POP3 logout failed", error);
        });
      }
    }
    return mailsLeft;
  }

  private obey(command: RemoteCommand, sender: string): void {
    const { store, outbox, inputs, policy, trace } = this.options;
    trace(`command ${command} from ${sender}`);
    if (command === "ARM" || command === "DISARM") {
      const armed = command === "ARM";
      inputs.armed = armed;
      store.put(ARMED_KEY, new Uint8Array([armed ? 1 : 0]));
    }
    if (command === "TEST") {
      outbox.append({ type: "test", source: sender, state: 1, alarm: false, text: `remote test from ${sender}` });
    } else {
      outbox.append({ type: "command", source: sender, state: 1, alarm: false, notify: false, text: `${command} by ${sender}` });
    }
    // Every obeyed command is answered with a status mail.
    policy.requestStatus();
  }
}
