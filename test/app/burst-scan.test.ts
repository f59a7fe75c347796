// A coalesced burst of pushes is read in one git log (scanPushBurst): each push must still get exactly the
// findings of the commits it brought in, on a real repository.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { scanPushBurst, scanRange } from "../../src/scan/history.js";
import { createEngine } from "../../src/scan/settings.js";
import type { Finding } from "../../src/scan/types.js";
import { GitRepository, type PushKind } from "../../src/sources/git.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(() => dir.remove());
const git = (...args: string[]) =>
  execFileSync("git", args, {
    cwd: dir.path,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Dana",
      GIT_AUTHOR_EMAIL: "d@example.com",
      GIT_COMMITTER_NAME: "Dana",
      GIT_COMMITTER_EMAIL: "d@example.com",
    },
  }).trim();
const zero = "0".repeat(40);
const t = tokens(4711);

function commit(file: string, text: string): string {
  writeFileSync(join(dir.path, file), text);
  git("add", ".");
  git("commit", "--quiet", "-m", `add ${file}`);
  return git("rev-parse", "HEAD");
}

/** The files a push's findings are in. */
const files = (findings: Finding[]) => [...new Set(findings.map((f) => f.file))].sort();

describe("a burst of pushes read together", () => {
  it("gives each push the findings of the commits it brought in, and a commit two bring in to one of them", async () => {
    git("init", "--quiet", "--initial-branch=main");
    const base = commit("README", "hello\n");
    const [a, b, c, d] = [t.adoPat(), t.adoPat(), t.adoPat(), t.adoPat()];
    git("checkout", "--quiet", "-b", "one", base);
    const one = commit("one.sh", `export AZURE_DEVOPS_EXT_PAT=${a}\n`);
    // "two" is built on "one": it brings in one's commit as well as its own.
    const two = commit("two.sh", `export AZURE_DEVOPS_EXT_PAT=${b}\n`);
    git("checkout", "--quiet", "-b", "three", base);
    const three = commit("three.sh", `export AZURE_DEVOPS_EXT_PAT=${c}\n`);
    git("checkout", "--quiet", "main");
    const main = commit("main.sh", `export AZURE_DEVOPS_EXT_PAT=${d}\n`);
    // As in the App's cache: refs mean "already scanned". Only main was scanned, at its first commit.
    git("update-ref", "refs/heads/main", base);
    for (const ref of ["one", "three"]) git("update-ref", "-d", `refs/heads/${ref}`);
    const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
    const updates = [
      { before: zero, after: one, ref: "refs/heads/one" },
      { before: zero, after: two, ref: "refs/heads/two" },
      { before: zero, after: three, ref: "refs/heads/three" },
      { before: base, after: main, ref: "refs/heads/main" },
    ];
    git("update-ref", "-d", "refs/heads/two");

    const burst = await scanPushBurst(dir.path, updates, engine);
    const got = burst.map((r) => (r instanceof Error ? [r.message] : files(r.findings)));
    // One's commit is in both one's and two's ranges: reported once, by one of them. The others by their own push.
    const [fOne = [], fTwo = [], fThree, fMain] = got;
    expect([...fOne, ...fTwo].sort()).toEqual(["one.sh", "two.sh"]);
    expect(fTwo).toContain("two.sh");
    expect(fThree).toEqual(["three.sh"]);
    expect(fMain).toEqual(["main.sh"]);
    // The same findings as reading each push alone, less the repeat of one's commit in two's range.
    const alone = await Promise.all(updates.map((u) => scanRange(dir.path, u, engine)));
    expect(alone.map((r) => files(r.findings))).toEqual([
      ["one.sh"],
      ["one.sh", "two.sh"],
      ["three.sh"],
      ["main.sh"],
    ]);
    const all = (results: { findings: Finding[] }[]) =>
      new Set(results.flatMap((r) => r.findings.map((f) => f.fingerprint)));
    expect(
      all(burst.filter((r): r is { kind: PushKind; findings: Finding[] } => !(r instanceof Error))),
    ).toEqual(all(alone));
    expect(burst.map((r) => (r instanceof Error ? "error" : r.kind))).toEqual([
      "create",
      "create",
      "create",
      "update",
    ]);
  });

  it("reads updates that move their refs forward together, each with its own commits, and any other alone", async () => {
    const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
    git("checkout", "--quiet", "-f", "main");
    const base = git("rev-parse", "HEAD");
    // Branches the cache has scanned (their refs are there), then each pushed on by two commits.
    const names = ["six", "seven", "eight", "nine"];
    const befores = names.map((name) => {
      git("checkout", "--quiet", "-b", name, base);
      return commit(`${name}-v1.txt`, `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
    });
    const afters = names.map((name) => {
      git("checkout", "--quiet", name);
      commit(`${name}.sh`, `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
      return commit(`${name}-more.sh`, `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
    });
    // "nine" merges "six" as it was before this burst: a commit from elsewhere, so nine is read alone and, as
    // scanRange reads it, the merge brings six's (already scanned) leak in again.
    git("checkout", "--quiet", "nine");
    git("merge", "--quiet", "--no-edit", befores[0] as string);
    afters[3] = git("rev-parse", "HEAD");
    for (const [i, name] of names.entries()) git("update-ref", `refs/heads/${name}`, befores[i] as string);
    const updates = names.map((name, i) => ({
      before: befores[i] as string,
      after: afters[i] as string,
      ref: `refs/heads/${name}`,
    }));

    const started = vi.spyOn(GitRepository.prototype, "start");
    const burst = await scanPushBurst(dir.path, updates, engine);
    const gits = started.mock.calls.length;
    started.mockRestore();
    const alone = await Promise.all(updates.map((u) => scanRange(dir.path, u, engine)));
    const fingerprints = (findings: Finding[]) => findings.map((f) => f.fingerprint).sort();
    expect(burst.map((r) => (r instanceof Error ? r.message : fingerprints(r.findings)))).toEqual(
      alone.map((r) => fingerprints(r.findings)),
    );
    expect(burst.map((r) => (r instanceof Error ? "error" : r.kind))).toEqual(alone.map((r) => r.kind));
    expect(files(alone[0]?.findings ?? [])).toEqual(["six-more.sh", "six.sh"]);
    expect(files(alone[3]?.findings ?? [])).toEqual(["nine-more.sh", "nine.sh", "six-v1.txt"]);
    // The three forward updates in one read, and nine alone: fewer git processes than the three read alone.
    const spied = vi.spyOn(GitRepository.prototype, "start");
    for (const u of updates.slice(0, 3)) await scanRange(dir.path, u, engine);
    const threeAlone = spied.mock.calls.length;
    spied.mockRestore();
    expect(gits).toBeLessThan(threeAlone);
  });

  it("reads a burst of one new branch with the git processes it takes alone: the repository is opened once", async () => {
    const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
    git("checkout", "--quiet", "-f", "-b", "eleven", "main");
    const after = commit("eleven.sh", `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
    git("checkout", "--quiet", "main");
    git("update-ref", "-d", "refs/heads/eleven");
    const update = { before: zero, after, ref: "refs/heads/eleven" };
    const count = async <T>(read: () => Promise<T>): Promise<[T, number]> => {
      const started = vi.spyOn(GitRepository.prototype, "start");
      try {
        return [await read(), started.mock.calls.length];
      } finally {
        started.mockRestore();
      }
    };
    const [burst, burstGits] = await count(() => scanPushBurst(dir.path, [update], engine));
    const [alone, aloneGits] = await count(() => scanRange(dir.path, update, engine));
    expect(burst.map((r) => (r instanceof Error ? [r.message] : files(r.findings)))).toEqual([["eleven.sh"]]);
    expect(files(alone.findings)).toEqual(["eleven.sh"]);
    // Before, the burst opened the repository and read its refs again for its one push: two processes more.
    expect(burstGits).toBe(aloneGits);
  });

  it("reads two pushes to one branch in a burst, the second on top of the first, each with its own commits", async () => {
    const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
    git("checkout", "--quiet", "-f", "-b", "ten", "main");
    const start = commit("ten-v1.txt", "nothing here\n");
    const first = commit("ten-1.sh", `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
    const second = commit("ten-2.sh", `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
    git("update-ref", "refs/heads/ten", start);
    const updates = [
      { before: start, after: first, ref: "refs/heads/ten" },
      { before: first, after: second, ref: "refs/heads/ten" },
    ];
    const burst = await scanPushBurst(dir.path, updates, engine);
    expect(burst.map((r) => (r instanceof Error ? [r.message] : files(r.findings)))).toEqual([
      ["ten-1.sh"],
      ["ten-2.sh"],
    ]);
    expect(burst.map((r) => (r instanceof Error ? "error" : r.kind))).toEqual(["update", "update"]);
  });

  it("a push whose commit is missing gets its own error; the others their findings", async () => {
    const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
    const fresh = ["four", "five"].map((name) => {
      git("checkout", "--quiet", "-f", "-b", name, "main");
      const after = commit(`${name}.sh`, `export AZURE_DEVOPS_EXT_PAT=${t.adoPat()}\n`);
      git("checkout", "--quiet", "main");
      git("update-ref", "-d", `refs/heads/${name}`);
      return { before: zero, after, ref: `refs/heads/${name}` };
    });
    const missing = { before: zero, after: "1".repeat(40), ref: "refs/heads/gone" };
    const burst = await scanPushBurst(dir.path, [missing, ...fresh], engine);
    expect(burst[0]).toBeInstanceOf(Error);
    expect((burst[0] as Error).message).toMatch(/is not in/);
    for (const result of burst.slice(1)) {
      if (result instanceof Error) throw result;
      expect(files(result.findings)).toHaveLength(1);
    }
  });
});
