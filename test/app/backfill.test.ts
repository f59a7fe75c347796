// The backfill's and pull requests' git work and queueing, on real repositories over git http-backend and a
// real SQLite store (the end-to-end flow is test/e2e/backfill.test.ts).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueRepositoryBackfill } from "../../src/app/backfill-jobs.js";
import { backfillPayloadProblem } from "../../src/app/backfill-payloads.js";
import { GitCache } from "../../src/app/git-cache.js";
import { type GitHttpServer, startGitHttpServer } from "../../src/demo/git-server.js";
import { openStore } from "../../src/store/index.js";
import { PRIORITY } from "../../src/store/jobs.js";
import { runCli, tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
const installationToken = tokens(47).make("github-installation-token");
let server: GitHttpServer;
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
const work = join(dir.path, "work");
const served = join(dir.path, "served", "acme", "app.git");

function commit(branch: string, from: string | undefined, file: string, text: string): string {
  git(work, "checkout", "--quiet", "-B", branch, ...(from ? [from] : []));
  writeFileSync(join(work, file), text);
  git(work, "add", ".");
  git(work, "commit", "--quiet", "-m", `${branch}: ${file}`);
  return git(work, "rev-parse", "HEAD");
}

beforeAll(async () => {
  mkdirSync(work);
  git(work, "init", "--quiet", "--initial-branch=main");
  git(work, "config", "user.email", "dev@example.com");
  git(work, "config", "user.name", "Dev");
  commit("main", undefined, "a.txt", "hello\n");
  commit("feature", "main", "b.txt", "feature\n");
  commit("tagged", "main", "c.txt", "tagged only\n");
  git(work, "tag", "-a", "v1", "-m", "v1");
  git(dir.path, "init", "--quiet", "--bare", served);
  git(work, "push", "--quiet", served, "main", "feature", "v1");
  server = await startGitHttpServer(join(dir.path, "served"), installationToken);
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

const cacheAt = (name: string) =>
  new GitCache({ root: join(dir.path, name), maxBytes: 1e9, remote: server.url });

describe("a backfill's fetch", () => {
  it("scans a view holding every branch and tag; the cache gets those refs only once they are scanned", async () => {
    const cache = cacheAt("cache-history");
    const path = cache.pathFor("acme/app");
    const refs = await cache.scanHistory({ fullName: "acme/app" }, installationToken, async (view) => {
      // A push of a new branch now must not take these commits for scanned: the cache has no ref yet.
      expect(git(path, "for-each-ref")).toBe("");
      return git(view, "for-each-ref", "--format=%(refname)").split("\n");
    });
    expect(refs).toEqual(["refs/heads/feature", "refs/heads/main", "refs/tags/v1"]);
    expect(git(path, "for-each-ref", "--format=%(refname)").split("\n")).toEqual(refs);
    // The view shares the cache's objects and never collects garbage over them.
    expect(git(join(path, "leakwarden-backfill.git"), "config", "gc.auto")).toBe("0");
    expect(server.requests.every((r) => !r.url.includes(installationToken))).toBe(true);
  });

  it("leaves a ref that a push already moved where it is", async () => {
    const cache = cacheAt("cache-moved");
    const path = cache.pathFor("acme/app");
    const feature = git(served, "rev-parse", "refs/heads/feature");
    const main = git(served, "rev-parse", "refs/heads/main");
    await cache.scanPush(
      { fullName: "acme/app" },
      installationToken,
      { before: "0".repeat(40), after: main, ref: "refs/heads/feature" },
      async () => undefined,
    );
    await cache.scanHistory({ fullName: "acme/app" }, installationToken, async () => undefined);
    expect(git(path, "rev-parse", "refs/heads/feature")).toBe(main);
    expect(feature).not.toBe(main);
  });
});

describe("a pull request's fetch", () => {
  it("fetches refs/pull/N/head from the base repository and scans base..head, writing no ref", async () => {
    const base = git(served, "rev-parse", "refs/heads/main");
    const first = commit("fork", "main", "f1.txt", "one\n");
    const head = commit("fork", "fork", "f2.txt", "two\n");
    git(work, "push", "--quiet", served, "fork:refs/pull/3/head");
    const cache = cacheAt("cache-pull");
    const result = await cache.scanPullRequest(
      { fullName: "acme/app" },
      installationToken,
      { number: 3, base, baseRef: "main", head },
      async (path, range) => ({ range, commits: git(path, "rev-list", range).split("\n") }),
    );
    expect(result?.range).toBe(`${base}..${head}`);
    expect(result?.commits).toEqual([head, first]);
    expect(git(cache.pathFor("acme/app"), "for-each-ref")).toBe("");
  });

  it("says nothing was scanned when the head was pushed over since the event", async () => {
    const base = git(served, "rev-parse", "refs/heads/main");
    const gone = "1".repeat(40);
    const result = await cacheAt("cache-moved-pull").scanPullRequest(
      { fullName: "acme/app" },
      installationToken,
      { number: 3, base, baseRef: "main", head: gone },
      async () => "scanned",
    );
    expect(result).toBeUndefined();
  });

  it("refuses a base branch name that git would refuse", async () => {
    await expect(
      cacheAt("cache-bad").scanPullRequest(
        { fullName: "acme/app" },
        installationToken,
        { number: 3, base: "1".repeat(40), baseRef: "..", head: "1".repeat(40) },
        async () => "scanned",
      ),
    ).rejects.toThrow(/not a valid branch name/);
  });
});

describe("queueing backfills", () => {
  it("queues one per repository at the bulk priority, and again only once that one ended", async () => {
    const store = await openStore({ path: join(dir.path, "queue.db"), env: {} });
    const first = await enqueueRepositoryBackfill(store, {
      fullName: "acme/app",
      installation: 7,
      trigger: "a",
    });
    const second = await enqueueRepositoryBackfill(store, {
      fullName: "acme/app",
      installation: 7,
      trigger: "b",
    });
    expect(first.created).toBe(true);
    expect(second).toEqual({ jobId: first.jobId, created: false });
    expect((await store.jobs.byId(first.jobId))?.priority).toBe(PRIORITY.bulk);
    expect(await store.backfills.summary()).toMatchObject({ queued: 1, running: 0, done: 0 });
    await store.backfills.update(first.jobId, "done", { commits: 12, findings: 1 });
    const third = await enqueueRepositoryBackfill(store, {
      fullName: "acme/app",
      installation: 7,
      trigger: "c",
    });
    expect(third.created).toBe(true);
    expect(await store.backfills.summary()).toMatchObject({ queued: 1, done: 1, commitsScanned: 12 });
    expect(await store.audit.list({ action: "backfill.queue" })).toHaveLength(2);
    await store.close();
  });
});

describe("webhook payloads", () => {
  const pull = (overrides: Record<string, unknown>) => ({
    action: "opened",
    pull_request: {
      number: 1,
      base: { ref: "main", sha: "a".repeat(40) },
      head: { sha: "b".repeat(40) },
      ...overrides,
    },
    repository: { full_name: "acme/app", name: "app", html_url: "https://github.com/acme/app", owner: {} },
    sender: { login: "x" },
    installation: { id: 1 },
  });

  it("are refused when a field the handlers read is malformed", () => {
    expect(backfillPayloadProblem("pull_request", pull({}))).toBeNull();
    expect(backfillPayloadProblem("pull_request", pull({ base: { ref: "main", sha: "zz" } }))).toBe(
      "pull_request.base.sha",
    );
    expect(backfillPayloadProblem("pull_request", pull({ base: { ref: "a..b", sha: "a".repeat(40) } }))).toBe(
      "pull_request.base.ref",
    );
    expect(backfillPayloadProblem("pull_request", { ...pull({}), action: "closed" })).toBeNull();
    expect(
      backfillPayloadProblem("installation", {
        action: "created",
        installation: { id: 1 },
        repositories: [{ full_name: "../etc" }],
      }),
    ).toBe("repositories[].full_name");
    expect(
      backfillPayloadProblem("installation_repositories", { action: "added", installation: { id: 1 } }),
    ).toBe("repositories_added");
    expect(
      backfillPayloadProblem("installation_repositories", { action: "removed", installation: { id: 1 } }),
    ).toBe("repositories_removed");
    expect(
      backfillPayloadProblem("installation_repositories", {
        action: "removed",
        installation: { id: 1 },
        repositories_removed: [{ full_name: "acme/../x" }],
      }),
    ).toBe("repositories_removed[].full_name");
    expect(backfillPayloadProblem("installation", { action: "deleted", installation: {} })).toBe(
      "installation.id",
    );
    expect(backfillPayloadProblem("installation", { action: "suspend", installation: { id: 1 } })).toBeNull();
  });
});

describe("leakwarden backfill", () => {
  const db = () => join(dir.path, "cli.db");

  it("queues into the database serve works from, says so, and queues a repository once", async () => {
    const first = runCli(["backfill", "acme/app", "acme/api", "--db", db()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Queued the backfill of acme\/app \(job \d+\)/);
    expect(first.stdout).toMatch(/Queued the backfill of acme\/api \(job \d+\)/);
    expect(first.stdout).toContain(
      `The jobs are in ${db()}; 'leakwarden serve' with this database runs them`,
    );
    const again = runCli(["backfill", "acme/app", "--db", db()]);
    expect(again.stdout).toMatch(/acme\/app is already queued or running/);
    const status = runCli(["backfill", "--status", "--json", "--db", db()]);
    expect(JSON.parse(status.stdout)).toMatchObject({ queued: 2, running: 0, done: 0, commitsScanned: 0 });
    const installation = runCli(["backfill", "--installation", "4242", "--json", "--db", db()]);
    expect(JSON.parse(installation.stdout).queued[0]).toMatchObject({
      what: "installation 4242",
      created: true,
    });
    const store = await openStore({ path: db(), env: {} });
    expect((await store.jobs.list({ kind: "backfill" })).map((j) => j.priority)).toEqual([10, 10, 10]);
    await store.close();
  });

  it("refuses what is not a repository or an installation, with a hint", () => {
    for (const args of [["backfill"], ["backfill", "acme"], ["backfill", "--installation", "x"]]) {
      const result = runCli([...args, "--db", db()]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^leakwarden backfill: .*\(see 'leakwarden backfill --help'\)\n$/);
    }
  });

  it("explains itself in --help, whether serve must run included", () => {
    const help = runCli(["backfill", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("'serve' need not be");
    expect(runCli(["--help"]).stdout).toMatch(/backfill\s+queue a scan of whole repositories' history/);
  });
});
