// The GitHub side of a breach: its labels, the one issue per push or run, and the comments that report how
// each revocation ended. The database remembers what was opened and commented, so that nothing is done twice.
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import { type RevocationView, type RevokeJob, revocationJob, viewOfJob } from "../revoke/queue.js";
import type { Store } from "../store/index.js";
import { withConfirmation } from "../validate/confirm.js";
import {
  type Breach,
  breachKey,
  type IssueFinding,
  MAX_ISSUE_BODY,
  markerFor,
  type RegistryEntry,
  type RenderOptions,
  renderBreachIssue,
  renderPublicNotice,
  renderRevocationComment,
  updateStatusInBody,
} from "./breach-issue.js";
import type { RepoSettings } from "./repo-settings.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

const LABEL_STYLE: Record<string, { color: string; description: string }> = {
  security: { color: "b60205", description: "Security issue" },
  "leaked-credential": { color: "d93f0b", description: "A credential was leaked; leakwarden opened this" },
};
const FINAL = new Set(["revoked", "already-revoked", "failed", "cancelled"]);

function isStatus(error: unknown, status: number): boolean {
  return (error as { status?: number }).status === status;
}

/** Creates the labels a breach issue carries when the repository does not have them yet. */
export async function ensureLabels(
  octokit: Octokit,
  owner: string,
  repo: string,
  labels: readonly string[],
): Promise<void> {
  for (const name of labels) {
    try {
      await octokit.rest.issues.getLabel({ owner, repo, name });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      try {
        await octokit.rest.issues.createLabel({
          owner,
          repo,
          name,
          ...(LABEL_STYLE[name] ?? { color: "ededed" }),
        });
      } catch (createError) {
        // Created meanwhile by someone else: that is what we wanted.
        if (!isStatus(createError, 422)) throw createError;
      }
    }
  }
}

/** An issue an earlier, interrupted attempt opened for this breach, found by the marker in its body. */
async function findOpenedIssue(octokit: Octokit, owner: string, repo: string, key: string) {
  const { data } = await octokit.rest.issues.listForRepo({
    owner,
    repo,
    labels: "leaked-credential",
    state: "all",
    sort: "created",
    direction: "desc",
    per_page: 100,
  });
  const marker = markerFor(key);
  return data.find((issue) => issue.body?.includes(marker));
}

/** A PAT that leakwarden minted is revoked through the PAT lifecycle API, any other through Token Admin. */
export function revokedThrough(job: RevokeJob): string | undefined {
  if (job.queue !== "azure-devops") return undefined;
  return job.payload.minted ? "Azure DevOps PAT lifecycle API" : "Azure DevOps Token Admin API";
}

/** The freshest state of each finding's revocation: a job may have finished since the scan acted. */
export async function currentRevocation(
  store: Store,
  finding: IssueFinding,
): Promise<IssueFinding["revocation"]> {
  const job = await revocationJob(store, finding.secretHash);
  if (!job) return finding.revocation;
  const via = revokedThrough(job);
  // A confirming check that ended before the issue opens goes into it, not into a comment of its own.
  return { ...(await withConfirmation(store, job)), ...(via ? { via } : {}) };
}

/** The tokens a breach reports, once each, as the store remembers them (previews, never values). */
export function breachTokens(breach: Breach) {
  return [...new Map(breach.findings.map((f) => [f.secretHash, f])).values()].map((f) => ({
    secretHash: f.secretHash,
    preview: f.redacted,
    description: f.description,
  }));
}

/** The registry entry of a token, for the developer who must know what just broke. */
export async function registryEntry(store: Store, secretHash: string): Promise<RegistryEntry | null> {
  const token = await store.tokens.byHash(secretHash);
  return token
    ? {
        name: token.name,
        owner: token.owner,
        org: token.org,
        scopes: token.scopes,
        expiresAt: token.expiresAt,
      }
    : null;
}

export interface OpenOptions extends RenderOptions {
  /** Where to open it when not in the leaking repository: a private security repository (owner/name). */
  issueRepository?: string;
  /** Post a short public notice in the leaking repository once every token is revoked. */
  notice?: boolean;
}

/** Opens the breach issue, once per push or run, however many deliveries and retries there are. */
export async function openBreachIssue(
  octokit: Octokit,
  store: Store,
  installation: number,
  breach: Breach,
  settings: RepoSettings,
  options: OpenOptions = {},
): Promise<{ number: number; url: string; opened: boolean }> {
  const issueRepository = options.issueRepository ?? breach.repository.fullName;
  const [owner, repo] = issueRepository.split("/") as [string, string];
  const key = breachKey(breach.repository.fullName, breach.source);
  const { record, created } = await store.breaches.open(
    key,
    breach.repository.fullName,
    installation,
    breachTokens(breach),
    { issueRepository, notice: options.notice === true },
  );
  if (record.issueNumber !== null)
    return { number: record.issueNumber, url: record.issueUrl ?? "", opened: false };

  if (!created) {
    const earlier = await findOpenedIssue(octokit, owner, repo, key);
    if (earlier) {
      await store.breaches.issueOpened(key, earlier.number, earlier.html_url);
      return { number: earlier.number, url: earlier.html_url, opened: false };
    }
  }
  await ensureLabels(octokit, owner, repo, settings.issues.labels);
  const findings: Breach["findings"] = [];
  for (const f of breach.findings)
    findings.push({
      ...f,
      revocation: await currentRevocation(store, f),
      registry: await registryEntry(store, f.secretHash),
    });
  const { title, body } = renderBreachIssue(
    { ...breach, findings },
    options.consoleUrl ? { consoleUrl: options.consoleUrl } : {},
  );
  let data: { number: number; html_url: string };
  try {
    // Never retried blindly: GitHub may answer 5xx after it created the issue.
    ({ data } = await octokit.rest.issues.create({
      owner,
      repo,
      title,
      body,
      labels: settings.issues.labels,
      ...(settings.issues.assignees.length > 0 ? { assignees: settings.issues.assignees } : {}),
      request: { retries: 0 },
    }));
  } catch (error) {
    const opened = await findOpenedIssue(octokit, owner, repo, key).catch(() => undefined);
    if (!opened) throw error;
    data = opened;
  }
  await store.transaction(async (tx) => {
    await tx.breaches.issueOpened(key, data.number, data.html_url);
    // Outcomes already in the body need no comment.
    for (const f of findings)
      if (FINAL.has(f.revocation.status)) await tx.breaches.commented(key, f.secretHash);
  });
  return { number: data.number, url: data.html_url, opened: true };
}

/**
 * Comments the outcome of a token's revocation on every issue that reports it and has not heard it yet.
 * Called when the revocation worker reports an outcome, and after an issue is opened (the outcome may
 * have come in between).
 */
export async function commentOutcome(
  octokitFor: (installation: number) => Promise<Octokit>,
  store: Store,
  secretHash: string,
  view: RevocationView & { via?: string },
  onlyBreach?: string,
): Promise<number> {
  if (!FINAL.has(view.status)) return 0;
  let posted = 0;
  for (const breach of await store.breaches.awaitingComment(secretHash)) {
    if (onlyBreach !== undefined && breach.breachKey !== onlyBreach) continue;
    const [owner, repo] = breach.issueRepository.split("/") as [string, string];
    const octokit = await octokitFor(breach.installation);
    // The table first: a retry after it redoes nothing, and the comment then tells the watchers.
    await editStatusInPlace(octokit, owner, repo, breach.issueNumber as number, secretHash, view);
    const body = renderRevocationComment({ redacted: breach.preview, description: breach.description }, view);
    await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: breach.issueNumber as number,
      body,
    });
    if (await store.breaches.commented(breach.key, secretHash)) posted++;
  }
  return posted;
}

/** GitHub's answers to an edit that will not succeed however often it is tried: the issue is gone or locked. */
const EDIT_REFUSED = new Set([403, 404, 410, 422]);

/**
 * Brings the issue's Status column and "what leakwarden did" line for this token up to date, in place.
 * An issue that cannot be edited (deleted, locked, grown past GitHub's limit) keeps its body: the comment
 * still says what happened.
 */
export async function editStatusInPlace(
  octokit: Octokit,
  owner: string,
  repo: string,
  issueNumber: number,
  secretHash: string,
  view: RevocationView & { via?: string },
): Promise<boolean> {
  try {
    const { data } = await octokit.rest.issues.get({ owner, repo, issue_number: issueNumber });
    const body = data.body ?? "";
    const updated = updateStatusInBody(body, secretHash, view);
    if (updated === body || updated.length > MAX_ISSUE_BODY) return false;
    await octokit.rest.issues.update({ owner, repo, issue_number: issueNumber, body: updated });
    return true;
  } catch (error) {
    if (error instanceof RetryAfter || !EDIT_REFUSED.has((error as { status?: number }).status ?? 0))
      throw error;
    return false;
  }
}

/** Whether every token of a breach is revoked (or was already): the public notice may go out. */
export async function everyTokenRevoked(store: Store, key: string): Promise<boolean> {
  const tokens = await store.breaches.tokensOf(key);
  if (tokens.length === 0) return false;
  for (const t of tokens) {
    const job = await revocationJob(store, t.secretHash);
    const revoked = job
      ? ["revoked", "already-revoked"].includes(viewOfJob(job).status)
      : Boolean((await store.tokens.byHash(t.secretHash))?.revokedAt);
    if (!revoked) return false;
  }
  return true;
}

/**
 * The short notice in a public repository once every token of its breach is revoked (settings:
 * issues.public_notice): no file, no line, no preview; the details stay in the security repository.
 */
export async function postPublicNotice(octokit: Octokit, store: Store, key: string): Promise<boolean> {
  const breach = await store.breaches.byKey(key);
  if (breach?.notice !== "pending" || !(await everyTokenRevoked(store, key))) return false;
  const [owner, repo] = breach.repository.split("/") as [string, string];
  const { title, body } = renderPublicNotice((await store.breaches.tokensOf(key)).length);
  await octokit.rest.issues.create({ owner, repo, title, body, request: { retries: 0 } });
  return store.breaches.noticePosted(key);
}
