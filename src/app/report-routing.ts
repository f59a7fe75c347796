// Where a breach is reported. A public repository's issue would point anyone at a live token, so its breach
// goes to a private security repository (the organisation's `issues.repository`, else the server's
// LEAKWARDEN_SECURITY_REPO), or nowhere on GitHub when none is set; private repositories report in place
// unless `issues.central` sends them there too. The security repository is checked to be private first.
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import type { Breach } from "./breach-issue.js";
import type { RepoSettings } from "./repo-settings.js";
import { isPublicRepository } from "./scan-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export type Route =
  /** The issue opens in `repository`: the leaking one, or the security repository (`routed`). */
  | { kind: "issue"; repository: string; routed: boolean }
  /** No issue anywhere: `reason` says why and what to set; `refused` when a configured repository is unfit. */
  | { kind: "withheld"; reason: string; refused: boolean };

/** The security repository that applies: the organisation's setting first, then the server's. */
export function securityRepositoryFor(settings: RepoSettings, serverSetting?: string): string | undefined {
  return settings.issues.repository ?? (serverSetting || undefined);
}

/** Where the breach goes, before any call to GitHub. */
export function chooseRoute(breach: Breach, settings: RepoSettings, serverSetting?: string): Route {
  const repository = breach.repository.fullName;
  const security = securityRepositoryFor(settings, serverSetting);
  const isPublic = isPublicRepository(breach.repository);
  if (!isPublic && !(settings.issues.central && security))
    return { kind: "issue", repository, routed: false };
  if (security === repository)
    return {
      kind: "withheld",
      refused: true,
      reason: `the security repository ${security} is the public repository that leaked: set a private one`,
    };
  if (security) return { kind: "issue", repository: security, routed: true };
  const owner = repository.split("/")[0] ?? "";
  return {
    kind: "withheld",
    refused: false,
    reason: `${repository} is public, so its breach is not reported there, and no security repository is set: set issues.repository in ${owner}/.github's .github/leakwarden.yml, or LEAKWARDEN_SECURITY_REPO on the server, to a private repository where the App is installed`,
  };
}

/**
 * Null when `fullName` is a private repository this installation can write to; else why it is refused. A
 * security repository that is public (or internal: every member of the enterprise reads it) is never written to.
 */
export async function securityRepositoryProblem(octokit: Octokit, fullName: string): Promise<string | null> {
  const [owner, repo] = fullName.split("/") as [string, string];
  try {
    const { data } = await octokit.rest.repos.get({ owner, repo });
    const visibility = data.visibility ?? (data.private ? "private" : "public");
    if (data.private !== true || visibility !== "private")
      return `the security repository ${fullName} is ${visibility === "internal" ? "internal" : "public"}: leakwarden refuses to report a breach there; make it private or name a private one`;
    return null;
  } catch (error) {
    if (error instanceof RetryAfter) throw error;
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 403)
      return `the security repository ${fullName} cannot be read (${status}): it does not exist, or the App is not installed on it in this installation`;
    throw error;
  }
}
