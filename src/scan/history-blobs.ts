// The first half of a history scan by blobs (see history.ts): walk the history once without content (which
// blobs each commit brings, and what its first parent had there), have each new blob read once and the part
// of it a diff could call added checked (blob-reader.ts), and keep the commits that bring a blob holding a
// detection there.
//
// The walk goes oldest first, so a file's parent version was usually read just before, as the blob an earlier
// commit brought, and is compared from memory. On a large history the blobs are shared out among lanes, one
// per core, each a worker thread with its own `git cat-file` and engine: every version of a path goes to the
// same lane, so its parent version is in that lane's memory. Each part waits for the next when it gets too far
// ahead, so memory holds a bounded number of blobs whatever the history (plus one small entry per blob).
// The walk gives each commit's message too: those holding a detection are kept, with their commits' ranks.
import { isUtf8 } from "node:buffer";
import { availableParallelism } from "node:os";
import { collect, exitOf } from "../sources/child-output.js";
import type { GitRepository } from "../sources/git.js";
import { BlobWalkParser, blobWalkArgs, type WalkCommit } from "../sources/git-blobs.js";
import type { RankedMessage } from "../sources/git-messages.js";
import { takeWalkAhead } from "../sources/walk-ahead.js";
import type { BlobLaneThread } from "./blob-lane-thread.js";
import { type BlobAsk, BlobReader, type LaneCounts, type LaneSettings } from "./blob-reader.js";
import type { Engine } from "./engine.js";
import type { EngineSettings } from "./settings.js";

export interface BlobScanOptions {
  /** The settings the engine was built from: with them, a large history is checked on worker threads. */
  engineSettings?: EngineSettings;
  /**
   * Lanes on worker threads for a large history; 0: none, checks on this thread. Default: one per two cores,
   * since each lane keeps two busy (its thread and its cat-file); on two cores, none.
   */
  threads?: number;
  /**
   * Threads start for a repository of at least this many objects (default 20,000): below, starting them
   * costs more than they save.
   */
  threadsAfterObjects?: number;
  /** A blob larger than this is checked in overlapping windows of this size (default 8 MB). */
  windowSize?: number;
  /** Bytes of recent blobs kept to compare the next versions with, shared among the lanes (default 16 MB: measured on expressjs/express, a larger ring costs more in page faults than it saves). */
  cacheBytes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { commits: number; bytes: number; elapsedMs: number }) => void;
}

export interface CommitsToScan extends LaneCounts {
  /** Each commit that brings a blob holding a detection, with its position in the walk (1: listed first). */
  ranks: Map<string, number>;
  /** The commit messages holding a detection, each with its commit's position in the walk. */
  messages: RankedMessage[];
  /** Bytes of every commit message checked. */
  messageBytes: number;
  /** Commits walked. */
  commits: number;
  /** Lanes the blobs were read and checked in, and whether on worker threads. */
  lanes: number;
  threaded: boolean;
}

/** Checks asked and not yet answered: the walk waits above this. */
const MAX_PENDING = 4096;
const DEFAULT_WINDOW = 8 * 1024 * 1024;
const DEFAULT_CACHE = 16 * 1024 * 1024;
const DEFAULT_THREADS_AFTER = 20_000;
/** Names of blobs each lane remembers having read (more than its recent blobs hold). */
const READ_NAMES = 65_536;

/** A check asked and not yet answered: its key, the commit (with its position) that brought it, and any other. */
interface PendingCheck {
  key: string;
  commit: string;
  position: number;
  more: [string, number][] | undefined;
}

/** A check decided: as values of `known`, beside the ids of checks still pending (0 and up). */
const CLEAN = -1;
const DIRTY = -2;

interface Lanes {
  count: number;
  /** The lane on a worker thread, loaded only when lanes run on threads (undefined: on this thread). */
  Thread?: typeof BlobLaneThread;
}

interface Lane {
  ask(asks: readonly BlobAsk[]): void;
  /** Bytes of blobs read so far, for progress. */
  readonly bytesRead: number;
  end(): Promise<LaneCounts>;
  close(): void | Promise<void>;
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
  // One lane on this thread is known at once: its cat-file then starts before the caller's other git children.
  const lanes = threadCount(options) < 1 ? ONE_LANE : await laneCount(repo, options);
  const scan = new BlobHistoryScan(repo, engine, options, lanes);
  try {
    return await scan.run(args, input);
  } finally {
    await scan.close();
  }
}

/** How many lanes, on threads or not: one on the calling thread, or `threads` for a large repository. */
async function laneCount(repo: GitRepository, options: BlobScanOptions): Promise<Lanes> {
  const threads = threadCount(options);
  if (threads < 1) return ONE_LANE;
  const after = options.threadsAfterObjects ?? DEFAULT_THREADS_AFTER;
  const large = after <= 0 || (await objectCount(repo)) >= after;
  if (!large) return ONE_LANE;
  const { BlobLaneThread } = await import("./blob-lane-thread.js");
  return { count: threads, Thread: BlobLaneThread };
}

const ONE_LANE: Lanes = { count: 1 };

/** Lanes on threads asked for or chosen: none without the engine's settings to build one on each thread. */
function threadCount(options: BlobScanOptions): number {
  return options.engineSettings ? (options.threads ?? defaultLanes()) : 0;
}

/**
 * Measured on two cores (bench/history.js): two lanes on threads were no faster than one on the calling
 * thread, since each thread compiles and warms its own engine while both git processes need a core too.
 */
function defaultLanes(): number {
  const lanes = Math.floor(availableParallelism() / 2);
  return lanes >= 2 ? lanes : 0;
}

/** Objects in the repository's object store, loose and packed: a quick measure of its history's size. */
async function objectCount(repo: GitRepository): Promise<number> {
  try {
    const out = await repo.run(["count-objects", "-v"]);
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(out)?.[1] ?? 0);
    return field("count") + field("in-pack");
  } catch {
    return 0; // the walk says what is wrong with the repository
  }
}

class BlobHistoryScan {
  /** Each check by its key (a blob, or `parent>blob`): pending (its id), CLEAN or DIRTY. */
  private readonly known = new Map<string, number>();
  /** Pending checks by id: their key, and the commits (with their positions) that bring them. */
  private readonly pending = new Map<number, PendingCheck>();
  private readonly ranks = new Map<string, number>();
  /** Messages holding a detection, with their commits' positions in the walk (oldest first). */
  private readonly messages: RankedMessage[] = [];
  /** Commits of the chunk being parsed, with their positions: their messages are checked once it is. */
  private unchecked: { commit: WalkCommit; position: number }[] = [];
  private messageBytes = 0;
  private commits = 0;
  private commit = "";
  private opened = 0;
  private resolved = 0;
  private readonly lanes: Lane[] = [];
  /** What each lane read lately (or was asked to): a parent version there is in its memory, or was. */
  private readonly read: RecentlyRead[] = [];
  private asks: BlobAsk[][] = [];
  private readonly started = performance.now();
  private walker: ReturnType<GitRepository["start"]> | undefined;
  private walkPaused = false;
  private failure: ((error: unknown) => void) | undefined;
  private ended: Promise<LaneCounts[]> | undefined;

  constructor(
    private readonly repo: GitRepository,
    private readonly engine: Engine,
    private readonly options: BlobScanOptions,
    private readonly laneCount: Lanes,
  ) {}

  async run(args: readonly string[], input: readonly string[]): Promise<CommitsToScan> {
    const { signal } = this.options;
    let failed: unknown;
    const fail = (error: unknown) => {
      failed ??= error;
      this.failure?.(error);
    };
    this.startLanes(fail);
    // A few megabytes for a long history: not worth stdbuf's start-up. Started ahead by the CLI, maybe (a walk
    // that can be stopped is always its own).
    const walkArgs = blobWalkArgs(args);
    const walker =
      (signal ? undefined : takeWalkAhead(this.repo, walkArgs)) ?? this.repo.start(walkArgs, signal, false);
    this.walker = walker;
    walker.stdin.end(input.length > 0 ? `${input.join("\n")}\n` : "");
    const parser = new BlobWalkParser({
      commit: (commit) => this.onCommit(commit),
      blob: (blob, previous, path) => this.onBlob(blob, previous, path),
    });
    const walkErr = collect(walker.stderr);
    const walkExit = exitOf(walker);

    await new Promise<void>((resolve, reject) => {
      this.failure = (error) => {
        this.failure = undefined;
        walker.kill();
        for (const lane of this.lanes) void lane.close();
        reject(error);
      };
      if (failed !== undefined) this.failure(failed);
      const guard = (work: () => void) => () => {
        try {
          work();
        } catch (error) {
          this.failure?.(error);
        }
      };
      walker.stdout.on("data", (chunk: Buffer) =>
        guard(() => {
          parser.write(chunk);
          this.afterWalkChunk();
        })(),
      );
      walker.stdout.once(
        "end",
        guard(() => {
          parser.end();
          this.afterWalkChunk();
          this.ended = Promise.all(this.lanes.map((lane) => lane.end()));
          this.ended.then(() => resolve(), reject);
        }),
      );
      walker.stdout.once("error", (error) => this.failure?.(error));
      walkExit.catch((error) => this.failure?.(error));
    });

    let code: number;
    try {
      code = await walkExit;
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw this.repo.failure("log", `cannot run git: ${(error as Error).message}`);
    }
    if (code !== 0) throw this.repo.failure("log", walkErr());
    if (this.resolved !== this.opened) throw new Error("a blob of the history was never checked");
    return this.result(await (this.ended as Promise<LaneCounts[]>));
  }

  async close(): Promise<void> {
    this.walker?.kill();
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }

  private startLanes(fail: (error: unknown) => void): void {
    const settings: LaneSettings = {
      windowSize: this.options.windowSize ?? DEFAULT_WINDOW,
      cacheBytes: Math.floor((this.options.cacheBytes ?? DEFAULT_CACHE) / this.laneCount.count),
    };
    const verdict = (id: number, dirty: boolean) => this.decided(id, dirty);
    const { Thread } = this.laneCount;
    for (let i = 0; i < this.laneCount.count; i++) {
      this.lanes.push(
        !Thread
          ? new BlobReader(
              this.repo,
              this.engine,
              settings,
              verdict,
              fail,
              (command, output) => this.repo.failure(command, output),
              this.options.signal,
            )
          : new Thread(this.repo, this.options.engineSettings as EngineSettings, settings, verdict, fail),
      );
      this.read.push(new RecentlyRead(READ_NAMES));
      this.asks.push([]);
    }
  }

  private result(counts: LaneCounts[]): CommitsToScan {
    const total: LaneCounts = { blobs: 0, bytes: 0, binary: 0, scanned: 0, cached: 0, uncached: 0 };
    for (const lane of counts)
      for (const name of Object.keys(total) as (keyof LaneCounts)[]) total[name] += lane[name];
    // Walked oldest first: a commit's rank is its position newest first, as a patch scan lists it.
    const rank = (position: number) => this.commits + 1 - position;
    const ranks = new Map<string, number>();
    for (const [commit, position] of this.ranks) ranks.set(commit, rank(position));
    return {
      ...total,
      ranks,
      messages: this.messages.map(({ message, rank: position }) => ({ message, rank: rank(position) })),
      messageBytes: this.messageBytes,
      commits: this.commits,
      lanes: this.laneCount.count,
      threaded: this.laneCount.Thread !== undefined,
    };
  }

  // The walk ------------------------------------------------------------------------------------------------

  private onCommit(commit: WalkCommit): void {
    this.commit = commit.commit;
    this.commits++;
    this.unchecked.push({ commit, position: this.commits });
    this.options.onProgress?.({
      commits: this.commits,
      bytes: this.lanes.reduce((sum, lane) => sum + lane.bytesRead, 0),
      elapsedMs: performance.now() - this.started,
    });
  }

  /**
   * Checks the messages of the commits the last chunk brought; those holding a detection are kept, read as
   * `git log` gives them, with their closing newline. Checked after the chunk is parsed, not while: the parser's
   * compiled code stays small, and is not thrown away each time the engine reaches a new path.
   */
  private checkMessages(): void {
    for (const { commit, position } of this.unchecked) {
      const raw = Buffer.from(`${commit.message}\n`, "latin1");
      // The bytes git wrote; read as UTF-8 where they are not valid UTF-8 (the round trip replaces those).
      const bytes = isUtf8(raw) ? raw : Buffer.from(raw.toString("utf8"));
      this.messageBytes += bytes.length;
      if (this.engine.detect(bytes).length > 0) this.keepMessage(commit, bytes.toString("utf8"), position);
    }
    this.unchecked = [];
  }

  private keepMessage({ commit, name, email, date }: WalkCommit, text: string, position: number): void {
    const utf8 = (latin1: string) => Buffer.from(latin1, "latin1").toString("utf8");
    const origin = { commit, author: `${utf8(name)} <${utf8(email)}>`, date };
    this.messages.push({ message: { origin, path: "<commit message>", text }, rank: position });
  }

  private onBlob(blob: string, previous: string | undefined, path: string): void {
    if (previous === blob) return; // a mode change: no line added
    // A check of the whole blob answers for every commit that brings it.
    const whole = this.known.get(blob);
    if (whole !== undefined) {
      this.bring(whole);
      return;
    }
    const key = previous === undefined ? blob : `${previous}>${blob}`;
    const known = this.known.get(key);
    if (known !== undefined) {
      this.bring(known);
      return;
    }
    const id = this.opened++;
    this.known.set(key, id);
    this.pending.set(id, { key, commit: this.commit, position: this.commits, more: undefined });
    const lane = this.lanes.length === 1 ? 0 : laneOf(path, this.lanes.length);
    const read = this.read[lane] as RecentlyRead;
    const ask: BlobAsk = { key: id, object: blob };
    if (previous !== undefined) {
      ask.previous = previous;
      if (!read.add(previous)) ask.cached = true;
    }
    read.add(blob);
    this.asks[lane]?.push(ask);
  }

  /** The current commit brings what a check looks at: a candidate, a commit to wait for, or nothing. */
  private bring(state: number): void {
    if (state === DIRTY) this.ranks.set(this.commit, this.commits);
    else if (state >= 0) {
      const check = this.pending.get(state);
      if (!check) return;
      check.more ??= [];
      check.more.push([this.commit, this.commits]);
    }
  }

  /** Hands each lane the blobs the chunk brought; holds the walk when too many are still unchecked. */
  private afterWalkChunk(): void {
    this.checkMessages();
    this.asks.forEach((asks, lane) => {
      if (asks.length === 0) return;
      this.lanes[lane]?.ask(asks);
      this.asks[lane] = [];
    });
    if (!this.walkPaused && this.opened - this.resolved >= MAX_PENDING) {
      this.walkPaused = true;
      this.walker?.stdout.pause();
    }
  }

  // Verdicts ------------------------------------------------------------------------------------------------

  private decided(id: number, dirty: boolean): void {
    const check = this.pending.get(id);
    if (!check) throw new Error("a blob check was answered twice");
    this.pending.delete(id);
    this.known.set(check.key, dirty ? DIRTY : CLEAN);
    if (dirty) {
      this.ranks.set(check.commit, check.position);
      for (const [commit, rank] of check.more ?? []) this.ranks.set(commit, rank);
    }
    this.resolved++;
    if (this.walkPaused && this.opened - this.resolved <= MAX_PENDING / 2) {
      this.walkPaused = false;
      this.walker?.stdout.resume();
    }
  }
}

/**
 * Names a lane read lately, up to a number: one read longer ago has left the lane's recent blobs anyway, so
 * asking for it again costs a read, not a check of a whole blob. Bounds memory on a long history.
 */
class RecentlyRead {
  private readonly names = new Set<string>();

  constructor(private readonly limit: number) {}

  /** Remembers a name; false when it was already remembered (one lookup, not two: this runs per blob). */
  add(name: string): boolean {
    const size = this.names.size;
    this.names.add(name);
    if (this.names.size === size) return false;
    if (size === this.limit) this.names.delete(this.names.values().next().value as string);
    return true;
  }
}

/** The lane of a path: every version of a file goes to the same one. */
function laneOf(path: string, lanes: number): number {
  let hash = 2166136261;
  for (let i = 0; i < path.length; i++) hash = Math.imul(hash ^ path.charCodeAt(i), 16777619);
  return (hash >>> 0) % lanes;
}
