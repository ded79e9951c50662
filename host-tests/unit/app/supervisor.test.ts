// The alarm app's supervisor: its transition table (src/app/alarm-states.ts) and its recovery table
// (src/app/recovery.ts): what each typed error code calls for, and the session flag of the
// commands that reaches the error's code.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FeedSerial } from "../../kit/feed-serial.ts";
import { VirtualClock } from "../../../sim/scheduler.ts";
import {
  AtCommandError, AtEngine, AtParameterError, AtTimeoutError, BearerLostError, ClassicSmtpClient, InsecureCredentialsError,
  MailParameterError, ModemResetError, Pop3Client, Pop3Error, SmtpClient, SmtpError, TLS_HINT,
} from "../../../src/index.ts";
import { checkTransition, IllegalTransitionError, TRANSITIONS, type AppState } from "../../../src/app/alarm-states.ts";
import { OutboxFullError } from "../../../src/app/outbox-options.ts";
import { Recovery, recoveryFor } from "../../../src/app/recovery.ts";

const states = suite("app: the supervisor's transition table");

states("a transition outside the table throws, naming both states and what the table allows", () => {
  assert.not.throws(() => checkTransition("Ready", "Sending"));
  try {
    checkTransition("Offline", "Sending");
    assert.unreachable("Offline → Sending was allowed");
  } catch (error) {
    assert.instance(error, IllegalTransitionError);
    assert.is((error as Error).message, "AlarmApp: no transition from Offline to Sending (src/app/alarm-states.ts TRANSITIONS allows BringingUp, PoweringOn, Backoff, Stopped)");
  }
  assert.throws(() => checkTransition("Stopped", "Offline"), /no transition from Stopped to Offline \(src\/app\/alarm-states\.ts TRANSITIONS allows none\)/);
});

states("every state is reached from Offline, and every state but Stopped can stop and back off", () => {
  const all = Object.keys(TRANSITIONS) as AppState[];
  const seen = new Set<AppState>(["Offline"]);
  for (const state of seen) for (const next of TRANSITIONS[state]) seen.add(next);
  assert.equal([...seen].sort(), [...all].sort());
  for (const state of all) {
    if (state === "Stopped") continue;
    assert.ok(TRANSITIONS[state].includes("Stopped"), `${state} → Stopped`);
    assert.ok(TRANSITIONS[state].includes("Backoff") || state === "Backoff", `${state} → Backoff`);
  }
  // Sending and Polling reach every recovery's state: Ready (retry, halt), Offline (bring-up), Restarting.
  for (const state of ["Sending", "Polling"] as const) for (const next of ["Ready", "Offline", "Restarting"] as const) assert.ok(TRANSITIONS[state].includes(next), `${state} → ${next}`);
});

states.run();

const recovery = suite("app: recovery by error code");

recovery("each failure gets its rule by code, never by its words", () => {
  const cases: Array<[unknown, Recovery]> = [
    [new SmtpError(61), Recovery.BringUp],
    [new Pop3Error(61), Recovery.BringUp],
    [new SmtpError(0, "NETWORK ERROR"), Recovery.BringUp],
    [new Pop3Error(0, "NETWORK ERROR"), Recovery.BringUp],
    // The words "network" and "61" in a message that means something else: the old regex's bug.
    [new SmtpError(63, "", TLS_HINT), Recovery.Retry],
    [new SmtpError(65, "", "the server said: network policy 5.7.61"), Recovery.Retry],
    [new SmtpError(67), Recovery.Retry],
    [new AtTimeoutError("AT+SMTPFT=1461", 130_000), Recovery.Restart],
    [new AtCommandError("AT+SMTPSEND", "ERROR", true), Recovery.Restart],
    [new AtCommandError("AT+SMTPRCPT=0,0,\"a@b.c\"", "ERROR"), Recovery.Retry],
    [new ModemResetError("reset"), Recovery.BringUp],
    [new BearerLostError(1), Recovery.BringUp],
    [new MailParameterError("smtp", "bearer cid", "5 is outside 0-3"), Recovery.Halt],
    [new AtParameterError("SMTP user", "must be plain ASCII"), Recovery.Halt],
    [new InsecureCredentialsError("smtp", "security is \"none\""), Recovery.Halt],
    [new OutboxFullError(100, 100, 3), Recovery.Retry],
    [new Error("network 61"), Recovery.Retry],
    ["61", Recovery.Retry],
  ];
  for (const [error, expected] of cases) assert.is(recoveryFor(error), expected, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
});

/** Answers every command line with OK, or with ERROR where `refuse` says. */
class Refuser extends FeedSerial {
  private line = "";
  constructor(private readonly refuse: (line: string) => boolean) {
    super();
  }
  override write(data: Uint8Array): boolean {
    for (const b of data) {
      if (b !== 13) {
        this.line += String.fromCharCode(b);
        continue;
      }
      const answer = this.refuse(this.line) ? "\r\nERROR\r\n" : "\r\nOK\r\n";
      this.line = "";
      Promise.resolve().then(() => this.feed(answer));
    }
    return true;
  }
}

async function refusal(refuse: (line: string) => boolean, run: (engine: AtEngine, clock: VirtualClock) => Promise<unknown>): Promise<AtCommandError> {
  const clock = new VirtualClock();
  const serial = new Refuser(refuse);
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false, initialWritable: 1 << 30 });
  serial.engine = engine;
  const error = await run(engine, clock).then(() => null, (e: unknown) => e);
  assert.instance(error, AtCommandError);
  return error as AtCommandError;
}

const message = { from: { address: "alarm@simmail.test" }, to: [{ address: "ops@simmail.test" }], subject: "s", body: "b" };
const server = { host: "mail.simmail.test", port: 25, user: "alarm", password: "pw" };

recovery("a refused session command says so in its code; a refused setting does not", async () => {
  const send = (engine: AtEngine) => new SmtpClient(engine).send({ server }, message);
  const login = (engine: AtEngine, clock: VirtualClock) => new Pop3Client(engine, clock).login({ server: { ...server, port: 110 } });
  const classic = (engine: AtEngine) => new ClassicSmtpClient(engine).send({ server }, message);
  const cases: Array<[string, (engine: AtEngine, clock: VirtualClock) => Promise<unknown>, string]> = [
    ["AT+SMTPSEND", send, "session-refused"],
    ["AT+SMTPBODY=1", send, "session-refused"],
    ["AT+SMTPSUB=\"s\"", send, "command-refused"],
    ["AT+EMAILCID=1", send, "command-refused"],
    ["AT+POP3IN", login, "session-refused"],
    ["AT+POP3SRV=\"mail.simmail.test\",\"alarm\",\"pw\",110", login, "command-refused"],
    ["AT+SMTPSEND", classic, "session-refused"],
    ["AT+SMTPBODY=\"b\"", classic, "session-refused"],
  ];
  for (const [refused, run, code] of cases) {
    const error = await refusal((line) => line === refused, run);
    assert.is(error.code, code, refused);
  }
});

recovery.run();
