import { describe, expect, it } from "vitest";
import { compileRules } from "../../src/scan/compile.js";
import { Engine } from "../../src/scan/engine.js";
import { analyzeRegex, UnsafeRegexError } from "../../src/scan/regex-safety.js";
import { parseRule } from "../../src/scan/rules.js";

describe("catastrophic backtracking is refused at load", () => {
  it.each([
    ["(a+)+$", /nested quantifiers/],
    ["(\\w+\\s?)*x", /nested quantifiers/],
    ["(a|aa)*b", /overlapping alternatives/],
    ["(a*)*", /can match empty text/],
    [
      "\\d+\\d+x",
      /2 overlapping repetitions \(\\d\+…\\d\+\) can split the same text in unboundedly many ways/,
    ],
    ["[a-z]{1,500}[a-z0-9]{1,500}!", /overlapping repetitions/],
    // Each pair harmless, the whole sequence exponential (issue 8, item 14).
    [
      `${"\\w?".repeat(28)}\\w{28}!`,
      /9 overlapping repetitions \(\\w\?…\\w\?\) can split the same text in 512 ways/,
    ],
    [`${"\\w{0,15}".repeat(10)}!`, /3 overlapping repetitions .* in 4096 ways/],
    [`${"(\\w?)".repeat(28)}!`, /overlapping repetitions/],
    ["(?:[A-Za-z0-9]+)+=", /nested quantifiers/],
  ])("%s", (source, message) => {
    expect(() => analyzeRegex(source)).toThrow(UnsafeRegexError);
    expect(() => analyzeRegex(source)).toThrow(message);
  });
});

describe("safe shapes are accepted", () => {
  it.each([
    "(?:[0-9]{1,13}-){3,4}[A-Za-z0-9]{24,64}",
    "(?:\\.[a-z]{2,5})+",
    "ghp_[A-Za-z0-9]{36}",
    "[0-9]{10,13}[A-Za-z]{0,3}",
    "(?<![A-Za-z0-9])[a-z2-7]{52}(?![A-Za-z0-9])",
  ])("%s", (source) => {
    expect(() => analyzeRegex(source)).not.toThrow();
  });
});

describe("longest match", () => {
  it.each([
    ["abc", 3],
    ["a{2,5}b", 6],
    ["(?:ab|c){3}", 6],
    ["(?<![x])y{4}", 4],
    ["a+", Number.POSITIVE_INFINITY],
  ])("%s is %d", (source, length) => expect(analyzeRegex(source).maxLength).toBe(length));
});

describe("a rule file with a dangerous regex", () => {
  const raw = {
    id: "evil",
    provider: "x",
    description: "x",
    regex: "tok_(a+)+!",
    keywords: ["tok_"],
    examples: { match: ["tok_a!"], nomatch: ["x"] },
  };
  it("is refused with the file, the rule and the problem", () => {
    expect(() => compileRules([parseRule(raw, "mine/evil.yml")])).toThrow(
      /^mine\/evil\.yml: rule "evil": regex: nested quantifiers in \(a\+\)\+/,
    );
  });
  // A backtracking regex would run for minutes on this; the test's timeout is the assertion.
  it("a safe rule finishes on hostile input: 1 MB of one character after a keyword", {
    timeout: 10_000,
  }, () => {
    const rule = parseRule({ ...raw, regex: "tok_[a-z]{1,64}!" }, "mine/ok.yml");
    const engine = new Engine(compileRules([rule]));
    const hostile = Buffer.from(`tok_${"a".repeat(1024 * 1024)}`.repeat(2));
    expect(engine.detect(hostile)).toEqual([]);
  });
});
