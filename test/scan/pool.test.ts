import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScanPool } from "../../src/scan/pool.js";
import { DEFAULT_ARCHIVE_SETTINGS } from "../../src/scan/scan-archive.js";
import { Secret } from "../../src/scan/secret.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";
import { buildZip } from "../support/zip.js";

const dir = tempDir();
afterAll(dir.remove);

describe("the scanning threads", () => {
  it("scan batches of files and hand back findings with their secrets wrapped again", async () => {
    const token = tokens(71).githubPat();
    const files = ["a.txt", "b.bin", "c.txt"].map((name) => ({ path: join(dir.path, name), display: name }));
    writeFileSync(files[0]?.path as string, `token=${token}\n`);
    writeFileSync(files[1]?.path as string, Buffer.from([0, 1, 2, 3]));
    writeFileSync(files[2]?.path as string, "nothing\n");
    const pool = new ScanPool(
      { ruleDirs: [], disabledRules: [], allow: [], archives: DEFAULT_ARCHIVE_SETTINGS },
      2,
    );
    try {
      const [a, b, c] = await pool.scan(files);
      expect(a?.findings.map((f) => [f.ruleId, f.file, f.line])).toEqual([["github-pat", "a.txt", 1]]);
      expect(a?.findings[0]?.secret).toBeInstanceOf(Secret);
      expect(a?.findings[0]?.secret.reveal()).toBe(token);
      expect(b).toMatchObject({ skipped: "binary", findings: [] });
      expect(c).toMatchObject({ bytes: 8, findings: [] });
      // More batches than threads at once: every one is answered.
      const many = await Promise.all(Array.from({ length: 7 }, () => pool.scan(files.slice(0, 1))));
      expect(many.map((outcomes) => outcomes[0]?.findings.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    } finally {
      await pool.close();
    }
  });

  it("scan an archive's entries on a thread: one outcome per entry, skips with their notes", async () => {
    const token = tokens(72).githubPat();
    const path = join(dir.path, "bundle.zip");
    const deep = buildZip([{ name: "x.zip", data: buildZip([{ name: "y.txt", data: "y\n" }]) }]);
    writeFileSync(
      path,
      buildZip([
        { name: "a.txt", data: `token=${token}\n` },
        { name: "deep.zip", data: deep },
      ]),
    );
    const pool = new ScanPool(
      { ruleDirs: [], disabledRules: [], allow: [], archives: DEFAULT_ARCHIVE_SETTINGS },
      1,
    );
    try {
      const outcomes = await pool.scan([{ path, display: "bundle.zip" }]);
      expect(
        outcomes.map((o) => [o.skipped, o.note, o.findings.map((f) => [f.file, f.secret.reveal()])]),
      ).toEqual([
        [undefined, undefined, [["bundle.zip!a.txt", token]]],
        [
          "archiveTooDeep",
          "bundle.zip!deep.zip!x.zip: an archive nested deeper than --max-archive-depth 2",
          [],
        ],
      ]);
    } finally {
      await pool.close();
    }
  });
});
