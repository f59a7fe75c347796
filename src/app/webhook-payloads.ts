// The fields leakwarden reads from the webhooks it handles, checked before a handler runs: a signed payload
// can still be malformed (a replay tool, a proxy, a GitHub Enterprise quirk), and a missing field must be a
// 400 that says nothing, not a TypeError deep in a handler.
import { isValidRef } from "../sources/git-ref.js";
import { backfillPayloadProblem } from "./backfill-payloads.js";
import { isGitHubFullName } from "./git-cache.js";
import { textPayloadProblem } from "./text-events.js";

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

type Fields = Record<string, unknown>;

function object(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === "string";
}

function repositoryProblem(repository: unknown): string | null {
  if (!object(repository)) return "repository";
  if (!isText(repository.full_name) || !isGitHubFullName(repository.full_name)) return "repository.full_name";
  if (!isText(repository.name)) return "repository.name";
  if (!isText(repository.html_url)) return "repository.html_url";
  if (!object(repository.owner)) return "repository.owner";
  // Whether a breach may be reported in public depends on these: a wrong type is refused, not guessed.
  if (repository.private !== undefined && typeof repository.private !== "boolean")
    return "repository.private";
  if (repository.visibility !== undefined && !isText(repository.visibility)) return "repository.visibility";
  return null;
}

function installationProblem(payload: Fields): string | null {
  const installation = payload.installation;
  if (installation === undefined) return null; // not for an app installation: ignored by the handlers
  return object(installation) && Number.isSafeInteger(installation.id) ? null : "installation.id";
}

function pushProblem(p: Fields): string | null {
  if (!isText(p.ref) || !isValidRef(p.ref)) return "ref";
  if (!isText(p.before) || !COMMIT.test(p.before)) return "before";
  if (!isText(p.after) || !COMMIT.test(p.after)) return "after";
  if (!object(p.pusher)) return "pusher";
  if (p.compare !== undefined && !isText(p.compare)) return "compare";
  return repositoryProblem(p.repository) ?? installationProblem(p);
}

function workflowRunProblem(p: Fields): string | null {
  if (p.action !== "completed") return null; // the only action leakwarden handles
  const run = p.workflow_run;
  if (!object(run)) return "workflow_run";
  if (!Number.isSafeInteger(run.id)) return "workflow_run.id";
  if (!isText(run.html_url)) return "workflow_run.html_url";
  if (run.run_attempt !== undefined && !Number.isSafeInteger(run.run_attempt))
    return "workflow_run.run_attempt";
  if (!object(p.sender) || !isText(p.sender.login)) return "sender.login";
  return repositoryProblem(p.repository) ?? installationProblem(p);
}

/** The first field of a handled event's payload that is missing or malformed; null when it can be handled. */
export function payloadProblem(event: string, payload: unknown): string | null {
  if (!object(payload)) return "the payload";
  if (event === "push") return pushProblem(payload);
  if (event === "workflow_run") return workflowRunProblem(payload);
  return textPayloadProblem(event, payload) ?? backfillPayloadProblem(event, payload);
}
