// The app's three durable stages and how they hand work on: scan (fetch, scan, record, queue) → revoke →
// report (issues and comments, paced per installation). Each stage has its own workers and limits, so that
// revocation never waits for a report. A validate stage can sit between scan and revoke the same way.

import { setTimeout as delay } from "node:timers/promises";
import type { ProbotOctokit } from "probot";
import { type AlertConfig, alertTargets } from "../alerts/config.js";
import { breachEvent, revocationEvent } from "../alerts/events.js";
import { ALERT_KIND, enqueueAlerts } from "../alerts/queue.js";
import type { AlertEvent } from "../alerts/render.js";
import { AlertWorker } from "../alerts/worker.js";
import { Coalescer } from "../jobs/coalescer.js";
import { BusyElsewhere } from "../jobs/stage.js";
import { REVOKE_KIND } from "../revoke/queue.js";
import type { RevokerSet } from "../revoke/types.js";
import { type RevocationOutcome, RevocationWorker } from "../revoke/worker.js";
import type { Rule } from "../scan/rules.js";
import type { ArchiveLimits } from "../sources/log-archive.js";
import type { Store } from "../store/index.js";
import type { JobListener } from "../store/job-events.js";
import type { LiveChecker } from "../validate/checker.js";
import { CONFIRM_KIND, ConfirmationWorker } from "../validate/confirm.js";
import { BackfillProcessor } from "./backfill.js";
import { BACKFILL_KIND, BackfillRunner } from "./backfill-jobs.js";
import { BackgroundChecks } from "./background-checks.js";
import { pushKeyPrefix } from "./breach-issue.js";
import type { GitCache } from "./git-cache.js";
import { enqueueOutcomeFollowUps } from "./outcome-follow-ups.js";
import { WritePacer } from "./pacing.js";
import { type ProcessResult, ScanProcessor } from "./processor.js";
import { PULL_REQUEST_KIND, PullRequestProcessor, PullRequestRunner } from "./pull-requests.js";
import {
  enqueueConfirmationReports,
  enqueueMissedOutcomes,
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

/**
 * How long after a scan or revocation was queued (on any replica) background work still steps aside: in a
 * burst they come every few tens of ms; the last batch is scanned and revoked within about this long.
 */
export const URGENT_QUIET_MS = 300;

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

  /** Other replicas' queued work (PostgreSQL LISTEN/NOTIFY), while started. */
  private listener: JobListener | undefined;
  /**
   * Until when (clock ms) alerts and reports step aside: a scan or revocation was queued on some replica just
   * now (heard through job notifications, so PostgreSQL only). A replica that is not scanning would otherwise
   * open issues at full speed beside the one that is, on the cores and the database they share: in a one-
   * repository burst on two replicas that made webhook → revoke about 1.5 times slower.
   */
  private urgentUntil = 0;

  constructor(private readonly options: PipelineOptions) {
    const { store, log, warn } = options;
    // On PostgreSQL a notification wakes each stage when any replica queues or frees a job: the idle look at
    // the queue is only a safety net. On SQLite this process is the only App, and wakes its own stages.
    const idle = store.engine === "postgres" ? { pollMs: 15_000 } : {};
    // While pushes are scanned and tokens revoked, alerts wait a moment: on a burst of leaks the machine (and the
    // database) goes to killing tokens first. On PostgreSQL another replica may be the one scanning: a scan or
    // revocation queued anywhere a moment ago counts too, and then reports wait as well (see urgentUntil).
    const yieldTo = () =>
      this.scans.running > 0 || this.revocations.running > 0 || Date.now() < this.urgentUntil;
    this.pacer = new WritePacer(options.writeIntervalMs, { store });
    this.revocations = new RevocationWorker({ store, revokers: options.revokers, log, ...idle });
    this.confirmations =
      options.checker && new ConfirmationWorker({ store, checker: options.checker, log: warn });
    const scanner = new ScanProcessor({
      store,
      settingsTtlMs: options.settingsTtlMs ?? SETTINGS_TTL_MS,
      octokitFor: options.octokitFor,
      revokers: options.revokers,
      revocationsQueued: () => this.revocations.notify(),
      handoff: () => this.revocations.handoff(),
      checker: options.checker,
      checks: this.checks,
      reportsQueued: () => this.reports.notify(),
      cache: options.cache,
      rules: options.rules,
      maxFileSize: options.maxFileSize,
      archiveLimits: options.archiveLimits,
      log,
    });
    // One push per repository at a time, across every replica. A scan that finds the repository busy waits
    // for it in its slot: by then the holder has taken the burst, and this one follows with what came after.
    const inTurn = <T>(repository: string, scan: () => Promise<T>): Promise<T> =>
      store.locks.with(`scan:${repository}`, scan);
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
      ...idle,
      store,
      concurrency: options.scanConcurrency,
      ...(options.scanLeaseMs ? { leaseMs: options.scanLeaseMs } : {}),
      handle: async (job) =>
        logScan(job, await inTurn(job.payload.repository.fullName, () => scanner.process(job))),
      batch: {
        // One scan per repository at a time. A batch that waited for this replica's own scan takes every push
        // that came in meanwhile; one that finds another replica scanning gives its job back to that replica,
        // whose git cache is warm, rather than wait and then fetch the whole repository into a cold one.
        exclusive: async (job, work) => {
          const { repository } = job.payload;
          const ran = await store.locks.tryWith(`scan:${repository.fullName}`, work);
          if (!ran.held)
            throw new BusyElsewhere(
              job.payload.type === "push" ? pushKeyPrefix(repository.fullName) : job.key,
            );
        },
        // While a repository's pushes are scanned here, its next pushes wait for that batch, holding no slot.
        group: (job) =>
          job.payload.type === "push" ? pushKeyPrefix(job.payload.repository.fullName) : undefined,
        // A burst of pushes to one repository is scanned together: one settings read, one fetch. Only jobs as
        // urgent as the one claimed ride along: a backfill never goes ahead of another repository's push.
        companions: async (job, claim) =>
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
      revocationsQueued: () => this.revocations.notify(),
      handoff: () => this.revocations.handoff(),
      reportsQueued: () => this.reports.notify(),
      cache: options.cache,
      rules: options.rules,
      maxFileSize: options.maxFileSize,
      log,
    };
    const texts = new TextScanProcessor(actDeps);
    this.texts = new TextScanRunner({
      ...idle,
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
      ...idle,
      store,
      concurrency: options.backfillConcurrency ?? 1,
      // A history can take long: a lease of hours, and a crash is resumed at once by the next process.
      leaseMs: 6 * 60 * 60 * 1000,
      pausedQueues: () => this.pacer.pausedQueues(),
      handle: async (job) => {
        const result = await backfiller.process(job);
        log(
          `backfill job ${job.id} (${job.key}): ${result.skipped ?? (result.stopped !== undefined ? `cancelled, stopped ${result.stopped}` : undefined) ?? (result.repositories !== undefined ? `${result.repositories} repositories queued` : `${result.commits} commits, ${result.findings} findings`)}`,
        );
      },
      log: warn,
    });
    const pullRequests = new PullRequestProcessor(actDeps);
    this.pullRequests = new PullRequestRunner({
      ...idle,
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
        ? new AlertWorker({ store, config: alertConfig, log: warn, yieldTo })
        : undefined;
    this.alerts = alerts;
    // Alerts are jobs: queuing one is a row, so a slow or failing endpoint never holds up another stage.
    const alert = async (pending: Promise<readonly AlertEvent[]> | readonly AlertEvent[]): Promise<void> => {
      try {
        const events = await pending;
        if (!alerts || !alertConfig || events.length === 0) return;
        if ((await enqueueAlerts(store, alertConfig, events)).length) alerts.notify();
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
      issueOpened: (url) => alert(breachEvent(store, url).then((event) => (event ? [event] : []))),
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
      ...idle,
      store,
      pacer: this.pacer,
      concurrency: options.reportConcurrency ?? 4,
      // Not for the scans running here: one replica's event loop interleaves them anyway (no gain measured).
      yieldTo: () => Date.now() < this.urgentUntil,
      // A redaction (text-redact.ts) is a report job too: a GitHub write, paced with the others.
      handle: (job) => (isRedactReport(job) ? redactor.process(job) : reporter.process(job)),
      retry: { baseMs: 2_000, maxMs: 10 * 60 * 1000 },
      log: warn,
    });
    // A confirmation's comment is a report job too: paced with the installation's other writes.
    this.confirmations?.onOutcome(async (outcome) => {
      try {
        if ((await enqueueConfirmationReports(store, outcome)) > 0) this.reports.notify();
      } catch (error) {
        warn(`could not queue a confirmation comment: ${(error as Error).message}`);
      }
    });
    // An outcome becomes a durable comment job; a crash before that is caught by the sweep at start. Outcomes
    // that end while earlier ones are being followed up go together: one call revokes a burst's tokens, and
    // their alerts and follow-ups then take a few statements in all, not a few each.
    const followUps = new Coalescer<RevocationOutcome, undefined>(async (outcomes) => {
      await alert(outcomes.map(revocationEvent));
      if (
        (await enqueueOutcomeFollowUps(
          store,
          outcomes.map((o) => o.secretHash),
        )) > 0
      )
        this.reports.notify();
      return outcomes.map(() => undefined);
    });
    this.revocations.onOutcome(async (outcome) => {
      // The confirming live check is due now.
      this.confirmations?.notify();
      await followUps.submit([outcome]);
    });
  }

  /** The scan stage has new work: a push or run webhook was accepted, and queued the job `key`. */
  scansQueued(key?: string): void {
    this.scans.notify(key);
  }

  /** The text scan stage has new work (an issue, comment, discussion or release webhook was accepted). */
  textsQueued(): void {
    this.texts.notify();
  }

  async start(): Promise<void> {
    const { store, warn } = this.options;
    this.listener = await store.listenForJobs(
      (kind, key) => this.wake(kind, key),
      (error) => warn(`listening for queued jobs: ${error.message}`),
    );
    if ((await enqueueMissedOutcomes(store)) > 0) this.reports.notify();
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
      let busy = false;
      for (const kind of [
        SCAN_KIND,
        TEXT_SCAN_KIND,
        PULL_REQUEST_KIND,
        BACKFILL_KIND,
        REVOKE_KIND,
        REPORT_KIND,
      ]) {
        const c = await store.jobs.counts(kind);
        if (
          c.running > 0 ||
          (c.pending > 0 && ((await store.jobs.nextRunAfter(kind)) ?? "") <= store.clock().toISOString())
        )
          busy = true;
      }
      if (!busy || Date.now() >= deadline) return;
      await delay(10);
    }
  }

  /** Wakes the stage that runs jobs of `kind` ("*": every stage); `key` when it was one job. */
  private wake(kind: string, key?: string): void {
    const all = kind === "*";
    if (kind === SCAN_KIND || kind === REVOKE_KIND) this.urgentUntil = Date.now() + URGENT_QUIET_MS;
    if (all || kind === SCAN_KIND) this.scans.notify(key);
    if (all || kind === TEXT_SCAN_KIND) this.texts.notify();
    if (all || kind === PULL_REQUEST_KIND) this.pullRequests.notify();
    if (all || kind === BACKFILL_KIND) this.backfills.notify();
    if (all || kind === REVOKE_KIND) this.revocations.notify();
    if (all || kind === REPORT_KIND) this.reports.notify();
    // A confirmation is queued with its revocation but is no use before that ends: the revocation's outcome
    // wakes it, on the replica that revoked (an early look would only put it off, a few statements a token).
    if (all) this.confirmations?.notify();
    if (all || kind === ALERT_KIND) this.alerts?.notify();
  }

  /** Lets the running jobs of every stage finish. */
  async stop(): Promise<void> {
    await this.listener?.stop();
    this.listener = undefined;
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
  async health(): Promise<Record<string, unknown>> {
    const { store } = this.options;
    const now = store.clock().getTime();
    // Depth and the age of the oldest waiting job: a queue that only grows, or one whose oldest job ages, is stuck.
    const counts = async (kind: string) => {
      const q = await store.insights.queueHealth(kind);
      return {
        pending: q.pending,
        running: q.running,
        failed: q.dead,
        oldestPendingAgeSeconds:
          q.oldestPending === null
            ? null
            : Math.max(0, Math.round((now - Date.parse(q.oldestPending)) / 1000)),
      };
    };
    const waiting = [];
    for (const w of this.revocations.waiting())
      waiting.push({
        ...w,
        jobs: (await store.jobs.counts(REVOKE_KIND, undefined, { only: [w.provider] })).pending,
      });
    return {
      scans: await counts(SCAN_KIND),
      texts: await counts(TEXT_SCAN_KIND),
      pullRequests: await counts(PULL_REQUEST_KIND),
      backfill: { ...(await counts(BACKFILL_KIND)), repositories: await store.backfills.summary() },
      revocations: { ...(await counts(REVOKE_KIND)), waiting },
      reports: await counts(REPORT_KIND),
      confirmations: await counts(CONFIRM_KIND),
      ...(this.alerts ? { alerts: await counts(ALERT_KIND) } : {}),
    };
  }
}
