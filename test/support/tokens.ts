// Fixture tokens, generated at test time from a seeded generator: no checksum-valid token is ever committed.
import { corrupt, fillSamples, SAMPLE_FORMATS, SeededRandom } from "../../src/scan/samples.js";

export { SAMPLE_FORMATS, SeededRandom };

/** A generator for one test; the seed is printed by failures so that they can be replayed. */
export function tokens(seed = 20261128) {
  const rng = new SeededRandom(seed);
  const make = (format: string): string => {
    const generate = SAMPLE_FORMATS[format];
    if (!generate) throw new Error(`no generator for ${format}`);
    return generate(rng);
  };
  return {
    rng,
    make,
    corrupt: (token: string) => corrupt(token, rng),
    fill: (text: string) => fillSamples(text, rng),
    /** An 84-character Azure DevOps PAT with a valid checksum. */
    adoPat: () => make("azure-devops-pat"),
    adoLegacyPat: () => make("azure-devops-pat-legacy"),
    githubPat: () => make("github-pat"),
  };
}
