// Bare repositories cached per GitHub repository, fetched with the installation token. The token travels
// only in the environment of the git process: never in a URL, argv, a log line or an error message.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A credential helper that answers from the environment; its text holds the variable's name, not the token. */
const CREDENTIAL_HELPER =
  '!f() { test "$1" = get && echo username=x-access-token && echo "password=$LEAKWARDEN_GIT_TOKEN"; }; f';

export class GitFetchError extends Error {}

export interface GitCacheOptions {
  root: string;
  /** Evict least recently used repositories beyond this many bytes. */
  maxBytes: number;
}

/** Environment for a git process that authenticates with `token`, and asks nothing interactively. */
export function gitAuthEnv(token: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  if (!token) return env;
  return {
    ...env,
    LEAKWARDEN_GIT_TOKEN: token,
    // An empty helper first clears any helper from the user's or system's configuration.
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "credential.helper",
    GIT_CONFIG_VALUE_0: "",
    GIT_CONFIG_KEY_1: "credential.helper",
    GIT_CONFIG_VALUE_1: CREDENTIAL_HELPER,
  };
}

async function git(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; secret?: string },
): Promise<string> {
  try {
    const { stdout } = await run("git", args, {
      cwd: options.cwd,
      env: options.env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    // Git does not print credentials, but an error message is the last place a token must ever reach.
    const clean = options.secret ? stderr.split(options.secret).join("[redacted]") : stderr;
    throw new GitFetchError(`git ${args[0]} failed: ${clean.trim().split("\n").slice(-3).join(" ")}`);
  }
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
    repository: { fullName: string; cloneUrl: string },
    token: string | undefined,
    update: { before: string; after: string; ref: string },
    scan: (path: string) => Promise<T>,
  ): Promise<T> {
    const path = this.pathFor(repository.fullName);
    return this.locks.run(path, async () => {
      const env = gitAuthEnv(token);
      if (!existsSync(join(path, "HEAD"))) {
        await mkdir(path, { recursive: true });
        await git(["init", "--bare", "--quiet", path], { env });
      }
      // Fetched objects get no ref: any ref here would be taken for "already scanned".
      const fetch = (what: string) =>
        git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", repository.cloneUrl, what], {
          cwd: path,
          env,
          secret: token,
        });
      if (!(await this.has(path, update.after))) {
        // By commit id first (GitHub serves any reachable commit); by ref name when a server will not.
        await fetch(update.after).catch(() => fetch(update.ref));
      }
      // A before that the cache lacks is fetched too, so that an update is read as one; if it is gone
      // (force-pushed away), the scanner treats the push as new and reads everything no ref reaches.
      if (!/^0+$/.test(update.before) && !(await this.has(path, update.before))) {
        await fetch(update.before).catch(() => undefined);
      }
      const result = await scan(path);
      await git(["update-ref", update.ref, update.after], { cwd: path });
      const now = new Date();
      await utimes(path, now, now);
      return result;
    });
  }

  private async has(path: string, sha: string): Promise<boolean> {
    try {
      await git(["cat-file", "-e", `${sha}^{commit}`], { cwd: path });
      return true;
    } catch {
      return false;
    }
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
