// The webhooks that carry text people write on GitHub, and GitHub's secret scanning alerts: which actions
// leakwarden handles, where in each payload the text's reference is, and the check of those fields (a
// malformed signed payload is a bare 400, as for a push). The job keeps the reference, never the text.
import type { TextKind } from "../sources/github-text.js";
import { isGitHubFullName } from "./git-cache.js";
import { type RepositoryRef, visibilityOf } from "./scan-jobs.js";
import type { TextScanPayload } from "./text-jobs.js";

interface TextEvent {
  actions: readonly string[];
  /** The payload field that holds the text's object. */
  field: string;
  kind: TextKind;
  /** The object's field that names it in the API. */
  id: "number" | "id" | "node_id";
}

export const TEXT_EVENTS: Record<string, TextEvent> = {
  issues: { actions: ["opened", "edited"], field: "issue", kind: "issue", id: "number" },
  pull_request: { actions: ["opened", "edited"], field: "pull_request", kind: "pull_request", id: "number" },
  issue_comment: { actions: ["created", "edited"], field: "comment", kind: "issue_comment", id: "id" },
  pull_request_review_comment: {
    actions: ["created", "edited"],
    field: "comment",
    kind: "review_comment",
    id: "id",
  },
  commit_comment: { actions: ["created"], field: "comment", kind: "commit_comment", id: "id" },
  discussion: { actions: ["created", "edited"], field: "discussion", kind: "discussion", id: "node_id" },
  discussion_comment: {
    actions: ["created", "edited"],
    field: "comment",
    kind: "discussion_comment",
    id: "node_id",
  },
  release: { actions: ["published", "edited"], field: "release", kind: "release", id: "id" },
};

export const SECRET_SCANNING_EVENT = "secret_scanning_alert";

type Fields = Record<string, unknown>;

function object(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function repositoryOf(p: Fields): RepositoryRef | null {
  const r = p.repository;
  if (!object(r) || !object(r.owner)) return null;
  const fullName = text(r.full_name);
  const name = text(r.name);
  const htmlUrl = text(r.html_url);
  if (!fullName || !isGitHubFullName(fullName) || !name || htmlUrl === undefined) return null;
  const owner = text(r.owner.login) ?? text(r.owner.name) ?? fullName.split("/")[0] ?? "";
  const visibility = visibilityOf(r);
  return { owner, name, fullName, htmlUrl, ...(visibility ? { visibility } : {}) };
}

function idOf(value: unknown, kind: TextEvent["id"]): number | string | undefined {
  if (kind === "node_id")
    return typeof value === "string" && /^[A-Za-z0-9_=-]{1,100}$/.test(value) ? value : undefined;
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
}

/** The first malformed field of a handled text or alert event; null when it can be handled (or is not ours). */
export function textPayloadProblem(event: string, payload: Fields): string | null {
  const spec = TEXT_EVENTS[event];
  if (spec) {
    if (!spec.actions.includes(payload.action as string)) return null;
    const item = payload[spec.field];
    if (!object(item)) return spec.field;
    if (idOf(item[spec.id], spec.id) === undefined) return `${spec.field}.${spec.id}`;
    if (!text(item.html_url)) return `${spec.field}.html_url`;
  } else if (event === SECRET_SCANNING_EVENT) {
    if (payload.action !== "created") return null;
    const alert = payload.alert;
    if (!object(alert)) return "alert";
    if (idOf(alert.number, "number") === undefined) return "alert.number";
  } else return null;
  if (!repositoryOf(payload)) return "repository";
  const installation = payload.installation;
  if (installation !== undefined && !(object(installation) && Number.isSafeInteger(installation.id)))
    return "installation.id";
  return null;
}

/** The job for a handled delivery; null for an action leakwarden does not handle, or no installation. */
export function textScanFor(event: string, payload: Fields, delivery: string): TextScanPayload | null {
  const installation = object(payload.installation) ? (payload.installation.id as number) : undefined;
  const repository = repositoryOf(payload);
  if (installation === undefined || !repository) return null;
  if (event === SECRET_SCANNING_EVENT) {
    if (payload.action !== "created" || !object(payload.alert)) return null;
    const alert = payload.alert;
    return {
      type: "secret_scanning_alert",
      installation,
      repository,
      alert: {
        number: alert.number as number,
        url: text(alert.html_url) ?? "",
        secretType: text(alert.secret_type) ?? "unknown",
      },
    };
  }
  const spec = TEXT_EVENTS[event];
  if (!spec?.actions.includes(payload.action as string)) return null;
  const item = payload[spec.field];
  if (!object(item)) return null;
  const id = idOf(item[spec.id], spec.id);
  const url = text(item.html_url);
  // Checked before the handler runs (textPayloadProblem); checked again so that no job lacks its reference.
  if (id === undefined || !url) return null;
  const writer = object(item.user) ? item.user : object(item.author) ? item.author : undefined;
  const sender = object(payload.sender) ? text(payload.sender.login) : undefined;
  return {
    type: "text",
    installation,
    repository,
    text: {
      kind: spec.kind,
      owner: repository.owner,
      repo: repository.name,
      id,
      url,
    },
    action: payload.action as string,
    // An edit is the editor's; a new text its writer's.
    author: (payload.action === "edited" ? sender : undefined) ?? text(writer?.login) ?? sender ?? "",
    version: text(item.updated_at) ?? text(item.published_at) ?? delivery,
  };
}
