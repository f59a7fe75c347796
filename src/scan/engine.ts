// The detection engine: prefilter, regexes in windows around the keywords, decoders, validation.
// It works on bytes and offsets; locate.ts turns its detections into findings with lines and columns.
import type { CompiledDecoder, CompiledRule, CompiledRules } from "./compile.js";
import { ContextWords, surroundingLines } from "./context.js";
import { entropy, isObviousPlaceholder, looksLikeDocumentation } from "./placeholders.js";
import { findRuns, type KeywordHit } from "./prefilter.js";
import type { Confidence, Encoding } from "./types.js";

/** A secret found in a buffer: the rule, the value, its byte span and how sure we are. */
export interface Detection {
  rule: CompiledRule;
  secret: string;
  /** Byte span in the scanned buffer; for a decoded secret, the span of the encoded value. */
  start: number;
  end: number;
  confidence: Confidence;
  encoding: Encoding;
}

export interface EngineOptions {
  /** Secrets matching any of these are allowed (not reported). */
  allow?: readonly RegExp[];
  /** Run every regex over the whole text instead of around keyword hits: the reference the tests compare with. */
  exhaustive?: boolean;
}

/** Extra bytes around each window so that lookbehinds and lookaheads see real neighbours. */
const MARGIN = 32;
/** How many encodings deep a secret is looked for (base64 inside JSON escapes inside a URL...). */
export const MAX_DECODE_DEPTH = 3;

interface Window {
  start: number;
  end: number;
}

/** The windows each rule (by index) and each decoder (by index) runs in; made on the first (most text has none). */
interface Windows {
  rules?: Map<number, Window[]>;
  decoders?: Map<number, Window[]>;
}

/** A detection, always built here: one shape for every detection, wherever the engine found it. */
function detection(
  rule: CompiledRule,
  secret: string,
  start: number,
  end: number,
  confidence: Confidence,
  encoding: Encoding,
): Detection {
  return { rule, secret, start, end, confidence, encoding };
}

/** Adds [start, end) to the windows of rule or decoder `key`, merging it with the last one when they touch. */
function addWindow(windows: Windows, kind: keyof Windows, key: number, start: number, end: number): void {
  let map = windows[kind];
  if (!map) {
    map = new Map();
    windows[kind] = map;
  }
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  const last = list[list.length - 1];
  if (last && start <= last.end) {
    if (start < last.start) last.start = start;
    if (end > last.end) last.end = end;
  } else {
    list.push({ start, end });
  }
}

/** Blanks [start, end) of `text` so that a secret cannot count as its own context. */
function blank(text: string, start: number, end: number): string {
  return (
    text.slice(0, Math.max(0, start)) + " ".repeat(Math.max(0, end - start)) + text.slice(Math.max(0, end))
  );
}

type ContextOf = (start: number, end: number, lines: number) => string;

/** The lines around a span of `bytes`, the span itself blanked. */
function contextIn(bytes: Buffer): ContextOf {
  return (start, end, lines) => {
    const around = surroundingLines(bytes, start, end, lines);
    return blank(bytes.toString("latin1", around.from, around.to), start - around.from, end - around.from);
  };
}

export class Engine {
  private readonly contextWords: (ContextWords | undefined)[];
  private readonly allow: readonly RegExp[];
  private readonly exhaustive: boolean;

  constructor(
    readonly compiled: CompiledRules,
    options: EngineOptions = {},
  ) {
    this.contextWords = compiled.rules.map((r) =>
      r.rule.context ? new ContextWords(r.rule.context.words) : undefined,
    );
    this.allow = options.allow ?? [];
    this.exhaustive = options.exhaustive === true;
  }

  /** All detections whose span starts in [from, to) of `bytes`, sorted by position. */
  detect(bytes: Buffer, from = 0, to = bytes.length): Detection[] {
    const found = this.detectIn(bytes, contextIn(bytes), MAX_DECODE_DEPTH).filter(
      (d) => d.start >= from && d.start < to,
    );
    return found.length > 1 ? dedupe(found) : found;
  }

  /**
   * Whether `bytes` hold any detection: `detect(bytes).length > 0`, without sorting out duplicates, which
   * always leave one of them (a history scan asks this of every blob).
   */
  holdsDetection(bytes: Buffer): boolean {
    return this.detectIn(bytes, contextIn(bytes), MAX_DECODE_DEPTH).length > 0;
  }

  /**
   * Detections in `bytes`; decoders run while `depth` allows, their output scanned one level deeper. Kept in
   * small steps: the first scans of a history reach new paths of each, and a large function thrown away and
   * optimised again each time costs the compiler threads more than the scan itself.
   */
  private detectIn(bytes: Buffer, contextOf: ContextOf, depth: number): Detection[] {
    const windows = this.windowsOf(bytes, depth > 0);
    const detections: Detection[] = [];
    if (windows.rules)
      for (const [index, list] of windows.rules) this.matchRule(index, list, bytes, contextOf, detections);
    if (windows.decoders)
      for (const [index, list] of windows.decoders)
        this.decodeIn(index, list, bytes, contextOf, depth, detections);
    return detections;
  }

  /**
   * Where each rule and decoder runs: windows around the hits of its keywords, and around its runs. In small
   * methods: a path taken for the first time (a decoder's keyword, say) throws away only its own compiled code.
   */
  private windowsOf(bytes: Buffer, withDecoders: boolean): Windows {
    const windows: Windows = {};
    if (this.exhaustive) return this.everywhere(bytes.length, withDecoders, windows);
    for (const hit of this.compiled.automaton.scan(bytes)) this.aroundHit(bytes, hit, withDecoders, windows);
    if (this.compiled.runs.length > 0) this.aroundRuns(bytes, windows);
    return windows;
  }

  private everywhere(n: number, withDecoders: boolean, windows: Windows): Windows {
    for (let i = 0; i < this.compiled.rules.length; i++) addWindow(windows, "rules", i, 0, n);
    for (let i = 0; withDecoders && i < this.compiled.decoders.length; i++)
      addWindow(windows, "decoders", i, 0, n);
    return windows;
  }

  /** Windows for the rules and decoders a keyword hit points at. */
  private aroundHit(bytes: Buffer, hit: KeywordHit, withDecoders: boolean, windows: Windows): void {
    const { rules, keywordTargets, keywordChecks } = this.compiled;
    if (keywordChecks[hit.keyword]?.(bytes, hit.at) === false) return;
    const n = bytes.length;
    for (const target of keywordTargets[hit.keyword] as number[]) {
      if (target < 0) {
        if (withDecoders) this.decoderAroundHit(bytes, hit, -1 - target, windows);
        continue;
      }
      const { reach, before } = rules[target] as CompiledRule;
      addWindow(
        windows,
        "rules",
        target,
        Math.max(0, hit.at - before - MARGIN),
        Math.min(n, hit.at + reach + MARGIN),
      );
    }
  }

  private decoderAroundHit(bytes: Buffer, hit: KeywordHit, index: number, windows: Windows): void {
    const decoder = this.compiled.decoders[index] as CompiledDecoder;
    if (decoder.candidate?.(bytes, hit.at) === false) return;
    let from = Math.max(0, hit.at - decoder.before);
    let to = Math.min(bytes.length, hit.at + decoder.reach);
    if (decoder.withinLine) {
      const line = surroundingLines(bytes, hit.at, hit.at, 0, Math.max(decoder.before, decoder.reach));
      from = Math.max(from, line.from);
      to = Math.min(to, line.to);
    }
    addWindow(windows, "decoders", index, Math.max(0, from - MARGIN), Math.min(bytes.length, to + MARGIN));
  }

  /** Windows around runs of a rule's characters (rules with no keyword to look for). */
  private aroundRuns(bytes: Buffer, windows: Windows): void {
    const { rules, runs } = this.compiled;
    const n = bytes.length;
    for (const trigger of runs) {
      const reach = (rules[trigger.rule] as CompiledRule).reach;
      for (const run of findRuns(bytes, trigger.member, trigger.length)) {
        addWindow(
          windows,
          "rules",
          trigger.rule,
          Math.max(0, run.start - reach - MARGIN),
          Math.min(n, run.end + reach + MARGIN),
        );
      }
    }
  }

  /** A rule's matches in its windows that are findings, added to `detections`. */
  private matchRule(
    index: number,
    windows: readonly Window[],
    bytes: Buffer,
    contextOf: ContextOf,
    detections: Detection[],
  ): void {
    const compiled = this.compiled.rules[index] as CompiledRule;
    const lines = compiled.rule.context?.lines ?? 1;
    for (const w of windows) {
      const { text, matches } = matchesIn(compiled.regex, bytes, w);
      for (const m of matches) {
        const span = () => secretSpan(compiled.spans, text, m, w.start);
        const confidence = this.judge(index, m.secret, () => {
          const { start, end } = span();
          return contextOf(start, end, lines);
        });
        if (!confidence) continue;
        const { start, end } = span();
        detections.push(detection(compiled, m.secret, start, end, confidence, "plain"));
      }
    }
  }

  /** What a decoder's matches in its windows decode to, scanned one level deeper, added to `detections`. */
  private decodeIn(
    index: number,
    windows: readonly Window[],
    bytes: Buffer,
    contextOf: ContextOf,
    depth: number,
    detections: Detection[],
  ): void {
    const decoder = this.compiled.decoders[index] as CompiledDecoder;
    const { regex, spans } = decoder;
    for (const w of windows) {
      const { text, matches } = matchesIn(regex, bytes, w);
      for (const m of matches) {
        const decoded = decoder.decode(m.secret);
        if (decoded === null) continue;
        const { start, end } = secretSpan(spans, text, m, w.start);
        // The decoded text borrows the context of the line it was found on.
        const outer = (_s: number, _e: number, lines: number) => `${contextOf(start, end, lines)}\n`;
        for (const inner of this.detectIn(Buffer.from(decoded, "latin1"), outer, depth - 1)) {
          const encoding =
            inner.encoding === "plain" ? decoder.encoding : `${decoder.encoding}>${inner.encoding}`;
          detections.push(detection(inner.rule, inner.secret, start, end, inner.confidence, encoding));
        }
      }
    }
  }

  /** The confidence of a candidate, or null when it is not a finding. */
  private judge(index: number, secret: string, context: () => string): Confidence | null {
    const { rule, validate } = this.compiled.rules[index] as CompiledRule;
    if (isObviousPlaceholder(secret, rule.prefix)) return null;
    if (this.allow.some((re) => re.test(secret))) return null;
    const valid = validate ? validate(secret) : undefined;
    if (valid === true) return rule.confidence;
    if (looksLikeDocumentation(secret, rule.prefix)) return null;
    const words = this.contextWords[index];
    if (valid === false) {
      if (rule.invalid === "medium") return "medium";
      if (rule.invalid === "context" && words?.foundIn(context())) return "medium";
      return null;
    }
    if (rule.entropy !== undefined) {
      const body = rule.prefix && secret.startsWith(rule.prefix) ? secret.slice(rule.prefix.length) : secret;
      if (entropy(body) < rule.entropy) return null;
    }
    if (!words || !rule.context) return rule.confidence;
    const near = words.foundIn(context());
    if (rule.context.required && !near) return null;
    return near ? "high" : rule.confidence;
  }
}

/** A regex match in a window's text: its secret (group 1, else the whole match) and where the match starts. */
interface Match {
  secret: string;
  at: number;
}

/**
 * Regex matches inside one window, taken in full (scanning decoded text runs the same regexes, which would move
 * lastIndex); those touching a margin that is not the buffer's edge are partial views.
 */
function matchesIn(regex: RegExp, bytes: Buffer, w: Window): { text: string; matches: Match[] } {
  const text = bytes.toString("latin1", w.start, w.end);
  const lowest = w.start > 0 ? MARGIN : 0;
  const highest = w.end < bytes.length ? text.length - MARGIN : text.length;
  const matches: Match[] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) regex.lastIndex++;
    if (m.index < lowest || m.index + m[0].length > highest) continue;
    matches.push({ secret: m[1] ?? m[0], at: m.index });
  }
  return { text, matches };
}

/** The secret's byte span in the buffer: the same regex matched again where it matched, with indices. */
function secretSpan(
  spans: RegExp,
  text: string,
  match: Match,
  offset: number,
): { start: number; end: number } {
  spans.lastIndex = match.at;
  const m = spans.exec(text);
  const span = (m?.indices?.[1] ?? m?.indices?.[0]) as [number, number];
  return { start: offset + span[0], end: offset + span[1] };
}

/**
 * The detections of specific (not generic) rules, by start, with the widest span among them: a generic match
 * is compared only with those that can overlap it, so that the check stays linear in the number of findings.
 */
class SpecificIndex {
  private readonly byStart: Detection[];
  private readonly widest: number;

  constructor(detections: readonly Detection[]) {
    this.byStart = detections.filter((d) => !d.rule.rule.generic);
    this.widest = this.byStart.reduce((max, d) => Math.max(max, d.end - d.start), 0);
  }

  /** Whether a specific rule found the same secret, or a secret inside it, where generic `d` matched. */
  covers(d: Detection): boolean {
    const from = d.start - this.widest;
    let lo = 0;
    let hi = this.byStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.byStart[mid] as Detection).start < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.byStart.length; i++) {
      const e = this.byStart[i] as Detection;
      if (e.start >= d.end) break;
      if (d.start < e.end && (e.secret === d.secret || d.secret.includes(e.secret))) return true;
    }
    return false;
  }
}

/**
 * Of two detections of one secret by one rule whose spans overlap, the one to keep: a decoded one over a
 * plain one (it says how the secret was hidden), then the shorter chain of decoders, then the narrower span.
 */
function betterThan(e: Detection, d: Detection): boolean {
  if ((e.encoding === "plain") !== (d.encoding === "plain")) return d.encoding === "plain";
  const depth = (x: Detection) => x.encoding.split(">").length;
  if (depth(e) !== depth(d)) return depth(e) < depth(d);
  return e.end - e.start < d.end - d.start;
}

/**
 * One detection per rule and secret where spans overlap (see betterThan); a generic rule's match that a
 * specific rule also found is that rule's finding only.
 */
function dedupe(detections: Detection[]): Detection[] {
  detections.sort((a, b) => a.start - b.start || a.end - b.end);
  // Decoded detections by rule and secret: a detection is compared only with decodings of its own secret (a
  // decoded twin always beats a plain one), so that many plain findings cost linear time.
  const decoded = new Map<string, Detection[]>();
  for (const d of detections) {
    if (d.encoding === "plain") continue;
    const key = `${d.rule.rule.id}\0${d.secret}`;
    const list = decoded.get(key);
    if (list) list.push(d);
    else decoded.set(key, [d]);
  }
  const specific = detections.some((d) => d.rule.rule.generic) ? new SpecificIndex(detections) : undefined;
  const out: Detection[] = [];
  for (const d of detections) {
    if (d.rule.rule.generic && specific?.covers(d)) continue;
    const prev = out[out.length - 1];
    if (prev && prev.rule === d.rule && prev.start === d.start && prev.end === d.end) continue;
    const twins = decoded.get(`${d.rule.rule.id}\0${d.secret}`);
    if (
      twins?.some(
        (e) => e !== d && e.rule === d.rule && e.start < d.end && d.start < e.end && betterThan(e, d),
      )
    )
      continue;
    out.push(d);
  }
  return out;
}
