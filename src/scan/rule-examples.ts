// Runs the examples that every rule carries: used by `leakwarden rules test` and by the test suite.
import type { Engine } from "./engine.js";
import { locate } from "./locate.js";
import type { MatchExample, Rule } from "./rules.js";
import { fillSamples, type SeededRandom } from "./samples.js";

export interface ExampleFailure {
  rule: Rule;
  kind: "match" | "nomatch";
  /** The example as written, placeholders unfilled: generated tokens are never printed. */
  example: string;
  problem: string;
}

export function checkExample(
  engine: Engine,
  rule: Rule,
  kind: "match" | "nomatch",
  example: MatchExample,
  rng: SeededRandom,
): ExampleFailure | null {
  let text: string;
  try {
    text = fillSamples(example.text, rng).text;
  } catch (error) {
    return { rule, kind, example: example.text, problem: (error as Error).message };
  }
  const bytes = Buffer.from(text);
  const found = locate(bytes, engine.detect(bytes), { file: "example" }).filter((f) => f.ruleId === rule.id);
  const fail = (problem: string): ExampleFailure => ({ rule, kind, example: example.text, problem });
  if (kind === "nomatch") return found.length === 0 ? null : fail(`expected no finding, got ${found.length}`);
  if (found.length === 0) return fail("expected a finding, got none");
  const expected = example.confidence ?? rule.confidence;
  if (!found.some((f) => f.confidence === expected))
    return fail(`expected confidence ${expected}, got ${found[0]?.confidence}`);
  return null;
}

/** Every example of every rule; the rules must be compiled into `engine`. */
export function checkAllExamples(engine: Engine, rules: readonly Rule[], rng: SeededRandom) {
  const failures: ExampleFailure[] = [];
  let examples = 0;
  for (const rule of rules) {
    for (const example of rule.examples.match) {
      examples++;
      const failure = checkExample(engine, rule, "match", example, rng);
      if (failure) failures.push(failure);
    }
    for (const text of rule.examples.nomatch) {
      examples++;
      const failure = checkExample(engine, rule, "nomatch", { text }, rng);
      if (failure) failures.push(failure);
    }
  }
  return { examples, failures };
}
