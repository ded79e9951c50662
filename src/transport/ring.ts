// A fixed-capacity byte ring. Producers and consumers move bytes with offsets; nothing is
// allocated after construction.

export class ByteRing {
  readonly capacity: number;
  private readonly store: Uint8Array;
  private head = 0; // next byte to read
  private count = 0;

  constructor(capacity: number) {
    if (!(capacity > 0)) throw new RangeError("ring capacity must be positive");
    this.capacity = capacity;
    this.store = new Uint8Array(capacity);
  }

  get available(): number {
    return this.count;
  }

  get free(): number {
    return this.capacity - this.count;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Appends up to `length` bytes of `src` from `offset`; returns how many fit. */
  push(src: Uint8Array, offset: number, length: number): number {
    const n = length < this.free ? length : this.free;
    let tail = (this.head + this.count) % this.capacity;
    const store = this.store;
    for (let i = 0; i < n; i++) {
      store[tail] = src[offset + i];
      tail = tail + 1 === this.capacity ? 0 : tail + 1;
    }
    this.count += n;
    return n;
  }

  pushByte(byte: number): boolean {
    if (this.count === this.capacity) return false;
    this.store[(this.head + this.count) % this.capacity] = byte;
    this.count++;
    return true;
  }

  /** Moves up to `max` bytes into `out` at `offset`; returns how many. */
  shift(out: Uint8Array, offset: number, max: number): number {
    const n = max < this.count ? max : this.count;
    const store = this.store;
    let head = this.head;
    for (let i = 0; i < n; i++) {
      out[offset + i] = store[head];
      head = head + 1 === this.capacity ? 0 : head + 1;
    }
    this.head = head;
    this.count -= n;
    return n;
  }

  /** The byte `index` places after the head, without consuming it. */
  peek(index: number): number {
    return this.store[(this.head + index) % this.capacity];
  }

  /** Drops `n` bytes from the head. */
  skip(n: number): void {
    const k = n < this.count ? n : this.count;
    this.head = (this.head + k) % this.capacity;
    this.count -= k;
  }
}
