// GitLab personal access tokens: `DELETE /api/v4/personal_access_tokens/self` authenticated with the leaked
// token revokes it (GitLab 15.0 and later; token-formats.md §3).
import { exchange, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type { BatchResult, CallSummary, RevocationTarget, Revoker } from "./types.js";

export class GitLabRevoker implements Revoker {
  readonly name = "gitlab" as const;
  readonly byValue = true;
  readonly concurrency = 4;
  readonly batchSize = 1;

  constructor(private readonly settings: ProviderSettings) {}

  cannotRevoke(): undefined {
    return undefined;
  }

  describe(): CallSummary {
    return { method: "DELETE", url: `${this.settings.gitlabUrl}/api/v4/personal_access_tokens/self` };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const call = this.describe();
    const value = targets[0]?.secret?.reveal();
    if (!value) return { call, results: [{ kind: "failed", error: "the token's value is missing" }] };
    return exchange(
      call,
      { headers: { "PRIVATE-TOKEN": value } },
      this.settings,
      [value],
      1,
      (answer, description, now) => {
        if (answer.status >= 200 && answer.status < 300) return [{ kind: "revoked" }];
        if (answer.status === 401 || answer.status === 404)
          return [{ kind: "already-revoked", detail: `${description}: the token no longer authenticates` }];
        if (answer.status === 403)
          return [
            {
              kind: "failed",
              error: `${description}: the token may not revoke itself (its scopes); revoke it in GitLab under User settings > Access tokens`,
            },
          ];
        return [transientOutcome(answer, description, now) ?? { kind: "failed", error: description }];
      },
    );
  }
}
