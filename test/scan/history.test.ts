import { execFileSync } from "node:child_process";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanHistory, scanPush, scanRange, scanStaged } from "../../src/scan/history.js";
import { createEngine, DEFAULT_ENGINE_SETTINGS } from "../../src/scan/settings.js";
import type { Finding } from "../../src/scan/types.js";
import { tempDir } from "../support/cli.js";
import { createRepo, fastImport, type TestRepo, testGitEnv, writeFile, ZERO } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(303);
const engine = createEngine(DEFAULT_ENGINE_SETTINGS);
const tmp = tempDir();
const home = join(tmp.path, "home");
afterAll(tmp.remove);

/** The CLI would inherit these; the library gets them explicitly, as the GitHub App would pass its own. */
const env = testGitEnv(home);
const where = (f: Finding) => `${f.ruleId} ${f.file}:${f.line} ${f.commit ?? "-"}`;

async function repoNamed(name: string, options: { bare?: boolean } = {}): Promise<TestRepo> {
  return createRepo(join(tmp.path, name), home, options);
}

describe("scanHistory", () => {
  const pat = t.adoPat();
  const github = t.githubPat();
  let repo: TestRepo;
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    repo = await repoNamed("history");
    sha.base = await repo.commit({ "config.yml": "name: app\nregion: eu\n" }, "base");
    sha.leak = await repo.commit(
      { "config.yml": `name: app\nregion: eu\npat: ${pat}\n` },
      "add the pipeline token",
    );
    sha.fix = await repo.commit({ "config.yml": "name: app\nregion: eu\n" }, "remove the token");
    await repo.git.mv("config.yml", "deploy.yml");
    sha.renameLeak = await repo.commit(
      { "deploy.yml": `name: app\nregion: eu\nowner: ops\nnote: x\ngh: ${github}\n` },
      "rename, and leak another",
    );
    await repo.git.mv("deploy.yml", "pipeline.yml");
    sha.pureRename = await repo.commit({}, "pure rename");
    sha.drop = await repo.commit({ "pipeline.yml": "name: app\n" }, "drop it");
    sha.readd = await repo.commit({ "pipeline.yml": `gh: ${github}\nname: app\n` }, "bring it back");
    sha.dropAgain = await repo.commit({ "pipeline.yml": "name: app\n" }, "drop it again");
    sha.again = await repo.commit({ "pipeline.yml": `name: app\ngh: ${github}\n` }, "and back again");
  });

  it("finds a token that a later commit deleted, at the commit, line, author and date that added it", async () => {
    const { findings, stats } = await scanHistory(repo.dir, {}, engine, { env });
    const added = findings.find((f) => f.ruleId === "azure-devops-pat");
    expect(added).toMatchObject({
      file: "config.yml",
      line: 3,
      column: 6,
      commit: sha.leak,
      author: "Ada Lovelace <ada@example.com>",
      introduced: true,
    });
    expect(added?.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(findings.filter((f) => f.ruleId === "azure-devops-pat")).toHaveLength(1);
    expect(stats.commits).toBe(9);
  });

  it("follows renames: a token added while renaming is found under the new path; a pure rename adds nothing", async () => {
    const { findings } = await scanHistory(repo.dir, {}, engine, { env });
    const github = findings.filter((f) => f.ruleId === "github-pat");
    expect(github.map(where)).toEqual([
      `github-pat deploy.yml:5 ${sha.renameLeak}`,
      `github-pat pipeline.yml:1 ${sha.readd}`,
      `github-pat pipeline.yml:2 ${sha.again}`,
    ]);
    expect(github.some((f) => f.commit === sha.pureRename)).toBe(false);
  });

  it("one secret added in several commits: one fingerprint, several occurrences, the earliest introduced", async () => {
    const { findings } = await scanHistory(repo.dir, {}, engine, { env });
    const inPipeline = findings.filter((f) => f.file === "pipeline.yml");
    expect(new Set(inPipeline.map((f) => f.fingerprint)).size).toBe(1);
    expect(inPipeline.map((f) => [f.commit, f.introduced])).toEqual([
      [sha.readd, true],
      [sha.again, false],
    ]);
  });

  it("the earliest occurrence is decided by ancestry, not by the commit clock", async () => {
    const skewed = await repoNamed("skewed");
    const token = t.githubPat();
    await skewed.commit({ "ci.yml": "steps: []\n" }, "base", "1700000000 +0000");
    const leak = await skewed.commit({ "ci.yml": `steps: []\nkey: ${token}\n` }, "leak", "1900000000 +0000");
    await skewed.git.checkoutLocalBranch("fix");
    await skewed.commit({ "ci.yml": "steps: []\n" }, "remove", "1500000000 +0000");
    const readd = await skewed.commit(
      { "ci.yml": `steps: []\nkey: ${token}\n` },
      "re-add",
      "1500000100 +0000",
    );
    const { findings } = await scanHistory(skewed.dir, {}, engine, { env });
    expect(findings.map((f) => [f.commit, f.introduced])).toEqual([
      [leak, true],
      [readd, false],
    ]);
  });

  it("--range and --since bound the commits", async () => {
    const range = await scanHistory(repo.dir, { range: `${sha.fix}..${sha.readd}` }, engine, { env });
    expect(range.stats.commits).toBe(4);
    expect(range.findings.map((f) => f.commit)).toEqual([sha.renameLeak, sha.readd]);
    const recent = await scanHistory(repo.dir, { since: "2000-01-01" }, engine, { env });
    expect(recent.stats.commits).toBe(9);
    const future = await scanHistory(repo.dir, { since: "2999-01-01" }, engine, { env });
    expect(future.stats.commits).toBe(0);
  });

  it("stops git when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(scanHistory(repo.dir, {}, engine, { env, signal: controller.signal })).rejects.toThrow(
      /abort/i,
    );
  });

  it("says what is wrong with a bad range or folder", async () => {
    await expect(scanHistory(repo.dir, { range: "nope..main" }, engine, { env })).rejects.toThrow(
      /the range "nope\.\.main" does not resolve in .*: bad revision 'nope\.\.main'/,
    );
    await expect(scanHistory(repo.dir, { range: "--all" }, engine, { env })).rejects.toThrow(
      /is not a revision range/,
    );
    await expect(scanHistory(tmp.path, {}, engine, { env })).rejects.toThrow(/is not a git repository/);
  });
});

describe("merges", () => {
  it("scans a conflict resolution's own lines; a plain merge adds nothing", async () => {
    const repo = await repoNamed("merges");
    const resolved = t.adoPat();
    const branchToken = t.githubPat();
    await repo.commit({ "app.env": "A=1\nB=2\nC=3\n" }, "base");
    const sideToken = t.githubPat();
    await repo.git.checkoutLocalBranch("feature");
    const feature = await repo.commit({ "app.env": `A=1\nB=${sideToken}\nC=3\n` }, "feature");
    await repo.git.checkout("main");
    await repo.commit({ "app.env": "A=1\nB=main\nC=3\n" }, "main");
    await repo.git.merge(["feature"]).catch(() => undefined); // conflicts
    // The resolution keeps the feature's line (found in the feature commit) and adds a line of its own.
    const merge = await repo.commit(
      { "app.env": `A=1\nB=${sideToken}\nTOKEN=${resolved}\nC=3\n` },
      "merge feature",
    );

    await repo.git.checkoutLocalBranch("tokens");
    const branchCommit = await repo.commit({ "keys.txt": `${branchToken}\n` }, "branch adds a token");
    await repo.git.checkout("main");
    await repo.commit({ "other.txt": "x\n" }, "main moves on");
    await repo.git.merge(["--no-edit", "tokens"]);
    const plainMerge = await repo.head();

    const { findings } = await scanHistory(repo.dir, {}, engine, { env });
    expect(findings.map(where).sort()).toEqual(
      [
        `azure-devops-pat app.env:3 ${merge}`,
        `github-pat app.env:2 ${feature}`,
        `github-pat keys.txt:1 ${branchCommit}`,
      ].sort(),
    );
    expect(findings.some((f) => f.commit === plainMerge)).toBe(false);
  });
});

describe("what is skipped and counted", () => {
  it("binary files, lines above the size limit, ignored paths and submodule pointers", async () => {
    const repo = await repoNamed("skips");
    const token = t.githubPat();
    const first = await repo.commit(
      {
        "image.png": Buffer.concat([Buffer.from([0x89, 0, 1, 2]), Buffer.from(`${token}\n`)]),
        "big.txt": `${"x".repeat(5000)}\n${token}\n`,
        "fixtures/sample.txt": `${token}\n`,
        "small.txt": `${token}\n`,
      },
      "mixed",
    );
    repo.run("update-index", "--add", "--cacheinfo", `160000,${first},vendor/lib`);
    repo.run("commit", "--quiet", "-m", "submodule");
    const options = { env, maxFileSize: 1000, ignore: ["fixtures/**"] };
    // The patch parser's own counts: a scan by blobs counts blobs, and skips only in the commits it chose.
    const { findings, stats } = await scanHistory(repo.dir, {}, engine, { ...options, method: "patches" });
    // big.txt: its 5000-byte line cannot be held and is counted; the rest of the change is still scanned.
    expect(findings.map((f) => `${f.file}:${f.line}`)).toEqual(["big.txt:2", "small.txt:1"]);
    expect(stats.skippedBy).toEqual({ binary: 1, tooLarge: 1, unreadable: 0, ignored: 1 });
    expect(stats).toMatchObject({ files: 2, skipped: 3, commits: 2 });
    const byBlobs = await scanHistory(repo.dir, {}, engine, { ...options, method: "blobs" });
    expect(byBlobs.findings).toEqual(findings);
    // small.txt and fixtures/sample.txt hold the same bytes: one blob, read once.
    expect(byBlobs.stats).toMatchObject({ files: 3, skipped: 3, commits: 2, blobs: true });
  });
});

describe("a file whose old version was binary, or that .gitattributes calls binary", () => {
  it("scans the added text in history, a push range and the staged changes alike", async () => {
    const repo = await repoNamed("was-binary");
    const base = await repo.commit(
      { "creds.env": Buffer.from("x\0y\n"), "image.bin": Buffer.from([1, 0, 2]) },
      "binary",
    );
    const token = t.githubPat();
    const marked = t.githubPat();
    const leak = await repo.commit(
      {
        "creds.env": `TOKEN=${token}\n`,
        ".gitattributes": "*.secret -diff\n",
        "app.secret": `KEY=${marked}\n`,
        "image.bin": Buffer.from([1, 0, 2, 3, 0]),
      },
      "decrypted",
    );
    const expected = [`github-pat app.secret:1 ${leak}`, `github-pat creds.env:1 ${leak}`];
    const history = await scanHistory(repo.dir, {}, engine, { env, method: "patches" });
    expect(history.findings.map(where)).toEqual(expected);
    expect(history.stats.skippedBy.binary).toBe(3); // both in the first commit, image.bin again: by new content
    const byBlobs = await scanHistory(repo.dir, {}, engine, { env, method: "blobs" });
    expect(byBlobs.findings).toEqual(history.findings);
    const range = await scanRange(repo.dir, { before: base, after: leak }, engine, { env });
    expect(range.findings.map(where)).toEqual(expected);

    await repo.commit(
      { "creds.env": Buffer.from("x\0y\n"), "app.secret": Buffer.from("\0") },
      "binary again",
    );
    writeFile(repo.dir, "creds.env", `TOKEN=${token}\n`);
    writeFile(repo.dir, "app.secret", `KEY=${marked}\n`);
    await repo.git.add(["creds.env", "app.secret"]);
    const staged = await scanStaged(repo.dir, engine, { env });
    expect(staged.findings.map(where)).toEqual(["github-pat app.secret:1 -", "github-pat creds.env:1 -"]);
  });

  it("scans the bytes committed, not what a textconv driver renders of them", async () => {
    const repo = await repoNamed("textconv");
    // Set with git itself: simple-git refuses textconv settings, for good reason.
    execFileSync("git", ["-C", repo.dir, "config", "diff.hide.textconv", "sed s/./x/g"]);
    const token = t.githubPat();
    const leak = await repo.commit(
      { ".gitattributes": "*.vault diff=hide\n", "prod.vault": `TOKEN=${token}\n` },
      "vault",
    );
    const history = await scanHistory(repo.dir, {}, engine, { env });
    expect(history.findings.map(where)).toEqual([`github-pat prod.vault:1 ${leak}`]);
  });

  it("asks the blob when a NUL among added lines leaves it open, and skips a binary new side", async () => {
    const repo = await repoNamed("binary-edit");
    const head = Buffer.alloc(9000, 0x61);
    head[100] = 0; // binary by git's rule, the NUL far from the edited lines
    const tail = (extra: string) => Buffer.concat([head, Buffer.from(`\nkeep\n${extra}\0\n`)]);
    await repo.commit({ "blob.dat": tail("one") }, "binary");
    await repo.commit({ "blob.dat": tail(`two ${t.githubPat()}`) }, "still binary");
    const textHead = Buffer.alloc(9000, 0x62);
    await repo.commit({ "text.txt": Buffer.concat([textHead, Buffer.from("\nkeep\n")]) }, "text");
    const token = t.githubPat();
    const edit = await repo.commit(
      { "text.txt": Buffer.concat([textHead, Buffer.from(`\nkeep\n\0 ${token}\n`)]) },
      "a NUL past the first 8000 bytes",
    );
    const { findings, stats } = await scanHistory(repo.dir, {}, engine, { env, method: "patches" });
    expect(findings.map(where)).toEqual([`github-pat text.txt:3 ${edit}`]);
    expect(stats.skippedBy.binary).toBe(2);
    const byBlobs = await scanHistory(repo.dir, {}, engine, { env, method: "blobs" });
    expect(byBlobs.findings).toEqual(findings);
    expect(byBlobs.stats.skippedBy.binary).toBe(1); // the binary version that holds a token
  });
});

describe("UTF-16 files in history", () => {
  it("are decoded: a new file, an edit in the middle, a staged change; LE and BE", async () => {
    const repo = await repoNamed("utf16");
    const utf16 = (text: string, kind: "le" | "be") => {
      const le = Buffer.from(`\ufeff${text}`, "utf16le");
      return kind === "le" ? le : le.swap16();
    };
    const lines = Array.from({ length: 30 }, (_, i) => `setting${i}=value${i}\r\n`);
    const first = t.githubPat();
    const created = await repo.commit(
      {
        "le.env": utf16(`${lines.join("")}TOKEN=${first}\r\n`, "le"),
        "be.env": utf16(`${lines.join("")}TOKEN=${first}\r\n`, "be"),
      },
      "PowerShell wrote these",
    );
    const second = t.githubPat();
    const edited = [...lines.slice(0, 10), `OTHER=${second}\r\n`, ...lines.slice(10)].join("");
    const edit = await repo.commit(
      {
        "le.env": utf16(`${edited}TOKEN=${first}\r\n`, "le"),
        "be.env": utf16(`${edited}TOKEN=${first}\r\n`, "be"),
      },
      "one more",
    );
    const { findings, stats } = await scanHistory(repo.dir, {}, engine, { env });
    expect(findings.map((f) => `${where(f)}:${f.column}`)).toEqual([
      `github-pat be.env:31 ${created}:7`,
      `github-pat be.env:11 ${edit}:7`,
      `github-pat le.env:31 ${created}:7`,
      `github-pat le.env:11 ${edit}:7`,
    ]);
    expect(findings[1]?.secret.reveal()).toBe(second);
    expect(stats.skippedBy.binary).toBe(0);

    const third = t.githubPat();
    writeFileSync(join(repo.dir, "le.env"), utf16(`${edited}TOKEN=${first}\r\nNEW=${third}\r\n`, "le"));
    await repo.git.add(["le.env"]);
    const staged = await scanStaged(repo.dir, engine, { env });
    expect(staged.findings.map((f) => `${f.file}:${f.line}:${f.column}`)).toEqual(["le.env:33:5"]);
  });
});

describe("scanRange: what a push brought in", () => {
  let repo: TestRepo;
  const sha: Record<string, string> = {};
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    repo = await repoNamed("pushes");
    for (const name of ["a", "b", "c", "d", "e", "f", "tag"]) tok[name] = t.githubPat();
    sha.a = await repo.commit({ "a.txt": `${tok.a}\n` }, "a");
    sha.b = await repo.commit({ "b.txt": `${tok.b}\n` }, "b");
    await repo.git.branch(["stable"]);
    sha.c = await repo.commit({ "c.txt": `${tok.c}\n` }, "c");
    // Rewrite main: c is replaced by d (a force push's after).
    repo.run("reset", "--quiet", "--hard", sha.b as string);
    sha.d = await repo.commit({ "d.txt": `${tok.d}\n` }, "d");
    // A commit only a new branch points at, on top of stable.
    repo.run("checkout", "--quiet", "-b", "topic", "stable");
    sha.e = await repo.commit({ "e.txt": `${tok.e}\n` }, "e");
    // A commit no ref points at yet (what a push of new refs brings).
    sha.f = await repo.commit({ "f.txt": `${tok.f}\n` }, "f");
    repo.run("reset", "--quiet", "--hard", sha.e as string);
    await repo.git.checkout("main");
  });

  const files = (findings: Finding[]) => findings.map((f) => f.file).sort();

  it("a normal push: before..after", async () => {
    const result = await scanRange(
      repo.dir,
      { before: sha.a as string, after: sha.d as string, ref: "refs/heads/main" },
      engine,
      { env },
    );
    expect(result.kind).toBe("update");
    expect(files(result.findings)).toEqual(["b.txt", "d.txt"]);
    expect(result.stats.commits).toBe(2);
  });

  it("excludeOtherRefs (a pre-receive hook): an update leaves out what other refs already reach", async () => {
    const update = { before: sha.a as string, after: sha.d as string, ref: "refs/heads/main" };
    const result = await scanRange(repo.dir, update, engine, { env, excludeOtherRefs: true });
    expect(result.kind).toBe("update");
    expect(files(result.findings)).toEqual(["d.txt"]); // b is on stable already
  });

  it("a force push: what after has and before had not, never the rewritten commits", async () => {
    const result = await scanRange(
      repo.dir,
      { before: sha.c as string, after: sha.d as string, ref: "refs/heads/main" },
      engine,
      { env },
    );
    expect(result.kind).toBe("update");
    expect(files(result.findings)).toEqual(["d.txt"]);
  });

  it("a force push over a commit this repository never had: reachable from after and from no other ref", async () => {
    const result = await scanRange(
      repo.dir,
      { before: "1".repeat(40), after: sha.d as string, ref: "refs/heads/main" },
      engine,
      { env },
    );
    expect(result.kind).toBe("unknown-before");
    expect(files(result.findings)).toEqual(["d.txt"]);
  });

  it("a new branch: only the commits no other ref reaches", async () => {
    const result = await scanRange(
      repo.dir,
      { before: ZERO, after: sha.e as string, ref: "refs/heads/topic" },
      engine,
      { env },
    );
    expect(result.kind).toBe("create");
    expect(files(result.findings)).toEqual(["e.txt"]);
    expect(result.stats.commits).toBe(1);
  });

  it("a new tag: on a known commit nothing, on a new commit that commit (annotated tags peeled)", async () => {
    repo.run("tag", "-a", "-m", "release", "v1", sha.d as string);
    const known = repo.run("rev-parse", "v1").trim();
    const onKnown = await scanRange(repo.dir, { before: ZERO, after: known, ref: "refs/tags/v1" }, engine, {
      env,
    });
    expect(onKnown).toMatchObject({ kind: "create", findings: [] });
    repo.run("checkout", "--quiet", "--detach", sha.d as string);
    const tagged = await repo.commit({ "tag.txt": `${tok.tag}\n` }, "only a tag points here");
    repo.run("tag", "-a", "-m", "hotfix", "v2", tagged);
    repo.run("checkout", "--quiet", "main");
    const tagObject = repo.run("rev-parse", "v2").trim();
    expect(tagObject).not.toBe(tagged);
    const onNew = await scanRange(repo.dir, { before: ZERO, after: tagObject, ref: "refs/tags/v2" }, engine, {
      env,
    });
    expect(onNew.findings.map((f) => [f.file, f.commit])).toEqual([["tag.txt", tagged]]);
  });

  it("a deletion: nothing", async () => {
    const result = await scanRange(
      repo.dir,
      { before: sha.e as string, after: ZERO, ref: "refs/heads/topic" },
      engine,
      { env },
    );
    expect(result).toMatchObject({ kind: "delete", findings: [], stats: { commits: 0, files: 0 } });
  });

  it("several refs in one push: a commit reachable from two of them is scanned once", async () => {
    const result = await scanPush(
      repo.dir,
      [
        { before: ZERO, after: sha.f as string, ref: "refs/heads/copy-1" },
        { before: ZERO, after: sha.f as string, ref: "refs/heads/copy-2" },
      ],
      engine,
      { env },
    );
    expect(result.kinds).toEqual(["create", "create"]);
    expect(files(result.findings)).toEqual(["f.txt"]);
    expect(result.stats.commits).toBe(1);
  });

  it("works in a bare repository", async () => {
    const bare = join(tmp.path, "pushes.git");
    repo.run("clone", "--quiet", "--bare", repo.dir, bare);
    const result = await scanRange(
      bare,
      { before: sha.a as string, after: sha.d as string, ref: "refs/heads/main" },
      engine,
      { env },
    );
    expect(files(result.findings)).toEqual(["b.txt", "d.txt"]);
  });

  it("a commit that is not in the repository is an error that says to fetch it", async () => {
    await expect(
      scanRange(repo.dir, { before: ZERO, after: "2".repeat(40), ref: "refs/heads/x" }, engine, { env }),
    ).rejects.toThrow(/commit 2{40} is not in .*; fetch it before scanning the push/);
  });
});

describe("a branch of 2,500 commits (more than a push payload lists)", () => {
  it("is scanned whole, and only it", async () => {
    const repo = await repoNamed("long");
    const old = t.githubPat();
    const first = t.adoPat();
    const last = t.githubPat();
    const base = await repo.commit({ "old.txt": `${old}\n` }, "base");
    let stream = "";
    for (let i = 1; i <= 2500; i++) {
      const content = `step ${i}\n`;
      stream += `commit refs/heads/long\nmark :${i}\ncommitter Ada Lovelace <ada@example.com> ${1_700_000_000 + i} +0000\ndata 0\n`;
      stream += i === 1 ? `from ${base}\n` : `from :${i - 1}\n`;
      stream += `M 100644 inline counter.txt\ndata ${content.length}\n${content}\n`;
      if (i === 1 || i === 2500) {
        const secret = `token: ${i === 1 ? first : last}\n`;
        stream += `M 100644 inline secrets/${i}.yml\ndata ${secret.length}\n${secret}\n`;
      }
    }
    fastImport(repo.dir, home, stream);
    const tip = repo.run("rev-parse", "long").trim();
    const result = await scanRange(repo.dir, { before: ZERO, after: tip, ref: "refs/heads/long" }, engine, {
      env,
    });
    expect(result.stats.commits).toBe(2500);
    expect(result.stats.files).toBe(2502);
    expect(result.findings.map((f) => `${f.file}:${f.line}`).sort()).toEqual([
      "secrets/1.yml:1",
      "secrets/2500.yml:1",
    ]);
  });
});

describe("the environment of git children", () => {
  it("reaches git: objects only visible through GIT_OBJECT_DIRECTORY / GIT_ALTERNATE_OBJECT_DIRECTORIES (a quarantine)", async () => {
    const server = await repoNamed("server");
    await server.commit({ "readme.md": "hello\n" }, "base");
    const incoming = join(tmp.path, "incoming");
    server.run("clone", "--quiet", server.dir, incoming);
    const client = await import("../support/git.js").then((m) => m.wrapRepo(incoming, home));
    const token = t.githubPat();
    const pushed = await client.commit({ "leak.txt": `${token}\n` }, "leak");
    const quarantine = join(tmp.path, "quarantine-objects");
    cpSync(join(incoming, ".git", "objects"), quarantine, { recursive: true });
    rmSync(incoming, { recursive: true, force: true });
    const update = { before: await server.head(), after: pushed, ref: "refs/heads/main" };

    await expect(scanRange(server.dir, update, engine, { env })).rejects.toThrow(/is not in/);
    const result = await scanRange(server.dir, update, engine, {
      env: {
        ...env,
        GIT_OBJECT_DIRECTORY: quarantine,
        GIT_ALTERNATE_OBJECT_DIRECTORIES: join(server.dir, ".git", "objects"),
      },
    });
    expect(result.findings.map((f) => [f.file, f.commit])).toEqual([["leak.txt", pushed]]);
  });

  it("a value the caller put in the environment never appears in an error", async () => {
    const repo = await repoNamed("secret-env");
    await repo.commit({ "a.txt": "a\n" }, "a");
    const credential = t.githubPat();
    // Git echoes a bad configuration value in its error: here, the caller's secret.
    const leaky = {
      ...env,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.bigFileThreshold",
      GIT_CONFIG_VALUE_0: credential,
    };
    const error = await scanHistory(repo.dir, {}, engine, { env: leaky }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("[hidden]");
    expect((error as Error).message).not.toContain(credential);
  });
});

describe("scanStaged", () => {
  it("scans what is staged, at its line in the staged file, and nothing else", async () => {
    const repo = await repoNamed("staged");
    const staged = t.githubPat();
    const unstaged = t.adoPat();
    await repo.commit({ "app.ts": "one\ntwo\n" }, "base");
    writeFile(repo.dir, "app.ts", `one\ntwo\nconst key = "${staged}";\n`);
    await repo.git.add("app.ts");
    writeFile(repo.dir, "later.ts", `pat = "${unstaged}"\n`);
    const { findings, stats } = await scanStaged(repo.dir, engine, { env });
    expect(findings.map((f) => [f.file, f.line, f.commit])).toEqual([["app.ts", 3, undefined]]);
    expect(stats.commits).toBeUndefined();
  });

  it("works before the first commit", async () => {
    const repo = await repoNamed("unborn");
    writeFile(repo.dir, "first.txt", `${t.githubPat()}\n`);
    await repo.git.add(".");
    expect((await scanStaged(repo.dir, engine, { env })).findings).toHaveLength(1);
  });
});
