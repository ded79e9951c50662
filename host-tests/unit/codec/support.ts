// Shared helpers for the codec tests: byte conversions and the ways of splitting an input.

/** Latin-1 string → bytes (one byte per character, for test inputs written as text). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) throw new Error(`latin1Bytes: character ${c} is not a byte`);
    out[i] = c;
  }
  return out;
}

export function utf8Bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "utf8"));
}

export function asLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Chunk boundaries of one way to feed `length` bytes: [start, end) pairs. */
export type Feeding = { name: string; chunks: Array<[number, number]> };

/** The whole input at once, one byte at a time, and every two-way split. */
export function feedings(length: number): Feeding[] {
  const result: Feeding[] = [{ name: "whole", chunks: [[0, length]] }];
  const bytewise: Array<[number, number]> = [];
  for (let i = 0; i < length; i++) bytewise.push([i, i + 1]);
  result.push({ name: "byte by byte", chunks: bytewise });
  for (let k = 0; k <= length; k++) result.push({ name: `split at ${k}`, chunks: [[0, k], [k, length]] });
  return result;
}

/** Splits `length` into chunks at the given sorted cut points. */
export function chunksAt(length: number, cuts: number[]): Array<[number, number]> {
  const chunks: Array<[number, number]> = [];
  let start = 0;
  for (const cut of cuts) {
    if (cut < start || cut > length) continue;
    chunks.push([start, cut]);
    start = cut;
  }
  chunks.push([start, length]);
  return chunks;
}

/** Deterministic pseudo-random bytes (xorshift32), so that failures reproduce. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** Node's base64 wrapped the way Base64Encoder emits it: lines of `lineLength`, each ending CRLF. */
export function wrappedBase64(bytes: Uint8Array, lineLength = 76): string {
  const flat = Buffer.from(bytes).toString("base64");
  if (lineLength === 0) return flat;
  let out = "";
  for (let i = 0; i < flat.length; i += lineLength) out += flat.slice(i, i + lineLength) + "\r\n";
  return out;
}
