// GitHub App installation tokens (`ghs_`) are not accepted by /credentials/revoke; `DELETE /installation/token`,
// authenticated with the token itself, revokes one (token-formats.md §2.5). Installation tokens live an hour:
// one that no longer authenticates has expired or was revoked.
import { githubHeaders } from "./github.js";
import { SelfRevokingToken } from "./self-revoking.js";
import type { CallSummary } from "./types.js";

export class GitHubInstallationRevoker extends SelfRevokingToken {
  readonly name = "github-installation" as const;
  readonly concurrency = 4;

  describe(): CallSummary {
    return { method: "DELETE", url: `${this.settings.githubApiUrl}/installation/token` };
  }

  protected request(value: string) {
    return { headers: { ...githubHeaders(), Authorization: `Bearer ${value}` } };
  }
}
