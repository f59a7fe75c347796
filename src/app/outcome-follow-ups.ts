// What a revocation's outcome queues: its comment on each opened issue that reports the token, the public
// notice of a breach whose tokens are now all revoked, and the edit of each pull request comment that shows it.
// One read says which of them apply: in a burst most outcomes come before their issue is opened, and then
// nothing more is read (on PostgreSQL each statement is a round trip, beside the next batch's scan).
import type { Store } from "../store/index.js";
import { enqueuePullRequestOutcomes, isPullRequestBreach } from "./pull-requests.js";
import { enqueueNotices, enqueueOutcomeReports } from "./report-jobs.js";

/**
 * Queues what the outcomes of these tokens' revocations call for (outcomes that end together are looked at in
 * one read); returns how many report jobs.
 */
export async function enqueueOutcomeFollowUps(
  store: Store,
  secretHashes: readonly string[],
): Promise<number> {
  let queued = 0;
  for (const [secretHash, reports] of await store.breaches.reportsOfAll(secretHashes)) {
    if (reports.some((r) => r.awaitingComment)) queued += await enqueueOutcomeReports(store, secretHash);
    if (reports.some((r) => r.notice === "pending")) queued += await enqueueNotices(store, secretHash);
    if (reports.some(isPullRequestBreach)) queued += await enqueuePullRequestOutcomes(store, secretHash);
  }
  return queued;
}
