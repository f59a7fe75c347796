import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadRules } from "../../src/scan/rules.js";
import { rulesMarkdown, TABLE_END, TABLE_START, withRulesTable } from "../../src/scan/rules-table.js";

const rules = loadRules();

describe("README's rules table", () => {
  it("is exactly what the rules generate (run `npm run rules:table` after changing a rule)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END));
    expect(block.trim()).toBe(rulesMarkdown(rules));
  });
  it("has one row per rule", () => {
    const rows = rulesMarkdown(rules).split("\n").slice(2);
    expect(rows).toHaveLength(rules.length);
    for (const rule of rules) expect(rows.some((row) => row.includes(`\`${rule.id}\``))).toBe(true);
  });
  it("escapes pipes inside cells", () => {
    const [rule] = rules;
    if (!rule) throw new Error("no rules");
    const table = rulesMarkdown([{ ...rule, description: "a | b" }]);
    expect(table).toContain("a \\| b");
  });
  it("refuses a README without the markers", () => {
    expect(() => withRulesTable("# no table here", "| x |")).toThrow(/rules-table:start/);
  });
});

describe("the built-in rule set", () => {
  it("has at least 150 rules", () => expect(rules.length).toBeGreaterThanOrEqual(150));
  it.each(rules.map((r) => [r.id, r] as const))("%s says how it is revoked", (_id, rule) => {
    expect(rule.revoke ?? rule.revocation).toBeTruthy();
  });
  it.each(rules.map((r) => [r.id, r] as const))(
    "%s matches generated tokens, not literal ones",
    (_id, rule) => {
      expect(rule.examples.match.every((e) => /\{\{[a-z0-9-]+(?::bad-checksum)?\}\}/.test(e.text))).toBe(
        true,
      );
    },
  );
});
