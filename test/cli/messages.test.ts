// Mistakes get a sentence that says what to do: "did you mean" for typos, file problems in words (never a bare
// ENOENT or EISDIR), and every short flag documented.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCAN_FLAGS } from "../../src/cli/scan-flags.js";
import { closest } from "../../src/cli/suggest.js";
import { runCli, tempDir } from "../support/cli.js";

const tmp = tempDir();
const at = (name: string) => join(tmp.path, name);
beforeAll(() => {
  writeFileSync(at("notes.txt"), "just text\n");
  writeFileSync(at("other.json"), '{"results": []}\n');
  mkdirSync(at("folder"));
});
afterAll(tmp.remove);

describe("messages", () => {
  it.each([
    [["scna"], /^leakwarden: unknown command "scna"; did you mean "scan"\?/],
    [["regsitry", "list"], /did you mean "registry"\?/],
    [["scan", "--formt", "json"], /unknown option "--formt"; did you mean "--format"\?/],
    [["scan", "--show-secret"], /did you mean "--show-secrets"\?/],
    [["scan", "--format", "jsno"], /--format must be one of .*, not "jsno"; did you mean "json"\?/],
    [["hook", "instal"], /unknown action "instal"; did you mean "install"\?/],
    [["scan", "--git", at("notes.txt")], /notes\.txt" is a file, not a git repository folder/],
    [["scan", "--staged", at("notes.txt")], /is a file, not a git repository folder/],
    [["scan", "--baseline", at("notes.txt"), at("notes.txt")], /baseline ".*notes\.txt": not a JSON report/],
    [
      ["scan", "--baseline", at("other.json"), at("notes.txt")],
      /has no "findings" list; is it a leakwarden JSON report\?/,
    ],
    [["scan", "--baseline", at("folder"), at("notes.txt")], /cannot use baseline ".*folder": it is a folder/],
    [
      ["scan", "--output", at("folder"), at("notes.txt")],
      /cannot write ".*folder": it is a folder, not a file/,
    ],
    [
      ["scan", "--output", at("missing/report.txt"), at("notes.txt")],
      /cannot write ".*report\.txt": no such file or folder/,
    ],
    [
      ["scan", "--config", at("folder"), at("notes.txt")],
      /cannot read config file ".*folder": it is a folder/,
    ],
    [["registry", "import", at("folder")], /cannot read ".*folder": it is a folder, not a file/],
    [["registry", "import", at("missing.jsonl")], /cannot read ".*missing\.jsonl": no such file or folder/],
  ])("%j: one clear line, exit 2", (args, message) => {
    const result = runCli(args, { env: { LEAKWARDEN_DB: at("db/leakwarden.db") } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\bE[A-Z]{3,}\b/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("guesses only when the word is near", () => {
    expect(closest("frobnicate", ["scan", "rules", "hook"])).toBeUndefined();
    expect(closest("-x", ["-o", "-h"])).toBeUndefined();
    expect(closest("findigns", ["findings", "revoke"])).toBe("findings");
    expect(closest("--thread", ["--threads", "--rules"])).toBe("--threads");
  });

  it("documents every short flag in --help", () => {
    const help = runCli(["scan", "--help"]).stdout;
    const shorts = Object.entries(SCAN_FLAGS).filter(([, o]) => "short" in o);
    expect(shorts.length).toBeGreaterThan(0);
    for (const [name, o] of shorts) expect(help).toContain(`-${(o as { short: string }).short}, --${name}`);
    const overview = runCli(["--help"]).stdout;
    expect(overview).toContain("-h, --help");
    expect(overview).toContain("-v, --version");
  });
});
