// Bare repositories cached per GitHub repository, fetched with the installation token. The token travels
// only in the environment of the git process: never in a URL, argv, a log line or an error message. Fetches
// go only to the configured GitHub host, at a URL built from the repository's full name: a payload's
// clone_url is never followed, and the credential helper answers that host alone.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { GitRepository } from "../sources/git.js";
import { isValidRef } from "../sources/git-ref.js";
import { RepositoryError } from "../sources/repository-error.js";

/** A credential helper that answers from the environment; its text holds the variable's name, not the token. */
const CREDENTIAL_HELPER =
  '!f() { test "$1" = get && echo username=x-access-token && echo "password=$LEAKWARDEN_GIT_TOKEN"; }; f';

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
}

/**
 * What a git process needs in its environment to authenticate with `token` to `remote` (and to no other
 * host); GitRepository adds it to the inherited environment and scrubs these values from its error messages.
 */
export function gitAuthEnv(token: string | undefined, remote: string): NodeJS.ProcessEnv {
  if (!token) return {};
  return {
    LEAKWARDEN_GIT_TOKEN: token,
    // An empty helper first clears any helper from the user's or system's configuration.
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "credential.helper",
    GIT_CONFIG_VALUE_0: "",
    GIT_CONFIG_KEY_1: `credential.${remote}.helper`,
    GIT_CONFIG_VALUE_1: CREDENTIAL_HELPER,
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

export class GitCache {
  private readonly locks = new KeyedMutex();

  constructor(private readonly options: GitCacheOptions) {}

  /** The cache folder of a repository: a readable name plus a hash, so that two forks never collide. */
  pathFor(fullName: string): string {
    const safe = fullName.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
    const hash = createHash("sha256").update(fullName).digest("hex").slice(0, 12);
    return join(this.options.root, `${safe}-${hash}.git`);
  }

  /**
   * Fetches what a push brought into the repository's bare cache, runs `scan` on it, then moves the pushed
   * ref there to `after`. One push per repository at a time: the cache's refs then always mean "already
   * scanned", which is what a new branch's scan relies on to leave out commits it need not read again.
   */
  async scanPush<T>(
    repository: { fullName: string },
    token: string | undefined,
    update: { before: string; after: string; ref: string },
    scan: (path: string) => Promise<T>,
  ): Promise<T> {
    const { fullName } = repository;
    if (!isGitHubFullName(fullName))
      throw new RepositoryError(`"${fullName}" is not a GitHub repository name`);
    if (!isValidRef(update.ref)) throw new RepositoryError(`"${update.ref}" is not a valid ref name`);
    const url = `${this.options.remote.replace(/\/+$/, "")}/${fullName}.git`;
    const path = this.pathFor(fullName);
    return this.locks.run(path, async () => {
      // Private: it holds the repository's code and the tokens leaked in it.
      await mkdir(path, { recursive: true, mode: 0o700 });
      const repo = GitRepository.prepare(path, gitAuthEnv(token, this.options.remote));
      if (!existsSync(join(path, "HEAD"))) await repo.run(["init", "--bare", "--quiet"]);
      // Fetched objects get no ref: any ref here would be taken for "already scanned".
      const fetch = (what: string) =>
        repo.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, what]);
      if (!(await repo.commitOf(update.after))) {
        // By commit id first (GitHub serves any reachable commit); by ref name when a server will not.
        await fetch(update.after).catch(() => fetch(update.ref));
      }
      // A before that the cache lacks is fetched too, so that an update is read as one; if it is gone
      // (force-pushed away), the scanner treats the push as new and reads everything no ref reaches.
      if (!/^0+$/.test(update.before) && !(await repo.commitOf(update.before))) {
        await fetch(update.before).catch(() => undefined);
      }
      const result = await scan(path);
      await repo.run(["update-ref", "--", update.ref, update.after]);
      const now = new Date();
      await utimes(path, now, now);
      return result;
    });
  }

  /** Removes least recently fetched repositories until the cache fits; `keep` is never removed. */
  async evict(keep?: string): Promise<string[]> {
    if (!existsSync(this.options.root)) return [];
    const repos = await Promise.all(
      (await readdir(this.options.root))
        .filter((name) => name.endsWith(".git"))
        .map(async (name) => {
          const path = join(this.options.root, name);
          return { path, bytes: await folderSize(path), used: (await stat(path)).mtimeMs };
        }),
    );
    let total = repos.reduce((sum, r) => sum + r.bytes, 0);
    const removed: string[] = [];
    for (const repo of repos.sort((a, b) => a.used - b.used)) {
      if (total <= this.options.maxBytes) break;
      if (repo.path === keep) continue;
      await this.locks.run(repo.path, () => rm(repo.path, { recursive: true, force: true }));
      total -= repo.bytes;
      removed.push(repo.path);
    }
    return removed;
  }
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
