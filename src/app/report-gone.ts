// A report whose destination is gone: the repository was removed from the installation (or deleted, or moved
// away), or the App was uninstalled, after the report was queued. GitHub answers 404 then, and always will, so
// the report job is cancelled with the reason instead of failing eight times and dying. A 404 alone proves
// nothing (a deleted label, an issue number that moved): the App asks whether it still sees the repository.
import type { ProbotOctokit } from "probot";
import { JobCancelled } from "../jobs/stage.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

interface RequestFailure {
  status?: number;
  request?: { url?: string };
}

/** What a 404 was about, read from the request's address: an installation's token, or a repository. */
function notFoundTarget(error: unknown): { installation: string } | { repository: string } | undefined {
  const failure = error as RequestFailure | undefined;
  if (failure?.status !== 404) return undefined;
  const url = failure.request?.url ?? "";
  const installation = /\/app\/installations\/(\d+)\/access_tokens/.exec(url)?.[1];
  if (installation) return { installation };
  const repository = /\/repos\/([^/?#]+)\/([^/?#]+)/.exec(url);
  return repository ? { repository: `${repository[1]}/${repository[2]}` } : undefined;
}

/**
 * The cancellation a report's failure calls for, or undefined when it is worth retrying. `octokit` is the
 * installation's client, absent when the failure came from getting it.
 */
export async function goneDestination(
  error: unknown,
  octokit: Octokit | undefined,
): Promise<JobCancelled | undefined> {
  const target = notFoundTarget(error);
  if (!target) return undefined;
  if ("installation" in target)
    return new JobCancelled(`installation ${target.installation} no longer exists (the App was uninstalled)`);
  if (!octokit) return undefined;
  const [owner, repo] = target.repository.split("/") as [string, string];
  try {
    await octokit.rest.repos.get({ owner, repo });
    return undefined; // the App still sees it: something else was not found, and a retry may do
  } catch (check) {
    if ((check as RequestFailure).status !== 404) return undefined;
  }
  return new JobCancelled(
    `the App can no longer see ${target.repository} (removed from the installation, deleted or transferred)`,
  );
}
