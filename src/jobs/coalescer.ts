// Writes that arrive while one is in flight go together in the next: one transaction for many, without waiting
// on a timer. Each caller gets the results of its own items once the write that took them has committed.

interface Waiting<T, R> {
  items: readonly T[];
  resolve: (results: R[]) => void;
  reject: (error: Error) => void;
}

export class Coalescer<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private writing = false;

  /** `write` takes every item submitted since the last write began; it returns one result per item, in order. */
  constructor(private readonly write: (items: T[]) => Promise<R[]>) {}

  submit(items: readonly T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    const done = new Promise<R[]>((resolve, reject) => this.waiting.push({ items, resolve, reject }));
    this.next();
    return done;
  }

  private next(): void {
    if (this.writing || this.waiting.length === 0) return;
    const taken = this.waiting;
    this.waiting = [];
    this.writing = true;
    this.write(taken.flatMap((w) => w.items))
      .then(
        (results) => {
          let offset = 0;
          for (const w of taken) {
            w.resolve(results.slice(offset, offset + w.items.length));
            offset += w.items.length;
          }
        },
        (error: Error) => {
          for (const w of taken) w.reject(error);
        },
      )
      .finally(() => {
        this.writing = false;
        this.next();
      });
  }
}
