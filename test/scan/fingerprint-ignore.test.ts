// The App reads `.leakwardenignore` from the pushed commit of a real git repository, not from a work tree.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadFingerprintIgnoreAt, loadFingerprintIgnoresAt } from "../../src/scan/fingerprint-ignore.js";
import { tempDir } from "../support/cli.js";
import { createRepo, testGitEnv } from "../support/git.js";

const dir = tempDir();
afterAll(() => dir.remove());
const listed = "3d0b6f6c2f4e4b8e9a7d1c2b3a4f5e6d";

describe(".leakwardenignore at a commit", () => {
  it("is read from the commit: absent, listed, then malformed with the line named", async () => {
    const repo = await createRepo(join(dir.path, "repo"), dir.path);
    const env = testGitEnv(dir.path);
    const gitDir = join(repo.dir, ".git");
    const none = await repo.commit({ "a.txt": "a\n" }, "first");
    expect(await loadFingerprintIgnoreAt(gitDir, none, env)).toEqual(new Set());
    const good = await repo.commit({ ".leakwardenignore": `# reviewed\n${listed}\n` }, "ignore");
    expect(await loadFingerprintIgnoreAt(gitDir, good, env)).toEqual(new Set([listed]));
    const bad = await repo.commit({ ".leakwardenignore": `${listed}\nnot-a-fingerprint\n` }, "broken");
    await expect(loadFingerprintIgnoreAt(gitDir, bad, env)).rejects.toThrow(
      /\.leakwardenignore line 2 is not a finding fingerprint/,
    );
    // The earlier commit still reads as it was: the file is taken from the commit, not the work tree.
    expect(await loadFingerprintIgnoreAt(gitDir, good, env)).toEqual(new Set([listed]));
    await expect(loadFingerprintIgnoreAt(gitDir, "HEAD", env)).rejects.toThrow(/not a commit id/);
  });

  it("is read for a whole burst of pushes at once, each commit's file its own", async () => {
    const repo = await createRepo(join(dir.path, "burst"), dir.path);
    const env = testGitEnv(dir.path);
    const gitDir = join(repo.dir, ".git");
    const none = await repo.commit({ "a.txt": "a\n" }, "first");
    const good = await repo.commit({ ".leakwardenignore": `${listed}\n` }, "ignore");
    const bad = await repo.commit({ ".leakwardenignore": "nope\n" }, "broken");
    const unknown = `${"0".repeat(39)}1`;
    const read = await loadFingerprintIgnoresAt(gitDir, [good, none, bad, good, "HEAD", unknown], env);
    expect(read.slice(0, 2)).toEqual([new Set([listed]), new Set()]);
    expect(String(read[2])).toMatch(/\.leakwardenignore line 1 is not a finding fingerprint/);
    expect(read[3]).toEqual(new Set([listed]));
    expect(String(read[4])).toMatch(/not a commit id/);
    // A commit the cache lacks has no file to read.
    expect(read[5]).toEqual(new Set());
    const other = await createRepo(join(dir.path, "folder"), dir.path);
    const folder = await other.commit({ ".leakwardenignore/x": "x\n" }, "a folder");
    const [notFile] = await loadFingerprintIgnoresAt(join(other.dir, ".git"), [folder], env);
    expect(String(notFile)).toMatch(/\.leakwardenignore is not a file/);
  });
});
