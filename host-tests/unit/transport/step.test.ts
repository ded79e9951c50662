// Step tables: requests written from their templates, replies read into fields, the ways a
// step ends (OK, a result line before or after OK, a continued line, progress lines).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { FeedSerial } from "../../kit/feed-serial.ts";
import {
  AtEngine, AtParameterError, CommandBuffer, Line, runStep, Step, steps, wholeNumber, ascii, type Reply,
} from "../../../src/transport/index.ts";

const T = steps({
  plain: { request: "ATE0", timeoutMs: 1000 },
  info: { request: "AT+CSQ", lines: ["+CSQ:"], timeoutMs: 1000 },
  quoted: { request: 'AT+SAPBR=3,<cid>,"APN","<APN>"', timeoutMs: 1000 },
  optional: { request: 'AT+SMTPFROM="<sender address>"[,"<sender name>"]', timeoutMs: 1000 },
  secret: { request: 'AT+SMTPAUTH=1,"<SMTP user>","<SMTP password>"', secret: "SMTP password", timeoutMs: 1000 },
  result: { request: "AT+CNTP", lines: ["+CNTP:"], ends: "result", timeoutMs: 1000 },
  server: { request: "AT+POP3NUM", lines: ["+POP3OUT:", "+POP3NUM:"], ends: "result", timeoutMs: 100, server: true },
  continued: { request: "AT+POP3UIDL=<n>", lines: ["+POP3UIDL:"], ends: "result", continued: { positive: "1", fields: 3 }, timeoutMs: 1000 },
  spaced: { request: "AT+POP3NUM", lines: ["+POP3: "], ends: "result", spaced: true, timeoutMs: 1000 },
  progress: { request: "AT+SMTPSEND", lines: ["+SMTP: "], progress: ["+SMTP: OK$"], ends: "result", timeoutMs: 1000 },
  text: { request: "ATI", text: true, timeoutMs: 1000 },
});

function written(step: Step, ...args: Array<string | number | null | undefined>): string {
  const buf = new CommandBuffer(step.capacity(args));
  step.write(buf, args);
  return buf.describe();
}

const requests = suite("step: requests from templates");

requests("placeholders: numbers bare, text quoted, optional tails only with their values", () => {
  assert.is(written(T.plain), "ATE0");
  assert.is(written(T.quoted, 1, "internet"), 'AT+SAPBR=3,1,"APN","internet"');
  assert.is(written(T.optional, "a@b.c", null), 'AT+SMTPFROM="a@b.c"');
  assert.is(written(T.optional, "a@b.c", "Ops"), 'AT+SMTPFROM="a@b.c","Ops"');
});

requests("the secret is masked where the command is described; values are checked under their names", () => {
  assert.is(written(T.secret, "alarm", "hunter2"), 'AT+SMTPAUTH=1,"alarm","*******"');
  assert.throws(() => written(T.quoted, 1, 'x"+CFUN=0'), (e: unknown) => e instanceof AtParameterError && e.field === "APN");
  assert.throws(() => written(T.quoted, 1.5, "x"), (e: unknown) => e instanceof AtParameterError && e.field === "cid");
  assert.throws(() => written(T.quoted, 1), /2 values expected, 1 given/);
});

requests("a malformed template is refused when the table is made", () => {
  assert.throws(() => new Step({ request: "AT+X=<n", timeoutMs: 1 }), /unclosed placeholder/);
  assert.throws(() => new Step({ request: "AT+X=[[<n>]]", timeoutMs: 1 }), /do not nest/);
  assert.throws(() => new Step({ request: "AT+X", ends: "result", timeoutMs: 1 }), /needs its lines/);
});

requests.run();

const fields = suite("step: the one reply-field reader");

function line(text: string, after: string): Line {
  const l = new Line(ascii(text));
  l.set(text.length);
  l.after(ascii(after));
  return l;
}

fields("quoted, bare and parenthesised fields; trailing spaces dropped; spaces separate only when asked", () => {
  const l = line('+SMTPAUTH: (0,1),64 , "a,b",x', "+SMTPAUTH:");
  assert.equal([l.str(), l.str(), l.str(), l.str()], ["(0,1)", "64", "a,b", "x"]);
  assert.ok(l.atEnd());
  const cpin = line("+CPIN: NOT READY", "+CPIN:");
  assert.is(cpin.str(), "NOT READY");
  const spaced = line("+POP3: 2 2134", "+POP3: ");
  assert.equal([spaced.str(true), spaced.str(true)], ["2", "2134"]);
  const comma = line("+POP3: 1, 1050", "+POP3: ");
  assert.equal([comma.str(true), comma.str(true)], ["1", "1050"]);
  assert.is(wholeNumber("42"), 42);
  assert.ok(Number.isNaN(wholeNumber("")) && Number.isNaN(wholeNumber("4x")) && Number.isNaN(wholeNumber("99999999999999999")));
});

fields.run();

const replies = suite("step: how steps end");

function rig() {
  const clock = new VirtualClock();
  const serial = new FeedSerial({ record: true });
  const engine = new AtEngine({ serial, timers: clock, syncOnStart: false });
  serial.engine = engine;
  return { clock, serial, engine };
}

const flush = () => new Promise((r) => setImmediate(r));

async function reply(step: Step, wire: string, args: Array<string | number> = [], serverMs = 0): Promise<Reply> {
  const { serial, engine } = rig();
  const pending = runStep(engine, step, args, serverMs);
  serial.feed(wire);
  await flush();
  return pending;
}

replies("info lines fill the reply; OK ends the step", async () => {
  const r = await reply(T.info, "\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
  assert.equal(r.lines, [{ match: 0, text: "27,99", fields: ["27", "99"] }]);
  assert.is(r.int(0), 27);
  assert.is(r.field(5), "");
  assert.ok(Number.isNaN(r.int(5)));
});

replies("a result line ends the step whether it comes before or after OK", async () => {
  for (const wire of ["\r\nOK\r\n\r\n+CNTP: 1\r\n", "\r\n+CNTP: 1\r\n\r\nOK\r\n"]) {
    const r = await reply(T.result, wire);
    assert.is(r.result?.fields[0], "1", JSON.stringify(wire));
  }
  const { serial, engine } = rig();
  let done = false;
  void runStep(engine, T.result).then(() => (done = true));
  serial.feed("\r\nOK\r\n");
  await flush();
  assert.not.ok(done, "OK alone does not end a step that awaits its result");
});

replies("a step waiting on the server gets the server's timeout on top of its own", async () => {
  const { clock, engine } = rig();
  let error: Error | null = null;
  void runStep(engine, T.server, [], 1000).catch((e: Error) => (error = e));
  clock.advance(1099);
  await flush();
  assert.is(error, null);
  clock.advance(1);
  await flush();
  assert.match(String(error), /AT\+POP3NUM within 1100 ms/);
});

replies("a positive reply short of its fields takes the next line, whatever it looks like", async () => {
  const r = await reply(T.continued, "\r\nOK\r\n\r\n+POP3UIDL: 1,3,\r\nOK+weird\r\n", [3]);
  assert.equal(r.result?.fields, ["1", "3", "OK+weird"]);
  const negative = await reply(T.continued, "\r\nOK\r\n\r\n+POP3UIDL: 0\r\n", [3]);
  assert.equal(negative.result?.fields, ["0"]);
});

replies("spaced fields, progress lines and text steps", async () => {
  assert.equal((await reply(T.spaced, "\r\nOK\r\n\r\n+POP3: 2 2134\r\n")).result?.fields, ["2", "2134"]);
  const send = await reply(T.progress, "\r\n+SMTP: OK\r\n\r\nOK\r\n\r\n+SMTP: BAD RCPT x@y.z\r\n");
  assert.is(send.result?.text, "BAD RCPT x@y.z", "+SMTP: OK only said the session was open");
  const ati = await reply(T.text, "\r\nSIMCOM_Ltd\r\n\r\nSIMCOM_SIM7000G\r\n\r\nOK\r\n");
  assert.is(ati.joined(), "SIMCOM_Ltd SIMCOM_SIM7000G");
});

replies.run();
