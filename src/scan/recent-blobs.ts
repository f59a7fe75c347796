// The contents of the blobs a history scan read most recently, up to a number of bytes: walked oldest first,
// the parent version of a file is usually among them when its next version is read. They are written one
// after the other into one ring of memory, so keeping a blob allocates nothing; the oldest are overwritten.

/** A blob larger than this share of the ring is not kept: it would push out many small ones. */
const LARGEST_SHARE = 8;

interface Held {
  object: string;
  start: number;
  end: number;
}

export class RecentBlobs {
  private ring: Buffer | undefined;
  private readonly held = new Map<string, Held>();
  /** Oldest first: they lie in the ring from `head` on, wrapping around. */
  private readonly order: Held[] = [];
  private first = 0;
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** A blob's bytes, valid until the next `put`. */
  get(object: string): Buffer | undefined {
    const held = this.held.get(object);
    return held && this.ring?.subarray(held.start, held.end);
  }

  /** Keeps a copy of `bytes`, overwriting the oldest blobs where it goes. */
  put(object: string, bytes: Buffer): void {
    if (bytes.length > this.capacity / LARGEST_SHARE || this.held.has(object)) return;
    this.ring ??= Buffer.allocUnsafeSlow(this.capacity);
    if (this.head + bytes.length > this.capacity) {
      this.overwrite(this.capacity);
      this.head = 0;
    }
    const held = { object, start: this.head, end: this.head + bytes.length };
    this.overwrite(held.end);
    bytes.copy(this.ring, held.start);
    this.head = held.end;
    this.held.set(object, held);
    this.order.push(held);
  }

  /** Forgets the oldest blobs that lie between `head` and `end`. */
  private overwrite(end: number): void {
    while (this.first < this.order.length) {
      const oldest = this.order[this.first] as Held;
      if (oldest.start >= end || oldest.end <= this.head) break;
      this.held.delete(oldest.object);
      this.first++;
    }
    if (this.first > 4096) {
      this.order.splice(0, this.first);
      this.first = 0;
    }
  }
}
