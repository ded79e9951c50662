// The AT+SMTPFT loop encodes the next chunk while the modem's answer to the last one is a round
// trip away (AtCommand.onPayloadSent), not after it: on the device that hides the chunk's
// compute behind the modem's latency. The bytes stay right when the modem confirms less than
// asked or offers a smaller chunk next.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BufferSource, SendScript, patternBytes } from "../../../bench/paths.ts";
import { scriptedEngine, type ModemEnd } from "../../../bench/scripted-link.ts";
import { AtEngine, SmtpClient } from "../../../src/index.ts";

const test = suite("mail/upload-ahead");

/** The modem side: each chunk confirmed (maybe in part), its answer posted a turn later. */
class AheadScript extends SendScript {
  readonly payloadText: string[] = [];
  /** Source position when each chunk's answer goes out. */
  readonly positionsAtAnswer: number[] = [];
  readonly offers: number[];
  readonly confirmShort: boolean;
  constructor(private readonly source: { position(): number }, offers: number[], confirmShort: boolean) {
    super();
    this.offers = offers;
    this.confirmShort = confirmShort;
  }
  private chunk = 0;
  payload(bytes: Uint8Array, start: number, end: number): void {
    if (!this.chunkUnderWay) return; // the body after DOWNLOAD
    for (let i = start; i < end; i++) this.payloadText.push(String.fromCharCode(bytes[i]));
  }
  protected override offer(): number {
    return this.offers.length > 1 ? this.offers.shift()! : this.offers[0];
  }
  protected override confirmed(asked: number): number {
    // Every other chunk confirmed 100 bytes short: the rest must come in the next one.
    return this.confirmShort && this.chunk++ % 2 === 0 && asked > 100 ? asked - 100 : asked;
  }
  protected override chunkDone(link: ModemEnd): void {
    // The answer is a round trip away: whatever the host does right after the payload runs first.
    Promise.resolve().then(() => {
      this.positionsAtAnswer.push(this.source.position());
      super.chunkDone(link);
    });
  }
}

async function upload(size: number, offers: number[], confirmShort: boolean) {
  const bytes = patternBytes(size);
  let position = 0;
  const inner = new BufferSource(bytes);
  const source = { size, read: (out: Uint8Array, offset: number, max: number) => { const n = inner.read(out, offset, max); position += n; return n; }, rewind: () => { inner.rewind(); position = 0; } };
  const script = new AheadScript({ position: () => position }, offers, confirmShort);
  const { engine } = scriptedEngine({ AtEngine }, script);
  await new SmtpClient(engine).send({ server: { host: "smtp.example.net", port: 587, user: "u", password: "p" } }, {
    from: { address: "alarm@example.net" }, to: [{ address: "ops@example.net" }], subject: "Log", body: "Attached.",
    attachment: { name: "log.bin", source },
  });
  engine.close();
  return { script, bytes };
}

test("the next chunk is read and encoded before the modem answers the last one", async () => {
  const { script, bytes } = await upload(20_000, [1360], false);
  assert.equal(Buffer.from(script.payloadText.join(""), "latin1").toString(), Buffer.from(bytes).toString("base64").replace(/.{76}/g, "$&\r\n").replace(/([^\n])$/, "$1\r\n"));
  const chunks = script.positionsAtAnswer;
  assert.ok(chunks.length >= 14, `${chunks.length} chunks`);
  // A 1,360-byte chunk holds 990 or 993 raw bytes. Each answer finds the source read past the
  // chunk after the one just sent (k + 2 chunks): the next one is ready before it is asked for.
  for (let k = 0; k < chunks.length - 2; k++) {
    assert.ok(chunks[k] >= 990 * (k + 2), `answer ${k}: source at ${chunks[k]}, ${990 * (k + 2)} expected`);
  }
});

test("a short confirmation and a smaller offer keep every byte in order", async () => {
  for (const offers of [[1360], [1360, 500, 1360, 76, 1360], [200, 1360]]) {
    const { script, bytes } = await upload(9_000, offers.slice(), true);
    const expected = Buffer.from(bytes).toString("base64").replace(/.{76}/g, "$&\r\n").replace(/([^\n])$/, "$1\r\n");
    assert.is(Buffer.from(script.payloadText.join(""), "latin1").toString(), expected, `offers ${offers.join(",")}`);
  }
});

test.run();
