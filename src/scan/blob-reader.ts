// One lane of a history scan by blobs (see history-blobs.ts): a long-lived `git cat-file --batch` that reads
// the blobs the walk hands this lane, and the check of each (blob-check.ts) on the thread the lane runs on.
// A blob is compared with its parent version, taken from the lane's recent blobs (the walk goes oldest first
// and sends every version of a path to the same lane) or read just before it, and only the part a diff could
// call added is checked. What comes back is one verdict per check: whether it holds a detection.
import { contentKind, probeOf } from "../sources/content-kind.js";
import type { GitRepository } from "../sources/git.js";
import { CatFileParser } from "../sources/git-blobs.js";
import { ObjectReader } from "../sources/object-reader.js";
import { BINARY_BLOB, changedRegion, checkBlob, HAS_DETECTION } from "./blob-check.js";
import type { Engine } from "./engine.js";
import { RecentBlobs } from "./recent-blobs.js";
import { chunkOverlap } from "./scan-source.js";

/**
 * A blob to check, under the walk's `key` for it. With `previous`, the part that changed from that version:
 * `cached`, taken from the recent blobs if still there (else the blob is checked whole); otherwise read first.
 */
export interface BlobAsk {
  key: number;
  object: string;
  previous?: string;
  cached?: boolean;
}

export interface LaneCounts {
  /** Blobs checked (each once per parent version it replaced) and their bytes; binary ones. */
  blobs: number;
  bytes: number;
  binary: number;
  /** Bytes scanned: the changed part of each blob, or all of it. */
  scanned: number;
  /** Parent versions found among the recent blobs; read again or missed (the blob checked whole). */
  cached: number;
  uncached: number;
}

export interface LaneSettings {
  /** A blob larger than this is checked in overlapping windows of this size. */
  windowSize: number;
  /** Bytes of recent blobs the lane keeps to compare the next versions with. */
  cacheBytes: number;
}

/** The verdict of a check: its key, whether it holds a detection, and whether more answers are on the way. */
export type VerdictSink = (key: number, dirty: boolean, more: boolean) => void;

/** What cat-file's next answer is for. */
interface Expected {
  ask: BlobAsk;
  role: "previous" | "blob";
}

/** A large blob being cut into windows (checked whole, whatever the parent had). */
interface LargeBlob {
  window: Buffer;
  filled: number;
  /** Bytes at the start of `window` that the previous window also held. */
  carried: number;
  first: boolean;
  dirty: boolean;
  /** Decided without reading the rest (UTF-16 too large to decode in pieces: assumed to hold one). */
  decided: boolean;
}

export class BlobReader {
  readonly counts: LaneCounts = { blobs: 0, bytes: 0, binary: 0, scanned: 0, cached: 0, uncached: 0 };
  private readonly recent: RecentBlobs;
  private readonly windowSize: number;
  private readonly overlap: number;
  private readonly parser: CatFileParser;
  private readonly objects: ObjectReader;
  /** cat-file's answers to come, in order: a head index into a list compacted now and then. */
  private expected: Expected[] = [];
  private head = 0;
  private current: Expected | undefined;
  /**
   * Where the blob being read (below the window size) goes: its room among the recent blobs, read straight in,
   * or, for one too large to keep there, a buffer reused from blob to blob.
   */
  private target: Buffer = Buffer.alloc(0);
  private content = Buffer.allocUnsafeSlow(64 * 1024);
  private filled = 0;
  /** A parent version being read, kept to compare the blob that follows it with (undefined: too large). */
  private previous: Buffer | undefined;
  private previousFilled = 0;
  /** The parent version the blob being read is compared with. */
  private base: Buffer | undefined;
  private large: LargeBlob | undefined;

  constructor(
    repo: GitRepository,
    private readonly engine: Engine,
    settings: LaneSettings,
    private readonly verdict: VerdictSink,
    private readonly fail: (error: unknown) => void,
    /** The error for a failed git command (the repository's own, or one a thread can pass on). */
    failure: (command: string, output: string) => Error,
    signal?: AbortSignal,
  ) {
    this.overlap = chunkOverlap(engine.compiled);
    this.windowSize = Math.max(settings.windowSize, 4 * this.overlap);
    this.recent = new RecentBlobs(settings.cacheBytes);
    this.parser = new CatFileParser({
      start: (object, size) => this.onStart(object, size),
      data: (bytes) => this.onData(bytes),
      end: () => this.onEnd(),
      missing: () => this.onMissing(),
    });
    const onData = (chunk: Buffer) => {
      try {
        this.parser.write(chunk);
      } catch (error) {
        this.fail(error);
      }
    };
    this.objects = new ObjectReader(repo, onData, fail, failure, signal);
  }

  /** Asks cat-file for these blobs (and the parent versions not among the recent blobs). */
  ask(asks: readonly BlobAsk[]): void {
    const names: string[] = [];
    for (const ask of asks) {
      if (ask.previous !== undefined && !ask.cached) {
        names.push(ask.previous);
        this.expected.push({ ask, role: "previous" });
      }
      names.push(ask.object);
      this.expected.push({ ask, role: "blob" });
    }
    this.objects.read(names);
  }

  /** No more asks: resolves once every blob asked was checked and cat-file has exited. */
  async end(): Promise<LaneCounts> {
    await this.objects.end();
    if (this.current || this.head < this.expected.length)
      throw new Error("git cat-file stopped before every blob was read");
    return this.counts;
  }

  close(): void {
    this.objects.close();
  }

  get bytesRead(): number {
    return this.counts.bytes;
  }

  private more(): boolean {
    return this.head < this.expected.length;
  }

  private next(): Expected {
    const next = this.expected[this.head++];
    if (!next) throw new Error("git cat-file answered more than it was asked");
    if (this.head > 4096) {
      this.expected = this.expected.slice(this.head);
      this.head = 0;
    }
    return next;
  }

  private onStart(_object: string, size: number): void {
    const expected = this.next();
    this.current = expected;
    const { ask } = expected;
    if (expected.role === "previous") {
      // Kept to compare with; a parent version too large for that leaves the blob to be checked whole.
      this.previous =
        size <= this.windowSize
          ? (this.recent.reserve(ask.previous as string, size) ?? Buffer.allocUnsafe(size))
          : undefined;
      this.previousFilled = 0;
      return;
    }
    this.base = this.baseOf(ask);
    this.counts.blobs++;
    this.counts.bytes += size;
    if (size > this.windowSize) {
      this.large = {
        window: Buffer.allocUnsafeSlow(this.windowSize),
        filled: 0,
        carried: 0,
        first: true,
        dirty: false,
        decided: false,
      };
      return;
    }
    this.filled = 0;
    const room = this.recent.reserve(ask.object, size);
    if (room) {
      // Making room may have pushed out the parent version: copied before the blob's bytes land on it.
      if (this.base && !this.recent.has(ask.previous as string)) this.base = Buffer.from(this.base);
      this.target = room;
      return;
    }
    if (this.content.length < size)
      this.content = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.content.length));
    this.target = this.content;
  }

  /** The parent version a blob is compared with: read just before it, or earlier and still kept. */
  private baseOf(ask: BlobAsk): Buffer | undefined {
    if (ask.previous === undefined) return undefined;
    if (!ask.cached) {
      const previous = this.previous;
      this.previous = undefined;
      return previous;
    }
    const base = this.recent.get(ask.previous);
    if (base) this.counts.cached++;
    else this.counts.uncached++;
    return base;
  }

  private onData(bytes: Buffer): void {
    const current = this.current as Expected;
    if (current.role === "previous") {
      if (this.previous) this.previousFilled += bytes.copy(this.previous, this.previousFilled);
      return;
    }
    const large = this.large;
    if (!large) {
      this.filled += bytes.copy(this.target, this.filled);
      return;
    }
    let at = 0;
    while (at < bytes.length && !large.decided) {
      const n = bytes.copy(large.window, large.filled, at);
      large.filled += n;
      at += n;
      if (large.filled === large.window.length) this.checkWindow(large);
    }
  }

  private onEnd(): void {
    const { ask, role } = this.current as Expected;
    this.current = undefined;
    if (role === "previous") {
      this.counts.uncached++; // kept among the recent blobs when it fits (see onStart)
      return;
    }
    const large = this.large;
    if (large) {
      this.large = undefined;
      if (!large.decided && (large.first || large.filled > large.carried)) this.checkWindow(large);
      this.verdict(ask.key, large.dirty, this.more());
      return;
    }
    this.verdict(ask.key, this.check(this.target.subarray(0, this.filled)), this.more());
  }

  /**
   * Checks the part of a blob a diff from its parent version can call added (see changedRegion), or all of it.
   * UTF-16 text is checked whole: its lines are not cut where bytes say.
   */
  private check(blob: Buffer): boolean {
    const base = this.base;
    this.base = undefined;
    let region: { start: number; end: number } | undefined;
    if (base) {
      const kind = contentKind(probeOf(blob));
      if (kind !== "utf-16le" && kind !== "utf-16be") region = changedRegion(base, blob);
    }
    if (region && region.end === region.start) return false;
    const part = region ? blob.subarray(region.start, region.end) : blob;
    this.counts.scanned += part.length;
    // A changed part is checked as the bytes it is: the kind of the whole blob was decided above.
    const verdict = checkBlob(this.engine, part, region !== undefined);
    if (verdict & BINARY_BLOB) this.counts.binary++;
    return (verdict & HAS_DETECTION) !== 0;
  }

  /** Checks a large blob's full window, and starts the next one with the end of this one. */
  private checkWindow(large: LargeBlob): void {
    const window = large.window.subarray(0, large.filled);
    if (large.first) {
      large.first = false;
      const kind = contentKind(probeOf(window));
      if (kind === "utf-16le" || kind === "utf-16be") {
        large.dirty = true;
        large.decided = true;
        return;
      }
    }
    this.counts.scanned += large.filled - large.carried;
    if (checkBlob(this.engine, window, true) & HAS_DETECTION) {
      large.dirty = true;
      large.decided = true; // the rest need not be read
      return;
    }
    const keep = Math.min(2 * this.overlap, large.filled);
    large.window.copyWithin(0, large.filled - keep, large.filled);
    large.filled = keep;
    large.carried = keep;
  }

  private onMissing(): void {
    const { ask, role } = this.next();
    if (role === "previous")
      this.previous = undefined; // the blob is checked whole
    // Nothing to read: its commits are scanned by patch, which says what git says about it.
    else this.verdict(ask.key, true, this.more());
  }
}
