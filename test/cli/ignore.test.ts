// Folder scans honour .gitignore and .ignore (--no-ignore scans everything); .leakwardenignore leaves out
// findings by fingerprint; the JSON report counts what each mechanism left out.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { testGitEnv } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(8181);
const dir = tempDir();
const repo = join(dir.path, "repo");
const put = (path: string, text: string) => {
  mkdirSync(join(repo, path, ".."), { recursive: true });
  writeFileSync(join(repo, path), text);
};

interface Report {
  findings: { file: string; fingerprint: string }[];
  stats: { skippedBy: Record<string, number> };
  suppressed: Record<string, number>;
}
const scanJson = (args: string[], cwd = repo): { code: number; report: Report; stderr: string } => {
  const result = runCli(["scan", "--format", "json", ...args], { cwd });
  return { code: result.code, report: JSON.parse(result.stdout || "null"), stderr: result.stderr };
};
function git(cwd: string, ...args: string[]): void {
  const result = spawnSync("git", args, { cwd, env: testGitEnv(dir.path), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
}
const files = (report: Report) => report.findings.map((f) => f.file).sort();

beforeAll(() => {
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q");
  put(".gitignore", "node_modules/\n*.log\nbuild/\n");
  put("src/.gitignore", "generated.ts\n!keep.log\n");
  put(".ignore", "fixtures/\n");
  put("src/app.ts", `const token = "${t.githubPat()}";\n`);
  put("src/generated.ts", `const token = "${t.githubPat()}";\n`);
  put("src/keep.log", `${t.githubPat()}\n`);
  put("debug.log", `${t.githubPat()}\n`);
  put("node_modules/pkg/index.js", `module.exports = "${t.githubPat()}";\n`);
  put("build/out.js", `var k = "${t.githubPat()}";\n`);
  put("fixtures/sample.env", `TOKEN=${t.githubPat()}\n`);
});
afterAll(dir.remove);

describe(".gitignore and .ignore", () => {
  it("leave out what they list, deeper files overriding shallower ones, and are counted", () => {
    const { code, report } = scanJson(["."]);
    expect(code).toBe(1);
    expect(files(report)).toEqual(["src/app.ts", "src/keep.log"]);
    // node_modules/, build/, fixtures/ (one folder each), debug.log and src/generated.ts.
    expect(report.stats.skippedBy.gitignored).toBe(5);
  });

  it("apply from the top of the working tree when a subfolder is scanned", () => {
    expect(files(scanJson(["src"]).report)).toEqual(["src/app.ts", "src/keep.log"]);
    expect(files(scanJson(["."], join(repo, "src")).report)).toEqual(["app.ts", "keep.log"]);
  });

  it("never hide a folder or file named on the command line", () => {
    expect(files(scanJson(["node_modules/pkg", "debug.log"]).report)).toEqual([
      "debug.log",
      "node_modules/pkg/index.js",
    ]);
  });

  it("are not read with --no-ignore", () => {
    const { report } = scanJson(["--no-ignore", "."]);
    expect(report.findings).toHaveLength(7);
    expect(report.stats.skippedBy.gitignored).toBe(0);
  });

  it("are summarised in the text report", () => {
    expect(runCli(["scan", "."], { cwd: repo }).stdout).toMatch(/skipped 5: 5 gitignored\./);
  });
});

describe(".leakwardenignore", () => {
  it("leaves out the fingerprints it lists, and the report counts them apart from a baseline's", () => {
    const all = scanJson(["--no-ignore", "."]).report.findings;
    const [first, second, third] = all.map((f) => f.fingerprint);
    writeFileSync(join(dir.path, "baseline.json"), JSON.stringify({ findings: [{ fingerprint: third }] }));
    put(".leakwardenignore", `# reviewed: test fixtures\n${first}\n\n${second}  # the old CI key\n`);
    try {
      const { report } = scanJson(["--no-ignore", "--baseline", join(dir.path, "baseline.json"), "."]);
      expect(report.findings.map((f) => f.fingerprint).sort()).toEqual(
        all
          .slice(3)
          .map((f) => f.fingerprint)
          .sort(),
      );
      expect(report.suppressed).toEqual({ leakwardenignore: 2, baseline: 1 });
      // The git history scan of the same repository reads it too.
      git(repo, "add", "-A");
      git(repo, "commit", "-qm", "add", "--no-verify");
      const app = all.find((f) => f.file === "src/app.ts")?.fingerprint;
      put(".leakwardenignore", `${app}\n`);
      const history = scanJson(["--git", "."]).report;
      expect(files(history)).toEqual(["fixtures/sample.env", "src/keep.log"]); // .ignore is not git's
      expect(history.suppressed).toEqual({ leakwardenignore: 1 });
    } finally {
      put(".leakwardenignore", "");
    }
  });

  it("refuses a line that is not a fingerprint, naming the line", () => {
    put(".leakwardenignore", "# ok\nsrc/app.ts\n");
    try {
      const result = runCli(["scan", "."], { cwd: repo });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/\.leakwardenignore line 2 is not a finding fingerprint/);
    } finally {
      put(".leakwardenignore", "");
    }
  });
});
