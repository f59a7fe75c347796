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

  has(object: string): boolean {
    return this.held.has(object);
  }

  /** Keeps a copy of `bytes`, overwriting the oldest blobs where it goes. */
  put(object: string, bytes: Buffer): void {
    const slot = this.reserve(object, bytes.length);
    if (slot) bytes.copy(slot);
  }

  /**
   * Room for a blob of `size` bytes, to be filled by the caller before the next call: the blob is read straight
   * into the ring. Undefined when it is too large to keep or already kept. Overwrites the oldest blobs, so a
   * view from `get` may no longer be valid (see `has`).
   */
  reserve(object: string, size: number): Buffer | undefined {
    if (size > this.capacity / LARGEST_SHARE || this.held.has(object)) return undefined;
    this.ring ??= Buffer.allocUnsafeSlow(this.capacity);
    if (this.head + size > this.capacity) {
      this.overwrite(this.capacity);
      this.head = 0;
    }
    const held = { object, start: this.head, end: this.head + size };
    this.overwrite(held.end);
    this.head = held.end;
    this.held.set(object, held);
    this.order.push(held);
    return this.ring.subarray(held.start, held.end);
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
