// Slack: `auth.test` answers 200 whatever happened, `{ok: true, user, team}` for a working token; the error
// names why one does not work.
import { json } from "../revoke/http.js";
import { SLACK_TOKEN_GONE } from "../revoke/slack.js";
import type { BearerCheck } from "./bearer.js";

export const SLACK_CHECK: BearerCheck = {
  provider: "slack",
  base: (s) => s.slackApiUrl,
  call: (base, value) => ({
    method: "POST",
    url: `${base}/auth.test`,
    headers: { Authorization: `Bearer ${value}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: "",
  }),
  // Slack answers 200 whatever happened: the body says.
  live: (a) => {
    const body = json(a) as { ok?: unknown; error?: unknown; user?: unknown; team?: unknown } | undefined;
    if (a.status !== 200) return undefined;
    if (body?.ok === true)
      return {
        status: "live",
        identity: `Slack user ${String(body.user ?? "?")} in ${String(body.team ?? "?")}`,
        ...(a.headers.get("x-oauth-scopes")
          ? { scopes: (a.headers.get("x-oauth-scopes") as string).split(",") }
          : {}),
      };
    const error = typeof body?.error === "string" ? body.error : "no verdict";
    if (error === "ratelimited") return { status: "unknown", why: "throttled: Slack answered ratelimited" };
    if (SLACK_TOKEN_GONE.has(error) || error === "not_authed")
      return { status: "inactive", detail: `Slack auth.test: ${error}` };
    return { status: "unknown", why: `Slack auth.test: ${error}` };
  },
};
