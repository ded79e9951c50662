// Minimal types for the untyped packages the codec tests use as oracles.

declare module "libqp" {
  const libqp: {
    encode(data: Buffer | string): string;
    decode(text: string | Uint8Array): Buffer;
    wrap(text: string, lineLength?: number): string;
  };
  export default libqp;
}

declare module "libmime" {
  const libmime: {
    decodeWords(text: string): string;
    encodeWord(text: string, mimeWordEncoding?: "Q" | "B", maxLength?: number): string;
    parseHeaderValue(value: string): { value: string; params: Record<string, string> };
  };
  export default libmime;
}
