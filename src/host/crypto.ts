// Node binding of the app's Crypto port.

import { createHmac, randomBytes } from "node:crypto";
import type { Crypto } from "../app/ports.ts";

export const nodeCrypto: Crypto = {
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", key).update(data).digest());
  },
  randomBytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`randomBytes: ${n} is not a byte count`);
    return new Uint8Array(randomBytes(n));
  },
};
