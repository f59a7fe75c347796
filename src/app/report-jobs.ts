// The report stage: everything the app writes to GitHub about a breach (deleting a run's logs, opening the
// issue, commenting each revocation's outcome), as durable jobs partitioned per installation. GitHub paces
// content-creating requests, so this stage runs apart from scanning and revoking: a slow or throttled report
// never holds a revocation back, and one installation's backlog never holds another's.
import type { ProbotOctokit } from "probot";
import { RetryAfter, type StageOptions, StageRunner } from "../jobs/stage.js";
import { revocationJob, viewOfJob } from "../revoke/queue.js";
import type { Store } from "../store/index.js";
import { type JobRecord, PRIORITY } from "../store/jobs.js";
import type { ConfirmationOutcome } from "../validate/confirm.js";
import { viewOfValidation } from "../validate/view.js";
import type { BackgroundChecks } from "./background-checks.js";
import { type Breach, renderConfirmationComment } from "./breach-issue.js";
import {
  breachTokens,
  commentOutcome,
  everyTokenRevoked,
  openBreachIssue,
  postPublicNotice,
  revokedThrough,
} from "./issues.js";
import type { WritePacer } from "./pacing.js";
import { writePullRequestComment } from "./pull-request-comment.js";
import type { PullRequestReport } from "./pull-requests.js";
import type { RepoSettings } from "./repo-settings.js";
import { goneDestination } from "./report-gone.js";
import { chooseRoute, type Route, securityRepositoryProblem } from "./report-routing.js";
import { isPublicRepository } from "./scan-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const REPORT_KIND = "report";
/** Rate-limit waits do not count: these are real failures. */
export const REPORT_MAX_ATTEMPTS = 8;
const FINAL_JOB_STATES = new Set(["done", "dead", "cancelled"]);

export interface BreachReport {
  type: "breach";
  installation: number;
  breachKey: string;
  breach: Breach;
  settings: RepoSettings;
  /** The scan job that found it: its times start the push's stage timings. */
  scanJobId: number;
}

export interface OutcomeReport {
  type: "outcome";
  installation: number;
  breachKey: string;
  secretHash: string;
}

/** A revocation's confirmation (validate/confirm.ts), commented on one issue that reports the token. */
export interface ConfirmationReport {
  type: "confirmation";
  installation: number;
  breachKey: string;
  outcome: ConfirmationOutcome;
}

/** The short notice in a public repository once every token of its breach is revoked. */
export interface NoticeReport {
  type: "notice";
  installation: number;
  breachKey: string;
}

export type ReportPayload =
  | BreachReport
  | OutcomeReport
  | NoticeReport
  | PullRequestReport
  | ConfirmationReport;
export type ReportJob = JobRecord<ReportPayload>;

/** Report jobs are partitioned by installation: pacing and Retry-After pauses apply to one queue. */
export function installationQueue(installation: number): string {
  return `installation:${installation}`;
}

export function breachReportKey(breachKey: string): string {
  return `${REPORT_KIND}:${breachKey}`;
}

/** Queues the breach's report; idempotent by the breach. Call inside the scan's transaction. */
export async function enqueueBreachReport(store: Store, payload: BreachReport, priority: number) {
  return (await enqueueBreachReports(store, [{ payload, priority }]))[0] as {
    job: ReportJob;
    created: boolean;
  };
}

/** `enqueueBreachReport` for several breaches (a batch of pushes), in one statement. */
export async function enqueueBreachReports(
  store: Store,
  reports: readonly { payload: BreachReport; priority: number }[],
) {
  return await store.jobs.enqueueMany<ReportPayload>(
    reports.map(({ payload, priority }) => ({
      kind: REPORT_KIND,
      key: breachReportKey(payload.breachKey),
      queue: installationQueue(payload.installation),
      payload,
      maxAttempts: REPORT_MAX_ATTEMPTS,
      priority,
    })),
  );
}

/** Queues a comment of the token's outcome on each opened issue that has not heard it; returns how many. */
export async function enqueueOutcomeReports(
  store: Store,
  secretHash: string,
  onlyBreach?: string,
): Promise<number> {
  const job = await revocationJob(store, secretHash);
  if (!job || !FINAL_JOB_STATES.has(job.state)) return 0;
  // Most outcomes come before their issue is opened: then there is nothing to queue, and no transaction is opened.
  if ((await store.breaches.awaitingComment(secretHash)).length === 0) return 0;
  let queued = 0;
  await store.transaction(async (tx) => {
    for (const breach of await tx.breaches.awaitingComment(secretHash)) {
      if (onlyBreach !== undefined && breach.breachKey !== onlyBreach) continue;
      const { created } = await tx.jobs.enqueue<ReportPayload>({
        kind: REPORT_KIND,
        key: `${REPORT_KIND}:outcome:${breach.breachKey}:${secretHash}`,
        queue: installationQueue(breach.installation),
        payload: {
          type: "outcome",
          installation: breach.installation,
          breachKey: breach.breachKey,
          secretHash,
        },
        maxAttempts: REPORT_MAX_ATTEMPTS,
        priority: job.priority ?? PRIORITY.live,
      });
      if (created) queued++;
    }
  });
  return queued;
}

/** Queues the public notice of each breach of this token that asked for one and whose tokens are all revoked. */
export async function enqueueNotices(store: Store, secretHash: string): Promise<number> {
  // Most breaches ask for no notice: then no transaction is opened.
  if ((await store.breaches.noticesAwaiting(secretHash)).length === 0) return 0;
  let queued = 0;
  await store.transaction(async (tx) => {
    for (const breach of await tx.breaches.noticesAwaiting(secretHash)) {
      if (!(await everyTokenRevoked(tx, breach.key))) continue;
      const { created } = await tx.jobs.enqueue<ReportPayload>({
        kind: REPORT_KIND,
        key: `${REPORT_KIND}:notice:${breach.key}`,
        queue: installationQueue(breach.installation),
        payload: { type: "notice", installation: breach.installation, breachKey: breach.key },
        maxAttempts: REPORT_MAX_ATTEMPTS,
        priority: PRIORITY.live,
      });
      if (created) queued++;
    }
  });
  return queued;
}

/**
 * Queues a confirmation comment on each opened issue that reports the token, paced with the installation's other
 * writes; one per issue, token and verdict. Returns how many were queued.
 */
export async function enqueueConfirmationReports(
  store: Store,
  outcome: ConfirmationOutcome,
): Promise<number> {
  const priority = (await revocationJob(store, outcome.secretHash))?.priority ?? PRIORITY.live;
  let queued = 0;
  await store.transaction(async (tx) => {
    for (const breach of await tx.breaches.issuesFor(outcome.secretHash)) {
      const { created } = await tx.jobs.enqueue<ReportPayload>({
        kind: REPORT_KIND,
        key: `${REPORT_KIND}:confirmation:${breach.breachKey}:${outcome.secretHash}:${outcome.status}`,
        queue: installationQueue(breach.installation),
        payload: {
          type: "confirmation",
          installation: breach.installation,
          breachKey: breach.breachKey,
          outcome,
        },
        maxAttempts: REPORT_MAX_ATTEMPTS,
        priority,
      });
      if (created) queued++;
    }
  });
  return queued;
}

/** After a restart: outcomes that ended while no report job was written for them. */
export async function enqueueMissedOutcomes(store: Store): Promise<number> {
  let queued = 0;
  for (const { breachKey, secretHash } of await store.breaches.uncommented())
    queued += await enqueueOutcomeReports(store, secretHash, breachKey);
  // A public notice whose last revocation ended while no report job was written for it.
  for (const breach of await store.breaches.pendingNotices()) {
    const [first] = await store.breaches.tokensOf(breach.key);
    if (first) queued += await enqueueNotices(store, first.secretHash);
  }
  return queued;
}

/** How long a breach's issue waits for its live checks: they say whether each token still works. */
const CHECKS_WAIT_MS = 15_000;

export interface ReportDeps {
  store: Store;
  /** LEAKWARDEN_SECURITY_REPO: where public repositories' breaches go when the organisation names none. */
  securityRepository?: string;
  /** LEAKWARDEN_CONSOLE_URL: findings link to their console page. */
  consoleUrl?: string;
  /** A breach that could not be reported, loudly. */
  warn?: (message: string) => void;
  octokitFor(installation: number): Promise<Octokit>;
  pacer: WritePacer;
  /** Wakes the report runner: outcome comments were queued. */
  reportsQueued(): void;
  /** A breach issue was just opened (alerts). */
  issueOpened?(url: string): void;
  /** Live checks running beside the pipeline: a breach's issue waits a little for them. */
  checks?: BackgroundChecks;
  log: (message: string) => void;
}

/** Milliseconds between two ISO times, or undefined. */
function between(from: string | null | undefined, to: string | null | undefined): number | undefined {
  return from && to ? Date.parse(to) - Date.parse(from) : undefined;
}

export class ReportProcessor {
  constructor(private readonly deps: ReportDeps) {}

  async process(job: ReportJob): Promise<void> {
    let octokit: Octokit | undefined;
    try {
      octokit = this.deps.pacer.pace(await this.deps.octokitFor(job.payload.installation), job.queue);
      await this.write(job, octokit);
    } catch (error) {
      throw (await goneDestination(error, octokit)) ?? error;
    }
  }

  /** Writes the report on GitHub. */
  private async write(job: ReportJob, octokit: Octokit): Promise<void> {
    const payload = job.payload;
    if (payload.type === "outcome") return this.comment(octokit, payload);
    if (payload.type === "confirmation") return this.confirm(octokit, payload);
    if (payload.type === "pull_request") {
      const written = await writePullRequestComment(octokit, this.deps.store, payload);
      if (written)
        this.deps.log(
          `${payload.breachKey}: comment ${written.id}${written.created ? " posted" : " updated"}`,
        );
      return;
    }
    if (payload.type === "notice") {
      await postPublicNotice(octokit, this.deps.store, payload.breachKey);
      return;
    }
    const { store } = this.deps;
    const { breach, settings } = payload;
    if (breach.source.kind === "workflow_run" && settings.logs.delete) {
      const logsDeleted = await this.deleteLogs(octokit, breach);
      breach.source = { ...breach.source, logsDeleted };
    }
    if (settings.issues.enabled) {
      await this.deps.checks?.settled(payload.breachKey, CHECKS_WAIT_MS);
      breach.findings = await Promise.all(
        breach.findings.map(async (f) => {
          const record = f.validation ? undefined : await store.validations.get(f.secretHash);
          return record ? { ...f, validation: viewOfValidation(record) } : f;
        }),
      );
      const route = await this.route(octokit, breach, settings);
      const notice = isPublicRepository(breach.repository) && settings.issues.publicNotice;
      if (route.kind === "withheld") await this.withhold(payload, route, notice);
      else {
        // One issue per push even if two replicas hold this job (a lease taken over while the first still ran).
        const opening = await store.locks.tryWith(`breach:${payload.breachKey}`, () =>
          openBreachIssue(octokit, store, payload.installation, breach, settings, {
            notice,
            ...(route.routed ? { issueRepository: route.repository } : {}),
            ...(this.deps.consoleUrl ? { consoleUrl: this.deps.consoleUrl } : {}),
          }),
        );
        if (!opening.held) throw new RetryAfter(`the issue of ${payload.breachKey} is being opened`, 1_000);
        const issue = opening.value;
        if (issue.opened) this.deps.issueOpened?.(issue.url);
        this.deps.log(
          `${payload.breachKey}: issue #${issue.number}${route.routed ? ` in ${route.repository}` : ""}${issue.opened ? " opened" : ""}`,
        );
      }
      // An outcome that came in while the issue was being opened is commented now; a notice may be due.
      let queued = 0;
      for (const hash of new Set(breach.findings.map((f) => f.secretHash))) {
        if (route.kind === "issue") queued += await enqueueOutcomeReports(store, hash, payload.breachKey);
        queued += await enqueueNotices(store, hash);
      }
      if (queued > 0) this.deps.reportsQueued();
    }
    await this.logTimings(job, payload);
  }

  /** Where this breach's issue goes; a security repository is used only once GitHub says it is private. */
  private async route(octokit: Octokit, breach: Breach, settings: RepoSettings): Promise<Route> {
    const route = chooseRoute(breach, settings, this.deps.securityRepository);
    if (route.kind !== "issue" || !route.routed) return route;
    const problem = await securityRepositoryProblem(octokit, route.repository);
    return problem ? { kind: "withheld", reason: problem, refused: true } : route;
  }

  /** Nothing is written on GitHub: the breach is remembered (for the notice), audited and logged, once. */
  private async withhold(
    payload: BreachReport,
    route: Extract<Route, { kind: "withheld" }>,
    notice: boolean,
  ): Promise<void> {
    const { store } = this.deps;
    const { breach } = payload;
    const tokens = breachTokens(breach);
    const { created } = await store.breaches.open(
      payload.breachKey,
      breach.repository.fullName,
      payload.installation,
      tokens,
      {
        notice,
      },
    );
    if (!created) return;
    await store.audit.record({
      action: route.refused ? "report.refused" : "report.withheld",
      subject: `repository:${breach.repository.fullName}`,
      detail: {
        breach: payload.breachKey,
        reason: route.reason,
        tokens: tokens.map((t) => t.preview),
        revocation: "revocations go ahead: only the report is withheld",
      },
    });
    (this.deps.warn ?? this.deps.log)(
      `${payload.breachKey}: the breach was NOT reported on GitHub (${tokens.length} token${tokens.length === 1 ? "" : "s"}; revocations go ahead): ${route.reason}`,
    );
  }

  private async comment(octokit: Octokit, payload: OutcomeReport): Promise<void> {
    const job = await revocationJob(this.deps.store, payload.secretHash);
    if (!job) return;
    const via = revokedThrough(job);
    await commentOutcome(
      async () => octokit,
      this.deps.store,
      payload.secretHash,
      { ...viewOfJob(job), ...(via ? { via } : {}) },
      payload.breachKey,
    );
  }

  private async confirm(octokit: Octokit, payload: ConfirmationReport): Promise<void> {
    const breach = await this.deps.store.breaches.byKey(payload.breachKey);
    if (!breach?.issueNumber) return;
    const [owner, repo] = breach.issueRepository.split("/") as [string, string];
    await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: breach.issueNumber,
      body: renderConfirmationComment(payload.outcome),
    });
  }

  /** Deletes the run's logs (settings: logs.delete); needs the app's `actions: write` permission. */
  private async deleteLogs(octokit: Octokit, breach: Breach): Promise<boolean> {
    if (breach.source.kind !== "workflow_run") return false;
    const [owner, repo] = breach.repository.fullName.split("/") as [string, string];
    try {
      await octokit.rest.actions.deleteWorkflowRunLogs({ owner, repo, run_id: breach.source.runId });
      return true;
    } catch (error) {
      if (error instanceof RetryAfter) throw error;
      this.deps.log(
        `${breach.repository.fullName}: could not delete the logs of run ${breach.source.runId}: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /**
   * One line per push or run: how long it spent in each stage, webhook to report. Its revocations start as soon
   * as its findings are recorded, while the scan job may still be finishing: they count from then.
   */
  private async logTimings(job: ReportJob, payload: BreachReport): Promise<void> {
    const { store } = this.deps;
    const scan = await store.jobs.byId(payload.scanJobId);
    const revocations = (
      await Promise.all(
        [...new Set(payload.breach.findings.map((f) => f.secretHash))].map((hash) =>
          revocationJob(store, hash),
        ),
      )
    ).filter((job) => job !== undefined);
    const queuedAt = revocations.map((job) => job.createdAt).sort()[0];
    const revokedAt = revocations
      .map((job) => job.finishedAt)
      .filter((at): at is string => at !== null)
      .sort()
      .at(-1);
    const now = store.clock().toISOString();
    const stages = {
      scanMs: between(scan?.createdAt, scan?.finishedAt),
      revokeMs: revocations.length > 0 ? between(queuedAt, revokedAt) : undefined,
      reportMs: between(job.createdAt, now),
      totalMs: between(scan?.createdAt, now),
    };
    const parts = Object.entries(stages)
      .filter(([, ms]) => ms !== undefined)
      .map(([name, ms]) => `${name.replace(/Ms$/, "")} ${((ms as number) / 1000).toFixed(2)} s`);
    const revoked = between(scan?.createdAt, revokedAt);
    this.deps.log(
      `${payload.breachKey}: stage times from the webhook: ${parts.join(", ")}${revoked === undefined ? "" : `; revoked ${(revoked / 1000).toFixed(2)} s after the webhook`}`,
    );
  }
}

export type ReportRunnerOptions = Omit<StageOptions<ReportPayload>, "kind" | "pausedQueues"> & {
  pacer: WritePacer;
};

/** The report stage: one job at a time per installation, paced, paused on Retry-After. */
export class ReportJobRunner extends StageRunner<ReportPayload> {
  constructor({ pacer, ...options }: ReportRunnerOptions) {
    super({ perQueue: 1, ...options, kind: REPORT_KIND, pausedQueues: () => pacer.pausedQueues() });
  }
}
