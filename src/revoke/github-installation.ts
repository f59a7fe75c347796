// GitHub App installation tokens (`ghs_`) are not accepted by /credentials/revoke; `DELETE /installation/token`,
// authenticated with the token itself, revokes one (token-formats.md §2.5).
import { githubHeaders } from "./github.js";
import { exchange, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type { BatchResult, CallSummary, RevocationTarget, Revoker } from "./types.js";

export class GitHubInstallationRevoker implements Revoker {
  readonly name = "github-installation" as const;
  readonly byValue = true;
  readonly concurrency = 4;
  readonly batchSize = 1;

  constructor(private readonly settings: ProviderSettings) {}

  cannotRevoke(): undefined {
    return undefined;
  }

  describe(): CallSummary {
    return { method: "DELETE", url: `${this.settings.githubApiUrl}/installation/token` };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const call = this.describe();
    const value = targets[0]?.secret?.reveal();
    if (!value) return { call, results: [{ kind: "failed", error: "the token's value is missing" }] };
    const init = { headers: { ...githubHeaders(), Authorization: `Bearer ${value}` } };
    return exchange(call, init, this.settings, [value], 1, (answer, description, now) => {
      if (answer.status >= 200 && answer.status < 300) return [{ kind: "revoked" }];
      // Installation tokens live an hour: one that no longer authenticates has expired or was revoked.
      if (answer.status === 401 || answer.status === 404)
        return [{ kind: "already-revoked", detail: `${description}: the token no longer authenticates` }];
      return [transientOutcome(answer, description, now) ?? { kind: "failed", error: description }];
    });
  }
}
