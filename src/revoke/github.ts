// GitHub tokens revoked by value through `POST /credentials/revoke` (token-formats.md §2.5): unauthenticated,
// 1 to 1000 credentials a call, 60 calls an hour. The worker batches, and keeps to the budget across processes.
import { exchange, json, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type { AttemptResult, BatchResult, CallSummary, RevocationTarget, Revoker } from "./types.js";

export const GITHUB_API_VERSION = "2022-11-28";

export function githubHeaders(): Record<string, string> {
  return { Accept: "application/vnd.github+json", "X-GitHub-Api-Version": GITHUB_API_VERSION };
}

export class GitHubRevoker implements Revoker {
  readonly name = "github" as const;
  readonly byValue = true;
  readonly concurrency = 1;
  readonly batchSize = 1000;
  readonly budget = { calls: 60, windowMs: 60 * 60 * 1000 };

  constructor(private readonly settings: ProviderSettings) {}

  cannotRevoke(): undefined {
    return undefined;
  }

  describe(): CallSummary {
    return { method: "POST", url: `${this.settings.githubApiUrl}/credentials/revoke` };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const call = this.describe();
    const values = targets.map((t) => t.secret?.reveal());
    if (values.some((v) => v === undefined))
      return {
        call,
        results: targets.map(() => ({ kind: "failed", error: "the token's value is missing" })),
      };
    const secrets = values as string[];
    // Unauthenticated on purpose: github.com answers 403 to an authenticated call here.
    const init = {
      headers: { ...githubHeaders(), "Content-Type": "application/json" },
      body: JSON.stringify({ credentials: secrets }),
    };
    return exchange(call, init, this.settings, secrets, targets.length, (answer, description, now) => {
      const one = ((): AttemptResult => {
        if (answer.status >= 200 && answer.status < 300) return { kind: "revoked" };
        const message = String((json(answer) as { message?: unknown } | undefined)?.message ?? "");
        if (answer.status === 422 && /spam|rate limit|too many/i.test(message))
          return { kind: "retry", error: description };
        const transient = transientOutcome(answer, description, now);
        if (transient) return transient;
        if (answer.status === 404)
          return {
            kind: "failed",
            error: `${description}: this GitHub does not offer the credential revocation API (GitHub Enterprise Server before 3.19?)`,
          };
        return { kind: "failed", error: description };
      })();
      return targets.map(() => one);
    });
  }
}
