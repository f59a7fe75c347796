// Turns rule data into what the engine runs: checked regexes, a keyword automaton, and run triggers.
import { DECODERS, type Decoder, hasUserinfo } from "./decoders.js";
import { KeywordAutomaton } from "./prefilter.js";
import { analyzeRegex, mandatoryRun } from "./regex-safety.js";
import { type RegexFacts, readRuleCache } from "./rule-cache.js";
import { type Rule, RuleError } from "./rules.js";
import type { Encoding } from "./types.js";
import { VALIDATORS, type Validator } from "./validators/index.js";

/** How far around a keyword to search when a regex has no upper bound on its length. */
export const UNBOUNDED_REACH = 4096;
/** A keywordless rule must contain a run of one character class at least this long. */
const MIN_RUN_TRIGGER = 16;

/** Something the prefilter can wake up: a rule or a decoder. */
interface Target {
  /** Finds the matches (global, without indices: most are dropped, and indices cost as much as the search). */
  regex: RegExp;
  /** The same regex, sticky and with indices: where a kept match's secret lies, asked at its start. */
  spans: RegExp;
  /** The longest match: how far a match can extend on either side of its trigger. */
  reach: number;
  /** How far before its trigger a match can start: `reach` for rules, 0 for decoders (they start at it). */
  before: number;
}

export interface CompiledRule extends Target {
  rule: Rule;
  validate: Validator | undefined;
}

/** A decoder as the engine runs it: its fields copied out, so that every decoder has the same shape. */
export interface CompiledDecoder extends Target {
  encoding: Encoding;
  decode: Decoder["decode"];
  candidate: Decoder["candidate"];
  withinLine: boolean;
}

export interface RunTrigger {
  rule: number;
  member: Uint8Array;
  length: number;
}

export interface CompiledRules {
  rules: CompiledRule[];
  decoders: CompiledDecoder[];
  automaton: KeywordAutomaton;
  /** For each keyword: the rules (index) and decoders (-1 - index) it wakes. */
  keywordTargets: number[][];
  /** For each keyword: a cheap look at the bytes of a hit before any rule or decoder runs there (false skips). */
  keywordChecks: (((bytes: Uint8Array, at: number) => boolean) | undefined)[];
  runs: RunTrigger[];
}

/** What compiling needs from the regex analysis: from the build-time cache, or computed (and checked) now. */
export function regexFacts(source: string): RegexFacts {
  const cached = readRuleCache()?.regexes[source];
  if (cached) return cached;
  const analysis = analyzeRegex(source);
  const run = mandatoryRun(analysis.pattern, MIN_RUN_TRIGGER);
  return {
    maxLength: Number.isFinite(analysis.maxLength) ? analysis.maxLength : null,
    run: run ? { members: run.chars.asciiMembers(), length: run.length } : null,
  };
}

function compileRegex(
  source: string,
  fail: (problem: string) => never,
): { regex: RegExp; spans: RegExp; reach: number; run: RegexFacts["run"] } {
  try {
    const facts = regexFacts(source);
    const regex = new RegExp(source, "g");
    const spans = new RegExp(source, "yd");
    const groups = new RegExp(`${source}|`).exec("")?.length ?? 1;
    if (groups > 2)
      fail("regex must have at most one capture group (the secret); use (?:...) for the others");
    return { regex, spans, reach: facts.maxLength ?? UNBOUNDED_REACH, run: facts.run };
  } catch (error) {
    if (error instanceof RuleError) throw error;
    return fail(`regex: ${(error as Error).message}`);
  }
}

function byteTable(members: number[]): Uint8Array {
  const table = new Uint8Array(256);
  for (const code of members) table[code] = 1;
  return table;
}

/** URL rules and the URL decoder (`postgres://`, `://`) only matter where the URL has user-info: most have none. */
function keywordCheck(keyword: string): ((bytes: Uint8Array, at: number) => boolean) | undefined {
  if (!keyword.endsWith("://")) return undefined;
  const offset = keyword.length - 3;
  return (bytes, at) => hasUserinfo(bytes, at + offset);
}

export function compileRules(rules: readonly Rule[], decoders: readonly Decoder[] = DECODERS): CompiledRules {
  const keywords: string[] = [];
  const keywordTargets: number[][] = [];
  const addKeyword = (keyword: string, target: number) => {
    let index = keywords.indexOf(keyword);
    if (index < 0) {
      index = keywords.push(keyword) - 1;
      keywordTargets.push([]);
    }
    keywordTargets[index]?.push(target);
  };

  const runs: RunTrigger[] = [];
  const compiled = rules.map((rule, index): CompiledRule => {
    const fail = (problem: string): never => {
      throw new RuleError(rule.file, rule.id, problem);
    };
    const { regex, spans, reach, run } = compileRegex(rule.regex, fail);
    if (rule.keywords.length > 0) {
      for (const keyword of rule.keywords) addKeyword(keyword, index);
    } else if (run) {
      runs.push({ rule: index, member: byteTable(run.members), length: run.length });
    } else {
      fail(
        `has no "keywords" and its regex has no run of ${MIN_RUN_TRIGGER}+ characters of one class to anchor on; add keywords (literal text every match contains)`,
      );
    }
    const validate = rule.validator ? VALIDATORS[rule.validator] : undefined;
    // One shape for every rule (validate present, maybe undefined): the scan's hot code sees a single map.
    return { rule, regex, spans, reach, before: reach, validate };
  });

  const compiledDecoders = decoders.map((decoder, index): CompiledDecoder => {
    const { regex, spans, reach } = compileRegex(decoder.regex, (problem) => {
      throw new Error(`decoder ${decoder.encoding}: ${problem}`);
    });
    for (const keyword of decoder.keywords) addKeyword(keyword, -1 - index);
    const { encoding, decode, candidate } = decoder;
    const withinLine = decoder.withinLine === true;
    return { regex, spans, reach, before: decoder.before ?? 0, encoding, decode, candidate, withinLine };
  });

  return {
    rules: compiled,
    decoders: compiledDecoders,
    automaton: new KeywordAutomaton(keywords),
    keywordTargets,
    keywordChecks: keywords.map(keywordCheck),
    runs,
  };
}
