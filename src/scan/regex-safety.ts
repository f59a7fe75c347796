// Static checks on rule regexes: refuse the shapes that backtrack catastrophically, and measure the
// longest text a regex can match so that the engine knows how wide a window to search around a keyword.
import { createRequire } from "node:module";
import type { AST } from "@eslint-community/regexpp";

type Regexpp = typeof import("@eslint-community/regexpp");
/** Loaded on first use: built-in rules arrive analysed (rule-cache.ts), so most runs never parse a regex. */
let regexpp: Regexpp | undefined;

/** An over-approximation of the characters a node can consume: ASCII exactly, everything else as one flag. */
export class CharSet {
  private readonly ascii = new Uint32Array(4);
  private nonAscii = false;

  static of(...codes: number[]): CharSet {
    const set = new CharSet();
    for (const code of codes) set.addRange(code, code);
    return set;
  }

  static all(): CharSet {
    const set = new CharSet();
    set.addRange(0, 0x10ffff);
    return set;
  }

  addRange(from: number, to: number): this {
    for (let c = from; c <= Math.min(to, 127); c++) (this.ascii[c >> 5] as number) |= 1 << (c & 31);
    if (to > 127) this.nonAscii = true;
    return this;
  }

  add(other: CharSet): this {
    for (let i = 0; i < 4; i++) (this.ascii[i] as number) |= other.ascii[i] as number;
    this.nonAscii ||= other.nonAscii;
    return this;
  }

  complement(): CharSet {
    const set = new CharSet();
    for (let i = 0; i < 4; i++) set.ascii[i] = ~(this.ascii[i] as number);
    set.nonAscii = true;
    return set;
  }

  has(code: number): boolean {
    return code > 127 ? this.nonAscii : ((this.ascii[code >> 5] as number) & (1 << (code & 31))) !== 0;
  }

  overlaps(other: CharSet): boolean {
    for (let i = 0; i < 4; i++)
      if (((this.ascii[i] as number) & (other.ascii[i] as number)) !== 0) return true;
    return this.nonAscii && other.nonAscii;
  }

  isEmpty(): boolean {
    return !this.nonAscii && this.ascii.every((word) => word === 0);
  }

  /** The ASCII members, for building byte lookup tables. */
  asciiMembers(): number[] {
    const out: number[] = [];
    for (let c = 0; c < 128; c++) if (this.has(c)) out.push(c);
    return out;
  }
}

const DIGIT = new CharSet().addRange(0x30, 0x39);
const WORD = new CharSet()
  .addRange(0x30, 0x39)
  .addRange(0x41, 0x5a)
  .addRange(0x61, 0x7a)
  .addRange(0x5f, 0x5f);
const SPACE = CharSet.of(0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xa0).addRange(0x1680, 0xfeff);

type Node = AST.Node;
type Element = AST.Element;

function escapeSet(node: AST.EscapeCharacterSet): CharSet {
  const base = node.kind === "digit" ? DIGIT : node.kind === "word" ? WORD : SPACE;
  return node.negate ? base.complement() : new CharSet().add(base);
}

/** Every character a node can consume anywhere in its match. */
export function charsOf(node: Node): CharSet {
  switch (node.type) {
    case "Character":
      return CharSet.of(node.value);
    case "CharacterClassRange":
      return new CharSet().addRange(node.min.value, node.max.value);
    case "CharacterSet":
      if (node.kind === "any" || node.kind === "property") return CharSet.all();
      return escapeSet(node);
    case "CharacterClass": {
      const set = new CharSet();
      for (const element of node.elements) set.add(charsOf(element as Node));
      return node.negate ? set.complement() : set;
    }
    case "Quantifier":
      return charsOf(node.element);
    case "Group":
    case "CapturingGroup":
    case "Pattern": {
      const set = new CharSet();
      for (const alternative of node.alternatives) set.add(charsOf(alternative));
      return set;
    }
    case "Alternative": {
      const set = new CharSet();
      for (const element of node.elements) set.add(charsOf(element));
      return set;
    }
    case "Backreference":
      return CharSet.all();
    default:
      return new CharSet();
  }
}

/** Whether a node can match the empty string. */
export function nullable(node: Node): boolean {
  switch (node.type) {
    case "Assertion":
      return true;
    case "Quantifier":
      return node.min === 0 || nullable(node.element);
    case "Group":
    case "CapturingGroup":
    case "Pattern":
      return node.alternatives.some(nullable);
    case "Alternative":
      return node.elements.every(nullable);
    case "Backreference":
      return true;
    default:
      return false;
  }
}

/** Characters that can start a match of the node. */
export function firstChars(node: Node): CharSet {
  switch (node.type) {
    case "Quantifier":
      return node.max === 0 ? new CharSet() : firstChars(node.element);
    case "Group":
    case "CapturingGroup":
    case "Pattern": {
      const set = new CharSet();
      for (const alternative of node.alternatives) set.add(firstChars(alternative));
      return set;
    }
    case "Alternative": {
      const set = new CharSet();
      for (const element of node.elements) {
        set.add(firstChars(element));
        if (!nullable(element)) break;
      }
      return set;
    }
    case "Assertion":
      return new CharSet();
    default:
      return charsOf(node);
  }
}

/** The longest match of a node, in UTF-16 units; Infinity when unbounded. */
export function maxLength(node: Node): number {
  switch (node.type) {
    case "Character":
    case "CharacterSet":
    case "CharacterClass":
      return 1;
    case "Quantifier":
      return node.max === 0 ? 0 : node.max * maxLength(node.element);
    case "Group":
    case "CapturingGroup":
    case "Pattern":
      return Math.max(0, ...node.alternatives.map(maxLength));
    case "Alternative":
      return node.elements.reduce((sum, element) => sum + maxLength(element), 0);
    case "Backreference":
      return Number.POSITIVE_INFINITY;
    default:
      return 0;
  }
}

function isVariable(q: AST.Quantifier): boolean {
  return q.max > q.min;
}

/** A fixed single-character element: what can safely separate two repetitions. */
function singleChar(element: Element | undefined): CharSet | null {
  if (!element) return null;
  if (element.type === "Character" || element.type === "CharacterSet" || element.type === "CharacterClass") {
    return charsOf(element);
  }
  return null;
}

function variableQuantifiersIn(node: Node, out: AST.Quantifier[] = []): AST.Quantifier[] {
  if (node.type === "Quantifier") {
    if (isVariable(node)) out.push(node);
    variableQuantifiersIn(node.element, out);
  } else if (node.type === "Group" || node.type === "CapturingGroup" || node.type === "Pattern") {
    for (const alternative of node.alternatives) variableQuantifiersIn(alternative, out);
  } else if (node.type === "Alternative") {
    for (const element of node.elements) variableQuantifiersIn(element, out);
  } else if (node.type === "Assertion" && (node.kind === "lookahead" || node.kind === "lookbehind")) {
    for (const alternative of node.alternatives) variableQuantifiersIn(alternative, out);
  }
  return out;
}

/** Ends of a repeated body that no inner repetition can consume: the boundary between iterations is unambiguous. */
function hasDelimiter(body: Node, inner: AST.Quantifier[]): boolean {
  const alternatives = body.type === "Group" || body.type === "CapturingGroup" ? body.alternatives : null;
  if (alternatives?.length !== 1) return false;
  const elements = (alternatives[0] as AST.Alternative).elements.filter((e) => e.type !== "Assertion");
  const innerChars = new CharSet();
  for (const q of inner) innerChars.add(charsOf(q.element));
  for (const end of [elements[0], elements[elements.length - 1]]) {
    const set = singleChar(end);
    if (set && !set.overlaps(innerChars)) return true;
  }
  return false;
}

/** How many ways a variable quantifier can choose its length (Infinity when unbounded). */
function spread(q: AST.Quantifier): number {
  return q.max - q.min + 1;
}

/** Repetitions over shared characters in a row split one text in the product of their spreads: the bound. */
const MAX_ADJACENT_SPLITS = 256;

export class UnsafeRegexError extends Error {}

function checkNode(node: Node): void {
  if (node.type === "Quantifier") {
    if (node.max > 1) {
      const body = node.element;
      if (nullable(body)) {
        throw new UnsafeRegexError(`${excerpt(node.raw)} repeats something that can match empty text`);
      }
      const inner = variableQuantifiersIn(body);
      if (inner.length > 0 && !hasDelimiter(body, inner)) {
        throw new UnsafeRegexError(
          `nested quantifiers in ${excerpt(node.raw)} can backtrack catastrophically; separate the repetitions with a character the inner one cannot match`,
        );
      }
      if (body.type === "Group" || body.type === "CapturingGroup") {
        const firsts = body.alternatives.map(firstChars);
        for (let i = 0; i < firsts.length; i++) {
          for (let j = i + 1; j < firsts.length; j++) {
            if ((firsts[i] as CharSet).overlaps(firsts[j] as CharSet)) {
              throw new UnsafeRegexError(
                `overlapping alternatives under the quantifier ${excerpt(node.raw)} can backtrack catastrophically; make each alternative start differently`,
              );
            }
          }
        }
      }
    }
    checkNode(node.element);
    return;
  }
  if (node.type === "Alternative") {
    checkAdjacent(node.elements);
    for (const element of node.elements) checkNode(element);
    return;
  }
  if (node.type === "Group" || node.type === "CapturingGroup" || node.type === "Pattern") {
    for (const alternative of node.alternatives) checkNode(alternative);
    return;
  }
  if (node.type === "Assertion" && (node.kind === "lookahead" || node.kind === "lookbehind")) {
    for (const alternative of node.alternatives) checkNode(alternative);
  }
}

/** Elements in sequence, single-alternative groups opened up: `(\w?)(\w?)` splits text like `\w?\w?`. */
function flatten(elements: readonly Element[], out: Element[] = []): Element[] {
  for (const element of elements) {
    if ((element.type === "Group" || element.type === "CapturingGroup") && element.alternatives.length === 1)
      flatten((element.alternatives[0] as AST.Alternative).elements, out);
    else out.push(element);
  }
  return out;
}

/**
 * Total ambiguity of a sequence: variable repetitions over shared characters, with nothing between them that
 * fixes where one ends (only elements that could belong to either), can split one text in as many ways as the
 * product of their spreads. `\w?` 28 times before `\w{28}!` is 2^28 splits, `\w{0,15}` ten times 16^10: each
 * pair alone looks harmless, and a failing match tries them all.
 */
function checkAdjacent(elements: Element[]): void {
  let run: { chars: CharSet; splits: number; variable: number; first: Element } | null = null;
  for (const element of flatten(elements)) {
    if (element.type === "Assertion") continue;
    const chars = charsOf(element);
    const variable = element.type === "Quantifier" && isVariable(element);
    if (!run || !chars.overlaps(run.chars)) {
      // A delimiter the run cannot consume fixes the boundary; an unrelated repetition starts a new run.
      run = variable
        ? { chars, splits: spread(element as AST.Quantifier), variable: 1, first: element }
        : null;
      continue;
    }
    if (!variable) continue; // a fixed part over shared characters: it moves the split, it does not fix it
    run.chars = new CharSet().add(run.chars).add(chars);
    run.splits *= spread(element as AST.Quantifier);
    run.variable++;
    if (run.splits > MAX_ADJACENT_SPLITS) {
      const span = `${run.first.raw}…${element.raw}`;
      throw new UnsafeRegexError(
        `${run.variable} overlapping repetitions (${excerpt(span)}) can split the same text in ${Number.isFinite(run.splits) ? `${run.splits}` : "unboundedly many"} ways; bound them or make their characters disjoint`,
      );
    }
  }
}

/** A pattern or part of one, short enough for a one-line message. */
export function excerpt(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

export interface RegexAnalysis {
  pattern: AST.Pattern;
  /** Longest possible match, Infinity when unbounded. */
  maxLength: number;
}

/** Parses and checks a rule regex; throws UnsafeRegexError or a SyntaxError with a readable message. */
export function analyzeRegex(source: string): RegexAnalysis {
  regexpp ??= createRequire(import.meta.url)("@eslint-community/regexpp") as Regexpp;
  const pattern = new regexpp.RegExpParser({ ecmaVersion: 2024 }).parsePattern(source, 0, source.length, {
    unicode: false,
    unicodeSets: false,
  });
  checkNode(pattern);
  return { pattern, maxLength: maxLength(pattern) };
}

/**
 * For a rule without keywords: the longest run of one character class that every match must contain,
 * which the prefilter can look for instead of a literal. Null when there is none of at least `minimum`.
 */
export function mandatoryRun(
  pattern: AST.Pattern,
  minimum: number,
): { chars: CharSet; length: number } | null {
  if (pattern.alternatives.length !== 1) return null;
  let best: { chars: CharSet; length: number } | null = null;
  for (const element of (pattern.alternatives[0] as AST.Alternative).elements) {
    if (element.type !== "Quantifier" || element.min < minimum) continue;
    const inner = element.element;
    if (inner.type !== "Character" && inner.type !== "CharacterSet" && inner.type !== "CharacterClass")
      continue;
    if (!best || element.min > best.length) best = { chars: charsOf(inner), length: element.min };
  }
  return best;
}
