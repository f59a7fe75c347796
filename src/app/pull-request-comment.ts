// The one comment leakwarden keeps on a pull request: the redacted findings of its latest scan and what was
// done about each token, edited in place on each new head and each revocation outcome. Found again after a
// crash by the hidden marker in its body, so a retry never posts a second one.
import type { ProbotOctokit } from "probot";
import type { Store } from "../store/index.js";
import {
  escapeMarkdown,
  type IssueFinding,
  MAX_ISSUE_BODY,
  renderRevocationComment,
} from "./breach-issue.js";
import { currentRevocation } from "./issues.js";
import type { PullRequestReport } from "./pull-requests.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const PULL_REQUEST_MARKER = "<!-- leakwarden:pull-request";

export function pullRequestMarker(key: string): string {
  return `${PULL_REQUEST_MARKER} ${encodeURIComponent(key).replace(/-/g, "%2D")} -->`;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function renderPullRequestComment(
  scan: { key: string; head: string; repositoryUrl: string },
  findings: readonly IssueFinding[],
): string {
  const lines: string[] = [];
  if (findings.length === 0) {
    lines.push(
      `**leakwarden** found no credential in the commits of this pull request at ${code(scan.head.slice(0, 12))}.`,
      "",
      "An earlier head leaked one: the token stays compromised until revoked, whatever the branch says now.",
    );
  } else {
    lines.push(
      `**leakwarden** found ${findings.length === 1 ? "a credential" : `${findings.length} credentials`} in the commits this pull request adds (at ${code(scan.head.slice(0, 12))}).`,
      "",
      "A leaked token is a leaked password: anyone who can read this pull request can use it until it is revoked. Removing it in a later commit does not undo the leak.",
      "",
      "| Rule | Location | Commit | Token |",
      "| --- | --- | --- | --- |",
    );
  }
  const done: string[] = [];
  const tail = [
    "",
    "_This comment is updated on each push to the pull request and when a revocation finishes._",
    pullRequestMarker(scan.key),
  ];
  let budget = MAX_ISSUE_BODY - 2_000 - [...lines, ...tail].join("\n").length;
  let left = 0;
  const seen = new Set<string>();
  for (const f of findings) {
    const path = f.file.split("/").map(encodeURIComponent).join("/");
    const where = f.commit
      ? `[${escapeMarkdown(clip(f.file))}:${f.line}](${scan.repositoryUrl}/blob/${f.commit}/${path}#L${f.line})`
      : `${escapeMarkdown(clip(f.file))}:${f.line}`;
    const row = `| ${code(f.ruleId)} | ${where} | ${f.commit ? code(f.commit.slice(0, 12)) : ""} | ${code(f.redacted)} |`;
    const action = seen.has(f.secretHash) ? "" : `- ${renderRevocationComment(f, f.revocation)}`;
    budget -= row.length + action.length + 2;
    if (budget < 0) {
      left++;
      continue;
    }
    lines.push(row);
    if (action) {
      seen.add(f.secretHash);
      done.push(action);
    }
  }
  if (left > 0) lines.push("", `_…and ${left} more, not listed: GitHub limits a comment's length._`);
  if (done.length > 0) lines.push("", "**What leakwarden did**", "", ...done);
  return [...lines, ...tail].join("\n");
}

/** The comment an earlier, interrupted attempt posted, found by its marker. */
async function findComment(octokit: Octokit, owner: string, repo: string, number: number, key: string) {
  const marker = pullRequestMarker(key);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: number,
    per_page: 100,
  });
  return comments.find((c) => c.body?.includes(marker));
}

/** Writes the pull request's comment from its latest scan: edits the one there is, or posts it once. */
export async function writePullRequestComment(
  octokit: Octokit,
  store: Store,
  report: PullRequestReport,
): Promise<{ id: number; created: boolean } | undefined> {
  const scan = await store.pullRequests.byKey<IssueFinding>(report.breachKey);
  if (!scan) return undefined;
  const [owner, repo] = scan.repository.split("/") as [string, string];
  const findings = [];
  for (const f of scan.findings) findings.push({ ...f, revocation: await currentRevocation(store, f) });
  const body = renderPullRequestComment(
    { key: scan.key, head: scan.head, repositoryUrl: scan.htmlUrl },
    findings,
  );
  let id = scan.commentId ?? (await findComment(octokit, owner, repo, scan.number, scan.key))?.id;
  if (id !== undefined) {
    try {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });
      await store.pullRequests.commented(scan.key, id);
      return { id, created: false };
    } catch (error) {
      // Deleted by someone: post it again.
      if ((error as { status?: number }).status !== 404) throw error;
      id = undefined;
    }
  }
  try {
    // Never retried blindly: GitHub may answer 5xx after it created the comment.
    const { data } = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: scan.number,
      body,
      request: { retries: 0 },
    });
    id = data.id;
  } catch (error) {
    const posted = await findComment(octokit, owner, repo, scan.number, scan.key).catch(() => undefined);
    if (!posted) throw error;
    id = posted.id;
  }
  await store.pullRequests.commented(scan.key, id);
  return { id, created: true };
}
