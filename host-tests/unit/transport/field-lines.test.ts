// The transport's share of the field behaviours (docs/FIELD.md), each on the exact bytes real
// modems send: a lone CR after an echo, echoes in lower case, boot lines inside a text reply,
// the error forms, the power-down texts, the boot window.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";
import { AtCommandError, AtEngine, AtTimeoutError, ModemResetError } from "../../../src/transport/index.ts";
import { refusalText } from "../../../src/transport/errors.ts";
import { runStep, steps } from "../../../src/transport/step.ts";

const STEPS = steps({
  signal: { request: "AT+CSQ", lines: ["+CSQ:"], timeoutMs: 1000 },
  identity: { request: "ATI", text: true, timeoutMs: 1000 },
  attached: { request: "AT+CGATT?", lines: ["+CGATT:"], timeoutMs: 1000 },
});

function makeEngine(clock: VirtualClock, options: Partial<ConstructorParameters<typeof AtEngine>[0]> = {}) {
  const serial = new FeedSerial({ record: true });
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false, ...options });
  serial.engine = engine;
  return { serial, engine };
}

const flush = () => new Promise((r) => setImmediate(r));

async function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.catch((error: Error) => error);
}

const lines = suite("field lines: what the engine reads");

lines("an echo straight into its result (AT+CSQ\\r+CSQ: ...) and a lower-case echo", async () => {
  const clock = new VirtualClock();
  const { serial, engine } = makeEngine(clock);
  const reply = runStep(engine, STEPS.signal);
  serial.feed("at+csq\r+CSQ: 21,99\r\nOK\r\n");
  await flush();
  assert.is((await reply).int(0), 21);
});

lines("boot lines inside ATI's text are not its text", async () => {
  const clock = new VirtualClock();
  const { serial, engine } = makeEngine(clock);
  const reply = runStep(engine, STEPS.identity);
  serial.feed("ATI\r\r\nSMS Ready\r\nSIM7000G R1529\r\n*PSUTTZ: 26/01/08,11:36:13\",\"+04\",0\r\n\r\nOK\r\n");
  await flush();
  assert.is((await reply).joined(), "SIM7000G R1529");
});

lines("+CME ERROR numeric and verbose, +CMS ERROR: with no code or no space, an information line then ERROR", async () => {
  assert.is(refusalText("+CME ERROR: 10"), "+CME ERROR: 10 (SIM not inserted)");
  assert.is(refusalText("+CME ERROR: SIM failure"), "+CME ERROR: SIM failure");
  assert.is(refusalText("+CMS ERROR:"), "+CMS ERROR: (no error code given)");
  assert.is(refusalText("+CMS ERROR:500"), "+CMS ERROR:500 (unknown error)");
  const clock = new VirtualClock();
  const { serial, engine } = makeEngine(clock);
  for (const [bytes, expected] of [
    ["\r\n+CMS ERROR:\r\n", /refused AT\+CSQ: \+CMS ERROR: \(no error code given\)/],
    ["\r\n+CME ERROR: SIM failure\r\n", /refused AT\+CSQ: \+CME ERROR: SIM failure$/],
  ] as const) {
    const reply = settle(runStep(engine, STEPS.signal));
    serial.feed(bytes);
    await flush();
    const error = await reply;
    assert.instance(error, AtCommandError);
    assert.match((error as Error).message, expected);
  }
  const attached = settle(runStep(engine, STEPS.attached));
  serial.feed("\r\n+CGATT: 1\r\n\r\nERROR\r\n");
  await flush();
  assert.match(((await attached) as Error).message, /refused AT\+CGATT\?: ERROR \(after \+CGATT: 1\)/);
  assert.is(((await attached) as AtCommandError).errorNumber, -1);
});

lines("UNDER-VOLTAGE WARNNING POWER DOWN with text after it is a power-down; the warning alone is not", async () => {
  const clock = new VirtualClock();
  const { serial, engine } = makeEngine(clock);
  const warned = settle(runStep(engine, STEPS.signal));
  serial.feed("\r\nUNDER-VOLTAGE WARNNING\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
  await flush();
  assert.not.instance(await warned, Error);
  const down = settle(runStep(engine, STEPS.signal));
  serial.feed("\r\nUNDER-VOLTAGE WARNNING POWER DOWN, VBAT 3.28V\r\n");
  await flush();
  const error = await down;
  assert.instance(error, ModemResetError);
  assert.is((error as ModemResetError).reset, "under-voltage");
});

lines("a booting link keeps sending AT for the boot window; any other sync gets syncAttempts", async () => {
  const clock = new VirtualClock();
  const { serial, engine } = makeEngine(clock, { syncOnStart: true, syncTimeoutMs: 500, syncAttempts: 4, bootWindowMs: 20_000 });
  const first = settle(runStep(engine, STEPS.signal));
  clock.advance(19_000);
  await flush();
  assert.is((serial.sent().match(/AT\r/g) ?? []).length, 39, "still trying 19 s in");
  serial.feed("AT\r\r\nOK\r\n");
  clock.advance(100);
  await flush();
  serial.feed("\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
  await flush();
  assert.not.instance(await first, Error);
  engine.requestSync();
  const later = settle(runStep(engine, STEPS.signal));
  clock.advance(2_100);
  await flush();
  const error = await later;
  assert.instance(error, AtTimeoutError, "an ordinary resync gives up after 4 tries");
  assert.match((error as Error).message, /4 tries/);
});

lines.run();
