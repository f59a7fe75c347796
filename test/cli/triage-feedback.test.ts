// Triage feeds back into `scan` with the store: a fingerprint resolved as a false positive or an accepted risk
// is neither reported nor acted on again, through the compiled CLI and a real SQLite file.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1130);
const dir = tempDir();
afterAll(() => dir.remove());

describe("scan --record after triage", () => {
  const fixture = t.githubPat();
  const real = t.githubPat();
  const db = join(dir.path, "triage.db");
  const env = { LEAKWARDEN_DB: db };
  const folder = join(dir.path, "repo");

  it("leaves out a finding resolved as a false positive, and still reports the others", () => {
    mkdirSync(folder);
    writeFileSync(join(folder, "fixture.txt"), `token=${fixture}\n`);
    const first = runCli(["scan", ".", "--record", "--format", "json"], { env, cwd: folder });
    expect(first.code, first.stderr).toBe(1);
    const [found] = JSON.parse(first.stdout).findings as { fingerprint: string }[];
    const listed = runCli(["findings", "list", "--json"], { env });
    const [record] = JSON.parse(listed.stdout) as { id: number }[];
    const resolved = runCli(["findings", "resolve", String(record?.id), "--as", "false-positive"], { env });
    expect(resolved.code, resolved.stderr).toBe(0);

    writeFileSync(join(folder, "config.txt"), `token=${real}\n`);
    const again = runCli(["scan", ".", "--record", "--format", "json"], { env, cwd: folder });
    expect(again.code, again.stderr).toBe(1);
    const report = JSON.parse(again.stdout) as {
      findings: { fingerprint: string; file: string }[];
      suppressed: Record<string, number>;
    };
    expect(report.findings.map((f) => f.file)).toEqual(["config.txt"]);
    expect(report.findings.map((f) => f.fingerprint)).not.toContain(found?.fingerprint);
    expect(report.suppressed.triaged).toBe(1);
    expectNotInText([first.stdout, again.stdout, again.stderr], [fixture, real]);
    expectNotInFiles(databaseFiles(db), [fixture, real]);
  });

  it("a scan without the store is not affected: it has no triage to read", () => {
    const plain = runCli(["scan", ".", "--format", "json"], { env, cwd: folder });
    expect((JSON.parse(plain.stdout) as { findings: unknown[] }).findings).toHaveLength(2);
  });
});
