// Every split point of every recorded session: the receive path must see exactly the same
// lines, prompts and data bytes whichever way the UART cuts the modem's stream.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { listSessions, readSession } from "../../kit/transcript.ts";
import { Framer, ascii, type FramerSink, type Line } from "../../../src/transport/index.ts";

const POP3READ = ascii("+POP3READ: ");
const DOWNLOAD = ascii("DOWNLOAD");

/** Records what the framer reports, switching to LENGTH mode after "+POP3READ: 1|2,<n>". */
class Recorder implements FramerSink {
  events: string[] = [];
  framer!: Framer;
  private data: number[] = [];
  onLine(line: Line): void {
    this.events.push(`line:${line.text()}`);
    if (line.startsWith(POP3READ)) {
      line.after(POP3READ);
      const status = line.int();
      const length = line.int();
      if ((status === 1 || status === 2) && length > 0) this.framer.expectLength(length);
    }
    // The prompt is armed again after every line, as the engine does while SMTPBODY waits.
    this.framer.armPrompt(DOWNLOAD);
  }
  onData(buf: Uint8Array, offset: number, length: number): void {
    for (let i = 0; i < length; i++) this.data.push(buf[offset + i]);
  }
  onDataEnd(): void {
    this.events.push(`data:${String.fromCharCode(...this.data)}`);
    this.data = [];
  }
  onPrompt(): void {
    this.events.push("prompt");
    this.framer.armPrompt(DOWNLOAD);
  }
}

function run(stream: Uint8Array, cuts: number[]): string[] {
  const recorder = new Recorder();
  const framer = new Framer(256, recorder);
  recorder.framer = framer;
  framer.armPrompt(DOWNLOAD);
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    // A fresh copy per read, like a UART read into a reused buffer.
    const piece = stream.slice(from, cut);
    framer.feed(piece, 0, piece.length);
    from = cut;
  }
  return recorder.events;
}

const splits = suite("framer: recorded sessions at every split point");

for (const name of listSessions()) {
  splits(`${name}: every two-way split and byte-by-byte give the same events`, () => {
    const stream = readSession(name).modem;
    const whole = run(stream, []);
    assert.ok(whole.length > 5, "the session has events");
    for (let cut = 1; cut < stream.length; cut++) {
      const events = run(stream, [cut]);
      if (events.join("\u0000") !== whole.join("\u0000")) assert.equal(events, whole, `split at byte ${cut}`);
    }
    const bytewise = run(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
    assert.equal(bytewise, whole, "one byte per read");
  });
}

splits("data that looks like OK, ERROR or a URC inside POP3READ data stays data", () => {
  const stream = readSession("sim7000-retrieve").modem;
  const events = run(stream, []);
  const data = events.filter((e) => e.startsWith("data:")).join("");
  assert.ok(data.includes("\r\nOK\r\n") || data.includes("OK\r\n"), "mail text with an OK line is data");
  assert.ok(data.includes("+POP3READ: 3,10"), "a URC look-alike is data");
  assert.not.ok(events.includes("line:+POP3READ: 3,10"), "and never a URC");
});

splits.run();
