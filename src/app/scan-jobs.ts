// The app's durable scan queue: webhook handlers write a job and return; this runner does the slow work
// (fetching, downloading, scanning, revoking, reporting) with leases, retries and crash recovery.
import { setTimeout as delay } from "node:timers/promises";
import { WakeableLoop } from "../jobs/loop.js";
import { backoffMs, type RetrySettings } from "../revoke/backoff.js";
import { newOwner, ownerIsGone } from "../revoke/owner.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";

export const SCAN_KIND = "scan";
export const SCAN_MAX_ATTEMPTS = 5;

export interface RepositoryRef {
  owner: string;
  name: string;
  fullName: string;
  htmlUrl: string;
}

export interface PushScan {
  type: "push";
  installation: number;
  repository: RepositoryRef;
  ref: string;
  before: string;
  after: string;
  pusher: string;
  compareUrl?: string;
}

export interface RunScan {
  type: "workflow_run";
  installation: number;
  repository: RepositoryRef;
  runId: number;
  attempt: number;
  runName: string;
  runUrl: string;
  actor: string;
}

export type ScanPayload = PushScan | RunScan;
export type ScanJob = JobRecord<ScanPayload>;

export interface ScanRunnerOptions {
  store: Store;
  /** Does the work of one job; throwing means "try again later". */
  handle: (job: ScanJob) => Promise<void>;
  concurrency?: number;
  /** A scan of a huge history can take a while; a lease shorter than that would hand it to a second worker. */
  leaseMs?: number;
  retry?: RetrySettings;
  pollMs?: number;
  log?: (message: string) => void;
}

const DEFAULT_SCAN_RETRY: RetrySettings = { baseMs: 5_000, maxMs: 15 * 60 * 1000 };

export class ScanJobRunner {
  readonly owner = newOwner();
  private readonly options: Required<Omit<ScanRunnerOptions, "log">> & { log: (message: string) => void };
  private readonly loop: WakeableLoop;

  constructor(options: ScanRunnerOptions) {
    this.options = {
      concurrency: 2,
      leaseMs: 30 * 60 * 1000,
      retry: DEFAULT_SCAN_RETRY,
      pollMs: 1_000,
      log: () => {},
      ...options,
    };
    this.loop = new WakeableLoop({
      round: () => this.runDue(),
      waitMs: () => this.options.pollMs,
      sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => {}),
      onError: (error) => this.options.log(`scan runner: ${error.message}`),
    });
  }

  /** Jobs whose worker on this host died: back in the queue at once. */
  private recoverOrphans(): void {
    const { store } = this.options;
    for (const job of store.jobs.running(SCAN_KIND)) {
      if (job.owner === this.owner || !ownerIsGone(job.owner)) continue;
      if (store.jobs.requeue(job.id, job.owner as string)) {
        store.audit.record({
          action: "scan.resume",
          subject: `job:${job.id}`,
          detail: { interruptedWorker: job.owner },
        });
      }
    }
  }

  /** Runs the jobs due now, up to the concurrency at once; returns how many ran. */
  async runDue(): Promise<number> {
    const { store, concurrency, leaseMs } = this.options;
    this.recoverOrphans();
    const jobs = store.jobs.claim<ScanPayload>({
      kind: SCAN_KIND,
      owner: this.owner,
      leaseMs,
      limit: concurrency,
    });
    await Promise.all(jobs.map((job) => this.run(job)));
    return jobs.length;
  }

  private async run(job: ScanJob): Promise<void> {
    const { store, handle, retry, log } = this.options;
    if (store.jobs.startAttempt([job.id], this.owner).length === 0) return;
    const attempts = job.attempts + 1;
    try {
      await handle(job);
      store.jobs.finish(job.id, this.owner, { state: "done", outcome: "scanned" });
    } catch (error) {
      const message = (error as Error).message;
      if (attempts >= job.maxAttempts) {
        store.transaction(() => {
          store.jobs.finish(job.id, this.owner, { state: "dead", error: message });
          store.audit.record({
            action: "scan.dead",
            subject: `job:${job.id}`,
            detail: { key: job.key, attempts, error: message },
          });
        });
        log(`scan job ${job.id} (${job.key}) failed for good after ${attempts} attempts: ${message}`);
      } else {
        const runAfter = new Date(store.clock().getTime() + backoffMs(attempts, retry)).toISOString();
        store.jobs.retryLater(job.id, this.owner, runAfter, message);
        log(`scan job ${job.id} (${job.key}) failed, retrying at ${runAfter}: ${message}`);
      }
    }
  }

  /** Runs jobs until none is left that can start before `maxWaitMs` has passed (tests, the demo). */
  async drain(maxWaitMs = 60_000): Promise<void> {
    const { store } = this.options;
    const deadline = Date.now() + maxWaitMs;
    while (Date.now() < deadline) {
      const ran = await this.runDue();
      if (ran > 0) continue;
      const counts = store.jobs.counts(SCAN_KIND);
      const next = store.jobs.nextRunAfter(SCAN_KIND);
      if (counts.running === 0 && (!next || Date.parse(next) > deadline)) return;
      await delay(next ? Math.min(Math.max(Date.parse(next) - Date.now(), 1), 100) : 20);
    }
  }

  start(): void {
    this.loop.start();
  }

  /** Wakes the runner for a job just queued. */
  notify(): void {
    this.loop.notify();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
