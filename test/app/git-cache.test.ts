import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitCache, gitAuthEnv } from "../../src/app/git-cache.js";
import { type GitHttpServer, startGitHttpServer } from "../../src/demo/git-server.js";
import { RepositoryError } from "../../src/sources/repository-error.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
const installationToken = tokens(31).make("github-installation-token");
let server: GitHttpServer;
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

beforeAll(async () => {
  const work = join(dir.path, "work");
  mkdirSync(work);
  git(work, "init", "--quiet", "--initial-branch=main");
  git(work, "config", "user.email", "dev@example.com");
  git(work, "config", "user.name", "Dev");
  writeFileSync(join(work, "a.txt"), "hello\n");
  git(work, "add", ".");
  git(work, "commit", "--quiet", "-m", "first");
  for (const name of ["app", "one", "two"])
    git(dir.path, "clone", "--quiet", "--bare", work, join("served", "acme", `${name}.git`));
  server = await startGitHttpServer(join(dir.path, "served"), installationToken);
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

describe("the git cache", () => {
  const served = () => join(dir.path, "served", "acme", "app.git");
  const cacheAt = (root: string, maxBytes = 1e9) => new GitCache({ root, maxBytes, remote: server.url });
  const head = () => git(served(), "rev-parse", "HEAD");
  const zero = "0".repeat(40);

  it("fetches a push with the installation token from the environment, never from the URL", async () => {
    const cache = cacheAt(join(dir.path, "private", "cache"));
    const repository = { fullName: "acme/app" };
    const update = { before: zero, after: head(), ref: "refs/heads/main" };
    const seen = await cache.scanPush(repository, installationToken, update, async (path) => {
      // Inside the scan the pushed commit is there, and no ref points at it yet: nothing counts as scanned.
      expect(git(path, "cat-file", "-t", update.after)).toBe("commit");
      expect(git(path, "for-each-ref")).toBe("");
      return path;
    });
    expect(git(seen, "rev-parse", "refs/heads/main")).toBe(update.after);
    // It holds private code and leaked tokens: only this user may read it, down from the folders it made.
    for (const folder of [seen, join(dir.path, "private", "cache"), join(dir.path, "private")])
      expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(server.requests.some((r) => r.authorized)).toBe(true);
    expect(server.requests.every((r) => !r.url.includes(installationToken))).toBe(true);
  });

  it("fetches a burst of pushes to one repository in fewer fetches than pushes, and scans each", async () => {
    const work = join(dir.path, "work");
    const pushes = Array.from({ length: 6 }, (_, i) => {
      git(work, "checkout", "--quiet", "-B", `burst-${i}`, "main");
      writeFileSync(join(work, "a.txt"), `change ${i}\n`);
      git(work, "commit", "--quiet", "-am", `change ${i}`);
      return { before: zero, after: git(work, "rev-parse", "HEAD"), ref: `refs/heads/burst-${i}` };
    });
    git(work, "push", "--quiet", served(), ...pushes.map((p) => `${p.ref}:${p.ref}`));
    const cache = cacheAt(join(dir.path, "cache-burst"));
    const repository = { fullName: "acme/app" };
    const before = server.requests.filter((r) => r.method === "POST").length;
    const scanned = await Promise.all(
      pushes.map((update) =>
        cache.scanPush(repository, installationToken, update, async (path) =>
          git(path, "cat-file", "-t", update.after),
        ),
      ),
    );
    expect(scanned).toEqual(pushes.map(() => "commit"));
    const fetches = server.requests.filter((r) => r.method === "POST").length - before;
    expect(fetches).toBeLessThan(pushes.length);
    for (const p of pushes) expect(git(cache.pathFor(repository.fullName), "rev-parse", p.ref)).toBe(p.after);
  });

  it("asks the server nothing for a push whose commit it has already (a redelivery)", async () => {
    const cache = cacheAt(join(dir.path, "cache-redelivery"));
    const repository = { fullName: "acme/app" };
    const update = { before: zero, after: head(), ref: "refs/heads/main" };
    await cache.scanPush(repository, installationToken, update, async () => undefined);
    const before = server.requests.length;
    const again = await cache.scanPush(repository, installationToken, update, async (path) =>
      git(path, "cat-file", "-t", update.after),
    );
    expect(again).toBe("commit");
    expect(server.requests.length).toBe(before);
  });

  it("takes an update's before from the fetch of its after, and fetches a before the after does not reach", async () => {
    const work = join(dir.path, "work");
    git(work, "checkout", "--quiet", "-B", "moving", "main");
    writeFileSync(join(work, "a.txt"), "moving 1\n");
    git(work, "commit", "--quiet", "-am", "moving 1");
    const first = git(work, "rev-parse", "HEAD");
    writeFileSync(join(work, "a.txt"), "moving 2\n");
    git(work, "commit", "--quiet", "-am", "moving 2");
    const second = git(work, "rev-parse", "HEAD");
    // Force-pushed away: "rewritten" does not reach "first", which the server still has on another branch.
    git(work, "checkout", "--quiet", "-B", "rewritten", "main");
    writeFileSync(join(work, "a.txt"), "rewritten\n");
    git(work, "commit", "--quiet", "-am", "rewritten");
    const rewritten = git(work, "rev-parse", "HEAD");
    git(
      work,
      "push",
      "--quiet",
      served(),
      "moving:refs/heads/moving",
      "rewritten:refs/heads/rewritten",
      `${first}:refs/heads/kept-first`,
    );
    const scanOne = (root: string, update: { before: string; after: string; ref: string }) =>
      cacheAt(join(dir.path, root)).scanPush(
        { fullName: "acme/app" },
        installationToken,
        update,
        async (path) => git(path, "cat-file", "-t", first),
      );
    // The before comes with its after, an ancestor of it: one fetch.
    const posts = () => server.requests.filter((r) => r.method === "POST").length;
    const before = posts();
    expect(await scanOne("cache-befores-1", { before: first, after: second, ref: "refs/heads/moving" })).toBe(
      "commit",
    );
    expect(posts() - before).toBe(1);
    // A before the after does not reach is fetched on its own.
    expect(
      await scanOne("cache-befores-2", { before: first, after: rewritten, ref: "refs/heads/rewritten" }),
    ).toBe("commit");
  });

  it("scans the pushes of a batch whose one commit the server lacks, and fails only that one", async () => {
    const work = join(dir.path, "work");
    git(work, "checkout", "--quiet", "-B", "kept-alone", "main");
    writeFileSync(join(work, "a.txt"), "kept alone\n");
    git(work, "commit", "--quiet", "-am", "kept alone");
    const kept = { before: zero, after: git(work, "rev-parse", "HEAD"), ref: "refs/heads/kept-alone" };
    git(work, "push", "--quiet", served(), `${kept.ref}:${kept.ref}`);
    // Pushed nowhere: the server has no such commit.
    writeFileSync(join(work, "a.txt"), "never pushed\n");
    git(work, "commit", "--quiet", "-am", "never pushed");
    const lost = { before: zero, after: git(work, "rev-parse", "HEAD"), ref: "refs/heads/lost" };
    const cache = cacheAt(join(dir.path, "cache-partial"));
    const outcomes = await cache.scanPushes(
      { fullName: "acme/app" },
      installationToken,
      [kept, lost],
      (path, indices) =>
        Promise.all(
          indices.map(async () => ({ ok: true as const, value: git(path, "cat-file", "-t", kept.after) })),
        ),
    );
    expect(outcomes[0]).toEqual({ ok: true, value: "commit" });
    expect(outcomes[1]?.ok).toBe(false);
    const path = cache.pathFor("acme/app");
    expect(git(path, "rev-parse", kept.ref)).toBe(kept.after);
    expect(spawnSync("git", ["rev-parse", "--verify", "--quiet", lost.ref], { cwd: path }).status).not.toBe(
      0,
    );
  });

  it("leaves git's maintenance out of the fetch, and runs it once the cache is quiet", async () => {
    const work = join(dir.path, "work");
    // Quiet for a minute: what runs before settled() is only what a burst's next fetch would wait for.
    const cache = new GitCache({
      root: join(dir.path, "cache-maintained"),
      maxBytes: 1e9,
      remote: server.url,
      quietMs: 60_000,
    });
    const repository = { fullName: "acme/app" };
    const path = cache.pathFor(repository.fullName);
    const push = async (i: number, files = 1) => {
      git(work, "checkout", "--quiet", "-B", `kept-${i}`, "main");
      for (let f = 0; f < files; f++) writeFileSync(join(work, `kept-${f}.txt`), `kept ${i} ${f}\n`);
      git(work, "add", ".");
      git(work, "commit", "--quiet", "-m", `kept ${i}`);
      const update = { before: zero, after: git(work, "rev-parse", "HEAD"), ref: `refs/heads/kept-${i}` };
      git(work, "push", "--quiet", served(), `${update.ref}:${update.ref}`);
      await cache.scanPush(repository, installationToken, update, async () => undefined);
    };
    const packs = () => readdirSync(join(path, "objects", "pack")).filter((f) => f.endsWith(".pack"));
    await push(0);
    await cache.settled();
    // More than one pack calls for a repack.
    git(path, "config", "gc.autoPackLimit", "1");
    const before = packs().length;
    // A fetch of a few objects writes them as files; one of 20 or more (a burst's batch) keeps its pack.
    await push(1);
    expect(packs()).toHaveLength(before);
    await push(2, 20);
    await push(3, 20);
    expect(packs()).toHaveLength(before + 2);
    // Not during the burst (maintenance holds the repository's fetch lock): a second later, nothing has run.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(packs()).toHaveLength(before + 2);
    await cache.settled();
    expect(packs()).toHaveLength(1);
  });

  it("fails with a clear error that does not hold the token, and moves no ref", async () => {
    const cache = cacheAt(join(dir.path, "cache2"));
    const wrong = tokens(32).make("github-installation-token");
    const update = { before: zero, after: head(), ref: "refs/heads/main" };
    const failure = cache.scanPush({ fullName: "acme/app" }, wrong, update, async () => 1);
    await expect(failure).rejects.toThrow(RepositoryError);
    await expect(failure).rejects.not.toThrow(new RegExp(wrong));
  });

  it("evicts the least recently used repositories beyond its size, after the scan and off its path", async () => {
    const root = join(dir.path, "cache3");
    const cache = cacheAt(root, 1);
    const update = { before: zero, after: head(), ref: "refs/heads/main" };
    const fetchInto = (fullName: string) =>
      cache.scanPush({ fullName }, installationToken, update, async (path) => path);
    const first = await fetchInto("acme/one");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await fetchInto("acme/two");
    await cache.settled();
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(true);
    // The sizes it kept say the cache is one repository now: nothing more to evict.
    expect(await cache.evict(second)).toEqual([]);
  });

  it("refuses a repository name that is not GitHub's, and a ref that could pass for an option", async () => {
    const cache = cacheAt(join(dir.path, "cache4"));
    const update = { before: zero, after: head(), ref: "refs/heads/main" };
    for (const fullName of ["acme/../etc", "acme/app --upload-pack=x", "-x/app", "acme"])
      await expect(cache.scanPush({ fullName }, installationToken, update, async () => 1)).rejects.toThrow(
        /is not a GitHub repository name/,
      );
    // A ref that would be an option to `git update-ref` is taken as a ref name and refused by git.
    await expect(
      cache.scanPush(
        { fullName: "acme/app" },
        installationToken,
        { ...update, ref: "--no-deref" },
        async () => 1,
      ),
    ).rejects.toThrow(RepositoryError);
  });
});

describe("the credentials", () => {
  const env = () => ({
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    ...gitAuthEnv(installationToken, server.url),
  });
  /** The authorization header git would send to `url`, as its own URL matching picks it. */
  const headerFor = (url: string) =>
    spawnSync("git", ["config", "--get-urlmatch", "http.extraHeader", url], { env: env(), encoding: "utf8" });
  const credentialsIn = (header: string) =>
    Buffer.from(/^Authorization: Basic (\S+)$/.exec(header.trim())?.[1] ?? "", "base64").toString("utf8");

  it("go with every request to the configured GitHub host: no 401 round trip, no helper", async () => {
    expect(credentialsIn(headerFor(`${server.url}/acme/app.git`).stdout)).toBe(
      `x-access-token:${installationToken}`,
    );
    const before = server.requests.length;
    const cache = new GitCache({
      root: join(dir.path, "credentials-cache"),
      maxBytes: 1e9,
      remote: server.url,
    });
    const head = git(join(dir.path, "served", "acme", "one.git"), "rev-parse", "HEAD");
    await cache.scanPush(
      { fullName: "acme/one" },
      installationToken,
      { before: "0".repeat(40), after: head, ref: "refs/heads/main" },
      async () => undefined,
    );
    const requests = server.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.authorized)).toBe(true);
  });

  it("go to no other host, and no credential helper answers for one", () => {
    const other = headerFor("http://evil.example.test/acme/app.git");
    expect(other.stdout).toBe("");
    expect(other.status).not.toBe(0);
    const fill = spawnSync("git", ["credential", "fill"], {
      input: "protocol=http\nhost=evil.example.test\n\n",
      env: env(),
      encoding: "utf8",
    });
    expect(fill.stdout + fill.stderr).not.toContain(installationToken);
    expect(fill.status).not.toBe(0);
  });
});
