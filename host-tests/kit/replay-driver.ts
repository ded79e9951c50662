// Replays a recorded modem session against the core: the modem's bytes are released as the
// host writes what it wrote when they were recorded. The driver uses only the core's exports
// (passed in as `lib`) and plain JavaScript, so the same code runs under Node and under XS.

import type * as Simmail from "../../src/index.ts";

type Lib = typeof Simmail;

export interface RecordedBlock {
  dir: "host" | "modem";
  /** Latin-1 text of the bytes (one character per byte): compact and JSON-safe. */
  data: string;
}

export interface ReplayPlan {
  send?: {
    settings: Simmail.SmtpSettings;
    message: Simmail.MailMessage;
    attachment?: { name: string; size: number; seed: number };
  };
  retrieve?: { settings: Simmail.Pop3Settings; number: number };
}

export interface Recording {
  plan: ReplayPlan;
  blocks: RecordedBlock[];
}

export interface ReplayResult {
  /** "ok", or the error the operation ended with. */
  outcome: string;
  hostBytes: number;
  hostMismatchAt: number;
  modemBytes: number;
  retrievedLength: number;
  retrievedCrc: number;
  commands: number;
  strayLines: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The attachment's bytes: a fixed pattern from a seed, identical wherever it is generated. */
export function patternByte(index: number, seed: number): number {
  return ((index * 131 + seed * 7 + (index >> 8)) & 0xff) >>> 0;
}

export class PatternSource implements Simmail.ByteSource {
  readonly size: number;
  private position = 0;
  constructor(size: number, private readonly seed: number) {
    this.size = size;
  }
  read(out: Uint8Array, offset: number, max: number): number {
    const n = Math.min(max, this.size - this.position);
    for (let i = 0; i < n; i++) out[offset + i] = patternByte(this.position + i, this.seed);
    this.position += n;
    return n;
  }
  rewind(): void {
    this.position = 0;
  }
}

class CrcSink implements Simmail.MailSink {
  crc = 0xffffffff;
  length = 0;
  write(buf: Uint8Array, offset: number, length: number): void {
    let c = this.crc;
    for (let i = offset; i < offset + length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
    this.crc = c;
    this.length += length;
  }
  get value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

/** Timers that never fire: a replay has no silences long enough for a deadline. */
const idleTimers: Simmail.TimerPort = {
  deadline: () => ({ arm() {}, disarm() {}, close() {} }),
};

class ReplaySerial implements Simmail.SerialPort {
  engine: Simmail.AtEngine | null = null;
  hostPos = 0;
  mismatchAt = -1;
  private readonly host: Uint8Array;
  private readonly modem: Uint8Array;
  /** releaseAt[i]: host bytes that must have been written before modem byte i may arrive. */
  private readonly releaseAt: Uint32Array;
  private modemPos = 0;
  private readLimit = 0;
  private scheduled = false;

  constructor(blocks: RecordedBlock[], private readonly split: number, private readonly readChunk: number) {
    let hostLength = 0;
    let modemLength = 0;
    for (const b of blocks) {
      if (b.dir === "host") hostLength += b.data.length;
      else modemLength += b.data.length;
    }
    this.host = new Uint8Array(hostLength);
    this.modem = new Uint8Array(modemLength);
    this.releaseAt = new Uint32Array(modemLength);
    let h = 0;
    let m = 0;
    for (const b of blocks) {
      for (let i = 0; i < b.data.length; i++) {
        if (b.dir === "host") this.host[h++] = b.data.charCodeAt(i);
        else {
          this.releaseAt[m] = h;
          this.modem[m++] = b.data.charCodeAt(i);
        }
      }
    }
  }

  get modemBytes(): number {
    return this.modemPos;
  }

  read(buffer: Uint8Array): number {
    let n = 0;
    while (n < buffer.length && this.modemPos < this.readLimit) buffer[n++] = this.modem[this.modemPos++];
    return n;
  }

  write(data: Uint8Array): boolean {
    for (let i = 0; i < data.length; i++) {
      if (this.mismatchAt < 0 && (this.hostPos >= this.host.length || this.host[this.hostPos] !== data[i])) {
        this.mismatchAt = this.hostPos;
        const at = this.hostPos;
        Promise.resolve().then(() => this.engine!.abortAll(new Error(`the host wrote other bytes than recorded, at byte ${at}`)));
      }
      this.hostPos++;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      Promise.resolve().then(() => this.release());
    }
    return true;
  }

  /** Delivers what the modem had sent by now, with a read boundary at the split point. */
  release(): void {
    this.scheduled = false;
    const engine = this.engine!;
    while (this.modemPos < this.modem.length && this.releaseAt[this.modemPos] <= this.hostPos && this.mismatchAt < 0) {
      let end = this.modemPos;
      while (end < this.modem.length && this.releaseAt[end] <= this.hostPos && end - this.modemPos < this.readChunk) end++;
      if (this.split > this.modemPos && this.split < end) end = this.split;
      this.readLimit = end;
      engine.onReadable(end - this.modemPos);
    }
  }
}

/** Runs the plan against the recording; `split` puts a read boundary at that modem byte. */
export async function replay(lib: Lib, recording: Recording, split = -1, readChunk = 128): Promise<ReplayResult> {
  const serial = new ReplaySerial(recording.blocks, split, readChunk);
  const engine = new lib.AtEngine({ serial, timers: idleTimers, syncOnStart: false, initialWritable: 1 << 30 });
  serial.engine = engine;
  let commands = 0;
  engine.tracer = { line: (d) => (d === "tx" ? commands++ : 0), data() {} };
  const sink = new CrcSink();
  let outcome = "ok";
  let finished = false;
  // No timer fires in a replay: when neither side moves for a long run of microtask turns,
  // the recording has nothing more for the host, so the operation is stopped.
  const watch = (async () => {
    let last = -1;
    let still = 0;
    while (!finished) {
      await null;
      const progress = serial.hostPos * 1e7 + serial.modemBytes;
      still = progress === last ? still + 1 : 0;
      last = progress;
      if (still > 20_000) {
        engine.abortAll(new Error(`the replay stalled after ${serial.hostPos} host and ${serial.modemBytes} modem bytes`));
        still = 0;
      }
    }
  })();
  try {
    const plan = recording.plan;
    if (plan.send) {
      const message = { ...plan.send.message };
      if (plan.send.attachment) {
        const a = plan.send.attachment;
        message.attachment = { name: a.name, type: "binary", source: new PatternSource(a.size, a.seed) };
      }
      await new lib.SmtpClient(engine).send(plan.send.settings, message);
    }
    if (plan.retrieve) {
      const pop3 = new lib.Pop3Client(engine, idleTimers);
      await pop3.login(plan.retrieve.settings);
      await pop3.retrieve(plan.retrieve.number, sink);
      await pop3.logout();
    }
  } catch (error) {
    outcome = `${(error as Error).name}: ${(error as Error).message}`;
  }
  finished = true;
  await watch;
  engine.close();
  return {
    outcome,
    hostBytes: serial.hostPos,
    hostMismatchAt: serial.mismatchAt,
    modemBytes: serial.modemBytes,
    retrievedLength: sink.length,
    retrievedCrc: sink.value,
    commands,
    strayLines: engine.stats.strayLines,
  };
}
