// GitHub (token-formats.md §2.4): `GET /user` answers 200 with the owner for a live user-context token, and
// `X-OAuth-Scopes` for classic PATs and OAuth tokens; installation tokens use `GET /installation/repositories`.
import { githubHeaders } from "../revoke/github.js";
import { json } from "../revoke/http.js";
import { identityCall, listHeader } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export class GitHubValidator implements Validator {
  readonly provider = "github";

  constructor(
    private readonly settings: ValidateSettings,
    private readonly installation = false,
  ) {}

  validate(target: ValidationTarget): Promise<Validity> {
    const value = target.secret.reveal();
    const base = this.settings.githubApiUrl;
    const url = this.installation ? `${base}/installation/repositories?per_page=1` : `${base}/user`;
    const headers = { ...githubHeaders(), Authorization: `Bearer ${value}` };
    return identityCall(
      base,
      { method: "GET", url, headers },
      this.settings,
      [value],
      (answer, description) => {
        if (answer.status === 403 && answer.headers.get("x-ratelimit-remaining") === "0")
          return { status: "unknown", why: `throttled: ${description}` };
        if (answer.status !== 200) return undefined;
        const body = json(answer) as { login?: unknown; total_count?: unknown } | undefined;
        const identity = this.installation
          ? `an App installation with access to ${Number(body?.total_count ?? 0)} repositories`
          : `GitHub user ${String(body?.login ?? "(unnamed)")}`;
        const scopes = listHeader(answer, "x-oauth-scopes");
        return { status: "live", identity, ...(scopes ? { scopes } : {}) };
      },
    );
  }
}
