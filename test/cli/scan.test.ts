import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const require = createRequire(import.meta.url);
const AjvDraft04 = require("ajv-draft-04") as typeof import("ajv-draft-04").default;
const t = tokens(4242);
const pat = t.adoPat();
const legacy = t.adoLegacyPat();
const github = t.githubPat();
const npmToken = t.make("npm-token");
const secrets = [pat, legacy, github, npmToken];
const dir = tempDir();
const repo = join(dir.path, "repo");

beforeAll(() => {
  mkdirSync(join(repo, "src", "deep"), { recursive: true });
  mkdirSync(join(repo, ".git"), { recursive: true });
  mkdirSync(join(repo, ".leakwarden"), { recursive: true });
  mkdirSync(join(repo, "vendor"), { recursive: true });
  writeFileSync(
    join(repo, "pipeline.yml"),
    `steps:\n  - script: echo hi\n    env:\n      AZURE_DEVOPS_EXT_PAT: ${pat}\n`,
  );
  writeFileSync(
    join(repo, "src", "deep", "config.ts"),
    `export const token = "${github}";\nconst old = "${legacy}";\n`,
  );
  writeFileSync(join(repo, ".npmrc"), `//registry.npmjs.org/:_authToken=${npmToken}\n`);
  writeFileSync(join(repo, ".git", "config"), `[remote] url = https://x:${github}@github.com/a/b\n`);
  writeFileSync(join(repo, ".leakwarden", "notes.txt"), `${github}\n`);
  writeFileSync(join(repo, "vendor", "lib.js"), `var k="${github}";`);
  writeFileSync(join(repo, "program.bin"), Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(github)]));
  writeFileSync(join(repo, "clean.md"), "# nothing to see\n");
});
afterAll(dir.remove);

const json = (stdout: string) => JSON.parse(stdout);

describe("leakwarden scan", () => {
  it("finds tokens in a folder tree, skipping .git/, .leakwarden/ and binaries, and exits 1", () => {
    const result = runCli(["scan", repo, "--format", "json"]);
    expect(result.code).toBe(1);
    const report = json(result.stdout);
    expect(report.version).toBe(1);
    expect(Object.keys(report.stats).sort()).toEqual([
      "bytes",
      "durationMs",
      "files",
      "skipped",
      "skippedBy",
    ]);
    expect(report.stats.skippedBy.binary).toBe(1);
    const found = report.findings.map(
      (f: { ruleId: string; file: string; line: number }) =>
        `${f.ruleId} ${f.file.split("/").slice(-2).join("/")}:${f.line}`,
    );
    expect(found.sort()).toEqual(
      [
        "azure-devops-pat repo/pipeline.yml:4",
        "azure-devops-pat-legacy deep/config.ts:2",
        "github-pat deep/config.ts:1",
        "github-pat vendor/lib.js:1",
        "npm-token repo/.npmrc:1",
      ].sort(),
    );
  });

  it("reports every documented field of a finding", () => {
    const report = json(runCli(["scan", join(repo, "pipeline.yml"), "--format", "json"]).stdout);
    expect(Object.keys(report.findings[0]).sort()).toEqual(
      [
        "ruleId",
        "provider",
        "description",
        "severity",
        "confidence",
        "file",
        "line",
        "column",
        "endLine",
        "endColumn",
        "encoding",
        "redacted",
        "secretHash",
        "fingerprint",
      ].sort(),
    );
    expect(report.findings[0]).toMatchObject({ line: 4, column: 29, confidence: "high", encoding: "plain" });
  });

  it("prints text grouped by file with a summary line", () => {
    const result = runCli(["scan", "."], { cwd: repo });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("src/deep/config.ts\n");
    expect(result.stdout).toMatch(/5 findings \(5 critical\) in 4 files; scanned \d+ files/);
    // Each finding leads with its severity, then its confidence.
    expect(result.stdout).toMatch(/^ {2}critical \(high confidence\) {2}4:29 {2}azure-devops-pat /m);
    expect(result.stdout).toContain(`ghp_…${github.slice(-4)}`);
  });

  it("exits 0 on a clean target", () => {
    const result = runCli(["scan", join(repo, "clean.md")]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^No leaked secrets found; scanned 1 file/);
  });

  it("reads stdin with -", () => {
    const result = runCli(["scan", "-", "--format", "json"], {
      input: `+ curl -u :${pat} https://dev.azure.com/contoso\n`,
    });
    expect(result.code).toBe(1);
    expect(json(result.stdout).findings[0]).toMatchObject({
      file: "(stdin)",
      encoding: "curl-user",
      ruleId: "azure-devops-pat",
    });
  });

  it("gives the same findings on one thread and on several", () => {
    const many = join(dir.path, "many");
    mkdirSync(many, { recursive: true });
    // Enough files that the scan starts worker threads (run.ts: POOL_THRESHOLD_FILES).
    for (let i = 0; i < 2100; i++)
      writeFileSync(join(many, `f${i}.txt`), i % 350 === 0 ? `k=${t.githubPat()}\n` : `line ${i}\n`);
    const one = json(runCli(["scan", many, "--format", "json", "--threads", "1"]).stdout).findings;
    const two = json(runCli(["scan", many, "--format", "json", "--threads", "2"]).stdout).findings;
    expect(one.length).toBe(6);
    expect(two).toEqual(one);
  });
});

describe("SARIF", () => {
  it("validates against the SARIF 2.1.0 schema", () => {
    const result = runCli(["scan", ".", "--format", "sarif"], { cwd: repo });
    expect(result.code).toBe(1);
    const sarif = json(result.stdout);
    const schema = JSON.parse(
      readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8"),
    );
    // The published schema has a pattern that is only valid without the u flag.
    const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const run = sarif.runs[0];
    expect(run.results.length).toBe(5);
    expect(run.results[0].partialFingerprints["leakwarden/v1"]).toMatch(/^[0-9a-f]{32}$/);
    expect(run.tool.driver.rules[0].properties["security-severity"]).toMatch(/^\d+\.\d$/);
    expect(run.results[0].locations[0].physicalLocation.artifactLocation).toEqual({
      uri: ".npmrc",
      uriBaseId: "%SRCROOT%",
    });
    const outside = json(runCli(["scan", repo, "--format", "sarif"]).stdout);
    expect(outside.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toMatch(
      /^file:\/\/\//,
    );
  });
});

describe("suppressing findings", () => {
  it("--baseline hides findings already in an earlier report", () => {
    const baseline = join(dir.path, "baseline.json");
    expect(runCli(["scan", repo, "--format", "json", "--output", baseline]).code).toBe(1);
    expect(runCli(["scan", repo, "--baseline", baseline]).code).toBe(0);
    writeFileSync(join(repo, "src", "new.env"), `GH=${t.githubPat()}\n`);
    const after = runCli(["scan", repo, "--baseline", baseline, "--format", "json"]);
    expect(after.code).toBe(1);
    expect(json(after.stdout).findings.map((f: { file: string }) => f.file.split("/").pop())).toEqual([
      "new.env",
    ]);
  });

  it("a .leakwarden.yml in the target folder: paths-ignore, rules.disable, allow", () => {
    const project = join(dir.path, "configured");
    mkdirSync(join(project, "fixtures"), { recursive: true });
    writeFileSync(join(project, "fixtures", "a.txt"), `${t.githubPat()}\n`);
    writeFileSync(join(project, "b.txt"), `${npmToken}\n${t.adoPat()}\n`);
    writeFileSync(join(project, "c.txt"), `${github}\n`);
    expect(json(runCli(["scan", project, "--format", "json"]).stdout).findings).toHaveLength(4);
    writeFileSync(
      join(project, ".leakwarden.yml"),
      `paths-ignore: ["fixtures/**"]\nrules:\n  disable: [npm-token]\nallow:\n  - "${github.slice(-6)}$"\n`,
    );
    const result = runCli(["scan", project, "--format", "json"]);
    expect(json(result.stdout).findings.map((f: { ruleId: string }) => f.ruleId)).toEqual([
      "azure-devops-pat",
    ]);
    expect(json(result.stdout).stats.skippedBy.ignored).toBe(1);
  });

  it("--exclude leaves out matching paths", () => {
    const result = runCli(["scan", repo, "--exclude", "vendor/**", "--exclude", "*.ts", "--format", "json"]);
    const files = json(result.stdout).findings.map((f: { file: string }) => f.file);
    expect(files.some((f: string) => f.includes("vendor") || f.endsWith(".ts"))).toBe(false);
  });

  it("scans a file larger than --max-file-size in chunks rather than skipping it", () => {
    const big = join(dir.path, "big.log");
    writeFileSync(big, `${"log line\n".repeat(2000)}TOKEN=${github}\n`);
    const result = runCli(["scan", big, "--max-file-size", "100B", "--format", "json"]);
    expect(result.code).toBe(1);
    expect(json(result.stdout).findings.map((f: { line: number }) => f.line)).toEqual([2001]);
    expect(json(result.stdout).stats).toMatchObject({ files: 1, skipped: 0 });
  });
});

describe("honest summaries and exits", () => {
  it("never says plainly 'No leaked secrets found' when something was skipped; counts skips by reason", () => {
    const result = runCli(["scan", join(repo, "clean.md"), join(repo, "program.bin")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^No leaked secrets found in what was scanned; scanned 1 file \(.*\) in [\d.]+s; skipped 1: 1 binary\.$/m,
    );
    const report = json(runCli(["scan", join(repo, "program.bin"), "--format", "json"]).stdout);
    expect(report.stats).toMatchObject({ skipped: 1, skippedBy: { binary: 1, tooLarge: 0, unreadable: 0 } });
  });

  it("--exit-code sets the status for findings; 0 never fails", () => {
    expect(runCli(["scan", repo, "--exit-code", "0"]).code).toBe(0);
    expect(runCli(["scan", repo, "--exit-code", "3"]).code).toBe(3);
    expect(runCli(["scan", join(repo, "clean.md"), "--exit-code", "3"]).code).toBe(0);
  });

  it("follows a symbolic link given as the target", () => {
    const link = join(dir.path, "link-to-config.ts");
    symlinkSync(join(repo, "src", "deep", "config.ts"), link);
    const result = runCli(["scan", link, "--format", "json"]);
    expect(result.code).toBe(1);
    expect(json(result.stdout).stats.files).toBe(1);
  });

  it("refuses a FIFO or a device given as the target, rather than scanning 0 files", () => {
    const fifo = join(dir.path, "pipe");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    for (const target of [fifo, "/dev/null"]) {
      const result = runCli(["scan", target]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /cannot scan ".*": it is a (FIFO \(named pipe\)|device); give a file, a folder/,
      );
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("repository-controlled text reaches the terminal escaped", () => {
  it("a file name with escape sequences is shown escaped by scan, findings list and show, audit list", () => {
    const project = join(dir.path, "hostile");
    mkdirSync(project, { recursive: true });
    // Sets the window title, rings the bell, erases the line, and a C1 CSI: enough to hide a finding.
    writeFileSync(join(project, "evil\x1b]0;pwned\x07\x1b[2K\x9b\x7f.env"), `T=${github}\n`);
    const shown = "evil\\x1b]0;pwned\\x07\\x1b[2K\\x9b\\x7f.env";
    const controls = (text: string) => [...text].filter((c) => c !== "\n" && /\p{Cc}/u.test(c));
    for (const args of [
      ["scan", ".", "--record"],
      ["findings", "list"],
      ["findings", "show", "1"],
    ]) {
      const result = runCli(args, { cwd: project });
      expect(result.stdout).toContain(shown);
      expect(controls(result.stdout)).toEqual([]);
    }
    // A note (as a provider's reply would) reaches the audit log, and `audit list` shows it.
    const note = ["findings", "resolve", "1", "--as", "false-positive", "--note", "ok\x1b[2K"];
    expect(runCli(note, { cwd: project }).code).toBe(0);
    const audit = runCli(["audit", "list"], { cwd: project });
    expect(audit.stdout).toContain("ok\\x1b[2K");
    expect(controls(audit.stdout)).toEqual([]);
  });
});

describe("errors exit 2 with one line that says what to do", () => {
  it.each([
    [
      ["scan", "--format", "xml"],
      /--format must be one of text, json, sarif, csv, junit, github, html, not "xml"/,
    ],
    [["scan", "--nope"], /unknown option "--nope".*see 'leakwarden scan --help'/],
    [["scan", "/no/such/place"], /cannot read "\/no\/such\/place": no such file or folder/],
    [["scan", ".", "--threads", "0"], /--threads takes a whole number from 1 to \d+, not "0"/],
    [["scan", ".", "--threads", "300"], /--threads takes a whole number from 1 to \d+, not "300"/],
    [["scan", ".", "--max-file-size", "0"], /--max-file-size takes a size such as 25MB or 512KB, not "0"/],
    [["scan", ".", "--exit-code=-1"], /--exit-code takes a whole number from 0 to 125, not "-1"/],
    [["scan", ".", "--since", "banana"], /--since takes a date such as 2024-01-31.*not "banana"/],
    [["scan", ".", "--since", "yesterdayish"], /--since takes a date .*not "yesterdayish"/],
    [["scan", ".", "--baseline", "/no/such.json"], /cannot use baseline "\/no\/such.json": no such file/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("%j", (args, message) => {
    const result = runCli(args, { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a broken user rule file names the file, the rule and the problem", () => {
    const rules = join(dir.path, "my-rules");
    mkdirSync(rules, { recursive: true });
    writeFileSync(
      join(rules, "acme.yml"),
      "rules:\n  - id: acme\n    provider: acme\n    description: d\n    regex: 'acme_(a+)+'\n    keywords: [acme_]\n    examples: {match: [x], nomatch: [y]}\n",
    );
    const result = runCli(["scan", repo, "--rules", rules]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/my-rules\/acme\.yml: rule "acme": regex: nested quantifiers/);
  });

  it("a ReDoS allow pattern is refused by number and excerpt; a huge one is not echoed whole", () => {
    const project = join(dir.path, "redos");
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, ".leakwarden.yml"),
      `allow:\n  - ok_[a-z]+\n  - '${"\\w{0,15}".repeat(10)}!'\n`,
    );
    const refused = runCli(["scan", project]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /allow pattern 2 \(\/\\w\{0,15\}.*\/\) is refused: 3 overlapping repetitions/,
    );
    writeFileSync(join(project, ".leakwarden.yml"), `allow:\n  - '${"a".repeat(5_000_000)}'\n`);
    const huge = runCli(["scan", project]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(
      /allow pattern 1 \(\/a+… \(5000000 characters\)\/\) is refused: longer than 1000/,
    );
    expect(huge.stderr.length).toBeLessThan(500);
  });

  it("a broken config file is named", () => {
    const project = join(dir.path, "badconfig");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, ".leakwarden.yml"), "colour: red\n");
    const result = runCli(["scan", project]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\.leakwarden\.yml: unknown setting "colour"/);
  });
});

describe("the secret never appears unless asked for", () => {
  it.each(["text", "json", "sarif"])("%s output, stdout and stderr", (format) => {
    const result = runCli(["scan", repo, "--format", format]);
    for (const secret of secrets) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  });
  it("--output files", () => {
    for (const format of ["text", "json", "sarif"]) {
      const file = join(dir.path, `out.${format}`);
      runCli(["scan", repo, "--format", format, "--output", file]);
      const written = readFileSync(file, "utf8");
      expect(written.length).toBeGreaterThan(100);
      for (const secret of secrets) expect(written).not.toContain(secret);
    }
  });
  it("--show-secrets prints them", () => {
    const result = runCli(["scan", join(repo, "pipeline.yml"), "--show-secrets", "--format", "json"]);
    expect(json(result.stdout).findings[0].secret).toBe(pat);
    expect(runCli(["scan", join(repo, "pipeline.yml"), "--show-secrets"]).stdout).toContain(pat);
  });
});

describe("help", () => {
  it.each([["--help"], ["scan", "--help"], ["rules", "--help"], ["help", "scan"]])("%j", (...args) => {
    const result = runCli(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: leakwarden/);
  });
});
