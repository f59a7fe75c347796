// Commit and annotated tag messages are scanned: a token pasted into `git commit -m` is a leak no diff shows.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanHistory, scanRange } from "../../src/scan/history.js";
import { secretHash } from "../../src/scan/secret.js";
import { createEngine, DEFAULT_ENGINE_SETTINGS } from "../../src/scan/settings.js";
import { tempDir } from "../support/cli.js";
import { createRepo, type TestRepo, testGitEnv, ZERO } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1414);
const engine = createEngine(DEFAULT_ENGINE_SETTINGS);
const tmp = tempDir();
const home = join(tmp.path, "home");
const env = testGitEnv(home);
afterAll(tmp.remove);

describe("git messages", () => {
  const inCommit = t.githubPat();
  const inTag = t.make("gitlab-pat-routable");
  let repo: TestRepo;
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    repo = await createRepo(join(tmp.path, "messages"), home);
    sha.base = await repo.commit({ "a.txt": "hello\n" }, "base");
    sha.leak = await repo.commit(
      { "a.txt": "hello again\n" },
      `fix deploy\n\nused GITHUB_TOKEN=${inCommit} to test`,
    );
    sha.clean = await repo.commit({ "a.txt": "bye\n" }, "clean");
    repo.run("tag", "-a", "v1.0", "-m", `release\n\ntoken: ${inTag}`, sha.base as string);
    repo.run("tag", "v1.1-light", sha.clean as string);
  });

  it("a full history scan finds the token in a commit message and in an annotated tag message", async () => {
    const { findings } = await scanHistory(repo.dir, {}, engine, { env });
    const byFile = findings.map((f) => [f.ruleId, f.file, f.line, f.commit]);
    expect(byFile).toContainEqual(["github-pat", "<commit message>", 3, sha.leak]);
    expect(byFile).toContainEqual(["gitlab-pat-routable", "<tag v1.0 message>", 3, sha.base]);
    expect(findings).toHaveLength(2);
    expect(findings.find((f) => f.ruleId === "github-pat")?.secretHash).toBe(secretHash(inCommit));
  });

  it("a range scan finds only the messages of the range's commits", async () => {
    const inRange = await scanHistory(repo.dir, { range: `${sha.base}..${sha.leak}` }, engine, { env });
    expect(inRange.findings.map((f) => f.file)).toEqual(["<commit message>"]);
    const outside = await scanHistory(repo.dir, { range: `${sha.leak}..${sha.clean}` }, engine, { env });
    expect(outside.findings).toEqual([]);
  });

  it("a push scans the pushed commits' messages", async () => {
    const result = await scanRange(
      repo.dir,
      { before: sha.base as string, after: sha.clean as string, ref: "refs/heads/main" },
      engine,
      { env },
    );
    expect(result.findings.map((f) => [f.ruleId, f.commit])).toEqual([["github-pat", sha.leak]]);
    const created = await scanRange(
      repo.dir,
      { before: ZERO, after: sha.base as string, ref: "refs/heads/other" },
      engine,
      { env },
    );
    expect(created.findings).toEqual([]);
  });
});
