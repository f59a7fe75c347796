// Scans of the same leak running at the same time, on a database that does not exist yet, give one revocation.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { spawnCli } from "../support/processes.js";
import { providerEnv, revokeOk, type StandIn, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const t = tokens(71);
const github = t.githubPat();
const pat = t.adoPat();
const dir = tempDir();
let standIn: StandIn;

beforeAll(async () => {
  writeFileSync(join(dir.path, "leak.txt"), `GH_TOKEN=${github}\nPAT=${pat}\n`);
  // A slow provider widens the window in which the scans overlap.
  standIn = await startStandIn(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return revokeOk(request);
  });
});
afterAll(async () => {
  await standIn.close();
  dir.remove();
});

describe("concurrent scans of the same leak", () => {
  it("three processes, one fresh database: each token is revoked by exactly one call", async () => {
    const db = join(dir.path, "state", "leakwarden.db");
    const env = { ...providerEnv(standIn.url), LEAKWARDEN_DB: db };
    const runs = await Promise.all(
      [1, 2, 3].map(
        () =>
          spawnCli(["scan", "leak.txt", "--revoke", "--policy", "all", "--format", "json"], {
            env,
            cwd: dir.path,
          }).done,
      ),
    );
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
      expect(run.code).toBe(1);
      const github = JSON.parse(run.stdout).findings.find(
        (f: { ruleId: string }) => f.ruleId === "github-pat",
      );
      expect(github.revocation).toMatchObject({ status: "revoked", provider: "github" });
    }
    expect(standIn.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /github/credentials/revoke"]);
    const store = await openStore({ path: db, env: {} });
    try {
      expect(await store.jobs.list()).toHaveLength(1);
      expect(await store.findings.list()).toHaveLength(2);
      expect(await store.audit.list({ action: "revoke.revoked" })).toHaveLength(1);
      expect(await store.audit.list({ action: "revoke.enqueue" })).toHaveLength(1);
    } finally {
      await store.close();
    }
    expectNotInFiles(databaseFiles(db), [github, pat]);
    expectNotInText(
      runs.flatMap((r) => [r.stdout, r.stderr]),
      [github, pat],
    );
  });
});
