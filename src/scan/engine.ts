// The detection engine: prefilter, regexes in windows around the keywords, decoders, validation.
// It works on bytes and offsets; locate.ts turns its detections into findings with lines and columns.
import type { CompiledDecoder, CompiledRule, CompiledRules } from "./compile.js";
import { ContextWords, surroundingLines } from "./context.js";
import { entropy, isObviousPlaceholder, looksLikeDocumentation } from "./placeholders.js";
import { findRuns } from "./prefilter.js";
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

interface Window {
  start: number;
  end: number;
}

/** Adds [start, end) to the windows of `key`, merging it with the last one when they touch. */
function addWindow(map: Map<number, Window[]>, key: number, start: number, end: number): void {
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
    const contextOf: ContextOf = (start, end, lines) => {
      const around = surroundingLines(bytes, start, end, lines);
      return blank(bytes.toString("latin1", around.from, around.to), start - around.from, end - around.from);
    };
    const found = this.detectIn(bytes, contextOf, true).filter((d) => d.start >= from && d.start < to);
    return dedupe(found);
  }

  private detectIn(bytes: Buffer, contextOf: ContextOf, withDecoders: boolean): Detection[] {
    const { rules, decoders, automaton, keywordTargets, runs } = this.compiled;
    const ruleWindows = new Map<number, Window[]>();
    const decoderWindows = new Map<number, Window[]>();
    const n = bytes.length;

    for (const hit of automaton.scan(bytes)) {
      for (const target of keywordTargets[hit.keyword] as number[]) {
        const isDecoder = target < 0;
        if (isDecoder && !withDecoders) continue;
        if (
          isDecoder &&
          (decoders[-1 - target] as CompiledDecoder).decoder.candidate?.(bytes, hit.at) === false
        )
          continue;
        const { reach, before } = isDecoder
          ? (decoders[-1 - target] as CompiledDecoder)
          : (rules[target] as CompiledRule);
        const start = Math.max(0, hit.at - before - MARGIN);
        const end = Math.min(n, hit.at + reach + MARGIN);
        if (isDecoder) addWindow(decoderWindows, -1 - target, start, end);
        else addWindow(ruleWindows, target, start, end);
      }
    }
    for (const trigger of runs) {
      const reach = (rules[trigger.rule] as CompiledRule).reach;
      for (const run of findRuns(bytes, trigger.member, trigger.length)) {
        addWindow(
          ruleWindows,
          trigger.rule,
          Math.max(0, run.start - reach - MARGIN),
          Math.min(n, run.end + reach + MARGIN),
        );
      }
    }

    if (this.exhaustive) {
      ruleWindows.clear();
      decoderWindows.clear();
      for (let i = 0; i < rules.length; i++) addWindow(ruleWindows, i, 0, n);
      for (let i = 0; withDecoders && i < decoders.length; i++) addWindow(decoderWindows, i, 0, n);
    }

    const detections: Detection[] = [];
    for (const [index, windows] of ruleWindows) {
      const compiled = rules[index] as CompiledRule;
      for (const w of windows) {
        for (const m of matchesIn(compiled.regex, bytes, w, n)) {
          const confidence = this.judge(index, m.secret, () =>
            contextOf(m.start, m.end, compiled.rule.context?.lines ?? 1),
          );
          if (confidence) {
            detections.push({
              rule: compiled,
              secret: m.secret,
              start: m.start,
              end: m.end,
              confidence,
              encoding: "plain",
            });
          }
        }
      }
    }
    for (const [index, windows] of decoderWindows) {
      const { decoder, regex } = decoders[index] as CompiledDecoder;
      for (const w of windows) {
        for (const m of matchesIn(regex, bytes, w, n)) {
          const decoded = decoder.decode(m.secret);
          if (decoded === null) continue;
          // The decoded text borrows the context of the line it was found on.
          const outer = (_s: number, _e: number, lines: number) => `${contextOf(m.start, m.end, lines)}\n`;
          for (const inner of this.detectIn(Buffer.from(decoded, "latin1"), outer, false)) {
            detections.push({ ...inner, start: m.start, end: m.end, encoding: decoder.encoding });
          }
        }
      }
    }
    return detections;
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

interface Match {
  secret: string;
  start: number;
  end: number;
}

/** Regex matches inside one window; those touching a margin that is not the buffer's edge are partial views. */
function* matchesIn(regex: RegExp, bytes: Buffer, w: Window, n: number): Generator<Match> {
  const text = bytes.toString("latin1", w.start, w.end);
  const lowest = w.start > 0 ? MARGIN : 0;
  const highest = w.end < n ? text.length - MARGIN : text.length;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) regex.lastIndex++;
    const whole = m.indices?.[0] as [number, number];
    if (whole[0] < lowest || whole[1] > highest) continue;
    const span = (m.indices?.[1] ?? whole) as [number, number];
    yield { secret: m[1] ?? m[0], start: w.start + span[0], end: w.start + span[1] };
  }
}

/** One detection per rule and span; a plain match inside a decoded span of the same secret is the same finding. */
function dedupe(detections: Detection[]): Detection[] {
  detections.sort((a, b) => a.start - b.start || a.end - b.end);
  // Decoded spans by rule and secret: each plain match is compared only with decodings of its own secret.
  const decodedSpans = new Map<string, Detection[]>();
  for (const d of detections) {
    if (d.encoding === "plain") continue;
    const key = `${d.rule.rule.id}\0${d.secret}`;
    const list = decodedSpans.get(key);
    if (list) list.push(d);
    else decodedSpans.set(key, [d]);
  }
  const out: Detection[] = [];
  for (const d of detections) {
    const prev = out[out.length - 1];
    if (prev && prev.rule === d.rule && prev.start === d.start && prev.end === d.end) continue;
    if (
      d.encoding === "plain" &&
      decodedSpans
        .get(`${d.rule.rule.id}\0${d.secret}`)
        ?.some((e) => e.rule === d.rule && e.start <= d.start && d.end <= e.end)
    ) {
      continue;
    }
    out.push(d);
  }
  return out;
}
