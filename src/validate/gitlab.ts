// GitLab: `GET /api/v4/personal_access_tokens/self` with `PRIVATE-TOKEN` answers the token's name, owner and
// scopes while it works, 401 once it is revoked or expired.
import { json } from "../revoke/http.js";
import { identityCall } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export class GitLabValidator implements Validator {
  readonly provider = "gitlab";

  constructor(private readonly settings: ValidateSettings) {}

  validate(target: ValidationTarget): Promise<Validity> {
    const value = target.secret.reveal();
    const base = this.settings.gitlabUrl;
    const url = `${base}/api/v4/personal_access_tokens/self`;
    return identityCall(
      base,
      { method: "GET", url, headers: { "PRIVATE-TOKEN": value } },
      this.settings,
      [value],
      (answer) => {
        if (answer.status !== 200) return undefined;
        const body = json(answer) as
          | { name?: unknown; user_id?: unknown; scopes?: unknown; active?: unknown }
          | undefined;
        if (body?.active === false)
          return { status: "inactive", detail: "GitLab says the token is not active" };
        const scopes = Array.isArray(body?.scopes) ? body.scopes.map(String) : undefined;
        return {
          status: "live",
          identity: `GitLab token "${String(body?.name ?? "")}" of user ${String(body?.user_id ?? "?")}`,
          ...(scopes ? { scopes } : {}),
        };
      },
    );
  }
}
