// Values that look like tokens but are documentation, templates or masks.

const TEMPLATE = /[<>{}$%*]|\.\.\.|…/;
const MASKED = /[xX]{4,}|#{4,}|0{8,}/;
const DOC_WORDS =
  /example|sample|dummy|placeholder|changeme|redacted|your[_-]?(?:token|key|pat)|insert[_-]?here/i;
const SEQUENCES = /0123456|123456789|abcdefgh|ABCDEFGH/;
/** Whole values that stand for a password in documentation: `https://user:password@host`. */
const PLACEHOLDER_VALUES =
  /^(?:pass(?:word|wd)?|pwd|secret|changeit|user(?:name)?|admin|root|test|guest|foo|bar|token|api[_-]?key)$/i;

/** Whether one character dominates the text or it uses almost no distinct characters. */
function isRepetitive(body: string): boolean {
  const counts = new Map<string, number>();
  let top = 0;
  for (const ch of body) {
    const n = (counts.get(ch) ?? 0) + 1;
    counts.set(ch, n);
    if (n > top) top = n;
  }
  return counts.size < Math.min(8, body.length / 4) || top * 2 > body.length;
}

/** Keys printed in providers' documentation and SDK samples: shaped like real ones, never issued. */
const DOCUMENTED_EXAMPLES = new Set([
  "AKIAIOSFODNN7EXAMPLE",
  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "AIzaSyDOCAbC123dEf456GhI789jKl012-MnO",
  "AIzaSyDOCAbC123dEf456GhI789jKl01-MnO",
  "AIzaSyDOCAbC1234dEf567GhI890jKl012-MnO",
]);

/** Template syntax, masks, runs of one character, documented examples: never a real token. */
export function isObviousPlaceholder(secret: string, prefix: string): boolean {
  const body = prefix && secret.startsWith(prefix) ? secret.slice(prefix.length) : secret;
  return body.length === 0 || DOCUMENTED_EXAMPLES.has(secret) || TEMPLATE.test(body) || isRepetitive(body);
}

/** Documentation wording and masks, checked only when no checksum vouches for the value. */
export function looksLikeDocumentation(secret: string, prefix: string): boolean {
  const body = prefix && secret.startsWith(prefix) ? secret.slice(prefix.length) : secret;
  return MASKED.test(body) || DOC_WORDS.test(body) || SEQUENCES.test(body) || PLACEHOLDER_VALUES.test(body);
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
