// The prefilter: one pass over the raw bytes finds every keyword (Aho-Corasick, compiled to a dense DFA)
// so that a rule's regex runs only near its keywords. Its cost grows with the text, not with the rules.

/** A keyword occurrence: which keyword, and the byte offset where it starts. */
export interface KeywordHit {
  keyword: number;
  at: number;
}

/** Below this size a single walk is as fast as four interleaved ones. */
const INTERLEAVE_MIN = 4096;

export class KeywordAutomaton {
  /**
   * delta[s + byte] = the next state, where states are numbered by their offset (index * 256) so that the
   * hot loop needs no multiplication, and accepting states come last so that one comparison spots them.
   */
  private readonly delta: Int32Array;
  private readonly start: number;
  private readonly firstAccepting: number;
  /** Keywords that end in each state, by state offset / 256. */
  private readonly outputs: number[][];
  private readonly lengths: number[];
  /** The longest keyword in bytes: how far back a walk must start to be in the right state. */
  private readonly longest: number;

  constructor(keywords: readonly string[]) {
    const children: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    this.lengths = keywords.map((k) => Buffer.byteLength(k));
    this.longest = Math.max(0, ...this.lengths);
    keywords.forEach((keyword, index) => {
      let state = 0;
      for (const byte of Buffer.from(keyword)) {
        let next = children[state]?.get(byte);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          ends.push([]);
          children[state]?.set(byte, next);
        }
        state = next;
      }
      ends[state]?.push(index);
    });

    // Aho-Corasick failure links, breadth-first so that a state's failure (always shallower) is done first; a
    // state ends every keyword its failure ends.
    const count = children.length;
    const fail = new Int32Array(count);
    const queue: number[] = [0];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [byte, child] of children[state] as Map<number, number>) {
        let f = fail[state] as number;
        while (f !== 0 && !children[f]?.has(byte)) f = fail[f] as number;
        fail[child] = state === 0 ? 0 : (children[f]?.get(byte) ?? 0);
        queue.push(child);
      }
      if (state !== 0) (ends[state] as number[]).push(...(ends[fail[state] as number] as number[]));
    }

    // Numbered with the accepting states last, then the dense table written straight in that numbering: a
    // state moves as its failure does except along its own children, so its row starts as a copy of the
    // failure's row (done before it, breadth-first), and the root's as "back to the root".
    const order = [...Array(count).keys()].sort(
      (a, b) => Number(ends[a]?.length !== 0) - Number(ends[b]?.length !== 0),
    );
    const offset = new Int32Array(count);
    order.forEach((state, index) => {
      offset[state] = index * 256;
    });
    this.delta = new Int32Array(count * 256);
    for (const state of queue) {
      const row = offset[state] as number;
      if (state === 0) this.delta.fill(row, row, row + 256);
      else {
        const from = offset[fail[state] as number] as number;
        this.delta.copyWithin(row, from, from + 256);
      }
      for (const [byte, child] of children[state] as Map<number, number>)
        this.delta[row + byte] = offset[child] as number;
    }
    this.start = offset[0] as number;
    this.firstAccepting = order.findIndex((state) => (ends[state] as number[]).length > 0) * 256;
    if (this.firstAccepting < 0) this.firstAccepting = count * 256;
    this.outputs = order.map((state) => ends[state] as number[]);
  }

  /** Every keyword occurrence in `bytes`, in order of where it ends. */
  scan(bytes: Uint8Array): KeywordHit[] {
    const n = bytes.length;
    if (n < INTERLEAVE_MIN) {
      const hits: KeywordHit[] = [];
      this.run(bytes, 0, n, -1, hits);
      return hits;
    }
    // Four independent walks over four quarters, advanced in one loop: the table lookups of one walk do
    // not wait for those of another, so the processor overlaps them. Each quarter's walk starts early
    // enough to be in the right state at its first byte, and reports only keywords that end inside it.
    const { delta, firstAccepting } = this;
    const quarter = n >> 2;
    const warm = this.longest;
    const lanes = [0, quarter, 2 * quarter, 3 * quarter];
    const states = lanes.map((at) => this.run(bytes, Math.max(0, at - warm), at, -1));
    let s0 = states[0] as number;
    let s1 = states[1] as number;
    let s2 = states[2] as number;
    let s3 = states[3] as number;
    const hits: KeywordHit[][] = [[], [], [], []];
    for (let j = 0; j < quarter; j++) {
      s0 = delta[s0 + (bytes[j] as number)] as number;
      s1 = delta[s1 + (bytes[quarter + j] as number)] as number;
      s2 = delta[s2 + (bytes[2 * quarter + j] as number)] as number;
      s3 = delta[s3 + (bytes[3 * quarter + j] as number)] as number;
      if (s0 >= firstAccepting) this.report(s0, j, hits[0] as KeywordHit[]);
      if (s1 >= firstAccepting) this.report(s1, quarter + j, hits[1] as KeywordHit[]);
      if (s2 >= firstAccepting) this.report(s2, 2 * quarter + j, hits[2] as KeywordHit[]);
      if (s3 >= firstAccepting) this.report(s3, 3 * quarter + j, hits[3] as KeywordHit[]);
    }
    const tail = hits[3] as KeywordHit[];
    this.run(bytes, 4 * quarter, n, s3, tail);
    return hits.flat();
  }

  /**
   * Walks bytes [from, to) from `state` (-1: the start state), reporting into `hits` when given;
   * returns the state reached.
   */
  private run(bytes: Uint8Array, from: number, to: number, state: number, hits?: KeywordHit[]): number {
    const { delta, firstAccepting } = this;
    let s = state < 0 ? this.start : state;
    for (let i = from; i < to; i++) {
      s = delta[s + (bytes[i] as number)] as number;
      if (hits && s >= firstAccepting) this.report(s, i, hits);
    }
    return s;
  }

  private report(state: number, end: number, hits: KeywordHit[]): void {
    for (const keyword of this.outputs[state >> 8] as number[])
      hits.push({ keyword, at: end + 1 - (this.lengths[keyword] as number) });
  }
}

/** A maximal run of bytes from one class, at least as long as asked. */
export interface Run {
  start: number;
  end: number;
}

/**
 * Finds runs of at least `length` bytes of one class by sampling every length/2 bytes: any such run
 * contains two consecutive sample points, so most of the text is never looked at.
 */
export function findRuns(bytes: Uint8Array, member: Uint8Array, length: number, runs: Run[] = []): Run[] {
  const step = Math.max(1, length >> 1);
  const n = bytes.length;
  for (let probe = 0; probe + step < n; probe += step) {
    if (member[bytes[probe] as number] !== 1 || member[bytes[probe + step] as number] !== 1) continue;
    let start = probe;
    while (start > 0 && member[bytes[start - 1] as number] === 1) start--;
    let end = probe + 1;
    while (end < n && member[bytes[end] as number] === 1) end++;
    if (end - start >= length && (runs.length === 0 || (runs[runs.length - 1] as Run).end < start)) {
      runs.push({ start, end });
    }
    // Resume sampling after this run: nothing in it can start another.
    if (end > probe + step) probe = end - (end % step);
  }
  return runs;
}
