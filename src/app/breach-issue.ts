// The breach issue: what was found, what leakwarden did, what to do now. Everything in it comes from
// public finding fields; repository-controlled text (paths, names, messages) is escaped, never trusted.
import type { RevocationView } from "../revoke/queue.js";
import type { PublicFinding } from "../scan/types.js";
import type { ConfirmationOutcome } from "../validate/confirm.js";
import type { ValidationView } from "../validate/view.js";
import { fixLineFor, remediationFor, SECRET_STORES, shortName } from "./remediation.js";
import {
  type TextBreachSource,
  textBreachKey,
  textHeadline,
  textIssueTitle,
  textLocation,
} from "./text-breach.js";

/** What leakwarden did about a token: the revocation queue's view of it (reasons never hold a secret). */
export type RevocationState = Pick<
  RevocationView,
  "status" | "provider" | "at" | "reason" | "confirmation"
> & {
  /** The API that revoked it, or will, named for people; else derived from the provider. */
  via?: string;
};

/** A registered token's entry, as the breach issue shows it: what just broke, and whose it is. */
export interface RegistryEntry {
  name: string | null;
  owner: string | null;
  org: string | null;
  scopes: string[];
  expiresAt: string | null;
}

export interface IssueFinding extends PublicFinding {
  revocation: RevocationState;
  /** What the token's issuer said when asked (live checks on). */
  validation?: ValidationView;
  /** The finding's id in the store: the console shows it at /findings/ID. */
  findingId?: number | null;
  /** The token's registry entry; null when it is not registered, absent when not looked up. */
  registry?: RegistryEntry | null;
}

export interface RenderOptions {
  /** The console's public address (LEAKWARDEN_CONSOLE_URL): each finding links to its page. */
  consoleUrl?: string;
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
      /** The run's number in its workflow (Build #12); the id when absent. */
      runNumber?: number;
      /** When the run started: the start of the exposure window of what it logged. */
      startedAt?: string;
      logsDeleted?: boolean;
    }
  /** A backfill: the repository's whole history (every branch and tag), `run` is its job. */
  | { kind: "backfill"; run: number; commits: number; refs: number }
  | TextBreachSource;

export interface Breach {
  repository: { fullName: string; htmlUrl: string; visibility?: "public" | "private" | "internal" };
  source: BreachSource;
  findings: IssueFinding[];
  /** Why .github/leakwarden.yml was ignored, if it was. */
  settingsProblem?: string;
  /** What could not be scanned (a refused log archive), if anything. */
  scanProblem?: string;
  /** Why the pushed `.leakwardenignore` was not used, if it was not. */
  ignoreProblem?: string;
  /** Why the organisation's settings (its `.github` repository) were not used, if they were not. */
  orgSettingsProblem?: string;
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
  if (breach.source.kind === "text" || breach.source.kind === "secret_scanning_alert")
    return textLocation(breach.source, f);
  const where = `${escapeMarkdown(f.file)}:${f.line}`;
  if (breach.source.kind !== "workflow_run" && f.commit) {
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

/** GitHub shows about 70 characters of a title in lists and notifications. */
export const MAX_TITLE = 69;

/** "Leaked Azure DevOps PAT in push to main", "Leaked 3 tokens in workflow run Build #12": under 70 characters. */
export function issueTitle(breach: Breach): string {
  const tokens = [...new Map(breach.findings.map((f) => [f.secretHash, f])).values()];
  const kinds = [...new Set(tokens.map((f) => shortName(f.provider, f.description)))];
  const what =
    tokens.length === 0
      ? "Leaked credentials"
      : tokens.length === 1
        ? `Leaked ${kinds[0]}`
        : kinds.length === 1
          ? `Leaked ${tokens.length} ${kinds[0]}s`
          : `Leaked ${tokens.length} tokens`;
  const { source } = breach;
  if (source.kind === "backfill") return `${what} in the repository's history`;
  if (source.kind === "text" || source.kind === "secret_scanning_alert") {
    const title = textIssueTitle(source, what);
    return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
  }
  const where =
    source.kind === "push"
      ? { lead: " in push to ", name: source.ref.replace(/^refs\/(heads|tags)\//, ""), tail: "" }
      : { lead: " in workflow run ", name: source.runName, tail: ` #${source.runNumber ?? source.runId}` };
  const room = MAX_TITLE - what.length - where.lead.length - where.tail.length;
  const name = (where.name.replace(/\s+/g, " ").trim() || "?").slice(0, Math.max(room, 1));
  const title = `${what}${where.lead}${name.length < where.name.trim().length ? `${name.slice(0, -1)}…` : name}${where.tail}`;
  return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
}

export type BreachKeySource =
  | { kind: "push"; ref: string; after: string }
  | { kind: "workflow_run"; runId: number; attempt: number }
  | { kind: "backfill"; run: number }
  | TextBreachSource;

/** A stable key for "this push" or "this run attempt": one issue per key, whatever the number of deliveries. */
export function breachKey(repository: string, source: BreachKeySource): string {
  if (source.kind === "backfill") return `backfill:${repository}:${source.run}`;
  if (source.kind === "text" || source.kind === "secret_scanning_alert")
    return textBreachKey(repository, source);
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

/** The token's short tag in the status markers: 12 hex digits of its hash, never the value. */
function tokenTag(secretHash: string): string {
  return secretHash.replace(/^sha256:/, "").slice(0, 12);
}

/** An ISO time safe inside a marker (no spaces, never `--`), or "-". */
function markerTime(at: string | undefined): string {
  const ms = at ? Date.parse(at) : Number.NaN;
  return Number.isNaN(ms) ? "-" : new Date(ms).toISOString();
}

/** "2026-11-28 10:00 UTC": a reader's time, to the minute. */
function when(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms)
    ? escapeMarkdown(clip(at, 40))
    : `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.max(Math.round(ms / 1000), 0)} s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(ms / 3_600_000);
  return hours < 48 ? `${hours} h` : `${Math.round(ms / 86_400_000)} days`;
}

const DONE = new Set(["revoked", "already-revoked"]);

/** The table's Status column: what a reader scanning the rows needs. */
function statusCell(r: RevocationState): string {
  switch (r.status) {
    case "revoked":
      return "revoked";
    case "already-revoked":
      return "already revoked";
    case "pending":
    case "would-revoke":
      return "revocation pending";
    case "failed":
      return r.confirmation === "did-not-take"
        ? "**did not take: revoke by hand**"
        : "**failed: revoke by hand**";
    case "cancelled":
      return "cancelled";
    case "not-revocable":
    case "skipped":
      return "**not revoked: revoke by hand**";
  }
}

/** How long the token was out: from when it was committed or logged to when it was revoked. */
function exposure(since: string, sinceWhat: string, r: RevocationState): string {
  const start = since === "-" ? undefined : `${when(since)} (${sinceWhat})`;
  const end = DONE.has(r.status) && r.at ? r.at : undefined;
  if (start && end)
    return `Exposed from ${start} to ${when(end)} (revoked): ${duration(Date.parse(end) - Date.parse(since))}.`;
  if (end) return `Revoked ${when(end)}.`;
  if (start) return `Exposed since ${start}: **still exposed** until it is revoked.`;
  return "**Still exposed** until it is revoked.";
}

const CELL_OPEN = "<!--lw:cell ";
const DID_OPEN = "<!--lw:did ";

/** The status cell of a token's rows, between markers, so that a later outcome can replace it in place. */
function cell(secretHash: string, r: RevocationState): string {
  return `${CELL_OPEN}${tokenTag(secretHash)}-->${statusCell(r)}<!--/lw:cell-->`;
}

/** What leakwarden did about a token and its exposure window, between markers (replaced in place later). */
function did(secretHash: string, since: string, sinceWhat: string, r: RevocationState): string {
  const reason = r.reason ? { reason: clip(r.reason) } : {};
  return `${DID_OPEN}${tokenTag(secretHash)} ${since} ${sinceWhat}-->${action({ ...r, ...reason })}. ${exposure(since, sinceWhat, r)}<!--/lw:did-->`;
}

/**
 * The issue body with one token's status brought up to date: its Status cells and its "what leakwarden did"
 * line, found by their markers. Everything else is left as it is.
 */
export function updateStatusInBody(body: string, secretHash: string, state: RevocationState): string {
  const tag = tokenTag(secretHash);
  const cells = new RegExp(`${CELL_OPEN}${tag}-->[^\\n]*?<!--/lw:cell-->`, "g");
  const dids = new RegExp(`${DID_OPEN}${tag} (\\S+) (\\w+)-->[^\\n]*?<!--/lw:did-->`, "g");
  return body
    .replace(cells, () => cell(secretHash, state))
    .replace(dids, (_whole, since: string, sinceWhat: string) => did(secretHash, since, sinceWhat, state));
}

function findingRef(f: IssueFinding, options: RenderOptions): string {
  if (f.findingId === undefined || f.findingId === null) return "";
  return options.consoleUrl
    ? `[#${f.findingId}](${options.consoleUrl}/findings/${f.findingId})`
    : `#${f.findingId}`;
}

function tableRow(breach: Breach, f: IssueFinding, options: RenderOptions): string {
  const commit = f.commit ? code(f.commit.slice(0, 12)) : "";
  const author = f.author ? escapeMarkdown(clip(f.author.replace(/\s*<[^>]*>$/, ""))) : "";
  const shown = { ...f, file: clip(f.file) };
  return `| ${findingRef(f, options)} | ${code(f.ruleId)} | ${f.confidence} | ${location(breach, shown)} | ${commit} | ${author} | ${code(f.redacted)} | ${cell(f.secretHash, f.revocation)} |`;
}

function registryLine(entry: RegistryEntry | null | undefined): string | undefined {
  if (entry === undefined) return undefined;
  if (entry === null)
    return "  - Registry: not registered, so leakwarden does not know whose it is or what uses it.";
  const parts = [
    entry.owner ? `owner ${escapeMarkdown(clip(entry.owner, 100))}` : undefined,
    entry.org ? `organisation ${escapeMarkdown(clip(entry.org, 100))}` : undefined,
    entry.scopes.length ? `scopes ${code(clip(entry.scopes.join(" "), 200))}` : undefined,
    entry.expiresAt ? `expires ${when(entry.expiresAt)}` : undefined,
  ].filter((p) => p !== undefined);
  const name = entry.name ? `**${escapeMarkdown(clip(entry.name, 100))}**` : "a registered token";
  return `  - Registry: ${name}${parts.length ? ` (${parts.join("; ")})` : ""}. Whatever uses it stops working once it is revoked: give it the replacement.`;
}

/** One entry per token: what leakwarden did, the exposure window, its registry entry, its findings. */
function tokenLines(breach: Breach, group: IssueFinding[], options: RenderOptions): string {
  const f = group[0] as IssueFinding;
  const { source } = breach;
  const sinceWhat =
    source.kind === "push" ? "committed" : source.kind === "workflow_run" ? "logged" : "written";
  const starts = group
    .map((g) =>
      markerTime(
        source.kind === "push"
          ? (g.date ?? undefined)
          : source.kind === "workflow_run"
            ? source.startedAt
            : source.kind === "text"
              ? source.version
              : undefined,
      ),
    )
    .filter((t) => t !== "-")
    .sort();
  const lines = [
    `- ${code(f.redacted)} (${escapeMarkdown(f.description)}): ${did(f.secretHash, starts[0] ?? "-", sinceWhat, f.revocation)}${liveCheck(f.validation)}`,
  ];
  const registry = registryLine(f.registry);
  if (registry) lines.push(registry);
  const refs = group.map((g) => findingRef(g, options)).filter(Boolean);
  if (refs.length)
    lines.push(
      `  - Finding${refs.length > 1 ? "s" : ""}: ${refs.slice(0, MAX_REFS).join(", ")}${refs.length > MAX_REFS ? ", …" : ""}`,
    );
  return lines.join("\n");
}

const MAX_EXAMPLES = 10;
/** Finding references listed under one token; the table has them all. */
const MAX_REFS = 20;

/** How to take the value out of the code: the secret stores, then the one-line change per file where obvious. */
function fixSection(breach: Breach, findings: IssueFinding[]): string[] {
  const out = ["", "## How to fix the code", ""];
  if (breach.source.kind === "workflow_run") {
    out.push(
      "The run printed the token. Store it as a secret (below), pass it to the step through the environment, and stop the step from echoing it (`set +x` around the command; never `echo` it). GitHub Actions and Azure Pipelines mask registered secrets in logs.",
      "",
    );
  } else {
    out.push(
      "Revoking stops the leak, but the code still needs a value: put the replacement in a secret store and read it from there.",
      "",
    );
  }
  for (const store of SECRET_STORES) out.push(`- ${store}`);
  if (breach.source.kind !== "push") return out;
  const seen = new Set<string>();
  const examples: string[] = [];
  for (const f of findings) {
    const fix = fixLineFor(f.file, f.provider);
    const key = `${f.file}\0${f.provider}`;
    if (!fix || seen.has(key) || seen.size >= MAX_EXAMPLES) continue;
    seen.add(key);
    examples.push(
      "",
      `${code(clip(f.file))} line ${f.line}: replace the value with${fix.note ? "" : ":"}${fix.note ? ` (${fix.note}):` : ""}`,
      "",
      `\`\`\`${fix.language}`,
      fix.line,
      "```",
    );
  }
  if (examples.length) out.push("", "Then change the line that held it:", ...examples);
  return out;
}

/** What to do when a finding is not a real credential: each way makes leakwarden stop reporting it. */
function falsePositiveSection(findings: IssueFinding[], options: RenderOptions): string[] {
  const out = [
    "",
    "## Not a real credential?",
    "",
    "If a finding is a test value or a false alarm, tell leakwarden, and it will not be reported again:",
    "",
    "- add a `leakwarden:allow` comment on that line (`# leakwarden:allow`, `// leakwarden:allow`);",
  ];
  const ids = findings.map((f) => f.findingId).filter((id): id is number => typeof id === "number");
  const first = ids[0];
  if (first !== undefined)
    out.push(
      `- or resolve it as a false positive${options.consoleUrl ? ` in the [console](${options.consoleUrl}/findings/${first})` : ""}, or with ${code(`leakwarden findings resolve ${first} --as false-positive --note "why"`)};`,
    );
  out.push("- or add its fingerprint to `.leakwardenignore` at the root of the repository:", "", "```");
  const seen = new Set<string>();
  for (const f of findings) {
    if (seen.has(f.fingerprint) || seen.size >= MAX_EXAMPLES) continue;
    seen.add(f.fingerprint);
    out.push(
      `# ${clip(f.file, 120).replace(/[\r\n`]/g, "'")}:${f.line} (${f.ruleId}): not a real credential because ...`,
      f.fingerprint,
    );
  }
  out.push("```");
  return out;
}

/** Where the findings left out of a long issue can be read: the CLI, against the App's database. */
function listAllCommand(repository: string): string {
  return code(`leakwarden findings list --json | jq '.[] | select(.source == "${repository}")'`);
}

export function renderBreachIssue(
  breach: Breach,
  options: RenderOptions = {},
): { title: string; body: string } {
  const { source, findings } = breach;
  const head: string[] = [];
  const count = new Set(findings.map((f) => f.secretHash)).size;
  const what = `${count === 1 ? "a credential" : `${count} credentials`}${findings.length > count ? ` in ${findings.length} places` : ""}`;
  const repository = `[${escapeMarkdown(breach.repository.fullName)}](${breach.repository.htmlUrl})`;
  if (source.kind === "backfill") {
    head.push(
      `leakwarden scanned the whole history of ${repository} (${source.commits} commits on ${source.refs} branches and tags) and found ${what} committed before it watched new pushes. This issue lists them all; new pushes get their own issues.`,
    );
  } else if (source.kind === "text" || source.kind === "secret_scanning_alert") {
    head.push(textHeadline(source, count, (login) => mention(clip(login, 100))));
  } else if (source.kind === "push") {
    const who = mention(clip(source.pusher, 100));
    const range = source.compareUrl
      ? `[${source.before.slice(0, 7)}…${source.after.slice(0, 7)}](${source.compareUrl})`
      : code(source.after);
    head.push(
      `${who}, leakwarden found ${what} in your push to ${code(source.ref)} (${range}) of ${repository}.`,
    );
  } else {
    const who = mention(clip(source.actor, 100));
    head.push(
      `${who}, leakwarden found ${what} in the logs of [${escapeMarkdown(clip(source.runName))} #${source.runNumber ?? source.runId}](${source.runUrl}) (attempt ${source.attempt}) of ${repository}.`,
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
  if (breach.orgSettingsProblem) {
    head.push(
      "",
      `> [!WARNING]\n> The organisation's settings were not used: ${escapeMarkdown(clip(breach.orgSettingsProblem, 1000))}`,
    );
  }
  if (breach.ignoreProblem) {
    head.push(
      "",
      `> [!WARNING]\n> \`.leakwardenignore\` was not used: ${escapeMarkdown(clip(breach.ignoreProblem, 1000))}`,
    );
  }
  if (breach.settingsProblem) {
    head.push(
      "",
      `> [!WARNING]\n> \`.github/leakwarden.yml\` was ignored and defaults applied: ${escapeMarkdown(clip(breach.settingsProblem, 1000))}`,
    );
  }

  const sorted = [...findings].sort(bySeverity);
  const tail: string[] = [];
  if (source.kind === "workflow_run" && source.logsDeleted)
    tail.push("", "The run's logs were deleted, as this repository's settings ask.");
  tail.push(...fixSection(breach, sorted));
  tail.push(...falsePositiveSection(sorted, options));
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

  // Each finding takes a table row, each token an entry; add them, most severe first, while they fit.
  const tableHead = [
    "",
    "## What was found",
    "",
    "| Finding | Rule | Confidence | Location | Commit | Author | Token | Status |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const didHead = ["", "## What leakwarden did, token by token", ""];
  const more = (n: number) =>
    `\n_…and ${n} more, not listed here: GitHub limits an issue's length. All of them: ${listAllCommand(breach.repository.fullName)}._\n`;
  const fixed = [...head, ...tableHead, ...didHead, ...tail].join("\n").length + more(findings.length).length;
  let budget = MAX_ISSUE_BODY - 1_000 - fixed;
  const rows: string[] = [];
  const groups = new Map<string, IssueFinding[]>();
  for (const f of sorted) {
    const row = tableRow(breach, f, options);
    const group = groups.get(f.secretHash);
    // A new token's entry is about as long as its first row's action; later rows only add a reference.
    const cost =
      row.length +
      (group
        ? group.length < MAX_REFS
          ? findingRef(f, options).length + 2
          : 0
        : tokenLines(breach, [f], options).length) +
      2;
    budget -= cost;
    if (budget < 0) break;
    rows.push(row);
    if (group) group.push(f);
    else groups.set(f.secretHash, [f]);
  }
  const tokens = [...groups.values()].map((group) => tokenLines(breach, group, options));
  const left = findings.length - rows.length;
  const lines = [...head, ...tableHead, ...rows];
  if (left > 0) lines.push(more(left));
  lines.push(...didHead, ...tokens, ...tail);
  return { title: issueTitle(breach), body: lines.join("\n") };
}

/**
 * The short notice a public repository gets once every token is revoked: that it happened and that it is
 * over, nothing that points at where (no file, line, commit or preview).
 */
export function renderPublicNotice(tokens: number): { title: string; body: string } {
  const one = tokens === 1;
  return {
    title: one ? "A leaked credential was revoked" : `${tokens} leaked credentials were revoked`,
    body: [
      `leakwarden found ${one ? "a credential" : `${tokens} credentials`} in a recent change to this repository and ${one ? "it has been revoked" : "every one has been revoked"}: ${one ? "it no longer works" : "none of them works any more"}.`,
      "",
      "The details went to the security team, who will contact the people concerned. Nothing needs to be done here.",
    ].join("\n"),
  };
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
