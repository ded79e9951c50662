// A bounded text accumulator: UTF-16 code units in one Uint16Array sized at construction.
// Decoders append code points without building strings; a string is made only when asked.

const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: keeps the argument list small for XS's stack. */
const STRING_PIECE = 64;

export class TextBuffer {
  readonly capacity: number;
  /** Set once a code point did not fit; everything after it was dropped. */
  truncated = false;
  private readonly units: Uint16Array;
  private used = 0;

  /** `capacity` is in UTF-16 code units (JavaScript string length). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`TextBuffer capacity must be a non-negative integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.units = new Uint16Array(capacity);
  }

  get length(): number {
    return this.used;
  }

  /**
   * Appends one code point (lone surrogates become U+FFFD). Returns false, and marks the text
   * truncated, when it does not fit; a surrogate pair is never split.
   */
  appendCodePoint(codePoint: number): boolean {
    if (this.truncated) return false;
    if (codePoint >= 0x10000) {
      if (this.used + 2 > this.capacity) return this.overflow();
      const v = codePoint - 0x10000;
      this.units[this.used++] = 0xd800 | (v >> 10);
      this.units[this.used++] = 0xdc00 | (v & 0x3ff);
      return true;
    }
    if (this.used >= this.capacity) return this.overflow();
    this.units[this.used++] = codePoint >= 0xd800 && codePoint <= 0xdfff ? REPLACEMENT : codePoint;
    return true;
  }

  clear(): void {
    this.used = 0;
    this.truncated = false;
  }

  toString(): string {
    let text = "";
    for (let start = 0; start < this.used; start += STRING_PIECE) {
      const end = start + STRING_PIECE < this.used ? start + STRING_PIECE : this.used;
      text += String.fromCharCode.apply(null, this.units.subarray(start, end) as unknown as number[]);
    }
    return text;
  }

  private overflow(): false {
    this.truncated = true;
    return false;
  }
}
