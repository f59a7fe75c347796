import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli, tempDir } from "../support/cli.js";
import { createRepo, type TestRepo, testGitEnv, wrapRepo, writeFile } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(777);
const pat = t.adoPat();
const github = t.githubPat();
const tmp = tempDir();
const home = join(tmp.path, "home");
let repo: TestRepo;
const sha: Record<string, string> = {};
afterAll(tmp.remove);

beforeAll(async () => {
  repo = await createRepo(join(tmp.path, "app"), home);
  sha.base = await repo.commit({ "deploy.yml": "stage: prod\n" }, "base");
  sha.leak = await repo.commit(
    { "deploy.yml": `stage: prod\nAZURE_DEVOPS_EXT_PAT: ${pat}\n`, "fixtures/gh.txt": `${github}\n` },
    "deploy with a token",
  );
  sha.fix = await repo.commit({ "deploy.yml": "stage: prod\n" }, "remove the token");
});

const json = (stdout: string) => JSON.parse(stdout);

describe("leakwarden scan --git", () => {
  it("scans every commit and reports the adding commit, author, date and line", () => {
    const result = runCli(["scan", "--git", repo.dir, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = json(result.stdout);
    expect(report.stats).toMatchObject({ commits: 3, files: 3, skipped: 0 });
    const found = report.findings.find((f: { ruleId: string }) => f.ruleId === "azure-devops-pat");
    expect(found).toMatchObject({
      file: "deploy.yml",
      line: 2,
      commit: sha.leak,
      author: "Ada Lovelace <ada@example.com>",
      introduced: true,
    });
    expect(found.date).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("prints text with the commit and a summary in commits", () => {
    const result = runCli(["scan", "--git"], { cwd: repo.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${(sha.leak as string).slice(0, 12)} 2:23`);
    // A whole history is read by blobs unless patches are asked for.
    expect(result.stdout).toMatch(
      /2 findings \(2 critical\) in 2 files; scanned 3 commits \(3 blobs checked, [\d.]+ B\)/,
    );
    const patches = runCli(["scan", "--git", "--history-scan", "patches"], { cwd: repo.dir });
    expect(patches.stdout).toContain(`${(sha.leak as string).slice(0, 12)} 2:23`);
    expect(patches.stdout).toMatch(/scanned 3 commits \(3 file changes, [\d.]+ B added\)/);
  });

  it("--history-scan blobs and patches give the same findings; --threads applies to blobs", () => {
    const scan = (...extra: string[]) => {
      const result = runCli(["scan", "--git", repo.dir, "--format", "json", ...extra]);
      expect(result.code).toBe(1);
      return json(result.stdout);
    };
    const blobs = scan("--history-scan", "blobs", "--threads", "2");
    const patches = scan("--history-scan", "patches");
    expect(blobs.findings).toEqual(patches.findings);
    expect(blobs.findings).toHaveLength(2);
    expect(blobs.stats).toMatchObject({ blobs: true, commits: 3 });
    expect(patches.stats.blobs).toBeUndefined();
    expect(scan().stats.blobs).toBe(true); // auto reads a whole history by blobs
    const range = runCli(["scan", "--range", `${sha.base}..HEAD`, repo.dir, "--format", "json"]);
    expect(json(range.stdout).stats.blobs).toBeUndefined();
    const rangeByBlobs = runCli([
      "scan",
      "--range",
      `${sha.base}..HEAD`,
      "--history-scan",
      "blobs",
      repo.dir,
      "--format",
      "json",
    ]);
    expect(json(rangeByBlobs.stdout).findings).toEqual(json(range.stdout).findings);
  });

  it("--range and --since", () => {
    expect(runCli(["scan", "--range", `${sha.fix}..HEAD`, repo.dir]).code).toBe(0);
    const range = runCli(["scan", "--range", `${sha.base}..${sha.leak}`, repo.dir, "--format", "json"]);
    expect(json(range.stdout).stats.commits).toBe(1);
    const since = runCli(["scan", "--since", "2999-01-01", repo.dir]);
    expect(since).toMatchObject({ code: 0 });
    expect(since.stdout).toMatch(/scanned 0 commits/);
  });

  it("--baseline, --exclude and .leakwarden.yml apply to history too", () => {
    const baseline = join(tmp.path, "history-baseline.json");
    expect(runCli(["scan", "--git", repo.dir, "--format", "json", "--output", baseline]).code).toBe(1);
    expect(runCli(["scan", "--git", repo.dir, "--baseline", baseline]).code).toBe(0);
    const excluded = json(
      runCli(["scan", "--git", repo.dir, "--exclude", "fixtures/**", "--format", "json"]).stdout,
    );
    expect(excluded.findings.map((f: { file: string }) => f.file)).toEqual(["deploy.yml"]);
    expect(excluded.stats.skippedBy.ignored).toBe(1);
    writeFileSync(join(repo.dir, ".leakwarden.yml"), "rules:\n  disable: [azure-devops-pat]\n");
    try {
      const configured = json(runCli(["scan", "--git", repo.dir, "--format", "json"]).stdout);
      expect(configured.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(["github-pat"]);
    } finally {
      writeFileSync(join(repo.dir, ".leakwarden.yml"), "");
    }
  });

  it("runs git directly where coreutils' stdbuf is missing or broken", () => {
    const bin = join(tmp.path, "bin");
    mkdirSync(bin, { recursive: true });
    const git = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
    symlinkSync(git, join(bin, "git"));
    const expected = json(runCli(["scan", "--git", repo.dir, "--format", "json"]).stdout).findings;
    const without = runCli(["scan", "--git", repo.dir, "--format", "json"], { env: { PATH: bin } });
    expect(json(without.stdout).findings).toEqual(expected);
    writeFileSync(join(bin, "stdbuf"), "#!/bin/sh\nexit 125\n", { mode: 0o755 });
    const broken = runCli(["scan", "--git", repo.dir, "--format", "json"], { env: { PATH: bin } });
    expect(json(broken.stdout).findings).toEqual(expected);
  });

  it("never prints the secrets, in any format, read by patches or by blobs", () => {
    for (const [format, method] of ["text", "json", "sarif"].flatMap((f) => [
      [f, "patches"],
      [f, "blobs"],
    ])) {
      const result = runCli([
        "scan",
        "--git",
        repo.dir,
        "--format",
        format as string,
        "--history-scan",
        method as string,
      ]);
      expect(result.code).toBe(1);
      for (const secret of [pat, github]) {
        expect(result.stdout).not.toContain(secret);
        expect(result.stderr).not.toContain(secret);
      }
    }
  });
});

describe("leakwarden scan --staged", () => {
  it("reports what is staged, not what is only in the working tree", async () => {
    const work = await createRepo(join(tmp.path, "staged"), home);
    await work.commit({ "a.txt": "a\n" }, "a");
    writeFile(work.dir, "a.txt", `a\n${t.githubPat()}\n`);
    expect(runCli(["scan", "--staged", work.dir]).code).toBe(0);
    await work.git.add("a.txt");
    const result = runCli(["scan", "--staged", work.dir, "--format", "json"]);
    expect(result.code).toBe(1);
    expect(json(result.stdout).findings[0]).toMatchObject({ file: "a.txt", line: 2 });
    expect(json(result.stdout).findings[0].commit).toBeUndefined();
  });
});

describe("errors exit 2 with one line", () => {
  it.each([
    [["scan", "--git", "/no/such/repo"], /"\/no\/such\/repo" does not exist/],
    [["scan", "--git", "{tmp}"], /is not a git repository/],
    [["scan", "--range", "nope..HEAD", "{repo}"], /the range "nope\.\.HEAD" does not resolve/],
    [["scan", "--git", "--staged", "{repo}"], /--git and --staged cannot be combined/],
    [["scan", "--git", "{repo}", "{repo}"], /a git scan takes one repository folder/],
    [["scan", "--staged", "--threads", "2", "{repo}"], /--threads applies to file scans and to git history/],
    [["scan", "--git", "--history-scan", "patches", "--threads", "2", "{repo}"], /--threads applies/],
    [["scan", "--git", "--history-scan", "diff", "{repo}"], /--history-scan must be one of auto, blobs/],
    [["scan", "--history-scan", "blobs", "{repo}"], /--history-scan applies to --git, --range and --since/],
    [["scan", "--staged", "--history-scan", "blobs", "{repo}"], /--history-scan applies to --git/],
    [["scan", "--git", "--max-archive-depth", "1", "{repo}"], /--max-archive-depth applies to file scans/],
    [["scan", "--since", "", "{repo}"], /--since takes a date/],
    [["scan", "--pre-receive", "--show-secrets"], /--pre-receive never prints secret values/],
  ])("%j", (args, message) => {
    const resolved = args.map((a) => a.replace("{tmp}", tmp.path).replace("{repo}", repo.dir));
    const result = runCli(resolved);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("--pre-receive refuses input that is not git's", () => {
    const result = runCli(["scan", "--pre-receive", repo.dir], { input: "main is now abc\n" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stdin line 1 is not "<old-sha> <new-sha> <ref>"/);
  });
});

describe("hooks and content they could not scan", () => {
  let work: TestRepo;
  let base: string;
  const preReceive = (after: string, ...flags: string[]) =>
    runCli(["scan", "--pre-receive", "--max-file-size", "2KB", ...flags, work.dir], {
      input: `${base} ${after} refs/heads/main\n`,
    });

  beforeAll(async () => {
    work = await createRepo(join(tmp.path, "unscannable"), home);
    base = await work.commit({ "readme.md": "hello\n" }, "base");
  });

  it("a change larger than --max-file-size is scanned in pieces: a token deep inside it is found", async () => {
    const token = t.githubPat();
    const lines = Array.from({ length: 3000 }, (_, i) => (i === 2899 ? `TOKEN=${token}` : `line ${i}`));
    const after = await work.commit({ "big.env": `${lines.join("\n")}\n` }, "large");
    const result = preReceive(after, "--format", "json");
    expect(result.code).toBe(1);
    expect(json(result.stdout).findings.map((f: { line: number }) => f.line)).toEqual([2900]);
    expect(json(result.stdout).stats.skipped).toBe(0);
    work.run("reset", "--quiet", "--hard", base);
  });

  it("a line it cannot hold fails the pre-receive and pre-commit hooks, unless --allow-unscanned", async () => {
    const after = await work.commit({ "min.js": `${"x".repeat(5000)}\n` }, "minified");
    const refused = preReceive(after);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /No leaked secrets found in what was scanned; .*; skipped 1: 1 too large\./,
    );
    expect(refused.stderr).toMatch(/push rejected: 1 file change could not be scanned/);
    expect(preReceive(after, "--allow-unscanned").code).toBe(0);

    writeFile(work.dir, "other.js", `${"y".repeat(5000)}\n`);
    await work.git.add(["other.js"]);
    const staged = runCli(["scan", "--staged", "--max-file-size", "2KB", work.dir]);
    expect(staged.code).toBe(1);
    expect(staged.stderr).toMatch(/commit rejected: 1 file change could not be scanned/);
    expect(runCli(["scan", "--staged", "--max-file-size", "2KB", "--allow-unscanned", work.dir]).code).toBe(
      0,
    );
    work.run("reset", "--quiet", "--hard", base);
  });

  it("a binary file without newlines is one huge line, but binary: skipped, not refused", async () => {
    const after = await work.commit(
      {
        "disk.img": Buffer.alloc(5000),
        "mixed.dat": Buffer.concat([Buffer.from("header\n"), Buffer.alloc(5000)]),
      },
      "images",
    );
    const result = preReceive(after);
    expect(result.stdout).toMatch(/skipped 2: 2 binary\./);
    expect(result.code).toBe(0);
    work.run("reset", "--quiet", "--hard", base);
  });
});

describe("a git server with the pre-receive hook", () => {
  let server: string;
  let client: TestRepo;
  const push = (...args: string[]) =>
    spawnSync("git", ["push", "origin", ...args], {
      cwd: client.dir,
      env: testGitEnv(home),
      encoding: "utf8",
    });
  const serverRef = (ref: string) =>
    spawnSync("git", ["rev-parse", "--verify", "--quiet", ref], {
      cwd: server,
      encoding: "utf8",
    }).stdout.trim();

  beforeAll(async () => {
    server = (await createRepo(join(tmp.path, "server.git"), home, { bare: true })).dir;
    const installed = runCli(["hook", "install", "--pre-receive", server]);
    expect(installed).toMatchObject({ code: 0 });
    spawnSync("git", ["clone", "--quiet", server, join(tmp.path, "client")], { env: testGitEnv(home) });
    client = wrapRepo(join(tmp.path, "client"), home);
  });

  it("the hook runs this leakwarden, by absolute paths", () => {
    const hook = join(server, "hooks", "pre-receive");
    const script = readFileSync(hook, "utf8");
    expect(script).toContain(`'${process.execPath}' '${CLI}' scan --pre-receive`);
    expect(statSync(hook).mode & 0o111).toBe(0o111);
  });

  it("accepts a clean push", async () => {
    const clean = await client.commit({ "readme.md": "hello\n" }, "clean");
    const result = push("main");
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/remote: No leaked secrets found; scanned 1 commit/);
    expect(serverRef("refs/heads/main")).toBe(clean);
  });

  it("rejects a push that adds a token, showing it redacted, and the branch does not move", async () => {
    const before = serverRef("refs/heads/main");
    const token = t.githubPat();
    await client.commit({ "src/config.ts": `export const key = "${token}";\n` }, "leak");
    await client.commit({ "src/config.ts": "export const key = process.env.KEY;\n" }, "hide it again");
    const result = push("main");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("pre-receive hook declined");
    expect(result.stderr).toContain(`ghp_…${token.slice(-4)}`);
    expect(result.stderr).toMatch(/push rejected/);
    expect(result.stderr + result.stdout).not.toContain(token);
    expect(serverRef("refs/heads/main")).toBe(before);
  });

  it("rejects a new branch that carries it, and accepts the history once it is rewritten", async () => {
    expect(push("main:refs/heads/feature").status).not.toBe(0);
    expect(serverRef("refs/heads/feature")).toBe("");
    client.run("reset", "--quiet", "--hard", "origin/main");
    const fixed = await client.commit({ "src/config.ts": "export const key = process.env.KEY;\n" }, "config");
    expect(push("main:refs/heads/feature").status).toBe(0);
    expect(serverRef("refs/heads/feature")).toBe(fixed);
  });

  it("accepts a push that merges in commits the server already had, old leaks included", async () => {
    // A leak that reached the server before the hook existed (a fetch runs no hook).
    const legacy = await createRepo(join(tmp.path, "legacy"), home);
    await legacy.commit({ "old.env": `TOKEN=${t.githubPat()}\n` }, "old leak");
    spawnSync("git", ["fetch", "--quiet", legacy.dir, "main:refs/heads/legacy"], {
      cwd: server,
      env: testGitEnv(home),
    });
    client.run("fetch", "--quiet", "origin");
    client.run("merge", "--quiet", "--allow-unrelated-histories", "--no-edit", "origin/legacy");
    const result = push("main");
    expect(result.stderr).toMatch(/No leaked secrets found; scanned 1 commit/);
    expect(result.status).toBe(0);
  });

  it("rejects a token added to a file whose previous version was binary (git says 'Binary files differ')", async () => {
    const before = serverRef("refs/heads/main");
    await client.commit({ "creds.env": Buffer.from("x\0y\n") }, "encrypted secrets");
    const token = t.githubPat();
    await client.commit({ "creds.env": `TOKEN=${token}\n` }, "committed decrypted");
    const result = push("main");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`ghp_…${token.slice(-4)}`);
    expect(serverRef("refs/heads/main")).toBe(before);
    client.run("reset", "--quiet", "--hard", "origin/main");
  });

  it("accepts a branch deletion", () => {
    expect(push(":refs/heads/feature").status).toBe(0);
    expect(serverRef("refs/heads/feature")).toBe("");
  });
});

describe("leakwarden hook install", () => {
  it("installs a pre-commit hook by default in a working tree; it refuses a commit that adds a token", async () => {
    const work = await createRepo(join(tmp.path, "precommit"), home);
    await work.commit({ "a.txt": "a\n" }, "a");
    const result = runCli(["hook", "install", work.dir]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/Installed the pre-commit hook: .*\.git\/hooks\/pre-commit/);
    const token = t.adoPat();
    writeFile(work.dir, "b.txt", `pat=${token}\n`);
    const add = () => spawnSync("git", ["add", "."], { cwd: work.dir, env: testGitEnv(home) });
    const commit = () =>
      spawnSync("git", ["commit", "-m", "b"], { cwd: work.dir, env: testGitEnv(home), encoding: "utf8" });
    add();
    const refused = commit();
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/azure-devops-pat/);
    expect(refused.stdout + refused.stderr).not.toContain(token);
    writeFile(work.dir, "b.txt", "pat=$PAT\n");
    add();
    expect(commit().status).toBe(0);
  });

  it("leaves a hook it did not write alone, unless --force", async () => {
    const work = await createRepo(join(tmp.path, "foreign"), home);
    const hook = join(work.dir, ".git", "hooks", "pre-commit");
    writeFileSync(hook, "#!/bin/sh\necho mine\n", { mode: 0o755 });
    const refused = runCli(["hook", "install", "--pre-commit", work.dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists and leakwarden did not write it.*--force/);
    expect(readFileSync(hook, "utf8")).toContain("echo mine");
    expect(runCli(["hook", "install", "--pre-commit", "--force", work.dir]).code).toBe(0);
    expect(readFileSync(hook, "utf8")).toContain("scan --staged");
    expect(runCli(["hook", "install", work.dir]).code).toBe(0); // ours: updated without --force
  });

  it("installs pre-receive by default in a bare repository, and refuses pre-commit there", async () => {
    const bare = (await createRepo(join(tmp.path, "bare.git"), home, { bare: true })).dir;
    expect(runCli(["hook", "install", "--pre-commit", bare]).stderr).toMatch(
      /is a bare repository.*--pre-receive/,
    );
    expect(runCli(["hook", "install", bare]).code).toBe(0);
    expect(existsSync(join(bare, "hooks", "pre-receive"))).toBe(true);
  });

  it("--help teaches both hooks", () => {
    const result = runCli(["hook", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: leakwarden hook install \[--pre-commit \| --pre-receive\]/);
  });

  it.each([
    [["hook"], /say what to do: 'leakwarden hook install'/],
    [["hook", "remove"], /unknown action "remove"/],
    [["hook", "install", "--pre-commit", "--pre-receive"], /choose one hook/],
  ])("%j exits 2", (args, message) => {
    const result = runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
