// Real git repositories for tests, in temp folders, isolated from the user's git configuration.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";

export const ZERO = "0".repeat(40);

/** The environment of every git command a test runs: no global or system configuration, fixed identities. */
export function testGitEnv(home: string, date?: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    GIT_CONFIG_NOSYSTEM: "1",
    LANG: "C",
    GIT_AUTHOR_NAME: "Ada Lovelace",
    GIT_AUTHOR_EMAIL: "ada@example.com",
    GIT_COMMITTER_NAME: "Ada Lovelace",
    GIT_COMMITTER_EMAIL: "ada@example.com",
    ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
  };
}

export interface TestRepo {
  dir: string;
  git: SimpleGit;
  /** Writes files (null deletes nothing: use git.rm), stages everything and commits; returns the commit. */
  commit(files: Record<string, string | Buffer>, message: string, date?: string): Promise<string>;
  head(): Promise<string>;
  /** Runs git directly (for what simple-git does not wrap), failing the test on an error. */
  run(...args: string[]): string;
}

let clock = Date.UTC(2024, 0, 1) / 1000;

/** A fresh repository in `dir` (created), on branch main. */
export async function createRepo(
  dir: string,
  home: string,
  options: { bare?: boolean } = {},
): Promise<TestRepo> {
  mkdirSync(dir, { recursive: true });
  const git = simpleGit({ baseDir: dir }).env(testGitEnv(home));
  await git.init(options.bare === true, ["--initial-branch=main"]);
  return wrapRepo(dir, home);
}

export function wrapRepo(dir: string, home: string): TestRepo {
  const git = simpleGit({ baseDir: dir }).env(testGitEnv(home));
  const run = (...args: string[]) => {
    const result = spawnSync("git", args, { cwd: dir, env: testGitEnv(home), encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  return {
    dir,
    git,
    run,
    async commit(files, message, date) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      await git.add(".");
      clock += 60;
      const when = date ?? `${clock} +0000`;
      await git.env(testGitEnv(home, when)).commit(message);
      git.env(testGitEnv(home));
      return (await git.revparse(["HEAD"])).trim();
    },
    async head() {
      return (await git.revparse(["HEAD"])).trim();
    },
  };
}

/** Feeds a fast-import stream to the repository: thousands of commits in well under a second. */
export function fastImport(dir: string, home: string, stream: string): void {
  const result = spawnSync("git", ["fast-import", "--quiet"], {
    cwd: dir,
    env: testGitEnv(home),
    input: stream,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`git fast-import: ${result.stderr}`);
}

/** Writes a file outside git's knowledge (an unstaged change). */
export function writeFile(dir: string, path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}
