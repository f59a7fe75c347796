import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileRules } from "../../src/scan/compile.js";
import { Engine } from "../../src/scan/engine.js";
import { checkExample } from "../../src/scan/rule-examples.js";
import { loadRules, parseRuleFile, RuleError } from "../../src/scan/rules.js";
import { tempDir } from "../support/cli.js";
import { SeededRandom } from "../support/tokens.js";

const rules = loadRules();
const engine = new Engine(compileRules(rules));

describe("the minimum rule set from the issue is present", () => {
  it.each([
    "azure-devops-pat",
    "azure-devops-pat-legacy",
    "github-pat",
    "github-oauth-token",
    "github-user-token",
    "github-installation-token",
    "github-installation-token-stateless",
    "github-refresh-token",
    "github-fine-grained-pat",
    "npm-token",
    "gitlab-pat",
    "gitlab-pat-routable",
    "slack-bot-token",
    "slack-user-token",
    "slack-app-token",
    "aws-access-key-id",
    "google-api-key",
    "openai-api-key",
    "anthropic-api-key",
    "stripe-live-key",
    "huggingface-token",
    "pypi-token",
    "private-key",
  ])("%s", (id) => expect(rules.map((r) => r.id)).toContain(id));
});

// Every rule's examples, each with three seeds: a generated token must not pass by luck.
describe.each(rules.map((r) => [r.id, r] as const))("rule %s", (_id, rule) => {
  for (const seed of [1, 2, 3]) {
    it.each(rule.examples.match.map((e) => [e.text, e] as const))(
      `matches (seed ${seed}): %s`,
      (_text, example) => {
        expect(checkExample(engine, rule, "match", example, new SeededRandom(seed))).toBeNull();
      },
    );
    it.each(rule.examples.nomatch)(`does not match (seed ${seed}): %s`, (text) => {
      expect(checkExample(engine, rule, "nomatch", { text }, new SeededRandom(seed))).toBeNull();
    });
  }
});

describe("the example runner can fail", () => {
  it("reports a match example that finds nothing", () => {
    const rule = rules.find((r) => r.id === "github-pat");
    if (!rule) throw new Error("missing rule");
    const failure = checkExample(engine, rule, "match", { text: "no token here" }, new SeededRandom(1));
    expect(failure?.problem).toBe("expected a finding, got none");
  });
  it("reports a nomatch example that finds something", () => {
    const rule = rules.find((r) => r.id === "github-pat");
    if (!rule) throw new Error("missing rule");
    const failure = checkExample(engine, rule, "nomatch", { text: "{{github-pat}}" }, new SeededRandom(1));
    expect(failure?.problem).toMatch(/expected no finding/);
  });
});

describe("broken rule files name the file, the rule and the problem", () => {
  const dir = tempDir();
  afterAll(dir.remove);
  const base = `rules:
  - id: my-token
    provider: acme
    description: ACME token
    regex: 'acme_[a-z0-9]{32}'
    keywords: [acme_]
    examples:
      match: ['acme_k3j9x7q2m4v8c1z6w5b0n7h2g4f8d6s1']
      nomatch: ['acme_short']
`;
  it.each([
    ["not: [valid", /bad\.yml: not valid YAML/],
    ["rules: 3", /bad\.yml: expected a top-level "rules:" list/],
    [base.replace("    provider: acme\n", ""), /bad\.yml: rule "my-token": "provider" is required/],
    [base.replace("keywords: [acme_]", "keywords: [ac]"), /rule "my-token": keyword "ac" is shorter than 3/],
    [
      base.replace("regex: 'acme_[a-z0-9]{32}'", "regex: 'acme_(['"),
      /rule "my-token": regex: Invalid regular expression/,
    ],
    [
      base.replace("regex: 'acme_[a-z0-9]{32}'", "regex: 'acme_([a-z]+)+'"),
      /rule "my-token": regex: nested quantifiers/,
    ],
    [
      base.replace("keywords: [acme_]", "keywords: [acme_]\n    validator: nope"),
      /rule "my-token": unknown validator "nope"/,
    ],
    [
      base.replace("keywords: [acme_]", "keywords: [acme_]\n    colour: red"),
      /rule "my-token": unknown field "colour"/,
    ],
    [
      base.replace("    keywords: [acme_]\n", "").replace("{32}", "{8}"),
      /rule "my-token": has no "keywords"/,
    ],
    [
      base.replace(
        "    examples:\n      match: ['acme_k3j9x7q2m4v8c1z6w5b0n7h2g4f8d6s1']\n      nomatch: ['acme_short']\n",
        "",
      ),
      /"examples" must be a map/,
    ],
  ])("%#", (text, message) => {
    const folder = join(dir.path, String(Math.random()).slice(2));
    mkdirSync(folder);
    writeFileSync(join(folder, "bad.yml"), text);
    const load = () => compileRules(loadRules([folder]));
    expect(load).toThrow(RuleError);
    expect(load).toThrow(message);
  });
  it("a duplicate id is refused", () => {
    expect(() => parseRuleFile(base, "a.yml") && loadRules([writeTwice(dir.path, base)])).toThrow(
      /already defined/,
    );
  });
});

function writeTwice(root: string, text: string): string {
  const folder = join(root, "twice");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "a.yml"), text);
  writeFileSync(join(folder, "b.yml"), text);
  return folder;
}
