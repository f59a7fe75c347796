// The backfill stage's work: a repository's whole history (every branch and tag) fetched into the git cache,
// scanned, its findings recorded and revoked by the same policy as a push's, and one summary issue queued for
// the report stage. Bulk work: its revocations and its issue wait behind live ones, and it leaves part of the
// installation's REST budget to them. A retry after a crash does it again: findings are found by fingerprint,
// revocations by token, the issue by its key (the job's id), so nothing is done twice. A cancelled backfill (its
// repository removed from the installation) stops at its next checkpoint: before it calls GitHub, after the
// fetch, during the scan (git is stopped), and in the transaction that would queue the summary issue.
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import type { RevokerSet } from "../revoke/types.js";
import { scanHistory } from "../scan/history.js";
import type { Rule } from "../scan/rules.js";
import { GitRepository } from "../sources/git.js";
import type { Store } from "../store/index.js";
import type { LiveChecker } from "../validate/checker.js";
import { actOnScan, EngineCache } from "./act-on-scan.js";
import { CancellationWatch } from "./backfill-cancel.js";
import { BACKFILL_MAX_ATTEMPTS, type BackfillJob, enqueueRepositoryBackfill } from "./backfill-jobs.js";
import type { BackgroundChecks } from "./background-checks.js";
import { type Breach, breachKey } from "./breach-issue.js";
import type { GitCache } from "./git-cache.js";
import type { WritePacer } from "./pacing.js";
import { readRepoSettings } from "./processor.js";
import { enqueueBreachReport, installationQueue } from "./report-jobs.js";
import { visibilityOf } from "./scan-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Calls of the installation's hourly REST budget that a backfill leaves to live work (pushes, reports). */
export const DEFAULT_REST_RESERVE = 500;
/** How often a running backfill writes its commit count (for /healthz). */
const PROGRESS_EVERY_MS = 1_000;

export interface BackfillDeps {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  /** The installation that covers a repository (a backfill started by hand names only the repository). */
  installationOf?(fullName: string): Promise<number>;
  pacer: WritePacer;
  revokers: RevokerSet;
  checker?: LiveChecker;
  checks?: BackgroundChecks;
  revocationsQueued(): void;
  reportsQueued(): void;
  /** Wakes the backfill stage: an installation's repositories were queued. */
  backfillsQueued(): void;
  cache: GitCache;
  rules: readonly Rule[];
  maxFileSize: number;
  restReserve?: number;
  log: (message: string) => void;
}

export interface BackfillResult {
  repositories?: number;
  commits?: number;
  findings?: number;
  skipped?: string;
  /** Cancelled: where it stopped. */
  stopped?: string;
}

function headerNumber(headers: Record<string, unknown>, name: string): number | undefined {
  const value = headers[name];
  return value === undefined || value === null || value === "" ? undefined : Number(value);
}

/** A 404 from GitHub becomes undefined; any other failure stays one. */
function notFound(error: unknown): undefined {
  if ((error as { status?: number }).status === 404) return undefined;
  throw error;
}

export class BackfillProcessor {
  private readonly engines = new EngineCache();

  constructor(private readonly deps: BackfillDeps) {}

  async process(job: BackfillJob): Promise<BackfillResult> {
    const payload = job.payload;
    if (payload.type === "installation") return this.listInstallation(job, payload.installation);
    const { store } = this.deps;
    try {
      return await this.backfill(job, payload.fullName, payload.installation);
    } catch (error) {
      // The stage retries; the last attempt's failure is the repository's state.
      if (!(error instanceof RetryAfter) && job.attempts + 1 >= (job.maxAttempts || BACKFILL_MAX_ATTEMPTS)) {
        await store.transaction(async (tx) => {
          await tx.backfills.update(job.id, "failed");
          await tx.audit.record({
            action: "backfill.fail",
            subject: payload.fullName,
            detail: { job: job.id, error: (error as Error).message },
          });
        });
      }
      throw error;
    }
  }

  /** Queues a backfill for each repository the installation can reach. */
  private async listInstallation(job: BackfillJob, installation: number): Promise<BackfillResult> {
    const octokit = this.deps.pacer.pace(
      await this.deps.octokitFor(installation),
      installationQueue(installation),
    );
    const repositories = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, {
      per_page: 100,
    });
    const queued = await this.deps.store.transaction(async (tx) => {
      // The installation was deleted or suspended while its repositories were listed: queue none of them.
      if ((await tx.jobs.byId(job.id))?.state === "cancelled") return undefined;
      let queued = 0;
      for (const repository of repositories)
        if (
          (
            await enqueueRepositoryBackfill(tx, {
              fullName: repository.full_name,
              installation,
              trigger: `job:${job.id}`,
            })
          ).created
        )
          queued++;
      return queued;
    });
    if (queued === undefined) return { stopped: "before its repositories were queued" };
    if (queued > 0) this.deps.backfillsQueued();
    return { repositories: queued };
  }

  /** Bulk work stops short of the budget's end: the last calls of the hour are for live work. */
  private keepReserve(headers: Record<string, unknown>, fullName: string): void {
    const remaining = headerNumber(headers, "x-ratelimit-remaining");
    const reset = headerNumber(headers, "x-ratelimit-reset");
    if (remaining === undefined || reset === undefined) return;
    if (remaining >= (this.deps.restReserve ?? DEFAULT_REST_RESERVE)) return;
    const waitMs = Math.max(reset * 1000 - this.deps.store.clock().getTime(), 1_000);
    throw new RetryAfter(
      `${fullName}: ${remaining} REST calls left this hour, kept for live work; the backfill waits for the reset`,
      waitMs,
    );
  }

  private async backfill(job: BackfillJob, fullName: string, known?: number): Promise<BackfillResult> {
    const { store } = this.deps;
    // Cancelled while it waited (or just as it was claimed): no call to GitHub for this repository.
    if ((await store.backfills.byJob(job.id))?.state === "cancelled")
      return this.stopped(job, fullName, "before it started");
    const installation = known ?? (await this.resolveInstallation(fullName).catch(notFound));
    if (installation === undefined) return this.skip(job, fullName, "the App is not installed on it");
    const octokit = this.deps.pacer.pace(
      await this.deps.octokitFor(installation),
      installationQueue(installation),
    );
    const [owner, name] = fullName.split("/") as [string, string];
    const got = await octokit.rest.repos.get({ owner, repo: name }).catch(notFound);
    // Removed from the installation, deleted or renamed since it was queued: nothing to retry.
    if (!got) return this.skip(job, fullName, "the installation can no longer read it");
    const { data: repository, headers } = got;
    this.keepReserve(headers as Record<string, unknown>, fullName);
    const started = await store.transaction(async (tx) => {
      if (!(await tx.backfills.update(job.id, "running", { commits: 0, findings: 0 }))) return false;
      await tx.audit.record({
        action: "backfill.start",
        subject: fullName,
        detail: { job: job.id, installation, attempt: job.attempts + 1 },
      });
      return true;
    });
    if (!started) return this.stopped(job, fullName, "before it started");
    const watch = new CancellationWatch(store, job.id).start();
    try {
      return await this.scanAndAct(job, fullName, installation, octokit, repository, watch);
    } finally {
      watch.stop();
    }
  }

  /** The running part of a backfill: settings, fetch, scan, then record, revoke and queue the summary. */
  private async scanAndAct(
    job: BackfillJob,
    fullName: string,
    installation: number,
    octokit: Octokit,
    repository: { html_url: string; private?: boolean; visibility?: string },
    watch: CancellationWatch,
  ): Promise<BackfillResult> {
    const { store, cache } = this.deps;
    const [owner, name] = fullName.split("/") as [string, string];
    // From GitHub itself, so that a public repository's summary is routed like any public breach.
    const visibility = visibilityOf(repository);
    const { settings, problem } = await readRepoSettings(octokit, owner, name, this.deps.rules);
    if (!settings.scan.pushes) return this.skip(job, fullName, "scan.pushes is off");
    const engine = this.engines.for(settings);
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    if (await watch.check()) return this.stopped(job, fullName, "before the fetch");
    let lastWrite = 0;
    let scanned = 0;
    const scan = await cache
      .scanHistory({ fullName }, token, async (path) => {
        if (await watch.check()) return undefined;
        const refs = (await GitRepository.prepare(path).refTips()).length;
        const result = await scanHistory(path, {}, engine, {
          maxFileSize: this.deps.maxFileSize,
          ignore: settings.pathsIgnore,
          signal: watch.signal,
          onProgress: ({ commits }) => {
            scanned = commits;
            const now = Date.now();
            if (now - lastWrite < PROGRESS_EVERY_MS) return;
            lastWrite = now;
            // Progress only: a failed write is caught up by the next one, or by the end of the backfill.
            store.backfills.update(job.id, "running", { commits }).catch(() => {});
          },
        });
        return { result, refs };
      })
      .catch((error: unknown) => {
        // Git was stopped because the backfill was cancelled: not a failure to retry.
        if (watch.cancelled) return undefined;
        throw error;
      });
    if (!scan)
      return this.stopped(job, fullName, scanned > 0 ? "during the scan" : "after the fetch", scanned);
    const { result, refs } = scan;
    const commits = result.stats.commits ?? 0;
    const source = { kind: "backfill" as const, run: job.id, commits, refs };
    const key = breachKey(fullName, source);
    let cancelled = false;
    const report = await actOnScan(
      { ...this.deps },
      { source: fullName, key, findings: result.findings, settings, priority: job.priority },
      async (tx, all, acted) => {
        // Cancelled once the scan was over: what it found is recorded and revoked (the tokens leaked whoever
        // can read the repository now), but the App no longer writes to the repository: no summary.
        if (!(await tx.backfills.update(job.id, "done", { commits, findings: all.length }))) {
          cancelled = true;
          return undefined;
        }
        // What an earlier push, backfill or attempt recorded was reported then: the summary lists what is new.
        const findings = all.filter((_, i) => acted.actions[i]?.created !== false);
        const breach: Breach = {
          repository: {
            fullName,
            htmlUrl: repository.html_url,
            ...(visibility ? { visibility } : {}),
          },
          source,
          findings,
          ...(problem ? { settingsProblem: problem } : {}),
        };
        const queued =
          findings.length > 0 && settings.issues.enabled
            ? await enqueueBreachReport(
                tx,
                { type: "breach", installation, breachKey: key, breach, settings, scanJobId: job.id },
                job.priority,
              )
            : undefined;
        await tx.audit.record({
          action: "backfill.done",
          subject: fullName,
          detail: {
            job: job.id,
            commits,
            refs,
            findings: all.length,
            reported: findings.length,
            skipped: result.stats.skipped,
            durationMs: result.stats.durationMs,
          },
        });
        return queued;
      },
    );
    if (cancelled) return this.stopped(job, fullName, "after the scan", commits, result.findings.length);
    if (report?.created) this.deps.reportsQueued();
    return { commits, findings: result.findings.length };
  }

  /** A cancelled backfill stops, saying where: its row stays cancelled with the counts it reached. */
  private async stopped(
    job: BackfillJob,
    fullName: string,
    checkpoint: string,
    commits?: number,
    findings?: number,
  ): Promise<BackfillResult> {
    await this.deps.store.audit.record({
      action: "backfill.stop",
      subject: fullName,
      detail: {
        job: job.id,
        checkpoint,
        ...(commits !== undefined ? { commits } : {}),
        ...(findings !== undefined ? { findings } : {}),
      },
    });
    return { stopped: checkpoint };
  }

  /** Ends a backfill that has nothing to do, saying why in the audit log. */
  private async skip(job: BackfillJob, fullName: string, reason: string): Promise<BackfillResult> {
    const { store } = this.deps;
    await store.transaction(async (tx) => {
      await tx.backfills.update(job.id, "done");
      await tx.audit.record({ action: "backfill.skip", subject: fullName, detail: { job: job.id, reason } });
    });
    return { skipped: reason };
  }

  private async resolveInstallation(fullName: string): Promise<number> {
    if (!this.deps.installationOf)
      throw new Error(`no installation is known for ${fullName}, and the app cannot look it up`);
    return this.deps.installationOf(fullName);
  }
}
