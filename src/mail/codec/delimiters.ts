// The delimiter lines of the open multiparts, as mailsplit (mailparser) reads them (RFC 2046):
// "--" boundary, then "--" for the last one, spaces or tabs, stray CRs, and the line end. The
// part walker holds a line that may be one and asks here, byte by byte, whether it still can.

/** RFC 2046 allows 70; a little more is accepted from careless mailers. */
export const MAX_PART_BOUNDARY = 100;
/** Spaces, tabs and stray CRs a delimiter line may carry after its boundary (and "--"). */
export const MAX_DELIMITER_PADDING = 32;

const CR = 13;
const DASH = 45;
const SPACE = 32;
const TAB = 9;

/** "--" + boundary of each open multipart, outermost first; `candidates` are bit sets of levels. */
export class MultipartDelimiters {
  /** The delimiter level() found has the closing "--". */
  closing = false;
  private readonly delimiters: Uint8Array[] = [];
  private readonly lengths: Uint8Array;

  constructor(maxDepth: number) {
    for (let k = 0; k < maxDepth; k++) this.delimiters.push(new Uint8Array(2 + MAX_PART_BOUNDARY));
    this.lengths = new Uint8Array(maxDepth);
  }

  /** Sets level `level`'s boundary; false when it is not up to MAX_PART_BOUNDARY printable ASCII characters. */
  open(level: number, boundary: string): boolean {
    if (boundary.length > MAX_PART_BOUNDARY) return false;
    const delimiter = this.delimiters[level];
    delimiter[0] = DASH;
    delimiter[1] = DASH;
    for (let i = 0; i < boundary.length; i++) {
      const c = boundary.charCodeAt(i);
      if (c > 126 || c < 32) return false;
      delimiter[2 + i] = c;
    }
    this.lengths[level] = 2 + boundary.length;
    return true;
  }

  /** The candidates (of the `depth` open levels) whose delimiter line may still have `byte` at `position`. */
  narrow(position: number, byte: number, depth: number, candidates: number): number {
    let still = 0;
    for (let k = 0; k < depth; k++) {
      if ((candidates & (1 << k)) === 0) continue;
      const length = this.lengths[k];
      if (position < length) {
        if (this.delimiters[k][position] === byte) still |= 1 << k;
      } else if (position < length + 2 + MAX_DELIMITER_PADDING && (byte === DASH || byte === SPACE || byte === TAB || byte === CR)) {
        still |= 1 << k;
      }
    }
    return still;
  }

  /**
   * The level whose delimiter `line[start, end)` is exactly (innermost first), or -1; sets
   * `closing`. At the end of the input, with no line end, only a closing delimiter counts.
   */
  level(line: Uint8Array, start: number, end: number, depth: number, candidates: number, atEnd: boolean): number {
    for (let k = depth - 1; k >= 0; k--) {
      if ((candidates & (1 << k)) === 0) continue;
      let i = start + this.lengths[k];
      if (i > end) continue;
      let close = false;
      if (i < end && line[i] === DASH) {
        if (i + 1 >= end || line[i + 1] !== DASH) continue;
        close = true;
        i += 2;
      }
      while (i < end && (line[i] === SPACE || line[i] === TAB)) i++;
      while (i < end && line[i] === CR) i++;
      if (i === end && (close || !atEnd)) {
        this.closing = close;
        return k;
      }
    }
    return -1;
  }
}
