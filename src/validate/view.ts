// What reports say about a live check: one shape for JSON, SARIF and the findings table, one phrase for text.
import type { Style } from "../cli/terminal.js";
import type { ValidationRecord } from "../store/validations.js";

export interface ValidationView {
  status: "live" | "inactive" | "unknown";
  provider: string;
  /** Who the token belongs to, when live. */
  identity?: string;
  scopes?: string[];
  /** Why inactive or unknown. */
  reason?: string;
  checkedAt: string;
}

export function viewOfValidation(record: ValidationRecord): ValidationView {
  const v = record.validity;
  return {
    status: v.status,
    provider: record.provider,
    ...(v.status === "live" ? { identity: v.identity, ...(v.scopes ? { scopes: v.scopes } : {}) } : {}),
    ...(v.status === "inactive" ? { reason: v.detail } : {}),
    ...(v.status === "unknown" ? { reason: v.why } : {}),
    checkedAt: record.checkedAt,
  };
}

/** "live: GitHub user octocat (repo, gist)", "inactive", "unknown: throttled ..." */
export function describeValidation(view: ValidationView | undefined, s: Style): string {
  if (!view) return s.dim("-");
  if (view.status === "live")
    return s.red(`live: ${view.identity}${view.scopes?.length ? ` (${view.scopes.join(", ")})` : ""}`);
  if (view.status === "inactive") return s.green("inactive");
  return s.yellow(`unknown: ${view.reason ?? ""}`);
}
