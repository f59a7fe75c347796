// The first half of a history scan by blobs (see history.ts): walk the history once without content (which
// blobs each commit brings, and what its first parent had there), read each new blob once through one
// `git cat-file --batch`, check on the scanning threads the part of it a diff could call added, and keep the
// commits that bring a blob holding a detection there. Three processes run side by side: the walk, the reader
// and the threads; each waits for the next when it gets too far ahead, so memory holds a bounded number of
// blobs whatever the history (plus one small entry per blob checked).
//
// The walk goes oldest first, so a parent's version of a file was usually read just before, as the blob an
// earlier commit brought: a bounded cache of recent contents (RecentBlobs) gives it back without a second read
// through the pipe. One that fell out of the cache leaves its successor to be checked whole, which only errs
// towards yes.
//
// A blob is checked once for all the commits that bring it with the same parent version (and once whole when
// a commit adds it): git's line diff only ever adds lines between the lines both versions share at the start
// and at the end (see changedRegion), so only that part is scanned, a fraction of the blob in a long history.
import { availableParallelism } from "node:os";
import { BINARY_PROBE, contentKind } from "../sources/content-kind.js";
import type { GitRepository } from "../sources/git.js";
import { BLOB_READ_ARGS, BLOB_WALK_ARGS, BlobWalkParser, CatFileParser } from "../sources/git-blobs.js";
import { BINARY_BLOB, type BlobItem, changedRegion, checkBatch, HAS_DETECTION } from "./blob-check.js";
import type { Engine } from "./engine.js";
import { BlobPool } from "./pool.js";
import { RecentBlobs } from "./recent-blobs.js";
import { chunkOverlap } from "./scan-source.js";
import type { EngineSettings } from "./settings.js";

export interface BlobScanOptions {
  /** The settings the engine was built from: with them, blobs are checked on worker threads. */
  engineSettings?: EngineSettings;
  /** Checking threads (default: one per core); 1 checks on the calling thread. */
  threads?: number;
  /** Threads start once this many bytes are to be scanned (default 64 MB): below, they cost more than they save. */
  poolAfterBytes?: number;
  /** A blob larger than this is checked in overlapping windows of this size (default 8 MB). */
  windowSize?: number;
  /** Bytes of recent blob contents kept to compare the next versions with (default 64 MB). */
  cacheBytes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { commits: number; bytes: number; elapsedMs: number }) => void;
}

export interface CommitsToScan {
  /** Each commit that brings a blob holding a detection, with its position in the walk (1: listed first). */
  ranks: Map<string, number>;
  /** Commits walked. */
  commits: number;
  /** Blobs checked (each once per parent version it replaced) and their bytes; binary ones checked whole. */
  blobs: number;
  bytes: number;
  binary: number;
  /** Bytes scanned: the changed part of each blob, or all of it. */
  scanned: number;
  /** Parent versions found among the blobs read before, and those read again or missed (blob checked whole). */
  cached: number;
  uncached: number;
}

/** A batch of small blobs: up to this many bytes or blobs. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_BLOBS = 256;
/** Blobs asked of cat-file and not yet checked: the walk waits above this. */
const MAX_PENDING = 4096;
const DEFAULT_WINDOW = 8 * 1024 * 1024;
const DEFAULT_POOL_AFTER = 64 * 1024 * 1024;
const DEFAULT_CACHE = 64 * 1024 * 1024;

const PENDING = 0;
const CLEAN = 1;
const DIRTY = 2;

interface Batch {
  buffer: Buffer;
  length: number;
  items: BlobItem[];
  blobs: string[];
}

/**
 * What cat-file's next answer is for: a check's parent version (kept to compare with), or its blob; a blob
 * whose parent version was read before names it (`cached`), to be taken from the recent blobs.
 */
interface Expected {
  key: string;
  role: "previous" | "blob";
  pair?: { previous?: Buffer };
  cached?: string;
}

/** A blob being read or checked: how many of its items are out, and whether one had a detection. */
interface OpenBlob {
  dirty: boolean;
  out: number;
  ended: boolean;
}

/** A large blob being cut into windows (checked whole, whatever the parent had). */
interface LargeBlob {
  key: string;
  window: Buffer;
  filled: number;
  /** Bytes at the start of `window` that the previous window also held. */
  carried: number;
  first: boolean;
  /** Decided without reading the rest (UTF-16 too large to decode in pieces: assumed to hold one). */
  decided: boolean;
}

/**
 * The commits of a walk (`args`: `--all`, `--since=...`, `--stdin` with `input` lines) that bring a blob
 * holding a detection, with their ranks; a blob is read and checked once, however many commits bring it.
 */
export async function commitsWithDetections(
  repo: GitRepository,
  args: readonly string[],
  input: readonly string[],
  engine: Engine,
  options: BlobScanOptions = {},
): Promise<CommitsToScan> {
  const scan = new BlobHistoryScan(repo, engine, options);
  try {
    return await scan.run(args, input);
  } finally {
    await scan.close();
  }
}

class BlobHistoryScan {
  private readonly state = new Map<string, number>();
  /** Commits (and their ranks) that bring a blob still being checked. */
  private readonly waiters = new Map<string, [string, number][]>();
  private readonly open = new Map<string, OpenBlob>();
  private readonly result: CommitsToScan = {
    ranks: new Map(),
    commits: 0,
    blobs: 0,
    bytes: 0,
    binary: 0,
    scanned: 0,
    cached: 0,
    uncached: 0,
  };
  /** Blobs asked of cat-file so far, each kept in `recent` once read (if it fits). */
  private readonly read = new Set<string>();
  private readonly recent: RecentBlobs;
  /** cat-file's answers to come, in order: a head index into a list compacted now and then. */
  private expected: Expected[] = [];
  private expectedHead = 0;
  private readonly started = performance.now();
  private readonly windowSize: number;
  private readonly overlap: number;
  private readonly threads: number;
  private pool: BlobPool | undefined;
  private commit = "";
  /** Objects asked of cat-file and answered; checks opened and decided. */
  private asked = 0;
  private answered = 0;
  private opened = 0;
  private resolved = 0;
  private inFlight = 0;
  private batch: Batch | undefined;
  private small: { key: string; object: string; start: number; previous: Buffer | undefined } | undefined;
  private large: LargeBlob | undefined;
  private spare: Buffer | undefined;
  private previous:
    | { pair: NonNullable<Expected["pair"]>; object: string; bytes: Buffer | undefined; filled: number }
    | undefined;
  private asks: string[] = [];
  private walkPaused = false;
  private walkEnded = false;
  private readerPaused = false;
  private failure: ((error: unknown) => void) | undefined;
  private walker: ReturnType<GitRepository["start"]> | undefined;
  private reader: ReturnType<GitRepository["start"]> | undefined;
  private settled: Promise<void>[] = [];

  constructor(
    private readonly repo: GitRepository,
    private readonly engine: Engine,
    private readonly options: BlobScanOptions,
  ) {
    this.windowSize = options.windowSize ?? DEFAULT_WINDOW;
    this.overlap = chunkOverlap(engine.compiled);
    if (this.windowSize < 4 * this.overlap) this.windowSize = 4 * this.overlap;
    this.threads = options.engineSettings ? (options.threads ?? availableParallelism()) : 1;
    this.recent = new RecentBlobs(options.cacheBytes ?? DEFAULT_CACHE);
  }

  async run(args: readonly string[], input: readonly string[]): Promise<CommitsToScan> {
    const { signal } = this.options;
    const reader = this.repo.start(BLOB_READ_ARGS, signal);
    this.reader = reader;
    const walker = this.repo.start([...BLOB_WALK_ARGS, "--reverse", ...args], signal);
    this.walker = walker;
    walker.stdin.end(input.length > 0 ? `${input.join("\n")}\n` : "");
    const walkParser = new BlobWalkParser({
      commit: (commit) => this.onCommit(commit),
      blob: (blob, previous) => this.onBlob(blob, previous),
    });
    const readParser = new CatFileParser({
      start: (blob, size) => this.onStart(blob, size),
      data: (bytes) => this.onData(bytes),
      end: () => this.onEnd(),
      missing: (blob) => this.onMissing(blob),
    });
    const walkErr = collect(walker.stderr);
    const readErr = collect(reader.stderr);
    const walkExit = exitOf(walker);
    const readExit = exitOf(reader);

    await new Promise<void>((resolve, reject) => {
      this.failure = (error) => {
        this.failure = undefined;
        walker.kill();
        reader.kill();
        reject(error);
      };
      const guard = (work: () => void) => () => {
        try {
          work();
        } catch (error) {
          this.failure?.(error);
        }
      };
      walker.stdout.on("data", (chunk: Buffer) =>
        guard(() => {
          walkParser.write(chunk);
          this.afterWalkChunk();
        })(),
      );
      walker.stdout.once(
        "end",
        guard(() => {
          walkParser.end();
          this.afterWalkChunk();
          this.walkEnded = true;
          reader.stdin.end();
          this.dispatchIfIdle();
        }),
      );
      reader.stdout.on("data", (chunk: Buffer) => guard(() => readParser.write(chunk))());
      reader.stdout.once(
        "end",
        guard(() => {
          if (this.large || this.small || this.previous)
            throw new Error("git cat-file stopped in the middle of a blob");
          this.dispatch();
          Promise.all(this.settled).then(() => resolve(), reject);
        }),
      );
      for (const [child, exit] of [
        [walker, walkExit],
        [reader, readExit],
      ] as const) {
        child.stdout.once("error", (error) => this.failure?.(error));
        exit.catch((error) => this.failure?.(error));
      }
    });

    for (const [command, exit, stderr] of [
      ["log", walkExit, walkErr],
      ["cat-file", readExit, readErr],
    ] as const) {
      let code: number;
      try {
        code = await exit;
      } catch (error) {
        if ((error as Error).name === "AbortError") throw error;
        throw this.repo.failure(command, `cannot run git: ${(error as Error).message}`);
      }
      if (code !== 0) throw this.repo.failure(command, stderr());
    }
    if (this.resolved !== this.opened) throw new Error("a blob of the history was never checked");
    // Walked oldest first: a commit's rank is its position newest first, as a patch scan lists it.
    const walked = this.result.commits;
    for (const [commit, position] of this.result.ranks) this.result.ranks.set(commit, walked + 1 - position);
    return this.result;
  }

  async close(): Promise<void> {
    this.walker?.kill();
    this.reader?.kill();
    await this.pool?.close();
  }

  // The walk ------------------------------------------------------------------------------------------------

  private onCommit(commit: string): void {
    this.commit = commit;
    this.result.commits++;
    this.options.onProgress?.({
      commits: this.result.commits,
      bytes: this.result.bytes,
      elapsedMs: performance.now() - this.started,
    });
  }

  private onBlob(blob: string, previous: string | undefined): void {
    if (previous === blob) return; // a mode change: no line added
    // A check of the whole blob answers for every commit that brings it.
    const whole = this.state.get(blob);
    if (whole !== undefined) {
      this.decided(blob, whole);
      return;
    }
    const key = previous === undefined ? blob : `${previous}>${blob}`;
    const known = this.state.get(key);
    if (known !== undefined) {
      this.decided(key, known);
      return;
    }
    this.state.set(key, PENDING);
    this.waiters.set(key, [[this.commit, this.result.commits]]);
    this.opened++;
    if (previous === undefined) {
      this.ask(blob, { key, role: "blob" });
    } else if (this.read.has(previous)) {
      this.ask(blob, { key, role: "blob", cached: previous });
    } else {
      const pair = {};
      this.ask(previous, { key, role: "previous", pair });
      this.ask(blob, { key, role: "blob", pair });
    }
  }

  /** The current commit brings what `key` checks: a candidate, a commit to wait for, or nothing. */
  private decided(key: string, state: number): void {
    if (state === DIRTY) this.result.ranks.set(this.commit, this.result.commits);
    else if (state === PENDING) this.waiters.get(key)?.push([this.commit, this.result.commits]);
  }

  private ask(object: string, expected: Expected): void {
    this.read.add(object);
    this.asks.push(object);
    this.expected.push(expected);
    this.asked++;
  }

  private nextExpected(): Expected {
    const next = this.expected[this.expectedHead++];
    if (!next) throw new Error("git cat-file answered more than it was asked");
    if (this.expectedHead > 4096) {
      this.expected = this.expected.slice(this.expectedHead);
      this.expectedHead = 0;
    }
    return next;
  }

  /** Asks cat-file for the blobs the chunk brought; holds the walk when too many are still unchecked. */
  private afterWalkChunk(): void {
    if (this.asks.length > 0) {
      this.reader?.stdin.write(`${this.asks.join("\n")}\n`);
      this.asks = [];
    }
    if (!this.walkPaused && this.opened - this.resolved >= MAX_PENDING) {
      this.walkPaused = true;
      this.walker?.stdout.pause();
      this.dispatchIfIdle();
    }
  }

  // Reading ---------------------------------------------------------------------------------------------------

  private onStart(object: string, size: number): void {
    const expected = this.nextExpected();
    if (expected.role === "previous") {
      // Kept to compare with; a parent version too large for that leaves the blob to be checked whole.
      const pair = expected.pair as NonNullable<Expected["pair"]>;
      this.previous = {
        pair,
        object,
        bytes: size <= this.windowSize ? Buffer.allocUnsafe(size) : undefined,
        filled: 0,
      };
      return;
    }
    const { key } = expected;
    const previous = this.previousOf(expected);
    this.open.set(key, { dirty: false, out: 0, ended: false });
    this.result.blobs++;
    this.result.bytes += size;
    if (size > this.windowSize) {
      this.large = {
        key,
        window: Buffer.allocUnsafeSlow(this.windowSize),
        filled: 0,
        carried: 0,
        first: true,
        decided: false,
      };
      return;
    }
    if (this.batch && this.batch.buffer.length - this.batch.length < size) this.dispatch();
    this.batch ??= {
      buffer: this.spareOf(size) ?? Buffer.allocUnsafeSlow(Math.max(BATCH_BYTES, size)),
      length: 0,
      items: [],
      blobs: [],
    };
    this.small = { key, object, start: this.batch.length, previous };
  }

  /** The parent version a blob is compared with: read just before it, or earlier and still in the cache. */
  private previousOf(expected: Expected): Buffer | undefined {
    if (expected.pair) {
      const { previous } = expected.pair;
      expected.pair.previous = undefined;
      return previous;
    }
    if (expected.cached === undefined) return undefined;
    const previous = this.recent.get(expected.cached);
    if (previous) this.result.cached++;
    else this.result.uncached++;
    return previous;
  }

  /** A batch buffer checked on this thread and free again (one checked on a worker moved there). */
  private spareOf(size: number): Buffer | undefined {
    const spare = this.spare;
    this.spare = undefined;
    return spare && spare.length >= size ? spare : undefined;
  }

  private onData(bytes: Buffer): void {
    if (this.previous) {
      const held = this.previous;
      if (held.bytes) held.filled += bytes.copy(held.bytes, held.filled);
      return;
    }
    if (this.small && this.batch) {
      this.batch.length += bytes.copy(this.batch.buffer, this.batch.length);
      return;
    }
    const large = this.large as LargeBlob;
    let at = 0;
    while (at < bytes.length && !large.decided) {
      const n = bytes.copy(large.window, large.filled, at);
      large.filled += n;
      at += n;
      if (large.filled === large.window.length) this.sendWindow(large);
    }
  }

  private onEnd(): void {
    this.answered++;
    if (this.previous) {
      const { pair, object, bytes } = this.previous;
      this.previous = undefined;
      pair.previous = bytes;
      this.result.uncached++;
      if (bytes) this.recent.put(object, bytes);
    } else if (this.small && this.batch) {
      const batch = this.batch;
      const { key, object, start, previous } = this.small;
      this.small = undefined;
      const raw = this.trim(batch, start, previous, object);
      const open = this.open.get(key) as OpenBlob;
      if (batch.length > start || !raw) {
        batch.items.push({ start, end: batch.length, raw });
        batch.blobs.push(key);
        open.out++;
        this.result.scanned += batch.length - start;
      }
      this.ended(key);
      if (batch.length >= BATCH_BYTES || batch.items.length >= BATCH_BLOBS) this.dispatch();
    } else {
      const large = this.large as LargeBlob;
      this.large = undefined;
      if (!large.decided && (large.first || large.filled > large.carried)) this.sendWindow(large);
      this.ended(large.key);
    }
    this.dispatchIfIdle();
  }

  /**
   * Keeps the blob just read (`object`) among the recent ones, whole, for its next version to compare with,
   * and keeps of it in the batch only the part a diff from `previous` can call added (see changedRegion);
   * true when it did. UTF-16 text is left whole: its lines are not cut where bytes say.
   */
  private trim(batch: Batch, start: number, previous: Buffer | undefined, object: string): boolean {
    const blob = batch.buffer.subarray(start, batch.length);
    const kind = previous && contentKind(blob.subarray(0, BINARY_PROBE));
    // Compared before it is kept: keeping it may overwrite `previous`.
    const region = previous && kind !== "utf-16le" && kind !== "utf-16be" && changedRegion(previous, blob);
    this.recent.put(object, blob);
    if (!region) return false;
    if (region.start > 0) batch.buffer.copyWithin(start, start + region.start, start + region.end);
    batch.length = start + region.end - region.start;
    return true;
  }

  private onMissing(_object: string): void {
    const expected = this.nextExpected();
    this.answered++;
    if (expected.role === "previous") {
      (expected.pair as NonNullable<Expected["pair"]>).previous = undefined; // the blob is checked whole
    } else {
      // Nothing to read: its commits are scanned by patch, which says what git says about it.
      this.open.set(expected.key, { dirty: true, out: 0, ended: false });
      this.ended(expected.key);
    }
    this.dispatchIfIdle();
  }

  /** Sends a large blob's full window, and starts the next one with the end of this one. */
  private sendWindow(large: LargeBlob): void {
    const window = large.window.subarray(0, large.filled);
    if (large.first) {
      large.first = false;
      const kind = contentKind(window.subarray(0, BINARY_PROBE));
      if (kind === "utf-16le" || kind === "utf-16be") {
        (this.open.get(large.key) as OpenBlob).dirty = true;
        large.decided = true;
        return;
      }
    }
    const keep = Math.min(2 * this.overlap, large.filled);
    const next = Buffer.allocUnsafeSlow(this.windowSize);
    window.copy(next, 0, large.filled - keep);
    (this.open.get(large.key) as OpenBlob).out++;
    this.result.scanned += large.filled - large.carried;
    this.send(
      { buffer: large.window, length: large.filled, items: [], blobs: [] },
      [{ start: 0, end: large.filled, raw: true }],
      [large.key],
    );
    large.window = next;
    large.filled = keep;
    large.carried = keep;
  }

  // Checking --------------------------------------------------------------------------------------------------

  /** Sends the batch being filled, if any. */
  private dispatch(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch || batch.items.length === 0) return;
    this.send(batch, batch.items, batch.blobs);
  }

  /** Sends a partly filled batch when nothing else is coming for now: the walk waits, or is over. */
  private dispatchIfIdle(): void {
    if ((this.walkPaused || this.walkEnded) && this.answered === this.asked && !this.small) this.dispatch();
  }

  private send(batch: Batch, items: BlobItem[], blobs: string[]): void {
    const bytes = batch.buffer.subarray(0, batch.length);
    if (
      !this.pool &&
      this.threads > 1 &&
      this.result.scanned >= (this.options.poolAfterBytes ?? DEFAULT_POOL_AFTER)
    )
      this.pool = new BlobPool(this.options.engineSettings as EngineSettings, this.threads);
    const pool = this.pool;
    if (!pool) {
      this.verdicts(blobs, checkBatch(this.engine, bytes, items));
      this.spare = batch.buffer;
      return;
    }
    this.inFlight++;
    if (this.inFlight >= pool.slots && !this.readerPaused) {
      this.readerPaused = true;
      this.reader?.stdout.pause();
    }
    // The batch's memory moves to the thread: a Buffer.allocUnsafeSlow owns its ArrayBuffer whole.
    this.settled.push(
      pool.check(batch.buffer.buffer as ArrayBuffer, items).then(
        (verdicts) => {
          this.inFlight--;
          if (this.readerPaused && this.inFlight < pool.slots) {
            this.readerPaused = false;
            this.reader?.stdout.resume();
          }
          try {
            this.verdicts(blobs, verdicts);
          } catch (error) {
            this.failure?.(error);
          }
        },
        (error) => {
          this.inFlight--;
          this.failure?.(error);
        },
      ),
    );
  }

  private verdicts(blobs: readonly string[], verdicts: Uint8Array): void {
    blobs.forEach((blob, i) => {
      const verdict = verdicts[i] as number;
      const open = this.open.get(blob) as OpenBlob;
      if (verdict & HAS_DETECTION) open.dirty = true;
      if (verdict & BINARY_BLOB) this.result.binary++;
      open.out--;
      this.ended(blob, false);
    });
  }

  /** A blob is decided once it was read to its end and every item of it came back. */
  private ended(blob: string, reading = true): void {
    const open = this.open.get(blob) as OpenBlob;
    if (reading) open.ended = true;
    if (!open.ended || open.out > 0) return;
    this.open.delete(blob);
    this.state.set(blob, open.dirty ? DIRTY : CLEAN);
    const waiting = this.waiters.get(blob) ?? [];
    this.waiters.delete(blob);
    if (open.dirty) for (const [commit, rank] of waiting) this.result.ranks.set(commit, rank);
    this.resolved++;
    if (this.walkPaused && this.opened - this.resolved <= MAX_PENDING / 2) {
      this.walkPaused = false;
      this.walker?.stdout.resume();
    }
  }
}

/** The first 16 KB of a stream, as text, for an error message. */
function collect(stream: NodeJS.ReadableStream): () => string {
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (piece: string) => {
    if (text.length < 16 * 1024) text += piece;
  });
  return () => text;
}

function exitOf(child: ReturnType<GitRepository["start"]>): Promise<number> {
  const exit = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
  exit.catch(() => {}); // awaited by the caller; a spawn failure must not also be an unhandled rejection
  return exit;
}
