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

  it("keeps what it scanned before a hostile entry, and says why it stopped", async () => {
    const github = t.githubPat();
    serveLogs(
      buildZip([
        { name: "0_build.txt", data: `token=${github}\n` },
        { name: "1_bomb.txt", data: Buffer.alloc(8 * 1024 * 1024), declaredSize: 100 },
      ]),
    );
    const result = await scanRunLogs(octokit, engine, { owner: "acme", repo: "app", runId: 42 });
    expect(result.findings.map((f) => f.ruleId)).toEqual(["github-pat"]);
    expect(result.problem).toMatch(/inflates beyond/);
  });
});
