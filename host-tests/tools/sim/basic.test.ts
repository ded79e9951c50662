// The simulator's AT front end and bring-up commands (spec sections 4 and 5.1): parsing,
// echo, line handling, framing, autobauding, boot lines, bearer, network time.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { VirtualClock } from "../../../sim/scheduler.ts";
import { AtSyntaxError, locateCommand, parseCommand, parseParams } from "../../../sim/modem/at-parser.ts";
import { SimDriver } from "../../kit/sim-driver.ts";
import { SimModem, formatModemClock, parseModemClock } from "../../../sim/modem/modem.ts";
import { NodeSimModem } from "../../../sim/modem/node-modem.ts";

const test = suite("sim: AT front end and bring-up");

/** A modem on a virtual clock whose output is collected as Latin-1 text. */
function virtualModem(options: ConstructorParameters<typeof SimModem>[0] = {}) {
  const clock = new VirtualClock();
  let output = "";
  const sim = new NodeSimModem({ scheduler: clock, ...options, send: (bytes) => (output += Buffer.from(bytes).toString("latin1")) });
  return {
    clock,
    sim,
    type: (text: string) => sim.receive(Buffer.from(text, "latin1")),
    take: () => {
      const out = output;
      output = "";
      return out;
    },
  };
}

test("parses the four command forms, basic commands and parameters", () => {
  assert.equal(parseCommand("AT"), { line: "AT", name: "", form: "exec", basicValue: null, params: [] });
  assert.equal(parseCommand("at+csq").name, "+CSQ");
  assert.equal(parseCommand("AT+EMAILTO=?").form, "test");
  assert.equal(parseCommand("AT+EMAILTO?").form, "read");
  assert.equal(parseCommand("ATE0"), { line: "ATE0", name: "E", form: "exec", basicValue: 0, params: [] });
  assert.equal(parseCommand("AT&F").name, "&F");
  const write = parseCommand('AT+SMTPRCPT = 0, 1,"a, b@x","Name"');
  assert.is(write.form, "write");
  assert.equal(write.params, [
    { kind: "int", value: 0, raw: "0" },
    { kind: "int", value: 1, raw: "1" },
    { kind: "string", value: "a, b@x" },
    { kind: "string", value: "Name" },
  ]);
  assert.equal(parseParams("C:/Picture"), [{ kind: "word", value: "C:/Picture" }]);
  assert.equal(parseParams('1,,"x",'), [{ kind: "int", value: 1, raw: "1" }, { kind: "empty" }, { kind: "string", value: "x" }, { kind: "empty" }]);
  assert.equal(parseParams("-20,007"), [{ kind: "int", value: -20, raw: "-20" }, { kind: "int", value: 7, raw: "007" }]);
  // A quote always ends a string: SIMCom strings have no escapes.
  assert.equal(parseParams('"a\\"'), [{ kind: "string", value: "a\\" }]);
});

test("refuses malformed command lines", () => {
  for (const line of ['AT+SMTPSUB="open', 'AT+SMTPSUB="a"b', "AT+CSQ;+CGATT?", "ATE0V1", "AT+", 'AT+X=a"b']) {
    assert.throws(() => parseCommand(line), (error: unknown) => error instanceof AtSyntaxError, line);
  }
  assert.is(locateCommand("\x00\xffAT+CSQ"), "AT+CSQ");
  assert.is(locateCommand("hello"), null);
});

test("echoes what it reads and frames results as a SIM7000 with ATV1", async () => {
  const d = new SimDriver();
  try {
    d.send("AT\r");
    await d.expect("AT\r\r\nOK\r\n");
    d.send("ATE0\r");
    await d.expect("ATE0\r\r\nOK\r\n");
    d.send("AT+CSQ\r");
    await d.expect("\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
    d.send("AT+NOSUCH\r");
    await d.expect("\r\nERROR\r\n");
    d.send("ATE1\r");
    await d.expect("\r\nOK\r\n");
    d.send("at+cgatt?\r");
    await d.expect("at+cgatt?\r\r\n+CGATT: 1\r\n\r\nOK\r\n");
  } finally {
    d.close();
  }
});

test("takes input split anywhere, CR LF endings, noise and backspaces", async () => {
  const d = new SimDriver({ echo: false });
  try {
    for (const byte of "AT+CPIN?\r") d.send(byte);
    await d.expect("\r\n+CPIN: READY\r\n\r\nOK\r\n");
    d.send("AT\r\nAT\r\n");
    await d.expect("\r\nOK\r\n\r\nOK\r\n");
    d.send("\x00\x13garbageAT\r");
    await d.expect("\r\nOK\r\n");
    d.send("no command here\r\r\n\r");
    d.send("AT+CSX\bQ\r");
    await d.expect("\r\n+CSQ: 27,99\r\n\r\nOK\r\n");
    await d.quiet(20);
  } finally {
    d.close();
  }
});

test("refuses out-of-range values and over-long lines with ERROR", async () => {
  const d = new SimDriver({ echo: false, limits: { commandLine: 64 } });
  try {
    for (const line of ["AT+EMAILTO=9", "AT+EMAILTO=121", 'AT+EMAILTO="30"', "AT+EMAILTO=30,1", "AT+IPR=12345", "ATV0", `AT+SMTPSUB="${"x".repeat(80)}"`]) {
      assert.is(await d.command(line), "\r\nERROR\r\n", line);
    }
    assert.is(await d.command("AT+EMAILTO=120"), "\r\nOK\r\n");
  } finally {
    d.close();
  }
});

test("bring-up of spec 4.1 byte for byte", async () => {
  const d = new SimDriver({ echo: false, bearerDelayMs: 5 });
  try {
    const transcript: Array<[string, string]> = [
      ["AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"],
      ['AT+CGDCONT=1,"IP","APN"', "\r\nOK\r\n"],
      ["AT+CSQ", "\r\n+CSQ: 27,99\r\n\r\nOK\r\n"],
      ["AT+CGATT?", "\r\n+CGATT: 1\r\n\r\nOK\r\n"],
      ["AT+COPS?", '\r\n+COPS: 0,0,"460 01",9\r\n\r\nOK\r\n'],
      ['AT+SAPBR=3,1,"APN","CMNET"', "\r\nOK\r\n"],
      ["AT+SAPBR=1,1", "\r\nOK\r\n"],
      ["AT+SAPBR=2,1", '\r\n+SAPBR:1,1,"10.89.193.1"\r\n\r\nOK\r\n'],
      ["AT+SAPBR=0,1", "\r\nOK\r\n"],
      ["AT+SAPBR=2,1", '\r\n+SAPBR:1,3,"0.0.0.0"\r\n\r\nOK\r\n'],
      ["AT+CGDCONT?", '\r\n+CGDCONT: 1,"IP","APN","0.0.0.0",0,0,0,0\r\n\r\nOK\r\n'],
      ["AT+SAPBR=4,1", "\r\n+SAPBR:\r\nCONTYPE: GPRS\r\nAPN: CMNET\r\nPHONENUM: \r\nUSER: \r\nPWD: \r\nRATE: 2\r\n\r\nOK\r\n"],
    ];
    for (const [line, reply] of transcript) assert.is(await d.command(line), reply, line);
    // Closing a closed bearer, opening an open one: ERROR.
    assert.is(await d.command("AT+SAPBR=0,1"), "\r\nERROR\r\n");
    assert.is(await d.command("AT+SAPBR=1,2"), "\r\nOK\r\n");
    assert.is(await d.command("AT+SAPBR=1,2"), "\r\nERROR\r\n");
    // The network releases the bearer: "+SAPBR 2: DEACT".
    d.sim.dropBearer(2);
    await d.expect("\r\n+SAPBR 2: DEACT\r\n");
    assert.is(await d.command("AT+SAPBR=2,2"), '\r\n+SAPBR:2,3,"0.0.0.0"\r\n\r\nOK\r\n');
  } finally {
    d.close();
  }
});

test("the space after +SAPBR: is a quirk option", async () => {
  const d = new SimDriver({ echo: false, bearerDelayMs: 1, quirks: { sapbrQueryNoSpace: false } });
  try {
    assert.is(await d.command("AT+SAPBR=2,1"), '\r\n+SAPBR: 1,3,"0.0.0.0"\r\n\r\nOK\r\n');
  } finally {
    d.close();
  }
});

test("network time of spec 5.1 and the clock in quarter hours", () => {
  const m = virtualModem({ echo: false, bearerDelayMs: 100, ntpDelayMs: 1000, networkTime: () => Date.UTC(2018, 11, 26, 2, 36, 48) });
  m.sim.powerOn({ quiet: true });
  m.type("AT+CCLK?\r");
  assert.is(m.take(), '\r\n+CCLK: "80/01/06,00:00:00+00"\r\n\r\nOK\r\n', "a SIM7000 clock starts in 1980");
  m.type('AT+SAPBR=3,1,"APN","CMNET"\rAT+SAPBR=1,1\r');
  m.clock.advance(100);
  assert.is(m.take(), "\r\nOK\r\n\r\nOK\r\n");
  m.type("AT+CNTPCID?\r");
  assert.is(m.take(), "\r\n+CNTPCID: 1\r\n\r\nOK\r\n");
  m.type('AT+CNTP="ntp1.aliyun.com",32\r');
  assert.is(m.take(), "\r\nOK\r\n");
  m.type("AT+CNTP?\r");
  assert.is(m.take(), '\r\n+CNTP: "ntp1.aliyun.com",32\r\n\r\nOK\r\n');
  m.type("AT+CNTP\r");
  assert.is(m.take(), "\r\nOK\r\n");
  m.clock.advance(999);
  assert.is(m.take(), "");
  m.clock.advance(1);
  assert.is(m.take(), '\r\n+CNTP: 1,"2018/12/26,10:36:48"\r\n');
  m.clock.advance(9000);
  m.type("AT+CCLK?\r");
  assert.is(m.take(), '\r\n+CCLK: "18/12/26,10:36:57+32"\r\n\r\nOK\r\n');
  m.type('AT+CCLK="24/02/29,23:59:58-20"\r');
  m.clock.advance(3000);
  m.type("AT+CCLK?\r");
  assert.is(m.take(), '\r\nOK\r\n\r\n+CCLK: "24/03/01,00:00:01-20"\r\n\r\nOK\r\n');
  m.type('AT+CCLK="24/13/01,00:00:00+00"\r');
  assert.is(m.take(), "\r\nERROR\r\n");
  m.sim.close();
});

test("AT+CNTP fails with 61 when its bearer is down", () => {
  const m = virtualModem({ echo: false, ntpDelayMs: 50 });
  m.sim.powerOn({ quiet: true });
  m.type('AT+CNTP="pool.ntp.org",0\rAT+CNTP\r');
  m.clock.advance(50);
  assert.is(m.take(), "\r\nOK\r\n\r\nOK\r\n\r\n+CNTP: 61\r\n");
  m.sim.close();
});

test("clock text round trip", () => {
  const cases = ["18/12/26,10:36:57+32", "80/01/06,00:00:00+00", "24/07/01,23:15:00-47"];
  for (const text of cases) {
    const parsed = parseModemClock(text)!;
    assert.is(formatModemClock(parsed.epochMs, parsed.timezoneQuarters), text);
  }
});

test("identity, battery and baud rate", async () => {
  const rates: number[] = [];
  const d = new SimDriver({ echo: false, onBaudChange: (rate) => rates.push(rate) });
  try {
    assert.is(await d.command("ATI"), "\r\nSIM7000G R1529\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+CGMR"), "\r\nRevision:1529B04SIM7000G\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+CGMM"), "\r\nSIMCOM_SIM7000G\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+GSN"), "\r\n869951030000000\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+CBC"), "\r\n+CBC: 0,80,4000\r\n\r\nOK\r\n");
    assert.is(await d.command("AT+IPR?"), "\r\n+IPR: 115200\r\n\r\nOK\r\n");
    assert.equal(rates, []);
    assert.is(await d.command("AT+IPR=921600"), "\r\nOK\r\n");
    assert.equal(rates, [921600], "the new rate is reported after the OK went out");
    assert.is(await d.command("AT+IPR?"), "\r\n+IPR: 921600\r\n\r\nOK\r\n");
  } finally {
    d.close();
  }
});

test("autobauding swallows input up to and including the first AT line", () => {
  const m = virtualModem({ autobaud: true });
  m.sim.powerOn({ quiet: true });
  m.type("\x55\xaaAT\r");
  assert.is(m.take(), "", "the line that carried the rate is lost");
  m.type("AT\r");
  assert.is(m.take(), "AT\r\r\nOK\r\n");
  m.type("AT+IPR?\r");
  assert.is(m.take(), "AT+IPR?\r\r\n+IPR: 0\r\n\r\nOK\r\n");
  m.sim.close();
});

test("power-on prints the boot lines on its timeline", () => {
  const m = virtualModem();
  m.sim.powerOn();
  assert.is(m.take(), "\r\nRDY\r\n");
  m.clock.advance(400);
  assert.is(m.take(), "\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n");
  m.clock.advance(1600);
  assert.is(m.take(), "\r\nSMS Ready\r\n");
  m.sim.close();
});

test("AT+CFUN=1,1 answers OK, restarts and forgets its state", () => {
  const m = virtualModem({ bootSequence: [{ delayMs: 0, text: "RDY" }] });
  m.sim.powerOn({ quiet: true });
  m.type("ATE0\r");
  m.take();
  m.type("AT+EMAILTO=60\rAT+CFUN=1,1\r");
  assert.is(m.take(), "\r\nOK\r\n\r\nOK\r\n");
  m.clock.advance(100);
  assert.is(m.take(), "\r\nRDY\r\n");
  m.type("AT+EMAILTO?\r");
  assert.is(m.take(), "AT+EMAILTO?\r\r\n+EMAILTO: 30\r\n\r\nOK\r\n", "echo is back on, EMAILTO back at its default");
  m.sim.close();
});

test("input that arrives while a command is still running waits its turn", () => {
  const m = virtualModem({ echo: false, bearerDelayMs: 300 });
  m.sim.powerOn({ quiet: true });
  m.type("AT+SAPBR=1,1\rAT+SAPBR=2,1\r");
  assert.is(m.take(), "");
  m.clock.advance(300);
  assert.is(m.take(), '\r\nOK\r\n\r\n+SAPBR:1,1,"10.89.193.1"\r\n\r\nOK\r\n');
  m.sim.close();
});

test("a detach drops the open bearers; the default PDN follows the network", () => {
  const m = virtualModem({ echo: false, bearerDelayMs: 10 });
  m.sim.powerOn({ quiet: true });
  m.type("AT+SAPBR=1,1\r");
  m.clock.advance(10);
  m.take();
  assert.ok(m.sim.bearerUp(0) && m.sim.bearerUp(1));
  m.type("AT+CGATT=0\r");
  assert.is(m.take(), "\r\nOK\r\n\r\n+SAPBR 1: DEACT\r\n");
  assert.not.ok(m.sim.bearerUp(0));
  m.type("AT+CGATT?\rAT+COPS?\rAT+CSQ\r");
  assert.is(m.take(), "\r\n+CGATT: 0\r\n\r\nOK\r\n\r\n+COPS: 0\r\n\r\nOK\r\n\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
  m.type("AT+SAPBR=1,1\r");
  m.clock.advance(10);
  assert.is(m.take(), "\r\nERROR\r\n", "no bearer without packet service");
  m.sim.close();
});

test.run();
