// Scans git history: a whole repository, a revision range, a push (as GitHub or a pre-receive hook sends it)
// or the staged changes. Git streams the patches, git-patch.ts cuts out the added lines, and each hunk's
// added lines go through the same engine as files, located at their line in that commit's version.
//
// A whole history is checked by blobs first (history-blobs.ts; see historyMethod): each file version is read
// once and the part of it that changed is checked, on worker threads when there are cores to spare; then only
// the commits that bring a version holding a detection have their patches scanned as above. The findings are
// the patch scan's own.
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { collect, exitOf } from "../sources/child-output.js";
import { BINARY_PROBE, type ContentKind, contentKind, decodeUtf16Lines } from "../sources/content-kind.js";
import { GitRepository, isZeroSha, type PushKind, type PushUpdate, type RefTip } from "../sources/git.js";
import {
  commitMessages,
  type GitMessage,
  keptCommitMessages,
  type RankedMessage,
  tagMessages,
} from "../sources/git-messages.js";
import {
  type CommitInfo,
  type FileChange,
  LOG_PATCH_ARGS,
  type PatchHandler,
  PatchParser,
  type SkipReason,
  STAGED_PATCH_ARGS,
} from "../sources/git-patch.js";
import { globMatcher } from "../sources/paths.js";
import type { Engine } from "./engine.js";
import { boundaryOf, planForward } from "./forward-updates.js";
import { type CommitsToScan, commitsWithDetections } from "./history-blobs.js";
import { DEFAULT_MAX_FILE_SIZE } from "./limits.js";
import { locate } from "./locate.js";
import type { ScanStats } from "./run.js";
import { chunkOverlap } from "./scan-source.js";
import type { EngineSettings } from "./settings.js";
import type { Finding } from "./types.js";

/**
 * How scanHistory reads a history: `patches` streams `git log -p` and scans the lines each commit added;
 * `blobs` checks each blob once per parent version, then scans the patches of only the commits that bring a blob with a
 * detection (same findings). `auto`: see historyMethod.
 */
export type HistoryMethod = "auto" | "blobs" | "patches";

export interface HistoryOptions {
  /** Added to the environment of every git child (credentials, for instance); never printed. */
  env?: NodeJS.ProcessEnv;
  /**
   * A file change's added lines are scanned in pieces of at most this many bytes (default 25 MB); a single
   * line longer than this cannot be held, and is skipped and counted as too large.
   */
  maxFileSize?: number;
  /** Globs of paths to leave out (paths-ignore, --exclude), matched against the path in the commit. */
  ignore?: readonly string[];
  onProgress?: (progress: HistoryProgress) => void;
  /** Stops git and rejects the scan. */
  signal?: AbortSignal;
  /**
   * Push scans: leave out of an update what other refs already reach (see PushKind). Right where refs are
   * authoritative, as in a pre-receive hook; a cache whose refs may be ahead of what was scanned must not.
   */
  excludeOtherRefs?: boolean;
  /** scanHistory only (pushes and staged changes are always read as patches); default `auto`. */
  method?: HistoryMethod;
  /** The settings `engine` was built from: with them, a scan by blobs checks blobs on worker threads. */
  engineSettings?: EngineSettings;
  /** Threads of a scan by blobs (default: one per core). */
  threads?: number;
}

export interface HistoryProgress {
  commits: number;
  bytes: number;
  elapsedMs: number;
}

export interface HistoryResult {
  /** Every occurrence; `introduced` marks the earliest one of each fingerprint. */
  findings: Finding[];
  /** `files` counts file changes (a file in a commit), `bytes` the added bytes scanned. */
  stats: ScanStats;
}

export interface RangeResult extends HistoryResult {
  kind: PushKind;
}

export interface HistorySelection {
  /** A revision range (`main..feature`, `v1.0...v2.0`, `feature`); default: every ref. */
  range?: string;
  /** Only commits more recent than this (git's --since: `2024-01-31`, `2 weeks ago`). */
  since?: string;
}

/** Collects findings and counts from the parser's events. */
class HistoryCollector implements PatchHandler {
  readonly findings: Finding[] = [];
  readonly stats: ScanStats = {
    files: 0,
    bytes: 0,
    skipped: 0,
    skippedBy: { binary: 0, tooLarge: 0, unreadable: 0, ignored: 0 },
    durationMs: 0,
  };
  /** Position of each commit with findings in git's output: later means older (see LOG_PATCH_ARGS). */
  readonly position = new Map<string, number>();
  private readonly started = performance.now();
  private readonly ignored: (path: string) => boolean;
  private current: CommitInfo | undefined;
  private commits = 0;
  /** Scans of chosen commits: each commit's position in the whole walk, which a later one beats. */
  private ranks: ReadonlyMap<string, number> | undefined;
  /** In a multi-ref push, commits already scanned for an earlier ref; undefined otherwise. */
  private seen: Set<string> | undefined;
  private skipping = false;

  constructor(
    readonly engine: Engine,
    private readonly options: HistoryOptions,
    private readonly repo: GitRepository,
  ) {
    this.ignored = globMatcher(options.ignore ?? []);
  }

  /**
   * For a scan of chosen commits (a scan by blobs): their positions in the whole walk, and how many commits
   * it had, so that ages, `introduced`, the order and `commits` are what scanning every commit would give.
   */
  walked(ranks: ReadonlyMap<string, number>, commits: number): void {
    this.ranks = ranks;
    this.walkedCommits = commits;
  }

  /** After the chosen commits' patches: the count is the whole walk's, as it is in a patch scan by then. */
  private walkedCommits: number | undefined;
  closeWalk(): void {
    if (this.walkedCommits !== undefined) this.commits = this.walkedCommits;
  }

  /** Scans each commit once across several runs (the ranges of one push may overlap). */
  dedupeCommits(): void {
    this.seen ??= new Set();
  }

  blobKind(blob: string): ContentKind {
    return contentKind(this.repo.blobHead(blob, BINARY_PROBE));
  }

  wants(path: string): boolean {
    return !this.ignored(path);
  }

  commit(info: CommitInfo): void {
    this.skipping = this.seen?.has(info.commit) === true;
    if (this.skipping) return;
    this.seen?.add(info.commit);
    this.current = info;
    this.commits++;
    if (this.ranks) return; // progress came from the walk
    this.options.onProgress?.({
      commits: this.commits,
      bytes: this.stats.bytes,
      elapsedMs: performance.now() - this.started,
    });
  }

  file(change: FileChange): void {
    if (this.skipping) return;
    if (!change.continued) this.stats.files++;
    this.stats.bytes += change.bytes.length - change.scanFrom;
    for (const segment of change.segments) {
      if (segment.end <= change.scanFrom) continue; // context only: scanned with the previous piece
      let bytes = change.bytes.subarray(segment.start, segment.end);
      let from = Math.max(0, change.scanFrom - segment.start);
      if (change.encoding) {
        const startsFile = segment.firstLine === 1;
        if (from > 0) from = decodeUtf16Lines(bytes.subarray(0, from), change.encoding, startsFile).length;
        bytes = decodeUtf16Lines(bytes, change.encoding, startsFile);
      }
      const detections = this.engine.detect(bytes, from);
      if (detections.length === 0) continue;
      for (const finding of locate(bytes, detections, { file: change.path, firstLine: segment.firstLine })) {
        const origin = this.current;
        if (origin) {
          if (!this.position.has(origin.commit))
            this.position.set(origin.commit, this.ranks?.get(origin.commit) ?? this.commits);
          this.findings.push({ ...finding, commit: origin.commit, author: origin.author, date: origin.date });
        } else {
          this.findings.push(finding);
        }
      }
    }
  }

  /**
   * A commit or tag message, scanned like a file of that commit (`counted`: its bytes are in the stats
   * already; `rank`: its commit's position in the walk, when known).
   */
  message({ origin, path, text }: GitMessage, counted = false, rank?: number): void {
    const bytes = Buffer.from(text);
    if (!counted) this.stats.bytes += bytes.length;
    const detections = this.engine.detect(bytes);
    if (detections.length === 0) return;
    if (!this.position.has(origin.commit)) this.position.set(origin.commit, rank ?? this.commits);
    for (const finding of locate(bytes, detections, { file: path }))
      this.findings.push({ ...finding, commit: origin.commit, author: origin.author, date: origin.date });
  }

  skip(_path: string, reason: SkipReason): void {
    if (this.skipping) return;
    this.stats.skipped++;
    this.stats.skippedBy[reason]++;
  }

  /**
   * Marks the earliest occurrence of each fingerprint, sorts, and closes the stats. A fingerprint whose earliest
   * occurrence is a shallow clone's boundary commit may have leaked before it: its `introduced` stays unknown.
   */
  finish(withCommits: boolean, shallowBoundary: ReadonlySet<string> = new Set()): HistoryResult {
    const age = (f: Finding) => (f.commit ? (this.position.get(f.commit) ?? 0) : 0);
    if (shallowBoundary.size > 0) this.stats.shallow = true;
    if (withCommits) {
      const earliest = new Map<string, Finding>();
      for (const f of this.findings) {
        const best = earliest.get(f.fingerprint);
        if (!best || age(f) > age(best) || (age(f) === age(best) && f.line < best.line))
          earliest.set(f.fingerprint, f);
      }
      for (const f of this.findings) {
        const first = earliest.get(f.fingerprint) as Finding;
        if (!shallowBoundary.has(first.commit ?? "")) f.introduced = first === f;
      }
      this.stats.commits = this.commits;
    }
    // By file; within a file the oldest commit first, so that each secret's introduction leads.
    this.findings.sort(
      (a, b) =>
        (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
        age(b) - age(a) ||
        a.line - b.line ||
        a.column - b.column ||
        (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
    );
    this.stats.durationMs = Math.round(performance.now() - this.started);
    return { findings: this.findings, stats: this.stats };
  }
}

/**
 * Runs git, streams its output through the parser into the collector, and fails with git's own reason.
 * `small`: a few commits (staged changes, a scan by blobs' candidates), not worth stdbuf's start-up.
 */
function streamPatches(
  repo: GitRepository,
  args: string[],
  input: string[],
  collector: HistoryCollector,
  options: HistoryOptions,
  small = false,
): Promise<void> {
  return readPatches(repo, startPatches(repo, args, options, small), input, collector, options);
}

/** A patch-writing git started ahead of its input, its exit and the start of its stderr already watched. */
interface PatchChild {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  command: string;
  exited: Promise<number>;
  stderr: () => string;
}

function startPatches(
  repo: GitRepository,
  args: string[],
  options: HistoryOptions,
  small: boolean,
): PatchChild {
  const child = repo.start(args, options.signal, !small);
  return { child, command: args[0] ?? "", exited: exitOf(child), stderr: collect(child.stderr) };
}

/** Gives `started` its input, then streams its patches through the parser into the collector. */
async function readPatches(
  repo: GitRepository,
  started: PatchChild,
  input: string[],
  collector: HistoryCollector,
  options: HistoryOptions,
): Promise<void> {
  const { child, command, exited, stderr } = started;
  child.stdin.end(input.length > 0 ? `${input.join("\n")}\n` : "");
  const parser = new PatchParser(
    collector,
    options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    chunkOverlap(collector.engine.compiled),
  );
  // 'data' events rather than async iteration: git writes 4 KB at a time, and each read costs.
  // Parsing is synchronous, so the pipe is not read again before a chunk is done: memory stays bounded.
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      child.stdout.destroy();
      child.kill();
      reject(error);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      try {
        parser.write(chunk);
      } catch (error) {
        fail(error);
      }
    });
    child.stdout.once("end", () => {
      try {
        parser.end();
        resolve();
      } catch (error) {
        fail(error);
      }
    });
    child.stdout.once("error", fail);
  });
  let code: number;
  try {
    code = await exited;
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw repo.failure(command, `cannot run git: ${(error as Error).message}`);
  }
  if (code !== 0) throw repo.failure(command, stderr());
}

/**
 * The method `auto` picks: blobs for a whole history, patches for a range or `--since` (a few commits, as a
 * rule, where the walk and cat-file cost more than they save). Measured with bench/history.js on two cores:
 * reading by blobs was faster than by patches on a mirror of expressjs/express (11,467 commits) and as fast on
 * generated histories (see the README's "Reading a history by blobs or by patches").
 */
export function historyMethod(
  selection: HistorySelection,
  method: HistoryMethod = "auto",
): "blobs" | "patches" {
  if (method !== "auto") return method;
  return selection.range === undefined && selection.since === undefined ? "blobs" : "patches";
}

/** A read started before it is awaited: when the scan fails first, its own failure must not go unhandled. */
function readAhead<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {});
  return read;
}

/** The history of a repository: every ref, or a range, optionally since a date. */
export async function scanHistory(
  repoDir: string,
  selection: HistorySelection,
  engine: Engine,
  options: HistoryOptions = {},
): Promise<HistoryResult> {
  const repo = GitRepository.prepare(repoDir, options.env);
  const collector = new HistoryCollector(engine, options, repo);
  const since = selection.since !== undefined ? [`--since=${selection.since}`] : [];
  const revisions = [selection.range ?? "--all", ...since];
  // By patches, commit messages are read by a second `git log` in the same order as the patches (so that a
  // message's position is its commit's) and checked as git streams them; only those holding a detection are
  // kept. By blobs, the walk gives them.
  let messageBytes = 0;
  const readMessages = () =>
    keptCommitMessages(repo, ["--topo-order", ...revisions], (message) => {
      const bytes = Buffer.from(message.text);
      messageBytes += bytes.length;
      return engine.detect(bytes).length > 0;
    });
  // Resolves to the messages holding a detection, once the changes are scanned.
  const scan = async (args: string[], input: string[]): Promise<RankedMessage[]> => {
    if (historyMethod(selection, options.method) === "blobs") {
      const found = await scanByBlobs(repo, args, input, collector, options);
      messageBytes = found.messageBytes;
      return found.messages;
    }
    const patches = streamPatches(repo, [...LOG_PATCH_ARGS, ...args], input, collector, options);
    const messages = readAhead(readMessages());
    await patches;
    return messages;
  };
  let messages: RankedMessage[];
  let tags: Promise<GitMessage[]> = Promise.resolve([]);
  // Read while the scan runs: a small git started late in a long scan waits for a large process to fork.
  let shallow: Promise<Set<string>>;
  if (selection.range !== undefined) {
    await repo.verify();
    const range = await repo.checkRange(selection.range);
    const scanned = scan([...since, "--stdin"], [range]);
    shallow = readAhead(repo.shallowBoundary());
    messages = await scanned;
  } else {
    // Git starts at once; the repository check runs meanwhile and, when it fails, gives the clearer reason.
    const scanned = scan([...since, "--all"], []);
    tags = readAhead(tagMessages(repo));
    shallow = readAhead(repo.shallowBoundary());
    const [checked, done] = await Promise.allSettled([repo.verify(), scanned]);
    if (checked.status === "rejected") throw checked.reason;
    if (done.status === "rejected") throw done.reason;
    messages = done.value;
  }
  // Scanned after the changes, each message at its commit's position in the walk.
  for (const message of await tags) collector.message(message);
  for (const { message, rank } of messages) collector.message(message, true, rank);
  collector.stats.bytes += messageBytes;
  return collector.finish(true, await shallow);
}

/**
 * A walk (`args`, `input` as for git log) scanned by blobs: every blob checked once per parent version, then the
 * patches of only the commits that bring a blob with a detection, placed where the whole walk has them.
 * `files` and `bytes` count the blobs read; what is skipped is counted in the patches scanned.
 */
async function scanByBlobs(
  repo: GitRepository,
  args: string[],
  input: string[],
  collector: HistoryCollector,
  options: HistoryOptions,
): Promise<CommitsToScan> {
  const walk = commitsWithDetections(repo, args, input, collector.engine, {
    ...(options.engineSettings ? { engineSettings: options.engineSettings } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // Started now, after the walk's own children, and given its commits at the end: there, its fork and start-up
  // took 20 ms of a scan's wall time.
  const patches = startPatches(repo, [...LOG_PATCH_ARGS, "--no-walk", "--stdin"], options, true);
  let found: CommitsToScan;
  try {
    found = await walk;
  } catch (error) {
    patches.child.kill();
    throw error;
  }
  collector.walked(found.ranks, found.commits);
  // With no input, git log would show HEAD.
  if (found.ranks.size > 0) await readPatches(repo, patches, [...found.ranks.keys()], collector, options);
  else patches.child.kill();
  collector.closeWalk();
  collector.stats.files = found.blobs;
  collector.stats.bytes = found.bytes;
  collector.stats.blobs = true;
  return found;
}

async function finishHistory(collector: HistoryCollector, repo: GitRepository): Promise<HistoryResult> {
  return collector.finish(true, await repo.shallowBoundary());
}

/**
 * Streams the patches of the commits `revisions` select into the collector and returns their messages, read
 * beside the patches: two git processes at once, not one after the other (a push's scan waits for both).
 */
async function patchesAndMessages(
  repo: GitRepository,
  revisions: string[],
  collector: HistoryCollector,
  options: HistoryOptions,
): Promise<GitMessage[]> {
  const [, messages] = await Promise.all([
    streamPatches(repo, [...LOG_PATCH_ARGS, "--stdin"], revisions, collector, options),
    commitMessages(repo, revisions),
  ]);
  return messages;
}

/**
 * The commits one ref update brought in (see PushKind): a normal or force push, a new branch or tag, a
 * deletion. Works on bare and non-bare repositories, and inside a pre-receive hook (quarantined objects).
 */
export async function scanRange(
  repoDir: string,
  update: PushUpdate,
  engine: Engine,
  options: HistoryOptions = {},
): Promise<RangeResult> {
  return rangeIn(await GitRepository.open(repoDir, options.env), update, engine, options);
}

/** scanRange in a repository already opened; `tips`: its refs, when the caller has read them. */
async function rangeIn(
  repo: GitRepository,
  update: PushUpdate,
  engine: Engine,
  options: HistoryOptions,
  tips?: readonly RefTip[],
): Promise<RangeResult> {
  const { kinds, ...result } = await pushIn(repo, [update], engine, options, tips);
  return { ...result, kind: kinds[0] as PushKind };
}

export interface PushResult extends HistoryResult {
  /** How each update was read, in order. */
  kinds: PushKind[];
}

/** Every ref update of one push; a commit reachable from several updated refs is scanned once. */
export async function scanPush(
  repoDir: string,
  updates: readonly PushUpdate[],
  engine: Engine,
  options: HistoryOptions = {},
): Promise<PushResult> {
  return pushIn(await GitRepository.open(repoDir, options.env), updates, engine, options);
}

async function pushIn(
  repo: GitRepository,
  updates: readonly PushUpdate[],
  engine: Engine,
  options: HistoryOptions,
  tips?: readonly RefTip[],
): Promise<PushResult> {
  const collector = new HistoryCollector(engine, options, repo);
  if (updates.length > 1) collector.dedupeCommits();
  const kinds: PushKind[] = [];
  const messagesSeen = new Set<string>();
  for (const update of updates) {
    const plan = await repo.planPush(update, {
      excludeOtherRefs: options.excludeOtherRefs === true,
      ...(tips ? { tips } : {}),
    });
    kinds.push(plan.kind);
    if (plan.revisions.length > 0) {
      for (const message of await patchesAndMessages(repo, plan.revisions, collector, options))
        if (!messagesSeen.has(message.origin.commit) && messagesSeen.add(message.origin.commit))
          collector.message(message);
    }
  }
  return { ...(await finishHistory(collector, repo)), kinds };
}

/** One update's part of a burst: the findings of the commits it brought in, or why it could not be read. */
export type BurstUpdateResult = { kind: PushKind; findings: Finding[] } | Error;

/**
 * A burst of separate pushes to one repository (the App takes them together): per update, the findings of the
 * commits it brought in, as scanRange reads them. New refs are all read against the same other refs, so one
 * `git log` reads them together and a second, without patches, says which new ref brought each commit in.
 * Updates that only move their ref forward (forward-updates.ts) are read together too; any other update is read
 * on its own. A commit that several updates bring in is reported by one of them, as in a push of several refs.
 * When a shared read fails (a commit is missing), each update is read alone: a bad one gets its own error, the
 * others their findings.
 */
export async function scanPushBurst(
  repoDir: string,
  updates: readonly PushUpdate[],
  engine: Engine,
  options: HistoryOptions = {},
): Promise<BurstUpdateResult[]> {
  // The repository's check and its refs read at once: one git process less in a row before the scan.
  const repo = GitRepository.prepare(repoDir, options.env);
  const [checked, read] = await Promise.allSettled([repo.verify(), repo.refTips()]);
  if (checked.status === "rejected") throw checked.reason;
  if (read.status === "rejected") throw read.reason;
  const tips = read.value;
  const names = new Set(tips.map((t) => t.name));
  // A new ref that no ref of the repository holds yet is read as its commit minus every ref (see planPush).
  const fresh = updates.flatMap((u, i) =>
    isZeroSha(u.before) &&
    !isZeroSha(u.after) &&
    !(u.ref !== undefined && names.has(u.ref)) &&
    !options.excludeOtherRefs
      ? [i]
      : [],
  );
  const results: (BurstUpdateResult | undefined)[] = updates.map(() => undefined);
  const reported = new Set<string>();
  if (fresh.length > 1) {
    const together = await scanNewRefs(
      repo,
      fresh.map((i) => (updates[i] as PushUpdate).after),
      [...new Set(tips.map((t) => t.commit))],
      engine,
      options,
    ).catch(() => undefined);
    if (together)
      fresh.forEach((i, k) => {
        const findings = together[k] ?? [];
        for (const f of findings) if (f.commit) reported.add(f.commit);
        results[i] = { kind: "create", findings };
      });
  }
  const moved = options.excludeOtherRefs
    ? []
    : updates.flatMap((u, i) => (!results[i] && !isZeroSha(u.before) && !isZeroSha(u.after) ? [i] : []));
  if (moved.length > 1) {
    const together = await scanForwardUpdates(
      repo,
      moved.map((i) => updates[i] as PushUpdate),
      engine,
      options,
    ).catch(() => undefined);
    for (const [k, findings] of together ?? []) {
      const own = findings.filter((f) => !f.commit || !reported.has(f.commit));
      for (const f of own) if (f.commit) reported.add(f.commit);
      results[moved[k] as number] = { kind: "update", findings: own };
    }
  }
  for (const [i, update] of updates.entries()) {
    if (results[i]) continue;
    try {
      // The repository and its refs as read above: two git processes fewer on the way to a revocation.
      const { kind, findings } = await rangeIn(repo, update, engine, options, tips);
      const own = findings.filter((f) => !f.commit || !reported.has(f.commit));
      for (const f of own) if (f.commit) reported.add(f.commit);
      results[i] = { kind, findings: own };
    } catch (error) {
      results[i] = error as Error;
    }
  }
  return results as BurstUpdateResult[];
}

/** The commits reachable from `afters` and from none of `others`, read in one go; findings per after. */
async function scanNewRefs(
  repo: GitRepository,
  afters: readonly string[],
  others: readonly string[],
  engine: Engine,
  options: HistoryOptions,
): Promise<Finding[][]> {
  const revisions = [...new Set(afters), ...others.map((commit) => `^${commit}`)];
  // %S: the revision, as given, through which git reached each commit. Read beside the patches (a small git
  // process), not after them: with a finding, the revocation waits for it.
  const sources = readAhead(gitOutput(repo, ["log", "--format=%H %S", "--stdin"], revisions));
  const findings = await readFindings(repo, revisions, engine, options);
  const per = afters.map((): Finding[] => []);
  if (findings.length === 0) return per;
  const reachedBy = new Map<string, string>();
  for (const line of (await sources).split("\n")) {
    const [commit, source] = line.split(" ");
    if (commit && source) reachedBy.set(commit, source);
  }
  const index = new Map<string, number>();
  afters.forEach((after, k) => {
    if (!index.has(after)) index.set(after, k);
  });
  for (const f of findings) {
    const k = index.get(reachedBy.get(f.commit ?? "") ?? "");
    if (k === undefined) throw new Error(`cannot tell which push brought in commit ${f.commit}`);
    per[k]?.push(f);
  }
  return per;
}

/**
 * Updates of refs the repository has: one graph walk says which only move their ref forward, and one read takes
 * all of those. Per forward update (its index), the findings of the commits it brought in; the others are left out.
 */
async function scanForwardUpdates(
  repo: GitRepository,
  updates: readonly PushUpdate[],
  engine: Engine,
  options: HistoryOptions,
): Promise<Map<number, Finding[]>> {
  const exclude = (us: readonly PushUpdate[]) => boundaryOf(us).map((before) => `^${before}`);
  const graph = await gitOutput(
    repo,
    ["rev-list", "--parents", "--stdin"],
    [...new Set(updates.map((u) => u.after)), ...exclude(updates)],
  );
  const { forward, owners } = planForward(graph, updates);
  const per = new Map(forward.map((k): [number, Finding[]] => [k, []]));
  if (forward.length === 0) return per;
  const going = forward.map((k) => updates[k] as PushUpdate);
  const revisions = [...new Set(going.map((u) => u.after)), ...exclude(going)];
  for (const f of await readFindings(repo, revisions, engine, options)) {
    const k = owners.get(f.commit ?? "");
    if (k === undefined) throw new Error(`cannot tell which push brought in commit ${f.commit}`);
    per.get(k)?.push(f);
  }
  return per;
}

/** The findings of the commits `revisions` name, patches and messages, read in one go. */
async function readFindings(
  repo: GitRepository,
  revisions: string[],
  engine: Engine,
  options: HistoryOptions,
): Promise<Finding[]> {
  const collector = new HistoryCollector(engine, options, repo);
  for (const message of await patchesAndMessages(repo, revisions, collector, options))
    collector.message(message);
  return (await finishHistory(collector, repo)).findings;
}

/** A git command's whole output, with `input` lines on its stdin. */
async function gitOutput(repo: GitRepository, args: string[], input: string[]): Promise<string> {
  const child = repo.spawn(args, input);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 16 * 1024) stderr += text;
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status) => resolve(status ?? 1));
  });
  if (code !== 0) throw repo.failure(args[0] ?? "", stderr);
  return stdout;
}

/** What is staged for the next commit (what a pre-commit hook sees); findings carry no commit. */
export async function scanStaged(
  repoDir: string,
  engine: Engine,
  options: HistoryOptions = {},
): Promise<HistoryResult> {
  const repo = await GitRepository.open(repoDir, options.env);
  const collector = new HistoryCollector(engine, options, repo);
  await streamPatches(repo, [...STAGED_PATCH_ARGS], [], collector, options, true);
  return collector.finish(false);
}
