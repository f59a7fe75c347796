import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { scanRunLogs } from "../../src/app/run-logs.js";
import { compileRules } from "../../src/scan/compile.js";
import { Engine } from "../../src/scan/engine.js";
import { loadRules } from "../../src/scan/rules.js";
import { TestOctokit } from "../support/probot.js";
import { tokens } from "../support/tokens.js";
import { buildZip } from "../support/zip.js";

const engine = new Engine(compileRules(loadRules()));
const octokit = new TestOctokit({ auth: "installation-token-for-tests" });
const t = tokens(808);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function serveLogs(zip: Buffer) {
  nock("https://api.github.com")
    .get("/repos/acme/app/actions/runs/42/logs")
    .reply(302, "", { location: "https://pipelines.actions.githubusercontent.com/logs/42.zip?sig=x" });
  nock("https://pipelines.actions.githubusercontent.com")
    .get("/logs/42.zip")
    .query(true)
    .reply(200, zip, { "content-type": "application/zip" });
}

describe("scanning a run's logs", () => {
  it("follows the redirect, and finds a PAT in a base64 Basic header at its step and line", async () => {
    const pat = t.adoPat();
    const header = Buffer.from(`:${pat}`).toString("base64");
    serveLogs(
      buildZip([
        { name: "0_build.txt", data: "2026-11-28T10:00:00.0000000Z ##[group]Run actions/checkout@v4\n" },
        {
          name: "build/3_Fetch dependencies.txt",
          data: `2026-11-28T10:00:01.0000000Z + set -x\n2026-11-28T10:00:02.0000000Z + git -c http.extraheader="AUTHORIZATION: basic ${header}" fetch\n`,
        },
      ]),
    );
    const result = await scanRunLogs(octokit, engine, { owner: "acme", repo: "app", runId: 42 });
    expect(result.problem).toBeUndefined();
    expect(result.entries).toBe(2);
    expect(result.findings.map((f) => [f.ruleId, f.file, f.line, f.encoding])).toEqual([
      ["azure-devops-pat", "build/3_Fetch dependencies.txt", 2, "base64-basic-auth"],
    ]);
  });

  it("refuses an archive over the size limit while downloading", async () => {
    serveLogs(buildZip([{ name: "0_build.txt", data: "x".repeat(10_000), stored: true }]));
    const limits = { maxCompressedBytes: 1000, maxUncompressedBytes: 1e9, maxEntries: 100, maxRatio: 200 };
    await expect(
      scanRunLogs(octokit, engine, { owner: "acme", repo: "app", runId: 42 }, limits),
    ).rejects.toThrow(/download exceeds the 1000-byte limit/);
  });

  it("scans the healthy entries around odd ones, and says what it could not scan", async () => {
    const github = t.githubPat();
    const pat = t.adoPat();
    serveLogs(
      buildZip([
        { name: "0_bomb.txt", data: Buffer.alloc(8 * 1024 * 1024), declaredSize: 100 },
        { name: "1_build.txt", data: `token=${github}\n` },
        { name: "../2_escape.txt", data: "x" },
        // A million `y` lines after the token: compresses far better than 200:1, so it is cut, not dropped.
        { name: "3_yes.txt", data: `PAT=${pat}\n${"y\n".repeat(1_000_000)}` },
      ]),
    );
    const result = await scanRunLogs(octokit, engine, { owner: "acme", repo: "app", runId: 42 });
    expect(result.findings.map((f) => [f.ruleId, f.file])).toEqual([
      ["github-pat", "1_build.txt"],
      ["azure-devops-pat", "3_yes.txt"],
    ]);
    expect(result.problem).toMatch(/entry "..\/2_escape.txt" was skipped: its name is unsafe/);
    expect(result.problem).toMatch(/entry "3_yes.txt" was scanned only to its first \d+ bytes/);
    expect(result.problem).toMatch(/entry "0_bomb.txt" inflates beyond its declared size/);
  });

  it("scans the first 10,000 entries of a larger archive", async () => {
    const github = t.githubPat();
    serveLogs(
      buildZip([
        { name: "0_build.txt", data: `token=${github}\n` },
        ...Array.from({ length: 10_000 }, (_, i) => ({ name: `steps/${i}.txt`, data: "ok\n", stored: true })),
      ]),
    );
    const result = await scanRunLogs(octokit, engine, { owner: "acme", repo: "app", runId: 42 });
    expect(result.findings.map((f) => f.ruleId)).toEqual(["github-pat"]);
    expect(result.problem).toBe("1 entries past the 10000-entry limit were not scanned");
  });
});
