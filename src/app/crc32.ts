// CRC-32 (IEEE 802.3, the one of zlib and PNG) with a 16-entry table: 64 bytes of RAM instead
// of 1 KB, fast enough for records of a few hundred bytes.

const NIBBLE_TABLE = new Uint32Array(16);
for (let n = 0; n < 16; n++) {
  let c = n;
  for (let k = 0; k < 4; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  NIBBLE_TABLE[n] = c >>> 0;
}

/** CRC-32 of `data[offset .. offset + length)`. */
export function crc32(data: Uint8Array, offset: number, length: number): number {
  let c = 0xffffffff;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    c ^= data[i];
    c = NIBBLE_TABLE[c & 15] ^ (c >>> 4);
    c = NIBBLE_TABLE[c & 15] ^ (c >>> 4);
  }
  return (c ^ 0xffffffff) >>> 0;
}
