// Rules are data: YAML files, one per provider. This module reads and checks them; compile.ts builds the engine.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../errors.js";
import { displayPath } from "../sources/paths.js";
import { parseYaml } from "../yaml.js";
import { type LiveCheckSpec, parseLiveCheck } from "./live-check.js";
import { readRuleCache } from "./rule-cache.js";
import type { Confidence, Severity } from "./types.js";
import { validatorNames } from "./validators/index.js";

export const BUILTIN_RULES_DIR = fileURLToPath(new URL("../../rules/", import.meta.url));

export type InvalidPolicy = "drop" | "medium" | "context";

export interface RuleContext {
  /** Case-insensitive words; a word with punctuation (`dev.azure.com`) matches as a substring. */
  words: string[];
  /** How many neighbouring lines on each side count as nearby. */
  lines: number;
  /** No finding at all unless a word is nearby. */
  required: boolean;
}

/** An example that must match; `confidence` pins the expected confidence. */
export interface MatchExample {
  text: string;
  confidence?: Confidence;
}

export interface Rule {
  id: string;
  provider: string;
  description: string;
  regex: string;
  keywords: string[];
  /** Literal start shown in redacted previews. */
  prefix: string;
  validator?: string;
  /** Confidence of a match that passes its validator, or of any match when there is none. */
  confidence: Confidence;
  /** What a match whose checksum fails becomes. */
  invalid: InvalidPolicy;
  context?: RuleContext;
  /** Minimum Shannon entropy in bits per character, for formats without a checksum. */
  entropy?: number;
  severity: Severity;
  /** The provider module that can revoke this token, if any. */
  revoke?: string;
  /** The read-only request that says whether a token still works (a provider leakwarden has no code for). */
  liveCheck?: LiveCheckSpec;
  /** How the owner revokes or rotates it when no provider module can (or that nothing can yet). */
  revocation?: string;
  /** A broad rule (a password in a URL) that yields to any specific rule finding the same secret. */
  generic: boolean;
  examples: { match: MatchExample[]; nomatch: string[] };
  /** The file the rule came from, for error messages. */
  file: string;
}

export class RuleError extends UserError {
  constructor(
    readonly file: string,
    readonly ruleId: string | undefined,
    readonly problem: string,
  ) {
    super(`${file}${ruleId ? `: rule "${ruleId}"` : ""}: ${problem}`);
    this.name = "RuleError";
  }
}

const CONFIDENCES = ["high", "medium"];
const SEVERITIES = ["critical", "high", "medium", "low"];
const INVALID_POLICIES = ["drop", "medium", "context"];
const KNOWN_FIELDS = new Set([
  "id",
  "provider",
  "description",
  "regex",
  "keywords",
  "prefix",
  "validator",
  "confidence",
  "invalid",
  "context",
  "entropy",
  "severity",
  "revoke",
  "live-check",
  "revocation",
  "generic",
  "examples",
]);
export const MIN_KEYWORD_LENGTH = 3;

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, fail: (problem: string) => never, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.length === 0)) {
    fail(`"${field}" must be a list of non-empty strings`);
  }
  return value as string[];
}

function oneOf<T extends string>(
  value: unknown,
  allowed: string[],
  fallback: T,
  field: string,
  fail: (p: string) => never,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !allowed.includes(value))
    fail(`"${field}" must be one of ${allowed.join(", ")}`);
  return value as T;
}

function parseContext(value: unknown, fail: (problem: string) => never): RuleContext | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) fail(`"context" must be a map with "words", and optionally "lines" and "required"`);
  const words = stringList(value.words, fail, "context.words");
  if (words.length === 0) fail(`"context.words" needs at least one word`);
  const lines = value.lines ?? 1;
  if (typeof lines !== "number" || !Number.isInteger(lines) || lines < 0 || lines > 10) {
    fail(`"context.lines" must be a whole number from 0 to 10`);
  }
  if (value.required !== undefined && typeof value.required !== "boolean")
    fail(`"context.required" must be true or false`);
  return { words, lines, required: value.required === true };
}

function parseExamples(value: unknown, fail: (problem: string) => never): Rule["examples"] {
  if (!isRecord(value)) fail(`"examples" must be a map with "match" and "nomatch" lists`);
  const match: MatchExample[] = [];
  if (!Array.isArray(value.match) || value.match.length === 0)
    fail(`"examples.match" needs at least one example`);
  for (const item of value.match) {
    if (typeof item === "string") match.push({ text: item });
    else if (isRecord(item) && typeof item.text === "string") {
      const confidence = oneOf<Confidence>(
        item.confidence,
        CONFIDENCES,
        "high",
        "examples.match[].confidence",
        fail,
      );
      match.push(item.confidence === undefined ? { text: item.text } : { text: item.text, confidence });
    } else fail(`each "examples.match" entry must be a string or { text, confidence }`);
  }
  if (!Array.isArray(value.nomatch) || value.nomatch.length === 0)
    fail(`"examples.nomatch" needs at least one example`);
  const nomatch = stringList(value.nomatch, fail, "examples.nomatch");
  return { match, nomatch };
}

/** Checks one raw rule and gives it defaults; throws RuleError naming the file, the rule and the problem. */
export function parseRule(raw: unknown, file: string): Rule {
  const id = isRecord(raw) && typeof raw.id === "string" ? raw.id : undefined;
  const fail = (problem: string): never => {
    throw new RuleError(file, id, problem);
  };
  if (!isRecord(raw)) return fail("each rule must be a map of fields");
  if (!id || !/^[a-z0-9][a-z0-9-]*$/.test(id)) fail(`"id" must be lower-case letters, digits and dashes`);
  for (const key of Object.keys(raw)) if (!KNOWN_FIELDS.has(key)) fail(`unknown field "${key}"`);
  for (const field of ["provider", "description", "regex"]) {
    if (typeof raw[field] !== "string" || (raw[field] as string).length === 0) fail(`"${field}" is required`);
  }
  const keywords = stringList(raw.keywords, fail, "keywords");
  for (const keyword of keywords) {
    if (keyword.length < MIN_KEYWORD_LENGTH) {
      fail(
        `keyword "${keyword}" is shorter than ${MIN_KEYWORD_LENGTH} characters and would match almost everywhere`,
      );
    }
  }
  if (
    raw.validator !== undefined &&
    (typeof raw.validator !== "string" || !validatorNames().includes(raw.validator))
  ) {
    fail(`unknown validator "${String(raw.validator)}"; known: ${validatorNames().join(", ")}`);
  }
  if (raw.entropy !== undefined && (typeof raw.entropy !== "number" || raw.entropy < 0 || raw.entropy > 8)) {
    fail(`"entropy" must be a number of bits per character from 0 to 8`);
  }
  if (raw.prefix !== undefined && typeof raw.prefix !== "string") fail(`"prefix" must be a string`);
  if (raw.revoke !== undefined && typeof raw.revoke !== "string") fail(`"revoke" must be a provider name`);
  if (raw.revocation !== undefined && (typeof raw.revocation !== "string" || raw.revocation.length === 0))
    fail(`"revocation" must be a sentence saying how the token is revoked`);
  if (raw.generic !== undefined && typeof raw.generic !== "boolean") fail(`"generic" must be true or false`);
  const invalid = oneOf<InvalidPolicy>(raw.invalid, INVALID_POLICIES, "drop", "invalid", fail);
  const context = parseContext(raw.context, fail);
  const liveCheck = parseLiveCheck(raw["live-check"], fail);
  if (invalid === "context" && !context) fail(`"invalid: context" needs a "context" with words`);
  if (invalid !== "drop" && raw.validator === undefined)
    fail(`"invalid" only applies to a rule with a "validator"`);

  const rule: Rule = {
    id: id as string,
    provider: raw.provider as string,
    description: raw.description as string,
    regex: raw.regex as string,
    keywords,
    prefix: (raw.prefix as string | undefined) ?? "",
    confidence: oneOf<Confidence>(raw.confidence, CONFIDENCES, "high", "confidence", fail),
    invalid,
    severity: oneOf<Severity>(raw.severity, SEVERITIES, "high", "severity", fail),
    generic: raw.generic === true,
    examples: parseExamples(raw.examples, fail),
    file,
  };
  if (typeof raw.validator === "string") rule.validator = raw.validator;
  if (context) rule.context = context;
  if (typeof raw.entropy === "number") rule.entropy = raw.entropy;
  if (typeof raw.revoke === "string") rule.revoke = raw.revoke;
  if (liveCheck) rule.liveCheck = liveCheck;
  if (typeof raw.revocation === "string") rule.revocation = raw.revocation;
  return rule;
}

/** Reads one rule file: `rules:` and a list of rules. */
export function parseRuleFile(text: string, file: string): Rule[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new RuleError(file, undefined, `not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!isRecord(doc) || !Array.isArray(doc.rules)) {
    throw new RuleError(file, undefined, `expected a top-level "rules:" list`);
  }
  return doc.rules.map((raw) => parseRule(raw, file));
}

function ruleFilesIn(dir: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch {
    throw new RuleError(dir, undefined, "no such rules folder or file");
  }
  if (stat.isFile()) return [dir];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** The rules of one folder or file, parsed from YAML. */
export function parseRuleFolder(dir: string): Rule[] {
  return ruleFilesIn(dir).flatMap((path) => {
    const shown = dir === BUILTIN_RULES_DIR ? `rules/${basename(path)}` : displayPath(path);
    return parseRuleFile(readFileSync(path, "utf8"), shown);
  });
}

/**
 * Loads the built-in rules (precompiled at build time when the files have not changed since) and any extra
 * folders or files; ids must be unique across all of them.
 */
export function loadRules(extra: readonly string[] = [], { builtin = true } = {}): Rule[] {
  const rules: Rule[] = [];
  const seen = new Map<string, string>();
  const add = (list: readonly Rule[]) => {
    for (const rule of list) {
      const earlier = seen.get(rule.id);
      if (earlier) throw new RuleError(rule.file, rule.id, `id already defined in ${earlier}`);
      seen.set(rule.id, rule.file);
      rules.push(rule);
    }
  };
  if (builtin) add(readRuleCache()?.rules ?? parseRuleFolder(BUILTIN_RULES_DIR));
  for (const dir of extra) add(parseRuleFolder(dir));
  return rules;
}
