import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "../support/cli.js";

const dir = tempDir();
afterAll(dir.remove);

const rule = (match: string) => `rules:
  - id: acme-key
    provider: acme
    description: ACME API key
    regex: '(?<![A-Za-z0-9])acme_[A-Za-z0-9]{24}(?![A-Za-z0-9])'
    keywords: [acme_]
    prefix: acme_
    entropy: 3.0
    examples:
      match: ['${match}']
      nomatch: ['acme_short']
`;

describe("leakwarden rules", () => {
  it("list shows id, provider, validator and revocability", () => {
    const result = runCli(["rules", "list"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ID\s+PROVIDER\s+VALIDATOR\s+REVOCABLE/);
    expect(result.stdout).toMatch(/azure-devops-pat\s+azure-devops\s+azure-devops-pat\s+azure-devops/);
    const list = JSON.parse(runCli(["rules", "list", "--json"]).stdout);
    expect(list.find((r: { id: string }) => r.id === "github-pat")).toMatchObject({
      validator: "github-crc32",
      revoke: "github",
    });
  });

  it("test passes on the built-in rules", () => {
    const result = runCli(["rules", "test"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: \d+ rules, \d+ examples, 0 failures/);
  });

  it("test exits 1 on a user rule whose example fails, and names it", () => {
    const good = join(dir.path, "good");
    const bad = join(dir.path, "bad");
    mkdirSync(good);
    mkdirSync(bad);
    writeFileSync(join(good, "acme.yml"), rule("key = acme_Q8zr3LmW0pXk7TnV2bYc9HsJ"));
    writeFileSync(join(bad, "acme.yml"), rule("key = acme_tooShort"));
    expect(runCli(["rules", "test", "--rules", good]).code).toBe(0);
    const result = runCli(["rules", "test", "--rules", bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL .*bad\/acme\.yml: rule "acme-key": match example "key = acme_tooShort": expected a finding/,
    );
    expect(runCli(["rules", "list", "--rules", good]).stdout).toMatch(/acme-key\s+acme/);
  });
});

describe("rules/README.md", () => {
  it("its example rule file loads and its examples pass", () => {
    const readme = readFileSync(join(ROOT, "rules", "README.md"), "utf8");
    const snippet = /```yaml\n(rules:[\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    const folder = join(dir.path, "readme");
    mkdirSync(folder);
    writeFileSync(join(folder, "acme.yml"), snippet as string);
    expect(runCli(["rules", "test", "--rules", folder])).toMatchObject({ code: 0 });
  });
});

describe("the precompiled built-in rules", () => {
  it("match the rule files: the CLI (which reads the cache) lists what YAML parsing gives", async () => {
    const { loadRules } = await import("../../src/scan/rules.js");
    const { builtinSignature } = await import("../../src/scan/rule-cache.js");
    const cache = JSON.parse(readFileSync(join(ROOT, "dist", "rules.compiled.json"), "utf8"));
    expect(cache.signature).toBe(builtinSignature());
    const fromYaml = loadRules().map((r) => ({
      id: r.id,
      validator: r.validator ?? null,
      revoke: r.revoke ?? null,
      file: r.file,
    }));
    const fromCli = JSON.parse(runCli(["rules", "list", "--json"]).stdout).map(
      (r: { id: string; validator: string | null; revoke: string | null; file: string }) => ({
        id: r.id,
        validator: r.validator,
        revoke: r.revoke,
        file: r.file,
      }),
    );
    expect(fromCli).toEqual(fromYaml);
    expect(cache.rules).toEqual(loadRules());
  });
});

describe("leakwarden rules list --format markdown", () => {
  it("prints the README table and rewrites it in a file between the markers", () => {
    const printed = runCli(["rules", "list", "--format", "markdown", "--rules", join(dir.path, "md-rules")]);
    expect(printed.code).toBe(2);
    const table = runCli(["rules", "list", "--format", "markdown"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^\| Provider \| What it matches \| How it is confirmed \| Severity \| Revocable \|/,
    );
    const readme = join(dir.path, "README.md");
    writeFileSync(
      readme,
      "# Doc\n<!-- rules-table:start (npm run rules:table) -->\nold\n<!-- rules-table:end -->\ntail\n",
    );
    const updated = runCli(["rules", "list", "--format", "markdown", "--readme", readme]);
    expect(updated.code).toBe(0);
    const text = readFileSync(readme, "utf8");
    expect(text).not.toContain("\nold\n");
    expect(text).toContain(table.stdout.trim());
    expect(text.endsWith("<!-- rules-table:end -->\ntail\n")).toBe(true);
  });
  it("refuses --readme without --format markdown, and an unknown format", () => {
    expect(runCli(["rules", "list", "--readme", "x.md"]).code).toBe(2);
    expect(runCli(["rules", "list", "--format", "html"]).code).toBe(2);
  });
});
