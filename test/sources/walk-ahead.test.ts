// A git walk started ahead of its reader (the CLI's whole-history scan): taken only when it is the same walk,
// its output whole when taken, never a hang or a lost error when it is not.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/sources/git.js";
import { blobWalkArgs } from "../../src/sources/git-blobs.js";
import { discardWalkAhead, startWalkAhead, takeWalkAhead } from "../../src/sources/walk-ahead.js";
import { CLI, runCli, tempDir } from "../support/cli.js";
import { fastImport, testGitEnv } from "../support/git.js";

const tmp = tempDir();
const home = join(tmp.path, "home");
const dir = join(tmp.path, "long");
const WALK = blobWalkArgs(["--all"]);
afterAll(() => {
  discardWalkAhead();
  tmp.remove();
});

/** Commits with long messages: the walk writes far more than a pipe holds, so an unread git waits. */
beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  spawnSync("git", ["init", "-q", "--bare", dir], { env: testGitEnv(home) });
  let stream = "";
  for (let i = 1; i <= 400; i++) {
    const message = `change ${i}\n\n${"a long explanation of the change. ".repeat(30)}\n`;
    stream += `commit refs/heads/main\nmark :${i}\ncommitter Ada <ada@example.com> ${1700000000 + i} +0000\n`;
    stream += `data ${Buffer.byteLength(message)}\n${message}`;
    if (i > 1) stream += `from :${i - 1}\n`;
    stream += `M 100644 inline file-${i % 7}.txt\ndata 8\nline ${String(i).padStart(3, "0")}\n\n`;
  }
  fastImport(dir, home, stream);
});

/** Everything a walk writes, and its exit code. */
async function readAll(
  walk: NonNullable<ReturnType<typeof takeWalkAhead>>,
): Promise<{ out: string; code: number }> {
  walk.stdin.end("");
  const chunks: Buffer[] = [];
  walk.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number>((resolve) => walk.once("close", (c) => resolve(c ?? -1)));
  return { out: Buffer.concat(chunks).toString("latin1"), code };
}

describe("a walk started ahead", () => {
  it("is taken by the same walk, whole, however long it waited", async () => {
    const repo = GitRepository.prepare(dir);
    startWalkAhead(repo, WALK);
    await new Promise((resolve) => setTimeout(resolve, 300)); // git fills the pipe and waits
    const walk = takeWalkAhead(GitRepository.prepare(dir), WALK);
    expect(walk).toBeDefined();
    const taken = await readAll(walk as NonNullable<typeof walk>);
    const fresh = await readAll(repo.start(WALK, undefined, false));
    expect(taken.code).toBe(0);
    expect(taken.out.length).toBeGreaterThan(200_000);
    expect(taken.out).toBe(fresh.out);
    expect(takeWalkAhead(repo, WALK)).toBeUndefined(); // taken once
  });

  it("is not taken by another walk, and is stopped", async () => {
    const repo = GitRepository.prepare(dir);
    const walk = startWalkAhead(repo, WALK);
    const exit = new Promise((resolve) => walk.once("exit", (_code, signal) => resolve(signal)));
    expect(takeWalkAhead(repo, blobWalkArgs(["--since=2020-01-01", "--all"]))).toBeUndefined();
    expect(await exit).toBe("SIGTERM");
    expect(takeWalkAhead(repo, WALK)).toBeUndefined();
  });

  it("that failed before it was taken is not taken: the reader's own walk says why", async () => {
    const notRepo = join(tmp.path, "not-a-repository");
    mkdirSync(notRepo);
    const repo = GitRepository.prepare(notRepo);
    startWalkAhead(repo, WALK);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(takeWalkAhead(repo, WALK)).toBeUndefined();
  });
});

describe("leakwarden scan --git, with its walk started ahead", () => {
  it("exits at once when the scan stops before reading it (git waiting on a full pipe)", () => {
    const result = spawnSync(process.execPath, [CLI, "scan", "--git", dir, "--format", "bogus"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.error).toBeUndefined(); // not killed by the timeout
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--format must be one of");
  });

  it("reads the walk it started: the whole history, as without it", () => {
    const ahead = runCli(["scan", "--git", dir, "--format", "json"]);
    const patches = runCli(["scan", "--git", dir, "--format", "json", "--history-scan", "patches"]);
    expect(ahead.code).toBe(0);
    expect(JSON.parse(ahead.stdout).stats.commits).toBe(400);
    expect(JSON.parse(patches.stdout).stats.commits).toBe(400);
  });

  it("says plainly that a folder is not a repository", () => {
    const result = runCli(["scan", "--git", join(tmp.path, "not-a-repository"), "--format", "json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not a git repository/);
  });
});
