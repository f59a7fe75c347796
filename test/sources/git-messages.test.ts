// Commit messages read as git streams them: every record whole, however git's output is cut into pieces, and
// only the messages asked for are kept.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/sources/git.js";
import { commitMessages, keptCommitMessages } from "../../src/sources/git-messages.js";
import { tempDir } from "../support/cli.js";
import { createRepo, fastImport, testGitEnv } from "../support/git.js";

const tmp = tempDir();
afterAll(tmp.remove);

describe("commit messages as git streams them", () => {
  it("are handed over whole, across pieces of git's output, and only the kept ones are held", async () => {
    const home = join(tmp.path, "home");
    const dir = join(tmp.path, "messages");
    // 400 commits with multi-line messages of about 1 KB: git's output comes in many pieces.
    let stream = "";
    for (let i = 1; i <= 400; i++) {
      const lines = Array.from({ length: 12 }, (_, j) => `line ${j} of message ${i}: ${"word ".repeat(15)}`);
      const message = `${i % 50 === 0 ? "KEEP " : ""}subject ${i}\n\n${lines.join("\n")}\n`;
      stream += `commit refs/heads/main\nmark :${i}\ncommitter Ada <ada@example.com> ${1_700_000_000 + i} +0000\n`;
      stream += `data ${Buffer.byteLength(message)}\n${message}${i > 1 ? `from :${i - 1}\n` : ""}`;
      stream += `M 100644 inline file.txt\ndata ${String(i).length + 1}\n${i}\n\n`;
    }
    await createRepo(dir, home);
    fastImport(dir, home, stream);
    const repo = GitRepository.prepare(dir, testGitEnv(home));
    const all = await commitMessages(repo, ["--all"]);
    expect(all).toHaveLength(400);
    let seen = 0;
    const kept = await keptCommitMessages(repo, ["--all"], (message) => {
      seen++;
      return message.text.startsWith("KEEP");
    });
    expect(seen).toBe(400);
    // Each kept with its position in the log: what a patch scan of the same walk counts its commit as.
    expect(kept).toEqual(
      all
        .map((message, index) => ({ message, rank: index + 1 }))
        .filter(({ message }) => message.text.startsWith("KEEP")),
    );
    expect(kept).toHaveLength(8);
    expect(kept[0]?.message.text).toContain("line 11 of message 400");
  });

  it("a git failure is an error with git's reason", async () => {
    const repo = GitRepository.prepare(join(tmp.path, "messages"), testGitEnv(join(tmp.path, "home")));
    await expect(keptCommitMessages(repo, ["no-such-ref"], () => true)).rejects.toThrow(/no-such-ref/);
  });
});
