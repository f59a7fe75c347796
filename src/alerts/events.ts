// The events that raise alerts, built from what the app already records: a breach issue just opened, and a
// revocation's final outcome. Both carry previews and ids, never a value.
import type { RevocationOutcome } from "../revoke/worker.js";
import type { Store } from "../store/index.js";
import type { AlertEvent } from "./render.js";

/** The breach behind an issue the app just opened; undefined when the store does not know the issue. */
export async function breachEvent(store: Store, issueUrl: string): Promise<AlertEvent | undefined> {
  const breach = await store.breaches.byIssueUrl(issueUrl);
  if (!breach) return undefined;
  return {
    type: "breach",
    id: `breach:${breach.record.key}`,
    at: breach.record.createdAt,
    repository: breach.record.repository,
    issueUrl,
    tokens: breach.tokens.map((t) => ({ preview: t.preview, description: t.description })),
  };
}

export function revocationEvent(outcome: RevocationOutcome): AlertEvent {
  return {
    type: "revocation",
    id: `revocation:${outcome.jobId}:${outcome.at}`,
    at: outcome.at,
    outcome: outcome.outcome,
    provider: outcome.provider,
    preview: outcome.preview,
    ...(outcome.detail ? { detail: outcome.detail } : {}),
    findingIds: outcome.findingIds,
  };
}
