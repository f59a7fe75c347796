// The built-in rules, precompiled at build time (npm run build): parsed, checked, and their regexes analysed,
// so that a run needs neither the YAML parser nor the regex analyser. A rule file changed since the build
// makes the cache stale, and the rules are read from YAML again.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Rule } from "./rules.js";

/** What compiling needs to know about a regex: its longest match, and its run trigger if it has no keywords. */
export interface RegexFacts {
  /** Null when unbounded (JSON has no Infinity). */
  maxLength: number | null;
  run: { members: number[]; length: number } | null;
}

export interface RuleCache {
  signature: string;
  rules: Rule[];
  regexes: Record<string, RegexFacts>;
}

export const RULE_CACHE_FILE = fileURLToPath(new URL("../rules.compiled.json", import.meta.url));
const RULES_DIR = fileURLToPath(new URL("../../rules/", import.meta.url));

/** Names, sizes and modification times of the built-in rule files: what the cache was built from. */
export function builtinSignature(): string {
  return readdirSync(RULES_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const info = statSync(join(RULES_DIR, name));
      return `${name}:${info.size}:${info.mtimeMs}`;
    })
    .join("|");
}

let cache: RuleCache | null | undefined;

/** The cache when it exists and matches the rule files, else undefined. Read once per process. */
export function readRuleCache(): RuleCache | undefined {
  if (cache === undefined) {
    try {
      const read = JSON.parse(readFileSync(RULE_CACHE_FILE, "utf8")) as RuleCache;
      cache = read.signature === builtinSignature() ? read : null;
    } catch {
      cache = null;
    }
  }
  return cache ?? undefined;
}
