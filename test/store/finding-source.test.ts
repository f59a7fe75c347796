// A finding's identity includes where it was found: the same token at the same path in two repositories is
// two findings. The CLI names a git work tree by its remote URL (never with credentials), else by its path.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withoutCredentials } from "../../src/cli/scan-source.js";
import { runCli, tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(dir.remove);

function repo(name: string, remote: string | undefined, content: string): string {
  const path = join(dir.path, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "config.env"), content);
  if (remote !== undefined) {
    execFileSync("git", ["init", "-q", path]);
    execFileSync("git", ["-C", path, "remote", "add", "origin", remote]);
  }
  return path;
}

describe("the source of a CLI finding", () => {
  it("is the remote URL without credentials, else the absolute path: one token in two places is two findings", () => {
    const pat = tokens(77).githubPat();
    const secretInUrl = tokens(78).githubPat();
    const content = `TOKEN=${pat}\n`;
    const a = repo("a", `https://x-access-token:${secretInUrl}@github.com/acme/a.git`, content);
    const b = repo("b", "git@github.com:acme/b.git", content);
    const plain = repo("plain", undefined, content);
    const db = join(dir.path, "findings.db");
    for (const target of [a, b, plain, a])
      expect(runCli(["scan", "--record", "--db", db, target]).code).toBe(1);
    const listed = JSON.parse(runCli(["findings", "list", "--json", "--db", db]).stdout) as {
      source: string;
    }[];
    expect(listed.map((f) => f.source).sort()).toEqual(
      ["https://github.com/acme/a.git", "git@github.com:acme/b.git", plain].sort(),
    );
    expectNotInFiles(databaseFiles(db), [pat, secretInUrl]);
  });

  it("drops a user and password from a remote URL, and leaves an scp-like one as it is", () => {
    expect(withoutCredentials("https://user:pw@example.com/x.git")).toBe("https://example.com/x.git");
    expect(withoutCredentials("https://example.com/x.git")).toBe("https://example.com/x.git");
    expect(withoutCredentials("git@example.com:x.git")).toBe("git@example.com:x.git");
  });
});
