// The fields the backfill and pull request handlers read, checked before they run (see webhook-payloads.ts):
// a malformed signed payload is a 400 that says nothing, never a repository name that leaves its path.
import { isValidRef } from "../sources/git-ref.js";
import { isGitHubFullName } from "./git-cache.js";

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

type Fields = Record<string, unknown>;

function object(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function repositoryList(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) return field;
  for (const r of value)
    if (!object(r) || typeof r.full_name !== "string" || !isGitHubFullName(r.full_name))
      return `${field}[].full_name`;
  return null;
}

function installationProblem(p: Fields): string | null {
  return object(p.installation) && Number.isSafeInteger(p.installation.id) ? null : "installation.id";
}

function pullRequestProblem(p: Fields): string | null {
  if (!["opened", "reopened", "synchronize"].includes(String(p.action))) return null;
  const pull = p.pull_request;
  if (!object(pull)) return "pull_request";
  if (!Number.isSafeInteger(pull.number)) return "pull_request.number";
  const base = pull.base;
  const head = pull.head;
  if (!object(base) || typeof base.sha !== "string" || !COMMIT.test(base.sha)) return "pull_request.base.sha";
  if (typeof base.ref !== "string" || !isValidRef(`refs/heads/${base.ref}`)) return "pull_request.base.ref";
  if (!object(head) || typeof head.sha !== "string" || !COMMIT.test(head.sha)) return "pull_request.head.sha";
  const repository = p.repository;
  if (
    !object(repository) ||
    typeof repository.full_name !== "string" ||
    !isGitHubFullName(repository.full_name)
  )
    return "repository.full_name";
  if (typeof repository.name !== "string") return "repository.name";
  if (typeof repository.html_url !== "string") return "repository.html_url";
  if (!object(repository.owner)) return "repository.owner";
  if (!object(p.sender) || typeof p.sender.login !== "string") return "sender.login";
  return p.installation === undefined ? null : installationProblem(p);
}

/**
 * The first malformed field of an installation (created, deleted, suspend, unsuspend), installation_repositories
 * (added, removed) or pull_request payload, or null.
 */
export function backfillPayloadProblem(event: string, p: Fields): string | null {
  if (event === "installation" && p.action === "created")
    return installationProblem(p) ?? repositoryList(p.repositories, "repositories");
  if (event === "installation_repositories" && p.action === "added")
    return (
      installationProblem(p) ??
      (Array.isArray(p.repositories_added)
        ? repositoryList(p.repositories_added, "repositories_added")
        : "repositories_added")
    );
  if (event === "installation" && ["deleted", "suspend", "unsuspend"].includes(String(p.action)))
    return installationProblem(p);
  if (event === "installation_repositories" && p.action === "removed")
    return (
      installationProblem(p) ??
      (Array.isArray(p.repositories_removed)
        ? repositoryList(p.repositories_removed, "repositories_removed")
        : "repositories_removed")
    );
  if (event === "pull_request") return pullRequestProblem(p);
  return null;
}
