// Pull requests, forks included: `opened`, `reopened` and `synchronize` queue a scan of the commits the pull
// request adds (base..head, the head fetched as refs/pull/N/head from the base repository, where GitHub exposes
// a fork's branch). Findings are recorded and revoked by the same policy as a push's; the result goes on the
// pull request as one comment, edited in place on each new head and each revocation outcome, written by the
// report stage at GitHub's pace. A fork's code is untrusted: it is fetched into a bare cache and read as
// patches, never checked out or run.
import type { ProbotOctokit } from "probot";
import { type StageOptions, StageRunner } from "../jobs/stage.js";
import type { RevokerSet } from "../revoke/types.js";
import { scanHistory } from "../scan/history.js";
import type { Rule } from "../scan/rules.js";
import type { Store } from "../store/index.js";
import { type JobRecord, PRIORITY } from "../store/jobs.js";
import type { LiveChecker } from "../validate/checker.js";
import { actOnScan, EngineCache } from "./act-on-scan.js";
import type { BackgroundChecks } from "./background-checks.js";
import type { IssueFinding } from "./breach-issue.js";
import type { GitCache } from "./git-cache.js";
import { readRepoSettings } from "./processor.js";
import { installationQueue, REPORT_KIND, REPORT_MAX_ATTEMPTS, type ReportPayload } from "./report-jobs.js";
import { isPublicRepository, type RepositoryRef } from "./scan-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const PULL_REQUEST_KIND = "pull_request";
const MAX_ATTEMPTS = 5;

export interface PullRequestScan {
  installation: number;
  repository: RepositoryRef;
  number: number;
  /** The base branch's tip and name when the event was sent. */
  base: string;
  baseRef: string;
  head: string;
  /** OWNER/REPO of the head branch: another repository for a fork. */
  headRepository: string;
  author: string;
}

export type PullRequestJob = JobRecord<PullRequestScan>;

/** The report stage's job that writes (or edits) the pull request's comment from its latest scan. */
export interface PullRequestReport {
  type: "pull_request";
  installation: number;
  /** The pull request's key (pullRequestKey): its scan in the store, and its tokens in `breaches`. */
  breachKey: string;
}

export function pullRequestKey(repository: string, number: number): string {
  return `pull_request:${repository}:${number}`;
}

/** Records the delivery and queues the scan of this head; a redelivery or a second event does nothing. */
export async function acceptPullRequestDelivery(
  store: Store,
  delivery: string,
  scan: PullRequestScan,
): Promise<"queued" | "duplicate-delivery" | "already-queued"> {
  // The text stage records the same delivery for the pull request's description: this one is its commits.
  const recorded = `${delivery}/commits`;
  return store.acceptDelivery(
    { id: recorded, event: PULL_REQUEST_KIND, repository: scan.repository.fullName },
    {
      kind: PULL_REQUEST_KIND,
      key: `${pullRequestKey(scan.repository.fullName, scan.number)}:${scan.head}`,
      queue: PULL_REQUEST_KIND,
      payload: scan,
      maxAttempts: MAX_ATTEMPTS,
      priority: PRIORITY.live,
    },
  );
}

function enqueueCommentJob(store: Store, installation: number, key: string, suffix: string) {
  return store.jobs.enqueue<ReportPayload>({
    kind: REPORT_KIND,
    key: `${REPORT_KIND}:${key}:${suffix}`,
    queue: installationQueue(installation),
    payload: { type: "pull_request", installation, breachKey: key },
    maxAttempts: REPORT_MAX_ATTEMPTS,
    priority: PRIORITY.live,
  });
}

/** Whether a breach is a pull request's (its findings go in the pull request's comment, not an issue). */
export function isPullRequestBreach(breach: { key: string }): boolean {
  return breach.key.startsWith(`${PULL_REQUEST_KIND}:`);
}

/** A revocation ended: the comments of the pull requests that show the token are edited; returns how many. */
export async function enqueuePullRequestOutcomes(store: Store, secretHash: string): Promise<number> {
  // Most tokens leaked in no pull request: then no transaction is opened.
  if (!(await store.breaches.forToken(secretHash)).some(isPullRequestBreach)) return 0;
  let queued = 0;
  await store.transaction(async (tx) => {
    for (const breach of await tx.breaches.forToken(secretHash)) {
      if (!isPullRequestBreach(breach)) continue;
      if ((await enqueueCommentJob(tx, breach.installation, breach.key, `outcome:${secretHash}`)).created)
        queued++;
    }
  });
  return queued;
}

export interface PullRequestDeps {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  revokers: RevokerSet;
  checker?: LiveChecker;
  checks?: BackgroundChecks;
  revocationsQueued(): void;
  reportsQueued(): void;
  cache: GitCache;
  rules: readonly Rule[];
  maxFileSize: number;
  log: (message: string) => void;
}

export class PullRequestProcessor {
  private readonly engines = new EngineCache();

  constructor(private readonly deps: PullRequestDeps) {}

  async process(job: PullRequestJob): Promise<{ findings: number; skipped?: string }> {
    const pull = job.payload;
    const { store } = this.deps;
    const { owner, name, fullName } = pull.repository;
    const octokit = await this.deps.octokitFor(pull.installation);
    const { settings } = await readRepoSettings(octokit, owner, name, this.deps.rules);
    if (!settings.scan.pushes) return { findings: 0, skipped: "scan.pushes is off" };
    const engine = this.engines.for(settings);
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    const result = await this.deps.cache.scanPullRequest(pull.repository, token, pull, (path, range) =>
      scanHistory(path, { range }, engine, {
        maxFileSize: this.deps.maxFileSize,
        ignore: settings.pathsIgnore,
      }),
    );
    if (!result) return { findings: 0, skipped: `the head ${pull.head.slice(0, 12)} was pushed over` };
    const key = pullRequestKey(fullName, pull.number);
    const earlier = await store.pullRequests.byKey(key);
    const comment = await actOnScan(
      this.deps,
      { source: fullName, key, findings: result.findings, settings, priority: job.priority },
      async (tx, findings) => {
        // Nothing to say on a clean pull request; one that had findings hears that they are gone.
        if (findings.length === 0 && !earlier) return undefined;
        // A public repository's pull request gets no comment that points at a token: the findings are
        // recorded (and revoked by policy), the audit log says why nothing was posted.
        if (isPublicRepository(pull.repository)) {
          if (findings.length > 0)
            await tx.audit.record({
              action: "report.withheld",
              subject: `repository:${fullName}`,
              detail: {
                pullRequest: pull.number,
                head: pull.head,
                tokens: [...new Set(findings.map((f) => f.redacted))],
                reason: `${fullName} is public: a comment on the pull request would point anyone at the token`,
              },
            });
          return undefined;
        }
        await tx.pullRequests.save<IssueFinding>({
          key,
          repository: fullName,
          number: pull.number,
          installation: pull.installation,
          head: pull.head,
          htmlUrl: pull.repository.htmlUrl,
          findings,
        });
        // The tokens it shows: a revocation's outcome finds the comment to edit through them.
        await tx.breaches.open(
          key,
          fullName,
          pull.installation,
          [...new Map(findings.map((f) => [f.secretHash, f])).values()].map((f) => ({
            secretHash: f.secretHash,
            preview: f.redacted,
            description: f.description,
          })),
        );
        return enqueueCommentJob(tx, pull.installation, key, `head:${pull.head}`);
      },
    );
    if (comment?.created) this.deps.reportsQueued();
    return { findings: result.findings.length };
  }
}

export type PullRequestRunnerOptions = Omit<
  StageOptions<PullRequestScan>,
  "kind" | "perQueue" | "pausedQueues"
>;

/** The pull request scan stage: live work, beside the push scans. */
export class PullRequestRunner extends StageRunner<PullRequestScan> {
  constructor(options: PullRequestRunnerOptions) {
    super({ ...options, kind: PULL_REQUEST_KIND });
  }
}
