// Context words: nearby text that makes a weak match credible (an unverifiable 52-character PAT next to
// `dev.azure.com`). The match itself is blanked first so that a random token cannot supply its own context.

const WORD_PARTS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;

export class ContextWords {
  private readonly plain: Set<string>;
  private readonly phrases: string[];

  constructor(words: readonly string[]) {
    const lower = words.map((w) => w.toLowerCase());
    this.plain = new Set(lower.filter((w) => /^[a-z0-9]+$/.test(w)));
    this.phrases = lower.filter((w) => !/^[a-z0-9]+$/.test(w));
  }

  /** Whether `text` holds one of the words: whole words (camelCase and snake_case split), phrases anywhere. */
  foundIn(text: string): boolean {
    const lower = text.toLowerCase();
    if (this.phrases.some((phrase) => lower.includes(phrase))) return true;
    for (const part of text.match(WORD_PARTS) ?? []) if (this.plain.has(part.toLowerCase())) return true;
    // Compound words such as AZUREDEVOPS or azuredevops are kept whole by the split above.
    for (const part of lower.match(/[a-z0-9]+/g) ?? []) if (this.plain.has(part)) return true;
    return false;
  }
}

/** Byte bounds of the lines around [start, end): `lines` lines before and after, at most `cap` bytes each way. */
export function surroundingLines(bytes: Uint8Array, start: number, end: number, lines: number, cap = 2048) {
  let from = start;
  for (let seen = -1; from > 0 && start - from < cap; from--) {
    if (bytes[from - 1] === 10 && ++seen >= lines) break;
  }
  let to = end;
  for (let seen = -1; to < bytes.length && to - end < cap; to++) {
    if (bytes[to] === 10 && ++seen >= lines) break;
  }
  return { from, to };
}
