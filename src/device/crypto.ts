// Moddable binding of the app's Crypto port: SHA-256 from `crypt`, HMAC from `hmac`, random
// bytes from `rng`. See moddable-crypt.d.ts for the manifest entries.

import { Digest } from "crypt";
import HMAC from "hmac";
import RNG from "rng";
import type { Crypto } from "../app/ports.ts";

/** The whole of `bytes` as an ArrayBuffer (a copy only when `bytes` is a partial view). */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer as ArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? buffer : (bytes.slice().buffer as ArrayBuffer);
}

export const deviceCrypto: Crypto = {
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    const hmac = new HMAC(new Digest("SHA256"), wholeBuffer(key));
    return new Uint8Array(hmac.process(wholeBuffer(data)));
  },
  randomBytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`randomBytes: ${n} is not a byte count`);
    return new Uint8Array(RNG.get(n));
  },
};
