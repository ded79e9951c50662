// The parts of Moddable's crypt modules the app uses (@moddable/typings has none). Manifest:
// include "$(MODULES)/crypt/digest/manifest.json" and "$(MODULES)/crypt/bin/manifest.json",
// and map "hmac": "$(MODULES)/crypt/etc/hmac", "rng": "$(MODULES)/crypt/etc/rng".

declare module "crypt" {
  export type DigestAlgorithm = "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512";
  type Data = ArrayBuffer | ArrayBufferView | string;

  /** modules/crypt/digest/crypt.js */
  export class Digest {
    constructor(type: DigestAlgorithm);
    write(data: Data): void;
    /** The digest; the object must be reset before it is written again. */
    close(): ArrayBuffer;
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
    /** reset, write every item, close. */
    process(...items: Data[]): ArrayBuffer;
  }
}

declare module "hmac" {
  import type { Digest } from "crypt";

  /** modules/crypt/etc/hmac.js: HMAC over any Digest (FIPS 198). */
  export default class HMAC {
    constructor(digest: Digest, key: ArrayBuffer | Uint8Array, bitlen?: number);
    /** Starts over with the same key, writes every item, returns the MAC. */
    process(...items: Array<ArrayBuffer | ArrayBufferView | string>): ArrayBuffer;
  }
}

declare module "rng" {
  /** modules/crypt/etc/rng.js: RC4 keyed from the platform's generator (esp_random on ESP32). */
  const RNG: {
    get(count: number): ArrayBuffer;
    init(seed?: ArrayBuffer): void;
  };
  export default RNG;
}
