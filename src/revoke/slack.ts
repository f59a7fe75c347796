// Slack tokens: `auth.revoke`, called with the token to revoke (token-formats.md §3). Slack answers 200 with
// `{ok, revoked}` or `{ok: false, error}`; Tier 3 allows about 50 calls a minute.
import { exchange, json, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type { BatchResult, CallSummary, RevocationTarget, Revoker } from "./types.js";

/** Errors that mean the token is no longer alive. */
const GONE = new Set(["invalid_auth", "token_revoked", "token_expired", "account_inactive"]);

export class SlackRevoker implements Revoker {
  readonly name = "slack" as const;
  readonly byValue = true;
  readonly concurrency = 2;
  readonly batchSize = 1;
  readonly budget = { calls: 50, windowMs: 60 * 1000 };

  constructor(private readonly settings: ProviderSettings) {}

  cannotRevoke(): undefined {
    return undefined;
  }

  describe(): CallSummary {
    return { method: "POST", url: `${this.settings.slackApiUrl}/auth.revoke` };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const call = this.describe();
    const value = targets[0]?.secret?.reveal();
    if (!value) return { call, results: [{ kind: "failed", error: "the token's value is missing" }] };
    const init = {
      headers: { Authorization: `Bearer ${value}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    };
    return exchange(call, init, this.settings, [value], 1, (answer, description, now) => {
      const transient = transientOutcome(answer, description, now);
      if (transient) return [transient];
      const body = json(answer) as { ok?: unknown; revoked?: unknown; error?: unknown } | undefined;
      if (answer.status === 200 && body?.ok === true && body.revoked === true) return [{ kind: "revoked" }];
      const error = typeof body?.error === "string" ? body.error : "";
      if (GONE.has(error))
        return [{ kind: "already-revoked", detail: `${call.method} ${call.url}: ${error}` }];
      if (error === "ratelimited")
        return [{ kind: "retry", error: `${call.method} ${call.url}: ratelimited` }];
      return [{ kind: "failed", error: error ? `${call.method} ${call.url}: ${error}` : description }];
    });
  }
}
