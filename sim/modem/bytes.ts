// The simulator's byte helpers: plain Uint8Array work, so the modem runs under XS as under
// Node (no Buffer, no TextEncoder). Its own code, not the core's codecs: the simulator is the
// independent party the firmware's encoders are checked against.

/** Characters per String.fromCharCode call: its arguments go on the stack (XS: a few hundred slots on the device). */
const DECODE_SLICE = 64;
const BASE64 = latin1Bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 0x3d; // "="

/** Latin-1 bytes of `text` (each UTF-16 unit's low byte). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** `bytes[start, end)` as Latin-1 text. */
export function latin1Text(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = "";
  for (let at = start; at < end; at += DECODE_SLICE) {
    text += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + DECODE_SLICE)) as unknown as number[]);
  }
  return text;
}

/** UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, as TextEncoder does). */
export function utf8Bytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) out.push(code);
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return Uint8Array.from(out);
}

/** A new array holding `parts` in order. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Standard base64 (RFC 4648, padded) as its ASCII bytes, no line breaks. */
export function base64Bytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let at = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[at++] = BASE64[n >> 18];
    out[at++] = BASE64[(n >> 12) & 63];
    out[at++] = BASE64[(n >> 6) & 63];
    out[at++] = BASE64[n & 63];
  }
  const left = bytes.length - i;
  if (left > 0) {
    const n = (bytes[i] << 16) | (left === 2 ? bytes[i + 1] << 8 : 0);
    out[at++] = BASE64[n >> 18];
    out[at++] = BASE64[(n >> 12) & 63];
    out[at++] = left === 2 ? BASE64[(n >> 6) & 63] : PAD;
    out[at] = PAD;
  }
  return out;
}

/** Standard base64 (RFC 4648, padded), no line breaks. */
export function base64Text(bytes: Uint8Array): string {
  return latin1Text(base64Bytes(bytes));
}

/** Bytes of an even-length hex text, or null when it is not one. */
export function hexBytes(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}
