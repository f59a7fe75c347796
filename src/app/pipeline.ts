// The app's three durable stages and how they hand work on: scan (fetch, scan, record, queue) → revoke →
// report (issues and comments, paced per installation). Each stage has its own workers and limits, so that
// revocation never waits for a report. A validate stage can sit between scan and revoke the same way.

import { setTimeout as delay } from "node:timers/promises";
import type { ProbotOctokit } from "probot";
import { type AlertConfig, alertTargets } from "../alerts/config.js";
import { breachEvent, revocationEvent } from "../alerts/events.js";
import { ALERT_KIND, enqueueAlert } from "../alerts/queue.js";
import type { AlertEvent } from "../alerts/render.js";
import { AlertWorker } from "../alerts/worker.js";
import { REVOKE_KIND } from "../revoke/queue.js";
import type { RevokerSet } from "../revoke/types.js";
import { RevocationWorker } from "../revoke/worker.js";
import type { Rule } from "../scan/rules.js";
import type { ArchiveLimits } from "../sources/log-archive.js";
import type { Store } from "../store/index.js";
import type { LiveChecker } from "../validate/checker.js";
import { CONFIRM_KIND, ConfirmationWorker } from "../validate/confirm.js";
import { BackfillProcessor } from "./backfill.js";
import { BACKFILL_KIND, BackfillRunner } from "./backfill-jobs.js";
import { BackgroundChecks } from "./background-checks.js";
import { pushKeyPrefix } from "./breach-issue.js";
import type { GitCache } from "./git-cache.js";
import { WritePacer } from "./pacing.js";
import { type ProcessResult, ScanProcessor } from "./processor.js";
import {
  enqueuePullRequestOutcomes,
  PULL_REQUEST_KIND,
  PullRequestProcessor,
  PullRequestRunner,
} from "./pull-requests.js";
import {
  enqueueConfirmationReports,
  enqueueMissedOutcomes,
  enqueueNotices,
  enqueueOutcomeReports,
  REPORT_KIND,
  ReportJobRunner,
  ReportProcessor,
} from "./report-jobs.js";
import { SCAN_BATCH_LIMIT, SCAN_KIND, type ScanJob, ScanJobRunner, type ScanPayload } from "./scan-jobs.js";
import { SETTINGS_TTL_MS } from "./settings-cache.js";
import { TEXT_SCAN_KIND, TextScanRunner } from "./text-jobs.js";
import { isRedactReport, TextRedactor } from "./text-redact.js";
import { TextScanProcessor } from "./text-scan.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface PipelineOptions {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  revokers: RevokerSet;
  /** Live checks: verdicts for the report (and policy `live`), confirmation after revoking. */
  checker?: LiveChecker;
  cache: GitCache;
  rules: readonly Rule[];
  maxFileSize: number;
  archiveLimits: ArchiveLimits;
  /** Scans at once (each may take a burst of pushes to one repository together). */
  scanConcurrency: number;
  /** How long a scan job is held before another worker may take it over (tests: a stalled worker). */
  scanLeaseMs?: number;
  /** How long a repository's settings are kept (default 30 s; 0 reads them for every scan). */
  settingsTtlMs?: number;
  /** Reports at once (one per installation at a time). */
  reportConcurrency?: number;
  /** Least time between two content-creating GitHub requests of one installation. */
  writeIntervalMs?: number;
  log: (message: string) => void;
  warn: (message: string) => void;
  /** Where alerts go (src/alerts/config.ts); none when absent. */
  alerts?: AlertConfig;
  /** LEAKWARDEN_SECURITY_REPO: where public repositories' breaches go when their organisation names none. */
  securityRepository?: string;
  /** LEAKWARDEN_CONSOLE_URL: breach issues link each finding to the console. */
  consoleUrl?: string;
  /** Backfills at once, in slots of their own (default 1). */
  backfillConcurrency?: number;
  /** The installation that covers a repository, for a backfill started by hand with OWNER/REPO. */
  installationOf?(fullName: string): Promise<number>;
}

export class Pipeline {
  /** Delivers alerts (Slack, Teams, a signed webhook) when any is configured. */
  readonly alerts: AlertWorker | undefined;
  readonly scans: ScanJobRunner;
  /** Text on GitHub (issues, comments, discussions, release notes) and secret scanning alerts. */
  readonly texts: TextScanRunner;
  /** Whole histories, in slots of their own at the bulk priority; and pull requests' commits. */
  readonly backfills: BackfillRunner;
  readonly pullRequests: PullRequestRunner;
  readonly revocations: RevocationWorker;
  readonly reports: ReportJobRunner;
  /** Re-checks revoked tokens until each revocation is confirmed, or found not to have taken. */
  readonly confirmations: ConfirmationWorker | undefined;
  readonly pacer: WritePacer;
  /** Live checks that need not precede the revocations, run off the scan slots. */
  readonly checks = new BackgroundChecks();

  constructor(private readonly options: PipelineOptions) {
    const { store, log, warn } = options;
    this.pacer = new WritePacer(options.writeIntervalMs);
    this.revocations = new RevocationWorker({ store, revokers: options.revokers, log });
    this.confirmations =
      options.checker && new ConfirmationWorker({ store, checker: options.checker, log: warn });
    const scanner = new ScanProcessor({
      store,
      settingsTtlMs: options.settingsTtlMs ?? SETTINGS_TTL_MS,
      octokitFor: options.octokitFor,
      revokers: options.revokers,
      revocationsQueued: () => {
        this.revocations.notify();
        this.confirmations?.notify();
      },
      checker: options.checker,
      checks: this.checks,
      reportsQueued: () => this.reports.notify(),
      cache: options.cache,
      rules: options.rules,
      maxFileSize: options.maxFileSize,
      archiveLimits: options.archiveLimits,
      log,
    });
    const logScan = (job: ScanJob, result: ProcessResult) => {
      const waited = Date.parse(job.updatedAt) - Date.parse(job.createdAt);
      const t = result.timings;
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const phases = t
        ? ` (${t.batch > 1 ? `one of ${t.batch} pushes taken together; ` : ""}settings ${s(t.settingsMs)}, fetch ${s(t.fetchMs)}, scan ${s(t.scanMs)}, record ${s(t.recordMs)})`
        : "";
      log(
        `scan job ${job.id} (${job.key}): ${result.findings} findings${result.skipped ? `, ${result.skipped}` : ""}; queued ${s(waited)}, scanned in ${s(store.clock().getTime() - Date.parse(job.updatedAt))}${phases}`,
      );
    };
    this.scans = new ScanJobRunner({
      store,
      concurrency: options.scanConcurrency,
      ...(options.scanLeaseMs ? { leaseMs: options.scanLeaseMs } : {}),
      handle: async (job) => logScan(job, await scanner.process(job)),
      batch: {
        // A burst of pushes to one repository is scanned together: one settings read, one fetch. Only jobs as
        // urgent as the one claimed ride along: a backfill never goes ahead of another repository's push.
        companions: (job, claim) =>
          job.payload.type === "push"
            ? store.jobs.claimSiblings<ScanPayload>({
                kind: SCAN_KIND,
                ...claim,
                keyPrefix: pushKeyPrefix(job.payload.repository.fullName),
                maxPriority: job.priority,
                limit: SCAN_BATCH_LIMIT - 1,
              })
            : [],
        handle: async (jobs) => {
          const ordered = [...jobs].sort((a, b) => a.id - b.id);
          const results = await scanner.processBatch(ordered);
          const fate = new Map<number, Error | undefined>();
          ordered.forEach((job, i) => {
            const result = results[i];
            if (result === undefined || result instanceof Error)
              fate.set(job.id, result ?? new Error("not scanned"));
            else {
              logScan(job, result);
              fate.set(job.id, undefined);
            }
          });
          return jobs.map((job) => fate.get(job.id));
        },
      },
      log: warn,
    });
    const actDeps = {
      store,
      octokitFor: options.octokitFor,
      revokers: options.revokers,
      checker: options.checker,
      checks: this.checks,
      revocationsQueued: () => {
        this.revocations.notify();
        this.confirmations?.notify();
      },
      reportsQueued: () => this.reports.notify(),
      cache: options.cache,
      rules: options.rules,
      maxFileSize: options.maxFileSize,
      log,
    };
    const texts = new TextScanProcessor(actDeps);
    this.texts = new TextScanRunner({
      store,
      concurrency: options.scanConcurrency,
      handle: async (job) => {
        const result = await texts.process(job);
        const waited = Date.parse(job.updatedAt) - Date.parse(job.createdAt);
        const took = store.clock().getTime() - Date.parse(job.updatedAt);
        log(
          `text scan job ${job.id} (${job.key}): ${result.findings} findings, ${result.reported} reported${result.skipped ? `, ${result.skipped}` : ""}; queued ${(waited / 1000).toFixed(2)} s, scanned in ${(took / 1000).toFixed(2)} s`,
        );
      },
      log: warn,
    });
    const backfiller = new BackfillProcessor({
      ...actDeps,
      pacer: this.pacer,
      installationOf: options.installationOf,
      backfillsQueued: () => this.backfills.notify(),
    });
    this.backfills = new BackfillRunner({
      store,
      concurrency: options.backfillConcurrency ?? 1,
      // A history can take long: a lease of hours, and a crash is resumed at once by the next process.
      leaseMs: 6 * 60 * 60 * 1000,
      pausedQueues: () => this.pacer.pausedQueues(),
      handle: async (job) => {
        const result = await backfiller.process(job);
        log(
          `backfill job ${job.id} (${job.key}): ${result.skipped ?? (result.repositories !== undefined ? `${result.repositories} repositories queued` : `${result.commits} commits, ${result.findings} findings`)}`,
        );
      },
      log: warn,
    });
    const pullRequests = new PullRequestProcessor(actDeps);
    this.pullRequests = new PullRequestRunner({
      store,
      concurrency: options.scanConcurrency,
      handle: async (job) => {
        const result = await pullRequests.process(job);
        log(`pull request job ${job.id} (${job.key}): ${result.skipped ?? `${result.findings} findings`}`);
      },
      log: warn,
    });
    const alertConfig = options.alerts;
    const alerts =
      alertConfig && alertTargets(alertConfig).length
        ? new AlertWorker({ store, config: alertConfig, log: warn })
        : undefined;
    this.alerts = alerts;
    // Alerts are jobs: queuing one is a row, so a slow or failing endpoint never holds up another stage.
    const alert = (event: AlertEvent | undefined) => {
      if (!alerts || !alertConfig || !event) return;
      try {
        if (enqueueAlert(store, alertConfig, event).length) alerts.notify();
      } catch (error) {
        warn(`could not queue an alert: ${(error as Error).message}`);
      }
    };
    const reporter = new ReportProcessor({
      store,
      ...(options.securityRepository ? { securityRepository: options.securityRepository } : {}),
      ...(options.consoleUrl ? { consoleUrl: options.consoleUrl } : {}),
      warn,
      octokitFor: options.octokitFor,
      pacer: this.pacer,
      reportsQueued: () => this.reports.notify(),
      issueOpened: (url) => alert(breachEvent(store, url)),
      checks: this.checks,
      log,
    });
    const redactor = new TextRedactor({
      store,
      octokitFor: options.octokitFor,
      pacer: this.pacer,
      engine: texts.engineFor({ disabledRules: [] }),
      log,
    });
    this.reports = new ReportJobRunner({
      store,
      pacer: this.pacer,
      concurrency: options.reportConcurrency ?? 4,
      // A redaction (text-redact.ts) is a report job too: a GitHub write, paced with the others.
      handle: (job) => (isRedactReport(job) ? redactor.process(job) : reporter.process(job)),
      retry: { baseMs: 2_000, maxMs: 10 * 60 * 1000 },
      log: warn,
    });
    // A confirmation's comment is a report job too: paced with the installation's other writes.
    this.confirmations?.onOutcome((outcome) => {
      try {
        if (enqueueConfirmationReports(store, outcome) > 0) this.reports.notify();
      } catch (error) {
        warn(`could not queue a confirmation comment: ${(error as Error).message}`);
      }
    });
    // An outcome becomes a durable comment job; a crash before that is caught by the sweep at start.
    this.revocations.onOutcome((outcome) => {
      alert(revocationEvent(outcome));
      if (enqueueOutcomeReports(store, outcome.secretHash) + enqueueNotices(store, outcome.secretHash) > 0)
        this.reports.notify();
      if (enqueuePullRequestOutcomes(store, outcome.secretHash) > 0) this.reports.notify();
      // The confirming live check may be due now.
      this.confirmations?.notify();
    });
  }

  /** The scan stage has new work (a webhook was accepted). */
  scansQueued(): void {
    this.scans.notify();
    this.texts.notify();
  }

  start(): void {
    if (enqueueMissedOutcomes(this.options.store) > 0) this.reports.notify();
    this.scans.start();
    this.texts.start();
    this.pullRequests.start();
    this.backfills.start();
    this.revocations.start();
    this.reports.start();
    this.confirmations?.start();
    this.alerts?.start();
  }

  /** Runs every stage until nothing is left to do within `maxWaitMs` (tests, the demo). */
  async drain(maxWaitMs = 60_000): Promise<void> {
    const { store } = this.options;
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      await this.scans.drain(Math.max(deadline - Date.now(), 0));
      await this.texts.drain(Math.max(deadline - Date.now(), 0));
      await this.pullRequests.drain(Math.max(deadline - Date.now(), 0));
      await this.backfills.drain(Math.max(deadline - Date.now(), 0));
      await this.checks.idle();
      await this.revocations.drain({ maxWaitMs: Math.max(deadline - Date.now(), 0) });
      await this.reports.drain(Math.max(deadline - Date.now(), 0));
      const busy = [
        SCAN_KIND,
        TEXT_SCAN_KIND,
        PULL_REQUEST_KIND,
        BACKFILL_KIND,
        REVOKE_KIND,
        REPORT_KIND,
      ].some((kind) => {
        const c = store.jobs.counts(kind);
        return (
          c.running > 0 ||
          (c.pending > 0 && (store.jobs.nextRunAfter(kind) ?? "") <= store.clock().toISOString())
        );
      });
      if (!busy || Date.now() >= deadline) return;
      await delay(10);
    }
  }

  /** Lets the running jobs of every stage finish. */
  async stop(): Promise<void> {
    await Promise.all([
      this.scans.stop(),
      this.texts.stop(),
      this.pullRequests.stop(),
      this.backfills.stop(),
      this.revocations.stop(),
      this.reports.stop(),
      this.confirmations?.stop(),
      this.alerts?.stop(),
      this.checks.idle(),
    ]);
    await this.options.cache.settled();
  }

  /** What /healthz says about the stages: queue depths, and providers whose revocations wait (a spent budget). */
  health(): Record<string, unknown> {
    const { store } = this.options;
    const counts = (kind: string) => {
      const c = store.jobs.counts(kind);
      return { pending: c.pending, running: c.running, failed: c.dead };
    };
    const waiting = this.revocations.waiting().map((w) => ({
      ...w,
      jobs: store.jobs.counts(REVOKE_KIND, undefined, { only: [w.provider] }).pending,
    }));
    return {
      scans: counts(SCAN_KIND),
      texts: counts(TEXT_SCAN_KIND),
      pullRequests: counts(PULL_REQUEST_KIND),
      backfill: { ...counts(BACKFILL_KIND), repositories: store.backfills.summary() },
      revocations: { ...counts(REVOKE_KIND), waiting },
      reports: counts(REPORT_KIND),
      confirmations: counts(CONFIRM_KIND),
      ...(this.alerts ? { alerts: counts(ALERT_KIND) } : {}),
    };
  }
}
