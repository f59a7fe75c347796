// GitLab personal access tokens: `DELETE /api/v4/personal_access_tokens/self` authenticated with the leaked
// token revokes it (GitLab 15.0 and later; token-formats.md §3).
import type { HttpAnswer } from "./http.js";
import { SelfRevokingToken } from "./self-revoking.js";
import type { AttemptResult, CallSummary } from "./types.js";

export class GitLabRevoker extends SelfRevokingToken {
  readonly name = "gitlab" as const;
  readonly concurrency = 4;

  describe(): CallSummary {
    return { method: "DELETE", url: `${this.settings.gitlabUrl}/api/v4/personal_access_tokens/self` };
  }

  protected request(value: string) {
    return { headers: { "PRIVATE-TOKEN": value } };
  }

  protected override judge(answer: HttpAnswer, description: string, nowMs: number): AttemptResult {
    if (answer.status === 403)
      return {
        kind: "failed",
        error: `${description}: the token may not revoke itself (its scopes); revoke it in GitLab under User settings > Access tokens`,
      };
    return super.judge(answer, description, nowMs);
  }
}
