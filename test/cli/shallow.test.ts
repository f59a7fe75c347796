// A shallow clone's oldest commit shows every file as added: a leak seen there may be older than the clone.
// The scan warns, and leaves `introduced` unknown for such leaks instead of naming the wrong commit.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { createRepo, testGitEnv } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(5151);
const tmp = tempDir();
afterAll(tmp.remove);

interface JsonFinding {
  file: string;
  commit: string;
  introduced?: boolean;
}

describe("scan --git on a shallow clone", () => {
  it("warns, and leaves introduced unknown where a leak reaches the clone's boundary", async () => {
    const home = join(tmp.path, "home");
    const origin = await createRepo(join(tmp.path, "origin"), home);
    const old = await origin.commit({ "old.env": `TOKEN=${t.githubPat()}\n` }, "old leak");
    await origin.commit({ "readme.md": "hello\n" }, "docs");
    const recent = await origin.commit({ "new.env": `TOKEN=${t.githubPat()}\n` }, "new leak");

    const full = JSON.parse(runCli(["scan", "--git", "--format", "json", origin.dir]).stdout);
    const fullOld = full.findings.find((f: JsonFinding) => f.file === "old.env");
    expect(fullOld).toMatchObject({ commit: old, introduced: true });

    const clone = join(tmp.path, "clone");
    const cloned = spawnSync("git", ["clone", "-q", "--depth", "2", pathToFileURL(origin.dir).href, clone], {
      env: testGitEnv(home),
      encoding: "utf8",
    });
    expect(cloned.status, cloned.stderr).toBe(0);
    const result = runCli(["scan", "--git", "--format", "json", clone]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/warning: a shallow clone.*introduced is unknown.*git fetch --unshallow/);
    const report = JSON.parse(result.stdout);
    expect(report.stats.shallow).toBe(true);
    expect(full.stats).not.toHaveProperty("shallow");
    const findings: JsonFinding[] = report.findings;
    // The old token shows up in the boundary commit ("docs"), which did not add it.
    const seenOld = findings.find((f) => f.file === "old.env");
    expect(seenOld?.commit).not.toBe(old);
    expect(seenOld).not.toHaveProperty("introduced");
    expect(findings.find((f) => f.file === "new.env")).toMatchObject({ commit: recent, introduced: true });

    expect(runCli(["scan", "--git", origin.dir]).stderr).not.toMatch(/shallow/);
  });
});
