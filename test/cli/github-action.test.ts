// The GitHub Action's entry point (bin/github-action.js, as action.yml runs it) on simulated push and
// pull_request events over real repositories: the range it scans, the SARIF it writes, its annotations, its
// outputs and its exit status.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, tempDir } from "../support/cli.js";
import { createRepo, type TestRepo } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(2626);
const tmp = tempDir();
const home = join(tmp.path, "home");
let repo: TestRepo;
const sha: Record<string, string> = {};
const secrets: string[] = [];
const leak = () => {
  const token = t.githubPat();
  secrets.push(token);
  return token;
};

beforeAll(async () => {
  repo = await createRepo(join(tmp.path, "work"), home);
  sha.old = await repo.commit({ "old.env": `TOKEN=${leak()}\n` }, "an old leak, before the push");
  sha.before = await repo.commit({ "readme.md": "hello\n" }, "docs");
  sha.pushed = await repo.commit({ "deploy.yml": `env:\n  PAT: ${leak()}\n` }, "pushed leak");
  sha.after = await repo.commit({ "notes.md": "more\n" }, "notes");
  repo.run("checkout", "-q", "-b", "feature", sha.before as string);
  sha.head = await repo.commit({ "feature.ts": `const k = "${leak()}";\n` }, "feature leak");
  repo.run("checkout", "-q", "main");
});
afterAll(tmp.remove);

function runAction(eventName: string, event: unknown, inputs: Record<string, string> = {}) {
  const eventPath = join(tmp.path, `${eventName}.json`);
  writeFileSync(eventPath, JSON.stringify(event));
  const output = join(tmp.path, `${eventName}-output.txt`);
  const summary = join(tmp.path, `${eventName}-summary.md`);
  writeFileSync(output, "");
  const child = spawnSync(process.execPath, [join(ROOT, "bin", "github-action.js")], {
    cwd: repo.dir,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      HOME: home,
      NO_COLOR: "1",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_WORKSPACE: repo.dir,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      ...Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase().replaceAll("-", "_")}`, v]),
      ),
    },
  });
  const sarifPath = join(repo.dir, inputs.sarif ?? "leakwarden.sarif");
  return {
    code: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    outputs: Object.fromEntries(
      readFileSync(output, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("=", 2) as [string, string]),
    ),
    sarif: existsSync(sarifPath) ? JSON.parse(readFileSync(sarifPath, "utf8")) : undefined,
    summary: existsSync(summary) ? readFileSync(summary, "utf8") : "",
  };
}

const resultFiles = (sarif: {
  runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
}) => sarif.runs[0]?.results.map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri);

describe("the GitHub Action", () => {
  it("declares its inputs and runs this entry point", () => {
    const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8"));
    expect(Object.keys(action.inputs).sort()).toEqual([
      "baseline",
      "config",
      "exit-code",
      "path",
      "rules",
      "sarif",
    ]);
    const step = action.runs.steps.find((s: { id?: string }) => s.id === "scan");
    expect(step.run).toContain("bin/github-action.js");
    for (const name of Object.keys(action.inputs))
      expect(step.env[`INPUT_${name.toUpperCase().replaceAll("-", "_")}`]).toBe(`\${{ inputs.${name} }}`);
  });

  it("on push: scans the pushed commits only, writes SARIF, annotates, sets outputs and fails", () => {
    const result = runAction("push", {
      before: sha.before,
      after: sha.after,
      repository: { default_branch: "main" },
    });
    expect(result.code).toBe(1);
    expect(resultFiles(result.sarif)).toEqual(["deploy.yml"]);
    expect(result.stdout).toMatch(
      /^::error file=deploy\.yml,line=2,endLine=2,col=\d+,endColumn=\d+,title=Leaked github token/m,
    );
    expect(result.stdout).not.toMatch(/old\.env|feature\.ts/);
    expect(result.outputs).toEqual({ findings: "1", sarif: join(repo.dir, "leakwarden.sarif") });
    expect(result.summary).toMatch(/\*\*1 leaked secrets\*\* in the pushed commits/);
    for (const secret of secrets)
      expect(result.stdout + result.stderr + JSON.stringify(result.sarif)).not.toContain(secret);
  });

  it("on pull_request: scans the pull request's commits", () => {
    const result = runAction("pull_request", {
      pull_request: { base: { sha: sha.after }, head: { sha: sha.head } },
    });
    expect(result.code).toBe(1);
    expect(resultFiles(result.sarif)).toEqual(["feature.ts"]);
    expect(result.stdout).toMatch(/^::error file=feature\.ts,line=1,/m);
    expect(result.outputs.findings).toBe("1");
  });

  it("honours the exit-code, sarif and baseline inputs", () => {
    const event = { pull_request: { base: { sha: sha.after }, head: { sha: sha.head } } };
    const lenient = runAction("pull_request", event, { "exit-code": "0", sarif: "out/scan.sarif" });
    expect(lenient.code).toBe(0);
    expect(lenient.outputs.findings).toBe("1");
    expect(resultFiles(lenient.sarif)).toEqual(["feature.ts"]);

    const baseline = join(tmp.path, "baseline.json");
    const report = spawnSync(
      process.execPath,
      [
        join(ROOT, "bin", "leakwarden.js"),
        "scan",
        "--git",
        "--format",
        "json",
        "--output",
        baseline,
        repo.dir,
      ],
      { encoding: "utf8" },
    );
    expect(report.status).toBe(1);
    const accepted = runAction("pull_request", event, { baseline });
    expect(accepted.code).toBe(0);
    expect(accepted.outputs.findings).toBe("0");
    expect(accepted.stdout).toMatch(/^::notice title=leakwarden::No leaked secrets found/m);
  });

  it("says what to do when the checkout lacks the range, and exits 2", () => {
    const missing = "1".repeat(40);
    const result = runAction("push", { before: missing, after: sha.after });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /^::error title=leakwarden::commit 1{40} is not in the checkout: .*fetch-depth: 0/m,
    );
  });

  it("rejects a bad exit-code input", () => {
    const result = runAction("push", { before: sha.before, after: sha.after }, { "exit-code": "fail" });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/exit-code input takes a whole number/);
  });
});
