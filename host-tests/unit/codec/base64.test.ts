import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Base64Decoder, Base64Encoder, base64ExpandInPlace, base64OfBytes } from "../../../src/mail/codec/index.ts";
import { asLatin1, feedings, latin1Bytes, pseudoRandomBytes, wrappedBase64 } from "./support.ts";

const test = suite("codec/base64");

function encodeChunks(data: Uint8Array, chunks: Array<[number, number]>, lineLength = 76): string {
  const encoder = new Base64Encoder(lineLength);
  const out = new Uint8Array(Base64Encoder.encodedLength(data.length, lineLength));
  let at = 0;
  for (const [s, e] of chunks) {
    const expected = encoder.encodeLength(e - s);
    const n = encoder.encode(data, s, e - s, out, at);
    assert.is(n, expected, "encodeLength is exact");
    at += n;
  }
  const tail = encoder.finishLength();
  const n = encoder.finish(out, at);
  assert.is(n, tail, "finishLength is exact");
  at += n;
  assert.is(at, out.length, "encodedLength is exact");
  return asLatin1(out.subarray(0, at));
}

test("RFC 4648 vectors, with and without line breaks", () => {
  const vectors: Array<[string, string]> = [
    ["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    const data = latin1Bytes(plain);
    assert.is(encodeChunks(data, [[0, data.length]], 0), encoded);
    assert.is(encodeChunks(data, [[0, data.length]]), encoded === "" ? "" : `${encoded}\r\n`);
    assert.is(base64OfBytes(data, 0, data.length), encoded);
  }
});

test("line policy: 76-character lines, each ending CRLF, the last one too", () => {
  for (const n of [56, 57, 58, 113, 114, 115, 171]) {
    const data = pseudoRandomBytes(n, n);
    const text = encodeChunks(data, [[0, n]]);
    assert.is(text, wrappedBase64(data));
    const lines = text.split("\r\n");
    assert.is(lines.pop(), "", "ends with CRLF");
    for (const line of lines) assert.ok(line.length > 0 && line.length <= 76);
  }
});

test("encodedLength matches the output for every length up to 400 and several line lengths", () => {
  for (const lineLength of [76, 64, 8, 4, 0]) {
    for (let n = 0; n <= 400; n++) {
      const data = pseudoRandomBytes(n, n + 1);
      const text = encodeChunks(data, [[0, n]], lineLength);
      assert.is(text.length, Base64Encoder.encodedLength(n, lineLength));
      assert.is(text, wrappedBase64(data, lineLength));
    }
  }
});

test("sources and outputs sized exactly (no slack after the last group) encode as Node does, at any offset", () => {
  for (let length = 0; length <= 240; length++) {
    for (const offset of [0, 1, 2, 5]) {
      const data = pseudoRandomBytes(length, length + 17 * offset);
      const src = new Uint8Array(offset + length);
      src.set(data, offset);
      const encoder = new Base64Encoder();
      const out = new Uint8Array(Base64Encoder.encodedLength(length));
      const n = encoder.encode(src.subarray(offset), 0, length, out, 0);
      encoder.finish(out, n);
      assert.is(asLatin1(out), wrappedBase64(data), `${length} bytes at offset ${offset}`);
    }
  }
});

test("every split of a realistic input gives Node's output", () => {
  const data = latin1Bytes("Alarm 2024-11-22 23:14: sensor 3 tripped\r\n\u0000\u00ff\u0080 binary tail, and some more text to pass one line.");
  const expected = wrappedBase64(data);
  for (const { name, chunks } of feedings(data.length)) assert.is(encodeChunks(data, chunks), expected, name);
});

test("property: random bytes in random chunks equal Node's base64", () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 400 }),
    fc.array(fc.nat({ max: 400 }), { maxLength: 8 }),
    fc.constantFrom(76, 72, 0),
    (data, cuts, lineLength) => {
      const sorted = [...new Set(cuts.filter((c) => c <= data.length))].sort((a, b) => a - b);
      const chunks: Array<[number, number]> = [];
      let start = 0;
      for (const cut of sorted) {
        chunks.push([start, cut]);
        start = cut;
      }
      chunks.push([start, data.length]);
      assert.is(encodeChunks(data, chunks, lineLength), wrappedBase64(data, lineLength));
    },
  ), { numRuns: 500 });
});

test("encoder refuses bad arguments with RangeErrors and writes nothing", () => {
  assert.throws(() => new Base64Encoder(75), /multiple of 4/);
  assert.throws(() => new Base64Encoder(-4), RangeError);
  const encoder = new Base64Encoder();
  const out = new Uint8Array(3).fill(1);
  assert.throws(() => encoder.encode(new Uint8Array(3), 0, 3, out, 0), /4 output bytes do not fit/);
  assert.equal([...out], [1, 1, 1]);
  assert.throws(() => encoder.encode(new Uint8Array(3), 2, 3, new Uint8Array(10), 0), /outside/);
  encoder.encode(new Uint8Array(1), 0, 1, out, 0);
  assert.throws(() => encoder.finish(out, 0), /6 output bytes/);
  assert.throws(() => encoder.rawBytesFor(-1), RangeError);
});

/** An encoder in the state left by encoding `prefix` bytes. */
function encoderAfter(prefix: number, lineLength = 76): Base64Encoder {
  const encoder = new Base64Encoder(lineLength);
  encoder.encode(new Uint8Array(prefix), 0, prefix, new Uint8Array(2 * prefix + 8), 0);
  return encoder;
}

test("rawBytesFor: the largest input whose encoding plus finish fits", () => {
  for (const lineLength of [76, 4, 0]) {
    for (const prefix of [0, 1, 2, 3, 55, 56, 57, 58, 100]) {
      for (let capacity = 0; capacity <= 260; capacity++) {
        const encoder = encoderAfter(prefix, lineLength);
        const n = encoder.rawBytesFor(capacity);
        const fits = (k: number) => {
          const probe = encoderAfter(prefix, lineLength);
          const sink = new Uint8Array(4 * k + 16);
          const written = probe.encode(new Uint8Array(k), 0, k, sink, 0);
          return written + probe.finish(sink, written) <= capacity;
        };
        if (n > 0) assert.ok(fits(n), `prefix ${prefix} capacity ${capacity}: ${n} fits`);
        assert.not.ok(fits(n + 1), `prefix ${prefix} capacity ${capacity}: ${n + 1} does not fit`);
      }
    }
  }
  // 1065 bytes → 355 groups → 1420 characters on 19 lines → 1458 bytes; 1066 would need 1462.
  assert.is(new Base64Encoder().rawBytesFor(1460), 1065);
});

/** The SMTPFT loop as src/mail/smtp.ts runs it: raw at the tail, expand, finish at the end. */
function uploadInPlace(data: Uint8Array, capacity: number, limits: number[] = []): string {
  const chunk = new Uint8Array(capacity);
  const encoder = new Base64Encoder();
  let sent = 0;
  let text = "";
  let request = 0;
  for (;;) {
    const limit = Math.min(capacity, limits.length > 0 ? limits[request++ % limits.length] : capacity);
    const room = encoder.rawBytesFor(limit);
    const rawOffset = limit - room;
    const raw = Math.min(room, data.length - sent);
    chunk.fill(0xee, 0, capacity);
    chunk.set(data.subarray(sent, sent + raw), rawOffset);
    sent += raw;
    let encoded = base64ExpandInPlace(chunk, rawOffset, raw, encoder);
    const last = sent === data.length;
    if (last) encoded += encoder.finish(chunk, encoded);
    assert.ok(encoded <= limit, `chunk of ${encoded} exceeds ${limit}`);
    text += asLatin1(chunk.subarray(0, encoded));
    if (last) return text;
  }
}

test("in-place expansion: every raw length 0..3000 through 1460- and 1360-byte chunks", () => {
  const data = pseudoRandomBytes(3000, 7);
  for (const capacity of [1460, 1360]) {
    for (let n = 0; n <= 3000; n++) {
      const slice = data.subarray(0, n);
      const text = uploadInPlace(slice, capacity);
      if (text !== wrappedBase64(slice)) assert.unreachable(`length ${n}, chunk ${capacity}: wrong output`);
    }
  }
});

test("in-place expansion with modem limits that change per chunk", () => {
  const data = pseudoRandomBytes(20000, 11);
  assert.is(uploadInPlace(data, 1460, [1360, 100, 1460, 7, 77, 1000]), wrappedBase64(data));
  assert.is(uploadInPlace(data.subarray(0, 5), 1460, [6]), wrappedBase64(data.subarray(0, 5)));
});

/** Wraps a buffer so every element read and write is logged in order. */
function instrument(buf: Uint8Array) {
  let clock = 0;
  const lastRead = new Array<number>(buf.length).fill(-1);
  const firstWrite = new Array<number>(buf.length).fill(Number.POSITIVE_INFINITY);
  const reads = new Array<number>(buf.length).fill(0);
  let moved = false;
  const isIndex = (p: string | symbol): boolean => typeof p === "string" && /^\d+$/.test(p);
  const proxy = new Proxy(buf, {
    get(target, prop) {
      if (isIndex(prop)) {
        const i = Number(prop as string);
        lastRead[i] = clock++;
        reads[i]++;
        return target[i];
      }
      if (prop === "copyWithin") moved = true;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(target, prop, value) {
      if (isIndex(prop)) {
        const i = Number(prop as string);
        if (firstWrite[i] === Number.POSITIVE_INFINITY) firstWrite[i] = clock;
        clock++;
        target[i] = value;
        return true;
      }
      return Reflect.set(target, prop, value, target);
    },
  });
  // The encoder loads 32 bits at a time (four groups in three loads; a lone group with one byte
  // it ignores, read again with the next group) and stores four characters (or a CRLF) at once
  // through DataViews over the same memory: those count as reads and writes of all their bytes.
  const { getUint32, setUint32 } = DataView.prototype;
  const ours = (view: DataView) => view.buffer === buf.buffer;
  DataView.prototype.getUint32 = function (this: DataView, offset: number, little?: boolean) {
    if (ours(this)) {
      for (let k = 0; k < 4; k++) {
        lastRead[this.byteOffset + offset + k] = clock++;
        reads[this.byteOffset + offset + k]++;
      }
    }
    return getUint32.call(this, offset, little);
  };
  DataView.prototype.setUint32 = function (this: DataView, offset: number, value: number, little?: boolean) {
    if (ours(this)) {
      for (let k = 0; k < 4; k++) {
        const i = this.byteOffset + offset + k;
        if (firstWrite[i] === Number.POSITIVE_INFINITY) firstWrite[i] = clock;
      }
      clock++;
    }
    setUint32.call(this, offset, value, little);
  };
  // A line's CRLF goes as one 16-bit store.
  const { setUint16 } = DataView.prototype;
  DataView.prototype.setUint16 = function (this: DataView, offset: number, value: number, little?: boolean) {
    if (ours(this)) {
      for (let k = 0; k < 2; k++) {
        const i = this.byteOffset + offset + k;
        if (firstWrite[i] === Number.POSITIVE_INFINITY) firstWrite[i] = clock;
      }
      clock++;
    }
    setUint16.call(this, offset, value, little);
  };
  const restore = () => {
    DataView.prototype.getUint32 = getUint32;
    DataView.prototype.setUint32 = setUint32;
    DataView.prototype.setUint16 = setUint16;
  };
  return { buf: proxy, lastRead, firstWrite, reads, moved: () => moved, restore };
}

test("in-place expansion never overwrites a raw byte before reading it (instrumented buffer)", () => {
  for (const prefix of [0, 1, 2, 57, 58, 59, 1065, 1066]) {
    for (const capacity of [1460, 1360, 80, 12]) {
      const room = encoderAfter(prefix).rawBytesFor(capacity);
      for (const raw of new Set([room, room - 1, room - 2, Math.floor(room / 2), 1, 0])) {
        if (raw < 0) continue;
        const encoder = encoderAfter(prefix);
        const plain = new Uint8Array(capacity);
        const rawOffset = capacity - room;
        plain.set(pseudoRandomBytes(raw, raw + prefix), rawOffset);
        const original = plain.slice(rawOffset, rawOffset + raw);
        const probe = instrument(plain);
        let written: number;
        try {
          written = base64ExpandInPlace(probe.buf, rawOffset, raw, encoder);
        } finally {
          probe.restore();
        }
        assert.not.ok(probe.moved(), "raw bytes placed by rawBytesFor need no move");
        for (let p = rawOffset; p < rawOffset + raw; p++) {
          assert.ok(probe.reads[p] >= 1 && probe.reads[p] <= 2, `raw byte ${p} read once (twice when a lone group's load took it too): ${probe.reads[p]}`);
          assert.ok(probe.lastRead[p] < probe.firstWrite[p], `byte ${p} written before it was read (prefix ${prefix}, capacity ${capacity}, raw ${raw})`);
        }
        // The output equals a separate encoder's output for the same state and input.
        const reference = encoderAfter(prefix);
        const expected = new Uint8Array(2 * raw + 8);
        const m = reference.encode(original, 0, raw, expected, 0);
        assert.is(written, m);
        assert.equal([...plain.subarray(0, written)], [...expected.subarray(0, m)]);
      }
    }
  }
});

test("in-place expansion moves raw bytes that sit too near the front, or refuses", () => {
  const data = pseudoRandomBytes(300, 3);
  const buf = new Uint8Array(450);
  buf.set(data, 0);
  const encoder = new Base64Encoder();
  let n = base64ExpandInPlace(buf, 0, data.length, encoder);
  n += encoder.finish(buf, n);
  assert.is(asLatin1(buf.subarray(0, n)), wrappedBase64(data));

  const small = new Uint8Array(400);
  small.set(data, 0);
  const before = small.slice();
  assert.throws(() => base64ExpandInPlace(small, 0, 300, new Base64Encoder()), /needs a buffer of/);
  assert.equal([...small], [...before], "nothing changed");
  assert.throws(() => base64ExpandInPlace(small, 200, 300, new Base64Encoder()), /outside/);
});

function decodeChunks(text: Uint8Array, chunks: Array<[number, number]>): { bytes: number[]; invalid: number } {
  const decoder = new Base64Decoder();
  const out = new Uint8Array(Base64Decoder.maxDecodedLength(text.length) + 2);
  let at = 0;
  for (const [s, e] of chunks) at += decoder.decode(text, s, e - s, out, at);
  at += decoder.finish(out, at);
  return { bytes: [...out.subarray(0, at)], invalid: decoder.invalid };
}

test("decoder: vectors, whitespace, missing padding, invalid characters counted", () => {
  const cases: Array<[string, string, number]> = [
    ["", "", 0], ["Zg==", "f", 0], ["Zm8=", "fo", 0], ["Zm9vYmFy", "foobar", 0],
    ["Zm9v\r\nYmE=\r\n", "fooba", 0], [" Z m 9 v\tY g ", "foob", 0],
    ["Zg", "f", 0], ["Zm8", "fo", 0], ["Zm9vYg", "foob", 0],
    ["QQ==QUI=", "AAB", 0], ["QQ==\r\nQUI", "AAB", 0],
    ["QU!JD", "ABC", 1], ["Q\u00ffUJD", "ABC", 1], ["QUJDR", "ABC", 1], ["=QUJD", "ABC", 1], ["Q=UJD", "P\u0090", 1],
    ["QUJD-_", "ABC", 2],
  ];
  for (const [text, plain, invalid] of cases) {
    const input = latin1Bytes(text);
    for (const { name, chunks } of feedings(input.length)) {
      const result = decodeChunks(input, chunks);
      assert.is(asLatin1(new Uint8Array(result.bytes)), plain, `${JSON.stringify(text)} ${name}`);
      assert.is(result.invalid, invalid, `${JSON.stringify(text)} invalid count, ${name}`);
    }
  }
});

test("property: decoding wrapped base64 in random chunks gives the bytes back", () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.nat({ max: 420 }), { maxLength: 6 }),
    (data, cuts) => {
      const text = latin1Bytes(wrappedBase64(data));
      const sorted = [...new Set(cuts.filter((c) => c <= text.length))].sort((a, b) => a - b);
      const chunks: Array<[number, number]> = [];
      let start = 0;
      for (const cut of sorted) {
        chunks.push([start, cut]);
        start = cut;
      }
      chunks.push([start, text.length]);
      const result = decodeChunks(text, chunks);
      assert.equal(result.bytes, [...data]);
      assert.is(result.invalid, 0);
    },
  ), { numRuns: 500 });
});

test("decoder checks its output room", () => {
  const decoder = new Base64Decoder();
  assert.throws(() => decoder.decode(latin1Bytes("QUJD"), 0, 4, new Uint8Array(4), 0), /room for 5/);
  assert.throws(() => decoder.finish(new Uint8Array(1), 0), RangeError);
  assert.is(Base64Decoder.maxDecodedLength(4), 5);
});

test.run();
