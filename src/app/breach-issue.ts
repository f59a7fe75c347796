// The breach issue: what was found, what leakwarden did, what to do now. Everything in it comes from
// public finding fields; repository-controlled text (paths, names, messages) is escaped, never trusted.
import type { RevocationView } from "../revoke/queue.js";
import type { PublicFinding } from "../scan/types.js";
import type { ConfirmationOutcome } from "../validate/confirm.js";
import type { ValidationView } from "../validate/view.js";
import { remediationFor } from "./remediation.js";

/** What leakwarden did about a token: the revocation queue's view of it (reasons never hold a secret). */
export type RevocationState = Pick<
  RevocationView,
  "status" | "provider" | "at" | "reason" | "confirmation"
> & {
  /** The API that revoked it, or will, named for people; else derived from the provider. */
  via?: string;
};

export interface IssueFinding extends PublicFinding {
  revocation: RevocationState;
  /** What the token's issuer said when asked (live checks on). */
  validation?: ValidationView;
}

/** The API each revoking provider module calls, named for people. */
const REVOCATION_API: Record<string, string> = {
  "azure-devops": "Azure DevOps Token Admin API",
  github: "GitHub credential revocation API",
  "github-installation": "GitHub installation token API",
  gitlab: "GitLab personal access token API",
  slack: "Slack auth.revoke API",
};

export type BreachSource =
  | { kind: "push"; ref: string; before: string; after: string; pusher: string; compareUrl?: string }
  | {
      kind: "workflow_run";
      runId: number;
      runName: string;
      runUrl: string;
      actor: string;
      attempt: number;
      logsDeleted?: boolean;
    };

export interface Breach {
  repository: { fullName: string; htmlUrl: string };
  source: BreachSource;
  findings: IssueFinding[];
  /** Why .github/leakwarden.yml was ignored, if it was. */
  settingsProblem?: string;
  /** What could not be scanned (a refused log archive), if anything. */
  scanProblem?: string;
}

export const ISSUE_MARKER = "<!-- leakwarden:breach";

/**
 * The breach key as it appears in the hidden marker, and as the marker is searched for. Percent-encoded,
 * dashes included, so that no ref can close the comment (`-->`) or be altered by it (`--`).
 */
export function markerFor(key: string): string {
  return `${ISSUE_MARKER} ${encodeURIComponent(key).replace(/-/g, "%2D")} -->`;
}

/** Text from the repository can hold markdown, HTML and mentions: show it literally. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`)
    .replace(/@/g, "@\u200b")
    .replace(/\r?\n/g, " ");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;
}

/** A login is safe to @-mention only if it looks like one. */
function mention(login: string): string {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/.test(login) ? `@${login}` : escapeMarkdown(login);
}

function location(breach: Breach, f: IssueFinding): string {
  const where = `${escapeMarkdown(f.file)}:${f.line}`;
  if (breach.source.kind === "push" && f.commit) {
    const path = f.file.split("/").map(encodeURIComponent).join("/");
    return `[${where}](${breach.repository.htmlUrl}/blob/${f.commit}/${path}#L${f.line})`;
  }
  return `log ${where}`;
}

function action(r: RevocationState): string {
  const api = r.via ?? (r.provider ? (REVOCATION_API[r.provider] ?? `${r.provider} API`) : undefined);
  const why = r.reason ? `: ${escapeMarkdown(r.reason)}` : "";
  switch (r.status) {
    case "revoked":
      return `${r.confirmation === "accepted" ? "revocation accepted" : r.confirmation === "confirmed" ? "revoked (confirmed)" : "revoked"}${r.at ? ` at ${r.at}` : ""}${api ? ` through the ${api}` : ""}`;
    case "already-revoked":
      return `already revoked${api ? ` (the ${api} no longer knows it)` : ""}`;
    case "pending":
    case "would-revoke":
      return `revocation pending${api ? ` through the ${api}` : ""}; the outcome will be commented here`;
    case "failed":
      return `${r.confirmation === "did-not-take" ? "**revocation did not take**" : "revocation failed"}${why}; **revoke it by hand now**`;
    case "cancelled":
      return `revocation cancelled${why}; **revoke it by hand now** if it is still active`;
    case "not-revocable":
    case "skipped":
      return `not revoked automatically${why}; **revoke it by hand now**`;
  }
}

/** " Live check: …" after the action, when the token's issuer was asked. */
function liveCheck(v: ValidationView | undefined): string {
  if (!v) return "";
  if (v.status === "live")
    return ` Live check: **live**, ${escapeMarkdown(clip(v.identity ?? ""))}${v.scopes?.length ? ` (${escapeMarkdown(v.scopes.join(", "))})` : ""}.`;
  if (v.status === "inactive") return " Live check: inactive (the issuer refuses it).";
  return ` Live check: unknown (${escapeMarkdown(clip(v.reason ?? ""))}).`;
}

export function issueTitle(breach: Breach): string {
  const count = breach.findings.length;
  const what =
    count === 1 ? `${breach.findings[0]?.description ?? "credential"} leaked` : `${count} credentials leaked`;
  return breach.source.kind === "push"
    ? `${what} in a push to ${clip(breach.source.ref.replace(/^refs\/(heads|tags)\//, ""), 180)}`
    : `${what} in the logs of workflow run #${breach.source.runId}`;
}

export type BreachKeySource =
  | { kind: "push"; ref: string; after: string }
  | { kind: "workflow_run"; runId: number; attempt: number };

/** A stable key for "this push" or "this run attempt": one issue per key, whatever the number of deliveries. */
export function breachKey(repository: string, source: BreachKeySource): string {
  return source.kind === "push"
    ? `push:${repository}:${source.ref}:${source.after}`
    : `run:${repository}:${source.runId}:${source.attempt}`;
}

/** What the keys of every push to a repository start with (the scan stage takes a burst of them together). */
export function pushKeyPrefix(repository: string): string {
  return `push:${repository}:`;
}

/** GitHub refuses an issue body over 65,536 characters; the rest is headroom for what is not a finding. */
export const MAX_ISSUE_BODY = 65_536;
/** One finding's rows may not take more than this: a single hostile path cannot crowd out the others. */
const MAX_CELL = 300;
const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Repository-controlled text, shortened to `max` characters before it is escaped. */
function clip(text: string, max = MAX_CELL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Most severe first; among equals, those someone must still revoke by hand first. */
function bySeverity(a: IssueFinding, b: IssueFinding): number {
  const done = (f: IssueFinding) => (["revoked", "already-revoked"].includes(f.revocation.status) ? 1 : 0);
  return (SEVERITY_RANK[a.severity] ?? 4) - (SEVERITY_RANK[b.severity] ?? 4) || done(a) - done(b);
}

function tableRow(breach: Breach, f: IssueFinding): string {
  const commit = f.commit ? code(f.commit.slice(0, 12)) : "";
  const author = f.author ? escapeMarkdown(clip(f.author.replace(/\s*<[^>]*>$/, ""))) : "";
  const shown = { ...f, file: clip(f.file) };
  return `| ${code(f.ruleId)} | ${escapeMarkdown(f.provider)} | ${f.confidence} | ${location(breach, shown)} | ${commit} | ${author} | ${code(f.redacted)} |`;
}

function actionLine(f: IssueFinding): string {
  return `- ${code(f.redacted)} (${escapeMarkdown(f.description)}): ${action({ ...f.revocation, ...(f.revocation.reason ? { reason: clip(f.revocation.reason) } : {}) })}.${liveCheck(f.validation)}`;
}

/** Where the findings left out of a long issue can be read: the CLI, against the App's database. */
function listAllCommand(repository: string): string {
  return code(`leakwarden findings list --json | jq '.[] | select(.source == "${repository}")'`);
}

export function renderBreachIssue(breach: Breach): { title: string; body: string } {
  const { source, findings } = breach;
  const head: string[] = [];
  const who = mention(clip(source.kind === "push" ? source.pusher : source.actor, 100));
  if (source.kind === "push") {
    const range = source.compareUrl
      ? `[${source.before.slice(0, 7)}…${source.after.slice(0, 7)}](${source.compareUrl})`
      : code(source.after);
    head.push(
      `${who}, leakwarden found ${findings.length === 1 ? "a credential" : `${findings.length} credentials`} in your push to ${code(source.ref)} (${range}).`,
    );
  } else {
    head.push(
      `${who}, leakwarden found ${findings.length === 1 ? "a credential" : `${findings.length} credentials`} in the logs of [${escapeMarkdown(clip(source.runName))} #${source.runId}](${source.runUrl}) (attempt ${source.attempt}).`,
    );
  }
  head.push(
    "",
    "A leaked token is a leaked password: anyone who saw the code or the log can use it until it is revoked.",
  );
  if (breach.scanProblem) {
    head.push(
      "",
      `> [!WARNING]\n> Part of it could not be scanned: ${escapeMarkdown(clip(breach.scanProblem, 2000))}`,
    );
  }
  if (breach.settingsProblem) {
    head.push(
      "",
      `> [!WARNING]\n> \`.github/leakwarden.yml\` was ignored and defaults applied: ${escapeMarkdown(clip(breach.settingsProblem, 1000))}`,
    );
  }

  const tail: string[] = [];
  if (source.kind === "workflow_run" && source.logsDeleted)
    tail.push("- The run's logs were deleted, as this repository's settings ask.");
  tail.push("", "## What to do now", "");
  tail.push(
    "**Deleting the commit or the log does not undo the leak: the token must be revoked.** Then:",
    "",
  );
  const providers = [...new Set(findings.map((f) => f.provider))];
  for (const provider of providers) {
    const { name, steps } = remediationFor(provider);
    tail.push(`### ${name[0]?.toUpperCase()}${name.slice(1)}`, "");
    steps.forEach((step, i) => {
      tail.push(`${i + 1}. ${step}`);
    });
    tail.push("");
  }
  tail.push("Close this issue once every token above is revoked and replaced.");
  tail.push("", markerFor(breachKey(breach.repository.fullName, source)));

  // Each finding takes a table row and an action line; add them, most severe first, while they fit.
  const tableHead = [
    "",
    "## What was found",
    "",
    "| Rule | Provider | Confidence | Location | Commit | Author | Token |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const didHead = ["", "## What leakwarden did", ""];
  const more = (n: number) =>
    `\n_…and ${n} more, not listed here: GitHub limits an issue's length. All of them: ${listAllCommand(breach.repository.fullName)}._\n`;
  const fixed = [...head, ...tableHead, ...didHead, ...tail].join("\n").length + more(findings.length).length;
  let budget = MAX_ISSUE_BODY - 1_000 - fixed;
  const rows: string[] = [];
  const actions: string[] = [];
  for (const f of [...findings].sort(bySeverity)) {
    const row = tableRow(breach, f);
    const line = actionLine(f);
    budget -= row.length + line.length + 2;
    if (budget < 0) break;
    rows.push(row);
    actions.push(line);
  }
  const left = findings.length - rows.length;
  const lines = [...head, ...tableHead, ...rows];
  if (left > 0) lines.push(more(left));
  lines.push(...didHead, ...actions, ...tail);
  return { title: issueTitle(breach), body: lines.join("\n") };
}

/** The comment posted when a revocation that was pending finishes or fails. */
export function renderRevocationComment(
  finding: Pick<PublicFinding, "redacted" | "description">,
  state: RevocationState,
): string {
  const done = state.status === "revoked";
  return `${done ? "✅" : "⚠️"} ${code(finding.redacted)} (${escapeMarkdown(finding.description)}): ${action(state)}.`;
}

/** The comment posted when a live check after a revocation says whether it took. */
export function renderConfirmationComment(outcome: ConfirmationOutcome): string {
  const token = code(outcome.preview);
  const detail = escapeMarkdown(outcome.detail);
  switch (outcome.status) {
    case "confirmed":
      return `✅ ${token}: revoked (confirmed): ${detail}.`;
    case "accepted":
      return `⏳ ${token}: revocation accepted, not yet in effect: ${detail}.`;
    case "did-not-take":
      return `🚨 ${token}: **revocation did not take**: ${detail}. **Revoke it by hand now.**`;
    case "unconfirmed":
      return `⚠️ ${token}: revoked, but leakwarden could not confirm it: ${detail}.`;
  }
}
