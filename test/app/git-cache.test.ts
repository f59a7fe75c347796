import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitCache, GitFetchError } from "../../src/app/git-cache.js";
import { type GitHttpServer, startGitHttpServer } from "../../src/demo/git-server.js";
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
  mkdirSync(join(dir.path, "served"));
  git(dir.path, "clone", "--quiet", "--bare", work, join("served", "acme.git"));
  server = await startGitHttpServer(join(dir.path, "served"), installationToken);
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

describe("the git cache", () => {
  it("fetches with the installation token from the environment, never from the URL", async () => {
    const cache = new GitCache({ root: join(dir.path, "cache"), maxBytes: 1e9 });
    const head = git(join(dir.path, "served", "acme.git"), "rev-parse", "HEAD");
    const path = await cache.fetch("acme/app", `${server.url}/acme.git`, installationToken, [head]);
    expect(git(path, "rev-parse", "refs/heads/main")).toBe(head);
    expect(server.requests.some((r) => r.authorized)).toBe(true);
    expect(server.requests.every((r) => !r.url.includes(installationToken))).toBe(true);
  });

  it("fails with a clear error that does not hold the token", async () => {
    const cache = new GitCache({ root: join(dir.path, "cache2"), maxBytes: 1e9 });
    const wrong = tokens(32).make("github-installation-token");
    const failure = cache.fetch("acme/app", `${server.url}/acme.git`, wrong, []);
    await expect(failure).rejects.toThrow(GitFetchError);
    await expect(failure).rejects.not.toThrow(new RegExp(wrong));
  });

  it("evicts the least recently used repositories beyond its size", async () => {
    const root = join(dir.path, "cache3");
    const cache = new GitCache({ root, maxBytes: 1 });
    const first = await cache.fetch("acme/one", `${server.url}/acme.git`, installationToken, []);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await cache.fetch("acme/two", `${server.url}/acme.git`, installationToken, []);
    expect(await cache.evict(second)).toEqual([first]);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(true);
  });
});
