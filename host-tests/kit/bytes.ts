// Byte helpers shared by the kit: one text convention (Latin-1) and one readable escape form.

/**
 * Text to bytes, one byte per character (Latin-1), so that "\xff" is the single byte 0xFF.
 * Characters above U+00FF are refused: encode such text (e.g. as UTF-8) into a Uint8Array.
 */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      throw new RangeError(`character U+${code.toString(16).toUpperCase().padStart(4, "0")} at index ${i} is not one byte; pass a Uint8Array (e.g. UTF-8 encoded) instead of a string`);
    }
    out[i] = code;
  }
  return out;
}

/** A string (Latin-1), a Uint8Array or an ArrayBuffer as a Uint8Array (no copy when possible). */
export function toBytes(data: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof data === "string") return latin1Bytes(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`expected a string, a Uint8Array or an ArrayBuffer, got ${describe(data)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

export { concatBytes } from "../../sim/modem/bytes.ts";

/**
 * Bytes as readable text: printable ASCII as is, `\r` `\n` `\t` `\\`, anything else `\xNN`.
 * `parseEscaped` is its exact inverse.
 */
export function escapeBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x09) out += "\\t";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\x" + b.toString(16).padStart(2, "0");
  }
  return out;
}

/** `escapeBytes` shortened to `max` characters of output, marking what was cut. */
export function escapeShort(bytes: Uint8Array, max = 80): string {
  const full = escapeBytes(bytes);
  return full.length <= max ? full : `${full.slice(0, max)}… (${bytes.length} bytes)`;
}

/**
 * Escaped text back to bytes. Characters other than escapes become their UTF-8 bytes (so a
 * session file may hold readable non-ASCII text); `where` prefixes error messages.
 */
export function parseEscaped(text: string, where: string): Uint8Array {
  const out: number[] = [];
  const encoder = new TextEncoder();
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "\\") {
      const code = text.codePointAt(i)!;
      if (code < 0x80) out.push(code);
      else for (const b of encoder.encode(String.fromCodePoint(code))) out.push(b);
      i += code > 0xffff ? 2 : 1;
      continue;
    }
    const e = text[i + 1];
    if (e === "r") out.push(0x0d);
    else if (e === "n") out.push(0x0a);
    else if (e === "t") out.push(0x09);
    else if (e === "\\") out.push(0x5c);
    else if (e === "x") {
      const hex = text.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new SyntaxError(`${where}: "\\x" must be followed by two hex digits, found "${hex}"`);
      out.push(parseInt(hex, 16));
      i += 4;
      continue;
    } else {
      throw new SyntaxError(`${where}: unknown escape "\\${e ?? ""}" (use \\r \\n \\t \\\\ or \\xNN)`);
    }
    i += 2;
  }
  return Uint8Array.from(out);
}
