// A history scanned by blobs must give exactly the findings of a scan of every patch: same rule, secret,
// commit, path, line, column, `introduced` and order. Both run on the same temporary repositories.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changedRegion } from "../../src/scan/blob-check.js";
import { type HistoryOptions, historyMethod, scanHistory } from "../../src/scan/history.js";
import { commitsWithDetections } from "../../src/scan/history-blobs.js";
import { SeededRandom } from "../../src/scan/samples.js";
import { chunkOverlap } from "../../src/scan/scan-source.js";
import { createEngine, DEFAULT_ENGINE_SETTINGS } from "../../src/scan/settings.js";
import type { Finding } from "../../src/scan/types.js";
import { GitRepository } from "../../src/sources/git.js";
import { tempDir } from "../support/cli.js";
import { createRepo, fastImport, type TestRepo, testGitEnv } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1313);
const engine = createEngine(DEFAULT_ENGINE_SETTINGS);
const tmp = tempDir();
const home = join(tmp.path, "home");
afterAll(tmp.remove);
const env = testGitEnv(home);

/** Everything a finding says, the secret included (as its hash), in the order the scan gives. */
const described = (f: Finding) =>
  [
    f.ruleId,
    f.file,
    f.line,
    f.column,
    f.endLine,
    f.endColumn,
    f.commit ?? "-",
    f.author,
    f.date,
    f.introduced,
    f.fingerprint,
    f.secretHash,
    f.confidence,
    f.encoding,
  ].join(" ");

async function bothWays(dir: string, options: HistoryOptions = {}) {
  const patches = await scanHistory(dir, {}, engine, { env, ...options, method: "patches" });
  const blobs = await scanHistory(dir, {}, engine, { env, ...options, method: "blobs" });
  return { patches, blobs };
}

const utf16le = (text: string) => Buffer.from(`\ufeff${text}`, "utf16le");

describe("a history scanned by blobs", () => {
  let repo: TestRepo;
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    repo = await createRepo(join(tmp.path, "history"), home);
    const pat = t.adoPat();
    const github = t.githubPat();
    sha.base = await repo.commit({ "config.yml": "name: app\nregion: eu\n", "README.md": "# app\n" }, "base");
    // A token added, then deleted: still leaked.
    sha.leak = await repo.commit({ "config.yml": `name: app\nregion: eu\npat: ${pat}\n` }, "add a token");
    sha.fix = await repo.commit({ "config.yml": "name: app\nregion: eu\n" }, "remove the token");
    // Renamed while a token is added; then a pure rename (adds nothing); then dropped and re-added.
    await repo.git.mv("config.yml", "deploy.yml");
    sha.renameLeak = await repo.commit(
      { "deploy.yml": `name: app\nregion: eu\nowner: ops\nnote: x\ngh: ${github}\n` },
      "rename, and leak another",
    );
    await repo.git.mv("deploy.yml", "pipeline.yml");
    sha.pureRename = await repo.commit({}, "pure rename");
    sha.drop = await repo.commit({ "pipeline.yml": "name: app\n" }, "drop it");
    sha.readd = await repo.commit({ "pipeline.yml": `gh: ${github}\nname: app\n` }, "bring it back");
    // The same file version again, on another path: its blob is read once, both commits are found.
    sha.copy = await repo.commit({ "copy/pipeline.yml": `gh: ${github}\nname: app\n` }, "copy it");
    // A line moved within the file: the patch sees it added at its new line.
    sha.move = await repo.commit({ "pipeline.yml": `name: app\ngh: ${github}\n` }, "move it");

    // A conflict resolution that adds a token of its own; the feature's token stays the feature's.
    await repo.commit({ "app.env": "A=1\nB=2\nC=3\n" }, "env");
    await repo.git.checkoutLocalBranch("feature");
    sha.feature = await repo.commit({ "app.env": `A=1\nB=${t.githubPat()}\nC=3\n` }, "feature");
    await repo.git.checkout("main");
    await repo.commit({ "app.env": "A=1\nB=main\nC=3\n" }, "main");
    await repo.git.merge(["feature"]).catch(() => undefined); // conflicts
    const featureLine = repo.run("show", `${sha.feature}:app.env`).split("\n")[1];
    sha.merge = await repo.commit({ "app.env": `A=1\n${featureLine}\nTOKEN=${t.adoPat()}\nC=3\n` }, "merge");

    // A plain merge adds nothing; its branch's commit has the token.
    await repo.git.checkoutLocalBranch("tokens");
    sha.branchCommit = await repo.commit({ "keys.txt": `${t.githubPat()}\n` }, "branch adds a token");
    await repo.git.checkout("main");
    await repo.commit({ "other.txt": "x\n" }, "main moves on");
    await repo.git.merge(["--no-edit", "--no-ff", "tokens"]);

    // A branch never merged.
    await repo.git.checkoutLocalBranch("unmerged");
    sha.unmerged = await repo.commit({ "side.txt": `key=${t.githubPat()}\n` }, "only on a branch");
    await repo.git.checkout("main");

    // A commit only a tag reaches (the branch that made it is gone), with a tag message holding a token.
    await repo.git.checkoutLocalBranch("to-tag");
    sha.tagged = await repo.commit({ "release.txt": `token ${t.githubPat()}\n` }, "only on a tag");
    repo.run("tag", "-a", "v1", "-m", `release notes ${t.githubPat()}`);
    await repo.git.checkout("main");
    repo.run("branch", "-D", "to-tag");

    // Binary: a token in a binary blob is skipped; text lines added to it without a NUL are scanned.
    const binaryHead = Buffer.concat([
      Buffer.from([0, 1, 2, 3]),
      Buffer.alloc(9000, 0x41),
      Buffer.from("\n"),
    ]);
    await repo.commit({ "blob.dat": Buffer.concat([binaryHead, Buffer.from(`${t.githubPat()}\n`)]) }, "bin");
    sha.binaryText = await repo.commit(
      { "blob.dat": Buffer.concat([binaryHead, Buffer.from(`one\nkey ${t.githubPat()}\n`)]) },
      "text into a binary file",
    );
    // UTF-16: decoded.
    sha.utf16 = await repo.commit({ "win.env": utf16le(`A=1\r\nTOKEN=${t.githubPat()}\r\n`) }, "utf-16");
    // A token in a commit message.
    sha.message = await repo.commit({ "notes.txt": "n\n" }, `deploy with ${t.githubPat()}`);
    // A token committed in a file, then quoted in two later messages, the second of which reads like the
    // walk's raw lines.
    const quoted = t.githubPat();
    sha.quotedFile = await repo.commit({ "quoted.env": `TOKEN=${quoted}\n` }, "quoted file");
    sha.quotedMessage = await repo.commit({ "notes.txt": "m\n" }, `rotate ${quoted}`);
    const rawLike = `:100644 100644 ${"0".repeat(40)} ${"1".repeat(40)} M\tfake.txt`;
    sha.rawLikeMessage = await repo.commit({ "notes.txt": "o\n" }, `again ${quoted}\n\n${rawLike}\n`);
  });

  it("finds exactly what a scan of every patch finds", async () => {
    const { patches, blobs } = await bothWays(repo.dir);
    expect(patches.findings.length).toBeGreaterThanOrEqual(12);
    expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
    expect(blobs.stats.commits).toBe(patches.stats.commits);
    const commits = new Set(blobs.findings.map((f) => f.commit));
    for (const name of ["leak", "renameLeak", "readd", "copy", "move", "feature", "merge", "branchCommit"])
      expect(commits, name).toContain(sha[name]);
    for (const name of ["unmerged", "tagged", "binaryText", "utf16", "message"])
      expect(commits, name).toContain(sha[name]);
    expect(commits).not.toContain(sha.pureRename);
  });

  it("places a commit message at its commit's position in the walk", async () => {
    const { blobs } = await bothWays(repo.dir);
    const messages = blobs.findings.filter((f) => f.file === "<commit message>");
    expect(messages.map((f) => f.commit)).toEqual(
      expect.arrayContaining([sha.message, sha.quotedMessage, sha.rawLikeMessage]),
    );
    const quoted = blobs.findings.filter((f) => f.commit === sha.quotedFile);
    expect(quoted).toHaveLength(1);
    const sameSecret = blobs.findings.filter((f) => f.secretHash === quoted[0]?.secretHash);
    // By file (messages first), the oldest first; the older message introduced it there (a fingerprint is
    // the rule, the secret and the file).
    expect(sameSecret.map((f) => [f.commit, f.introduced])).toEqual([
      [sha.quotedMessage, true],
      [sha.rawLikeMessage, false],
      [sha.quotedFile, true],
    ]);
  });

  it("reads each blob once per parent version, and leaves out paths as a patch scan does", async () => {
    const { patches, blobs } = await bothWays(repo.dir, { ignore: ["*.env", "copy/**"] });
    expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
    expect(blobs.findings.some((f) => f.file.endsWith(".env") || f.file.startsWith("copy/"))).toBe(false);
    // Every blob the history reaches, once each (the object store may hold unreachable ones too).
    const reached = repo.run("rev-list", "--objects", "--all", "--no-object-names").trim().split("\n");
    const types = execFileSync("git", ["cat-file", "--batch-check=%(objecttype)"], {
      cwd: repo.dir,
      env,
      input: `${reached.join("\n")}\n`,
      encoding: "utf8",
    });
    // Each blob is checked once per parent version it replaced (most blobs: once).
    const distinct = types.split("\n").filter((type) => type === "blob").length;
    expect(blobs.stats.files).toBeGreaterThanOrEqual(distinct);
    expect(blobs.stats.files).toBeLessThanOrEqual(distinct + 2);
  });

  it("checks blobs in lanes on worker threads with the same result", async () => {
    const git = GitRepository.prepare(repo.dir, env);
    const inline = await commitsWithDetections(git, ["--all"], [], engine);
    expect(inline).toMatchObject({ lanes: 1, threaded: false });
    for (const threads of [1, 3]) {
      const threaded = await commitsWithDetections(git, ["--all"], [], engine, {
        engineSettings: DEFAULT_ENGINE_SETTINGS,
        threads,
        threadsAfterObjects: 0,
      });
      expect(threaded).toMatchObject({ lanes: threads, threaded: true });
      expect([...threaded.ranks].sort()).toEqual([...inline.ranks].sort());
      expect(threaded.blobs).toBe(inline.blobs);
    }
    expect(inline.ranks.get(sha.merge as string)).toBeGreaterThan(0);
    // A small repository is checked on this thread, threads or not.
    const small = await commitsWithDetections(git, ["--all"], [], engine, {
      engineSettings: DEFAULT_ENGINE_SETTINGS,
      threads: 2,
    });
    expect(small).toMatchObject({ lanes: 1, threaded: false });
  });

  it("is how a whole history is read, unless patches are asked for; a range or --since reads patches", () => {
    expect(historyMethod({})).toBe("blobs");
    expect(historyMethod({ range: "main" })).toBe("patches");
    expect(historyMethod({ since: "2024-01-01" })).toBe("patches");
    expect(historyMethod({ range: "main" }, "blobs")).toBe("blobs");
    expect(historyMethod({}, "patches")).toBe("patches");
  });

  it("a range scanned by blobs finds what its patches find", async () => {
    const range = `${sha.fix}..main`;
    const patches = await scanHistory(repo.dir, { range }, engine, { env, method: "patches" });
    const blobs = await scanHistory(repo.dir, { range }, engine, { env, method: "blobs" });
    expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
    expect(blobs.findings.some((f) => f.commit === sha.leak)).toBe(false);
  });
});

describe("large blobs", () => {
  it("are checked in overlapping windows, so that a token across a window's edge is found", async () => {
    const repo = await createRepo(join(tmp.path, "large"), home);
    const line = (i: number) => `const value${i} = "${"x".repeat(40)}";\n`;
    const filler = Array.from({ length: 16000 }, (_, i) => line(i)).join("");
    const overlap = chunkOverlap(engine.compiled);
    const window = Math.max(64 * 1024, 4 * overlap);
    // Where windows end (each next one starts 2 * overlap earlier), and plain multiples of the window size.
    const step = window - 2 * overlap;
    const edges = [window, window + step, window + 2 * step, 2 * window, 3 * window];
    const token = t.githubPat();
    const commits: string[] = [];
    for (const [i, edge] of edges.entries()) {
      const at = edge - 20; // "key " and the token straddle the edge
      const text = `${filler.slice(0, at - 1)}\nkey ${token}\n${filler.slice(at + token.length + 5)}`;
      expect(text.indexOf(token)).toBeLessThan(edge);
      expect(text.indexOf(token) + token.length).toBeGreaterThan(edge);
      commits.push(await repo.commit({ [`big${i}.js`]: text }, `big ${i}`));
    }
    const clean = await repo.commit({ "clean.js": filler }, "no token");
    const git = GitRepository.prepare(repo.dir, env);
    const found = await commitsWithDetections(git, ["--all"], [], engine, { windowSize: window });
    expect([...found.ranks.keys()].sort()).toEqual([...commits].sort());
    expect(found.ranks.has(clean)).toBe(false);
    const { patches, blobs } = await bothWays(repo.dir);
    expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
    expect(blobs.findings).toHaveLength(edges.length);
  });
});

describe("the ring of recent blobs", () => {
  it("a parent version pushed out by the room its next version is read into is still what that version is compared with", async () => {
    // Eight blobs of one size fill a ring of eight times that size, so the next version of the first file is
    // read into the very bytes that held its parent. Compared with itself, its new line would look unchanged.
    const size = 4096;
    const pad = (text: string, fill: string) => text + fill.repeat(size - Buffer.byteLength(text));
    const repo = await createRepo(join(tmp.path, "ring"), home);
    const lines = Array.from({ length: 60 }, (_, i) => `setting${i} = ${i}\n`).join("");
    await repo.commit({ "a.txt": pad(`${lines}# end\n`, "#") }, "parent");
    for (let i = 0; i < 7; i++)
      await repo.commit({ [`other${i}.txt`]: pad("", String.fromCharCode(97 + i)) }, `o${i}`);
    const leak = await repo.commit(
      { "a.txt": pad(`${lines}key ${t.githubPat()}\n# end\n`, "#") },
      "next version, with a token",
    );
    const git = GitRepository.prepare(repo.dir, env);
    const found = await commitsWithDetections(git, ["--all"], [], engine, { cacheBytes: 8 * size });
    expect(found.cached).toBeGreaterThan(0);
    expect([...found.ranks.keys()]).toEqual([leak]);
  });
});

describe("ancestry", () => {
  it("the earliest occurrence is decided by ancestry, not by the commit clock, as in a patch scan", async () => {
    const repo = await createRepo(join(tmp.path, "skewed"), home);
    const token = t.githubPat();
    await repo.commit({ "ci.yml": "steps: []\n" }, "base", "1700000000 +0000");
    const leak = await repo.commit({ "ci.yml": `steps: []\nkey: ${token}\n` }, "leak", "1900000000 +0000");
    await repo.git.checkoutLocalBranch("fix");
    await repo.commit({ "ci.yml": "steps: []\n" }, "remove", "1500000000 +0000");
    const readd = await repo.commit({ "ci.yml": `steps: []\nkey: ${token}\n` }, "re-add", "1500000100 +0000");
    const { patches, blobs } = await bothWays(repo.dir);
    expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
    expect(blobs.findings.map((f) => [f.commit, f.introduced])).toEqual([
      [leak, true],
      [readd, false],
    ]);
  });
});

describe("errors", () => {
  it("a folder that is not a repository, and an abort, fail the scan by blobs as they fail a patch scan", async () => {
    await expect(scanHistory(tmp.path, {}, engine, { env, method: "blobs" })).rejects.toThrow(
      /is not a git repository/,
    );
    const repo = await createRepo(join(tmp.path, "abort"), home);
    await repo.commit({ "a.txt": "a\n" }, "a");
    const controller = new AbortController();
    controller.abort();
    await expect(
      scanHistory(repo.dir, {}, engine, { env, method: "blobs", signal: controller.signal }),
    ).rejects.toThrow();
  });
});

describe("changedRegion", () => {
  /** The new-file line numbers git's diff shows as added. */
  function addedLines(previous: string, next: string, algorithm: string): number[] {
    const a = join(tmp.path, "region-a");
    const b = join(tmp.path, "region-b");
    writeFileSync(a, previous);
    writeFileSync(b, next);
    const out = spawnSync("git", ["diff", "--no-index", "-U0", "--no-color", ...algorithm.split(" "), a, b], {
      env,
      encoding: "utf8",
    }).stdout;
    const added: number[] = [];
    let line = 0;
    for (const text of out.split("\n")) {
      const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(text);
      if (hunk) line = Number(hunk[1]);
      else if (text.startsWith("+") && !text.startsWith("+++")) added.push(line++);
    }
    return added;
  }

  it("holds every line git's diff adds, with repeated lines that make git slide a change", () => {
    const rng = new SeededRandom(4242);
    const alphabet = ["a\n", "b\n", "\n", "a\n", "  x = 1\n", "}\n", "c"];
    const text = (n: number) =>
      Array.from({ length: n }, () => alphabet[rng.below(alphabet.length)]).join("");
    let checked = 0;
    for (let round = 0; round < 250; round++) {
      const previous = text(rng.below(14));
      // An edit: lines inserted, removed or replaced somewhere, now and then a missing last newline.
      const lines = previous.split(/(?<=\n)/).filter((l) => l !== "");
      const at = rng.below(lines.length + 1);
      lines.splice(at, rng.below(3), ...text(rng.below(4)).split(/(?<=\n)/));
      const next = lines.join("");
      const region = changedRegion(Buffer.from(previous), Buffer.from(next));
      const firstLine = next.slice(0, region.start).split("\n").length;
      const lastLine = firstLine + next.slice(region.start, region.end).split("\n").length - 1;
      // What the patch scan pins (LOG_PATCH_ARGS), with git's indent heuristic on (its default) and off.
      for (const algorithm of ["--diff-algorithm=myers", "--diff-algorithm=myers --no-indent-heuristic"]) {
        for (const line of addedLines(previous, next, algorithm)) {
          checked++;
          expect(
            line,
            `${JSON.stringify(previous)} -> ${JSON.stringify(next)} (${algorithm})`,
          ).toBeGreaterThanOrEqual(firstLine);
          expect(
            line,
            `${JSON.stringify(previous)} -> ${JSON.stringify(next)} (${algorithm})`,
          ).toBeLessThanOrEqual(lastLine);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("is empty when lines were only removed, and small for a small edit in a large file", () => {
    const big = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join("");
    expect(changedRegion(Buffer.from(big), Buffer.from(big.replace("line 1000\n", "")))).toMatchObject({
      start: big.indexOf("line 1000\n"),
    });
    const edited = big.replace("line 1000\n", "line 1000 changed\n");
    const region = changedRegion(Buffer.from(big), Buffer.from(edited));
    expect(edited.slice(region.start, region.end)).toBe("line 1000 changed\n");
  });

  it("finds the edited line exactly wherever one byte changed, near or far from either end", () => {
    const rng = new SeededRandom(77);
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${rng.chars("abcdef", 8)}\n`).join("");
    const previous = Buffer.from(text);
    const ats = [
      0,
      1,
      63,
      64,
      65,
      4095,
      70_000,
      previous.length - 2,
      ...Array.from({ length: 40 }, () => rng.below(previous.length)),
    ];
    for (const at of ats) {
      if (previous[at] === 10) continue;
      const next = Buffer.from(previous);
      next[at] = 0x5a; // "Z": no line holds one
      const region = changedRegion(previous, next);
      const lineStart = text.lastIndexOf("\n", at - 1) + 1;
      expect(region, `byte ${at}`).toEqual({ start: lineStart, end: text.indexOf("\n", at) + 1 });
    }
  });
});

describe("random histories", () => {
  it("give the same findings read by blobs and by patches: edits, moves, merges, repeated lines and tokens", async () => {
    const rng = new SeededRandom(1313);
    const secrets = [t.githubPat(), t.githubPat(), t.adoPat()];
    // Few distinct lines, so that git slides changes across equal ones; tokens on their own lines and inside.
    const pool = [
      "",
      "}",
      "  return x;",
      "a",
      "a",
      "# notes",
      ...secrets.map((s) => `key: ${s}`),
      `x ${secrets[0]} y`,
    ];
    const line = () => pool[rng.below(pool.length)] as string;
    for (let seed = 0; seed < 3; seed++) {
      const dir = join(tmp.path, `random-${seed}`);
      const repo = await createRepo(dir, home);
      const files: Record<string, string[]> = { "a.txt": [], "b.yml": [], "c/d.env": [] };
      const names = Object.keys(files);
      let stream = "";
      let mark = 0;
      let time = 1_700_000_000;
      const commit = (branch: string, from: number, merge: number) => {
        mark++;
        const path = names[rng.below(names.length)] as string;
        const lines = files[path] as string[];
        const at = rng.below(lines.length + 1);
        lines.splice(at, rng.below(3), ...Array.from({ length: rng.below(5) }, line));
        const body = lines.join("\n") + (rng.below(4) === 0 ? "" : "\n");
        stream += `commit refs/heads/${branch}\nmark :${mark}\ncommitter A <a@example.com> ${time++} +0000\n`;
        stream += `data 2\nc\n${from ? `from :${from}\n` : ""}${merge ? `merge :${merge}\n` : ""}`;
        stream += `M 100644 inline ${path}\ndata ${Buffer.byteLength(body)}\n${body}\n\n`;
        return mark;
      };
      let main = commit("main", 0, 0);
      for (let i = 0; i < 40; i++) {
        if (i % 10 === 5) {
          let side = main;
          for (let j = 0; j < 3; j++) side = commit(`side${i}`, side, 0);
          main = commit("main", main, 0);
          main = commit("main", main, side); // a merge that changes one file of its own
        } else main = commit("main", main, 0);
      }
      fastImport(dir, home, `${stream}done\n`);
      const { patches, blobs } = await bothWays(repo.dir);
      expect(blobs.findings.map(described)).toEqual(patches.findings.map(described));
      expect(patches.findings.length).toBeGreaterThan(0);
    }
  });
});
