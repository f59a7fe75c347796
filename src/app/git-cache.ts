// Bare repositories cached per GitHub repository, fetched with the installation token. The token travels
// only in the environment of the git process: never in a URL, argv, a log line or an error message. Fetches
// go only to the configured GitHub host, at a URL built from the repository's full name: a payload's
// clone_url is never followed, and the credentials go to that host alone.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, symlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { GitRepository } from "../sources/git.js";
import { isValidRef } from "../sources/git-ref.js";
import { RepositoryError } from "../sources/repository-error.js";

/** How long the cache stays unused before its housekeeping runs, and the longest a used repository waits for it. */
const HOUSEKEEPING_QUIET_MS = 2_000;
const HOUSEKEEPING_MAX_WAIT_MS = 60_000;

/**
 * What every fetch into the cache shares: no tags and no FETCH_HEAD (a fetch by commit id then writes no ref:
 * any ref here means "already scanned"), and no automatic maintenance, which the housekeeping after the scan
 * runs instead (afterUse): a push's scan does not wait for it. A fetch of FETCH_UNPACK_LIMIT objects or more
 * keeps its pack: git would otherwise write each object to a file of its own, about 1 ms each (a burst's batch
 * of 30 pushes brings about 100), where indexing the pack takes about 20 ms whatever its size.
 */
const FETCH_UNPACK_LIMIT = 20;
const FETCH = [
  "-c",
  `fetch.unpackLimit=${FETCH_UNPACK_LIMIT}`,
  "fetch",
  "--quiet",
  "--no-tags",
  "--no-write-fetch-head",
  "--no-auto-maintenance",
];

/** GitHub's own rule for owner and repository names: OWNER/REPO, nothing that could leave that path. */
export function isGitHubFullName(fullName: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/.test(fullName) && !fullName.includes("..");
}

export interface GitCacheOptions {
  root: string;
  /** Evict least recently used repositories beyond this many bytes. */
  maxBytes: number;
  /** Where repositories are fetched from: `https://github.com`, or the GitHub Enterprise host's URL. */
  remote: string;
  /** How long the cache stays unused before its housekeeping runs (default HOUSEKEEPING_QUIET_MS). */
  quietMs?: number;
}

/**
 * What a git process needs in its environment to authenticate with `token` to `remote` (and to no other
 * host); GitRepository adds it to the inherited environment and scrubs these values from its error messages.
 * The credentials go with every request to `remote` as a Basic authorization header (as actions/checkout
 * sends them): no 401 round trip and no credential helper to start for each fetch. Credential helpers are
 * cleared, so a refused token is never answered from the user's or system's store.
 */
export function gitAuthEnv(token: string | undefined, remote: string): NodeJS.ProcessEnv {
  if (!token) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return {
    // Not read by git: it makes GitRepository scrub the token itself, should it ever show in an error.
    LEAKWARDEN_GIT_TOKEN: token,
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "credential.helper",
    GIT_CONFIG_VALUE_0: "",
    GIT_CONFIG_KEY_1: `http.${remote.replace(/\/+$/, "")}/.extraHeader`,
    GIT_CONFIG_VALUE_1: `Authorization: Basic ${basic}`,
  };
}

/** Serialises fetches per repository: two pushes to one repository must not fetch into it at once. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}

/** One ref update of a push. */
export interface PushRef {
  before: string;
  after: string;
  ref: string;
}

/**
 * A push's outcome: scanned (its ref moves: a ref in the cache means "already scanned"), not scanned on
 * purpose (`unscanned`: its ref stays, so that a later push still reads these commits), or failed.
 */
export type PushOutcome<T> = { ok: true; value: T; unscanned?: true } | { ok: false; error: Error };

/** Which of these objects the repository lacks: one git call, whatever their number. */
async function missingObjects(repo: GitRepository, objects: readonly string[]): Promise<Set<string>> {
  const wanted = [...new Set(objects)];
  if (wanted.length === 0) return new Set();
  const lines = (await repo.run(["cat-file", "--batch-check"], wanted)).split("\n");
  return new Set(wanted.filter((_, i) => / missing$/.test(lines[i] ?? " missing")));
}

interface CachedRepository {
  bytes: number;
  /** When a push last used it (ms). */
  used: number;
}

export class GitCache {
  private readonly locks = new KeyedMutex();
  /** The size of each cached repository, walked once at the first eviction and kept up to date after. */
  private sizes: Map<string, CachedRepository> | undefined;
  /** Commits that pushes waiting for a repository's fetch lock need: the next fetch brings them all. */
  private readonly wanted = new Map<string, Set<string>>();
  /** Repositories used since the last measure, and when: the next measure's work. */
  private readonly used = new Map<string, number>();
  /** Repositories being scanned now: never evicted under a scan. */
  private readonly inUse = new Map<string, number>();
  /** Measuring and evicting run here, one after another, off the scan's path. */
  private housekeeping: Promise<unknown> = Promise.resolve();
  /** The next housekeeping, once the cache has been quiet for a moment (see afterUse). */
  private quiet: { timer: NodeJS.Timeout; since: number } | undefined;

  constructor(private readonly options: GitCacheOptions) {}

  /** The cache folder of a repository: a readable name plus a hash, so that two forks never collide. */
  pathFor(fullName: string): string {
    const safe = fullName.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
    const hash = createHash("sha256").update(fullName).digest("hex").slice(0, 12);
    return join(this.options.root, `${safe}-${hash}.git`);
  }

  /**
   * Fetches what a push brought into the repository's bare cache, runs `scan` on it, then moves the pushed
   * ref there to `after`. The cache's refs always mean "already scanned", which is what a new branch's scan
   * relies on to leave out commits it need not read again.
   */
  async scanPush<T>(
    repository: { fullName: string },
    token: string | undefined,
    update: PushRef,
    scan: (path: string) => Promise<T>,
  ): Promise<T> {
    const [outcome] = await this.scanPushes(repository, token, [update], async (path) => [
      { ok: true, value: await scan(path) },
    ]);
    if (outcome?.ok) return outcome.value;
    throw outcome?.error ?? new RepositoryError("the push was not scanned");
  }

  /**
   * Several pushes to one repository at once (a burst, coalesced): one fetch for all of them, one `scan` of
   * those whose objects are in (given their indices, it answers each one's outcome in that order), then one ref
   * update for those scanned. Each push's outcome is its own: a push whose commit cannot be fetched or whose
   * scan fails gets its error, moves no ref, and does not fail the others.
   */
  async scanPushes<T>(
    repository: { fullName: string },
    token: string | undefined,
    updates: readonly PushRef[],
    scan: (path: string, indices: readonly number[]) => Promise<PushOutcome<T>[]>,
  ): Promise<PushOutcome<T>[]> {
    const { fullName } = repository;
    if (!isGitHubFullName(fullName))
      throw new RepositoryError(`"${fullName}" is not a GitHub repository name`);
    const outcomes: (PushOutcome<T> | undefined)[] = updates.map((u) =>
      isValidRef(u.ref)
        ? undefined
        : { ok: false, error: new RepositoryError(`"${u.ref}" is not a valid ref name`) },
    );
    const todo = updates.filter((_, i) => outcomes[i] === undefined);
    const url = `${this.options.remote.replace(/\/+$/, "")}/${fullName}.git`;
    const path = this.pathFor(fullName);
    const wanted = this.wanted.get(path) ?? new Set<string>();
    this.wanted.set(path, wanted);
    for (const u of todo) wanted.add(u.after);
    // Fetches into one repository go one at a time; scans do not wait for each other's fetches.
    const { repo, unfetched } = await this.locks
      .run(path, async () => {
        // Private: it holds the repository's code and the tokens leaked in it.
        await mkdir(path, { recursive: true, mode: 0o700 });
        const repo = GitRepository.prepare(path, gitAuthEnv(token, this.options.remote));
        if (!existsSync(join(path, "HEAD"))) await repo.run(["init", "--bare", "--quiet"]);
        const fetch = (...what: string[]) => repo.run([...FETCH, "--", url, ...what]);
        const unfetched = new Map<PushRef, Error>();
        // Which befores the cache has is looked at while the fetch runs: they are usually here already (the
        // refs of pushes scanned before), so the look costs no time on the way to a revocation.
        const beforesLacking = missingObjects(
          repo,
          todo.map((u) => u.before).filter((b) => !/^0+$/.test(b)),
        );
        // Awaited below; should the fetch fail first, the look is not the batch's error.
        beforesLacking.catch(() => {});
        // One fetch for every push to this repository waiting now (a burst is fetched in a few calls), by
        // commit id (GitHub serves any reachable commit); one by one, or by ref name, when that fails. No look
        // first at what the cache has: git asks the remote nothing when every commit named is here already
        // (a redelivery), and a look would cost every new push a git process on its way to being revoked.
        // Commits no longer wanted were fetched by the batch before, which took this one's too.
        const batch = [...wanted];
        const fetched =
          batch.length === 0 ||
          (await fetch(...batch).then(
            () => true,
            () => false,
          ));
        if (fetched) for (const commit of batch) wanted.delete(commit);
        else {
          const missing = await missingObjects(
            repo,
            todo.map((u) => u.after),
          );
          for (const u of todo.filter((u) => missing.has(u.after)))
            await fetch(u.after)
              .catch(() => fetch(u.ref))
              .catch((error: Error) => unfetched.set(u, error));
        }
        // A before that the cache lacked and the fetch did not bring (as an ancestor of an after) is fetched
        // too, so that an update is read as one; if it is gone (force-pushed away), the scanner treats the push
        // as new and reads everything no ref reaches.
        const lacked = await beforesLacking;
        const befores = lacked.size > 0 ? [...(await missingObjects(repo, [...lacked]))] : [];
        if (
          befores.length > 0 &&
          !(await fetch(...befores).then(
            () => true,
            () => false,
          ))
        )
          for (const before of befores) await fetch(before).catch(() => undefined);
        return { repo, unfetched };
      })
      .finally(() => {
        // Fetched or not, these pushes want nothing more: a commit that cannot be fetched must not fail every batch.
        for (const u of todo) wanted.delete(u.after);
        if (wanted.size === 0 && this.wanted.get(path) === wanted) this.wanted.delete(path);
      });
    this.inUse.set(path, (this.inUse.get(path) ?? 0) + 1);
    try {
      // Each scan starts as soon as the objects are in. The refs move only after: a ref here always means
      // "already scanned" (a ref left behind by pushes racing on one branch only means re-reading).
      // One scan for every push whose objects are in: it can read them together.
      const ready = updates.flatMap((u, i) => (outcomes[i] || unfetched.has(u) ? [] : [i]));
      for (const [i, update] of updates.entries()) {
        const failed = unfetched.get(update);
        if (failed) outcomes[i] = { ok: false, error: failed };
      }
      if (ready.length > 0) {
        const scanned = await scan(path, ready).catch((error: Error) =>
          ready.map(() => ({ ok: false, error }) as const),
        );
        ready.forEach((i, k) => {
          outcomes[i] = scanned[k] ?? { ok: false, error: new RepositoryError("the push was not scanned") };
        });
      }
      // The last scanned update of each ref wins (updates are in push order); one git call moves them all.
      const moves = new Map<string, string>();
      for (const [i, update] of updates.entries()) {
        const outcome = outcomes[i];
        if (outcome?.ok && !outcome.unscanned) moves.set(update.ref, update.after);
      }
      if (moves.size > 0) {
        // Run plainly (no stdbuf and its extra exec): update-ref prints nothing.
        await repo.run(
          ["update-ref", "--stdin"],
          [...moves].map(([ref, after]) => `update ${ref} ${after}`),
        );
        const now = new Date();
        await utimes(path, now, now);
        this.afterUse(path, now.getTime());
      }
      return outcomes as PushOutcome<T>[];
    } finally {
      const left = (this.inUse.get(path) ?? 1) - 1;
      if (left > 0) this.inUse.set(path, left);
      else this.inUse.delete(path);
    }
  }

  /** The repository's URL on the configured host, after checking its name. */
  private remoteUrl(fullName: string): string {
    if (!isGitHubFullName(fullName))
      throw new RepositoryError(`"${fullName}" is not a GitHub repository name`);
    return `${this.options.remote.replace(/\/+$/, "")}/${fullName}.git`;
  }

  /** The repository's bare cache, created when missing. Private: it holds the code and the tokens leaked in it. */
  private async ensureRepository(path: string, token: string | undefined): Promise<GitRepository> {
    await mkdir(path, { recursive: true, mode: 0o700 });
    const repo = GitRepository.prepare(path, gitAuthEnv(token, this.options.remote));
    if (!existsSync(join(path, "HEAD"))) await repo.run(["init", "--bare", "--quiet"]);
    return repo;
  }

  /** Runs `task` with the repository marked in use (never evicted under it), then records the use. */
  private async using<T>(path: string, task: () => Promise<T>): Promise<T> {
    this.inUse.set(path, (this.inUse.get(path) ?? 0) + 1);
    try {
      const result = await task();
      const now = new Date();
      await utimes(path, now, now);
      this.afterUse(path, now.getTime());
      return result;
    } finally {
      const left = (this.inUse.get(path) ?? 1) - 1;
      if (left > 0) this.inUse.set(path, left);
      else this.inUse.delete(path);
    }
  }

  /**
   * A backfill: fetches every branch and tag of the repository and runs `scan` on a repository whose refs are
   * exactly those. The refs live in a view inside the cache (`leakwarden-backfill.git`) that shares the cache's
   * objects: the cache's own refs mean "already scanned", and a ref there before the scan would make a push of
   * a new branch leave out commits that nobody scanned yet. Once `scan` returns, the cache gets the refs it
   * lacks (they are scanned now), so a later push of a new branch reads only what is new.
   */
  async scanHistory<T>(
    repository: { fullName: string },
    token: string | undefined,
    scan: (path: string) => Promise<T>,
  ): Promise<T> {
    const url = this.remoteUrl(repository.fullName);
    const path = this.pathFor(repository.fullName);
    const view = join(path, "leakwarden-backfill.git");
    return this.using(path, async () => {
      const repo = await this.locks.run(path, () => this.ensureRepository(path, token));
      const viewRepo = await this.locks.run(view, async () => {
        if (!existsSync(join(view, "HEAD"))) {
          await rm(view, { recursive: true, force: true });
          await mkdir(view, { mode: 0o700 });
          await symlink("../objects", join(view, "objects"));
          const init = GitRepository.prepare(view);
          await init.run(["init", "--bare", "--quiet"]);
          // Never collect garbage here: this view sees only its own refs, and would prune the cache's objects.
          await init.run(["config", "gc.auto", "0"]);
          await init.run(["config", "maintenance.auto", "false"]);
        }
        const viewRepo = GitRepository.prepare(view, gitAuthEnv(token, this.options.remote));
        await viewRepo.run([
          ...FETCH,
          "--prune",
          "--",
          url,
          "+refs/heads/*:refs/heads/*",
          "+refs/tags/*:refs/tags/*",
        ]);
        return viewRepo;
      });
      const result = await scan(view);
      await this.locks.run(path, async () => {
        const listRefs = async (r: GitRepository) =>
          new Map(
            (await r.run(["for-each-ref", "--format=%(refname) %(objectname)"]))
              .split("\n")
              .filter(Boolean)
              .map((line) => line.split(" ") as [string, string]),
          );
        const have = await listRefs(repo);
        const missing = [...(await listRefs(viewRepo))].filter(([ref]) => !have.has(ref));
        for (const [ref, object] of missing) await repo.run(["update-ref", "--", ref, object, ""]);
      });
      return result;
    });
  }

  /**
   * A pull request: fetches its head as GitHub exposes it in the base repository (`refs/pull/N/head`, even when
   * the branch lives in a fork) and its base commit, writing no ref, and runs `scan` with the range of commits
   * the pull request adds (undefined when the head moved on since). Nothing from the fork runs: a bare repository, no checkout (no hooks, no filters).
   */
  async scanPullRequest<T>(
    repository: { fullName: string },
    token: string | undefined,
    pull: { number: number; base: string; baseRef: string; head: string },
    scan: (path: string, range: string) => Promise<T>,
  ): Promise<T | undefined> {
    const url = this.remoteUrl(repository.fullName);
    const baseRef = `refs/heads/${pull.baseRef}`;
    if (!isValidRef(baseRef)) throw new RepositoryError(`"${pull.baseRef}" is not a valid branch name`);
    const path = this.pathFor(repository.fullName);
    return this.using(path, async () => {
      const repo = await this.locks.run(path, async () => {
        const repo = await this.ensureRepository(path, token);
        const fetch = (...what: string[]) => repo.run([...FETCH, "--", url, ...what]);
        if (!(await repo.commitOf(pull.head))) await fetch(`refs/pull/${pull.number}/head`);
        if (!(await repo.commitOf(pull.base))) await fetch(pull.base).catch(() => fetch(baseRef));
        return repo;
      });
      const head = await repo.commitOf(pull.head);
      const base = await repo.commitOf(pull.base);
      // Pushed over since the event: the synchronize event of the new head scans it.
      if (!head) return undefined;
      if (!base) throw new RepositoryError(`the base ${pull.base} of pull request #${pull.number} is gone`);
      return scan(path, `${base}..${head}`);
    });
  }

  /**
   * Runs git's automatic maintenance in the repositories pushes just used (fetches leave it out), re-measures
   * them, then evicts if the cache outgrew its size: in the background, once the cache has been quiet for
   * HOUSEKEEPING_QUIET_MS (or HOUSEKEEPING_MAX_WAIT_MS after the first use it waits for). Maintenance holds the
   * repository's fetch lock: run after every batch of a burst, the next batch's fetch waited for it.
   */
  private afterUse(path: string, used: number): void {
    this.used.set(path, used);
    const since = this.quiet?.since ?? used;
    if (this.quiet) clearTimeout(this.quiet.timer);
    const quietMs = this.options.quietMs ?? HOUSEKEEPING_QUIET_MS;
    const wait = Math.min(quietMs, Math.max(0, since + HOUSEKEEPING_MAX_WAIT_MS - used));
    const timer = setTimeout(() => this.housekeep(), wait);
    timer.unref();
    this.quiet = { timer, since };
  }

  /** Maintains, measures and evicts what was used since the last time, now. */
  private housekeep(): void {
    if (this.quiet) clearTimeout(this.quiet.timer);
    this.quiet = undefined;
    this.housekeeping = this.housekeeping
      .then(async () => {
        const sizes = await this.loadSizes();
        const batch = [...this.used];
        this.used.clear();
        for (const [repo, at] of batch)
          sizes.set(repo, { bytes: await this.locks.run(repo, () => maintain(repo)), used: at });
        await this.evict(batch.at(-1)?.[0]);
      })
      .catch(() => undefined);
  }

  /** Runs the housekeeping that waits for a quiet moment now, and resolves when all of it is done. */
  async settled(): Promise<void> {
    if (this.quiet) this.housekeep();
    await this.housekeeping;
  }

  private async loadSizes(): Promise<Map<string, CachedRepository>> {
    if (this.sizes) return this.sizes;
    const sizes = new Map<string, CachedRepository>();
    if (existsSync(this.options.root)) {
      for (const name of await readdir(this.options.root)) {
        if (!name.endsWith(".git")) continue;
        const path = join(this.options.root, name);
        sizes.set(path, { bytes: await folderSize(path), used: (await stat(path)).mtimeMs });
      }
    }
    this.sizes ??= sizes;
    return this.sizes;
  }

  /**
   * Removes least recently used repositories until the cache fits; `keep` is never removed. Works from the
   * sizes it keeps: the cache is walked once, not at each eviction.
   */
  async evict(keep?: string): Promise<string[]> {
    const sizes = await this.loadSizes();
    let total = 0;
    for (const repo of sizes.values()) total += repo.bytes;
    const removed: string[] = [];
    for (const [path, repo] of [...sizes].sort((a, b) => a[1].used - b[1].used)) {
      if (total <= this.options.maxBytes) break;
      if (path === keep || this.inUse.has(path)) continue;
      await this.locks.run(path, () => rm(path, { recursive: true, force: true }));
      sizes.delete(path);
      total -= repo.bytes;
      removed.push(path);
    }
    return removed;
  }
}

/**
 * `git maintenance run --auto` (packs loose objects and packs when there are many), then the repository's size.
 * In the foreground: git would otherwise detach its gc, and the size measured or an eviction would race it.
 */
async function maintain(path: string): Promise<number> {
  await GitRepository.prepare(path)
    .run(["-c", "gc.autoDetach=false", "maintenance", "run", "--auto", "--quiet"])
    .catch(() => undefined); // a cache that cannot be maintained is still measured, and evicted in its turn
  return folderSize(path);
}

async function folderSize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await folderSize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}
