import { describe, expect, it } from "vitest";
import { findRuns, KeywordAutomaton } from "../../src/scan/prefilter.js";
import { SeededRandom } from "../support/tokens.js";

function bruteForceKeywords(text: Buffer, keywords: string[]) {
  const hits: { keyword: number; at: number }[] = [];
  keywords.forEach((keyword, index) => {
    for (let at = text.indexOf(keyword); at !== -1; at = text.indexOf(keyword, at + 1))
      hits.push({ keyword: index, at });
  });
  return hits;
}

const byPosition = (a: { keyword: number; at: number }, b: { keyword: number; at: number }) =>
  a.at - b.at || a.keyword - b.keyword;

describe("keyword automaton", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("finds exactly what indexOf finds (seed %i)", (seed) => {
    const rng = new SeededRandom(seed);
    // Small alphabets make overlapping and nested keywords frequent: "abab", "bab", "ab".
    const keywords = Array.from({ length: 12 }, () => rng.chars("abc_", 1 + rng.below(5)));
    const unique = [...new Set(keywords)];
    const text = Buffer.from(rng.chars("abc_\n", 20_000));
    const found = new KeywordAutomaton(unique).scan(text).sort(byPosition);
    expect(found).toEqual(bruteForceKeywords(text, unique).sort(byPosition));
  });
  it.each([4095, 4096, 4099, 70_001])(
    "keywords across the four quarters of a %i-byte text are found once",
    (size) => {
      const rng = new SeededRandom(size);
      const keywords = ["PRIVATE KEY-----", "ghp_", "AZDO", "A3T"];
      const parts: string[] = [];
      let length = 0;
      while (length < size) {
        const part =
          rng.below(3) === 0
            ? (keywords[rng.below(keywords.length)] as string)
            : rng.chars("AZDOghp_ -3KEY", 1 + rng.below(7));
        parts.push(part);
        length += part.length;
      }
      const text = Buffer.from(parts.join("").slice(0, size));
      const found = new KeywordAutomaton(keywords).scan(text).sort(byPosition);
      expect(found).toEqual(bruteForceKeywords(text, keywords).sort(byPosition));
    },
  );
  it("handles bytes above 127 and keywords with multi-byte characters", () => {
    const text = Buffer.from("ünïcödé ghp_ AZDO\u00ffAZDO");
    const keywords = ["ghp_", "AZDO", "ödé"];
    expect(new KeywordAutomaton(keywords).scan(text).sort(byPosition)).toEqual(
      bruteForceKeywords(text, keywords).sort(byPosition),
    );
  });
  it("with no keywords, finds nothing", () => {
    expect(new KeywordAutomaton([]).scan(Buffer.from("anything"))).toEqual([]);
  });
});

describe("character runs", () => {
  const member = new Uint8Array(256);
  for (const ch of "abcdefghijklmnopqrstuvwxyz234567") member[ch.charCodeAt(0)] = 1;

  function bruteForceRuns(text: Buffer, length: number) {
    const runs: { start: number; end: number }[] = [];
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const inside = i < text.length && member[text[i] as number] === 1;
      if (inside && start < 0) start = i;
      if (!inside && start >= 0) {
        if (i - start >= length) runs.push({ start, end: i });
        start = -1;
      }
    }
    return runs;
  }

  it.each([1, 2, 3, 4, 5, 6])("sampling finds every run of 52+ that a full pass finds (seed %i)", (seed) => {
    const rng = new SeededRandom(seed);
    let text = "";
    while (text.length < 50_000) {
      text +=
        rng.below(4) === 0
          ? rng.chars("abcdefghijklmnopqrstuvwxyz234567", 40 + rng.below(40))
          : rng.chars("ABC 1-._", 1 + rng.below(30));
    }
    const bytes = Buffer.from(text);
    expect(findRuns(bytes, member, 52)).toEqual(bruteForceRuns(bytes, 52));
  });
  it("finds runs at the very start and end", () => {
    const run = "a".repeat(60);
    const bytes = Buffer.from(`${run}!${run}`);
    expect(findRuns(bytes, member, 52)).toEqual([
      { start: 0, end: 60 },
      { start: 61, end: 121 },
    ]);
  });
});
