// Slack tokens: `auth.revoke`, called with the token to revoke (token-formats.md §3). Slack answers 200 with
// `{ok, revoked}` or `{ok: false, error}`; Tier 3 allows about 50 calls a minute.
import { type HttpAnswer, json, transientOutcome } from "./http.js";
import { SelfRevokingToken } from "./self-revoking.js";
import type { AttemptResult, CallSummary } from "./types.js";

/** Errors that mean the token is no longer alive. */
export const SLACK_TOKEN_GONE = new Set([
  "invalid_auth",
  "token_revoked",
  "token_expired",
  "account_inactive",
]);

export class SlackRevoker extends SelfRevokingToken {
  readonly name = "slack" as const;
  readonly concurrency = 2;
  readonly budget = { calls: 50, windowMs: 60 * 1000 };

  describe(): CallSummary {
    return { method: "POST", url: `${this.settings.slackApiUrl}/auth.revoke` };
  }

  protected request(value: string) {
    return {
      headers: { Authorization: `Bearer ${value}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    };
  }

  /** Slack answers 200 whatever happened: the body says. */
  protected override judge(answer: HttpAnswer, description: string, nowMs: number): AttemptResult {
    const transient = transientOutcome(answer, description, nowMs);
    if (transient) return transient;
    const call = this.describe();
    const body = json(answer) as { ok?: unknown; revoked?: unknown; error?: unknown } | undefined;
    if (answer.status === 200 && body?.ok === true && body.revoked === true) return { kind: "revoked" };
    const error = typeof body?.error === "string" ? body.error : "";
    if (SLACK_TOKEN_GONE.has(error))
      return { kind: "already-revoked", detail: `${call.method} ${call.url}: ${error}` };
    if (error === "ratelimited") return { kind: "retry", error: `${call.method} ${call.url}: ratelimited` };
    return { kind: "failed", error: error ? `${call.method} ${call.url}: ${error}` : description };
  }
}
