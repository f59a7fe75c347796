// What kind of token a value is, by the same rules a scan uses: a registry entry must be a token the
// scanner would recognise, or the registry could never match it.
import type { Engine } from "../scan/engine.js";
import { redact } from "../scan/redact.js";
import type { Rule } from "../scan/rules.js";
import type { Confidence } from "../scan/types.js";

export interface Identity {
  rule: Rule;
  confidence: Confidence;
  preview: string;
}

/** The rule whose match is the whole value, preferring a checksum-proven one; undefined when none is. */
export function identify(value: string, engine: Engine): Identity | undefined {
  const bytes = Buffer.from(value, "utf8");
  const whole = engine
    .detect(bytes)
    .filter((d) => d.start === 0 && d.end === bytes.length && d.secret === value && d.encoding === "plain");
  const best = whole.find((d) => d.confidence === "high") ?? whole[0];
  if (!best) return undefined;
  const rule = best.rule.rule;
  return { rule, confidence: best.confidence, preview: redact(value, rule.prefix) };
}

/** A preview for a value no rule knows (registered with --force). */
export function previewOf(value: string): string {
  return redact(value);
}
