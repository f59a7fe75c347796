// Delivers queued alerts: one POST per job, a timeout, exponential backoff with jitter on failure, and a dead
// job (audited) after the last attempt. The destination URLs come from the configuration, never the job.
import { WakeableLoop } from "../jobs/loop.js";
import { backoffMs, DEFAULT_RETRY, type RetrySettings } from "../revoke/backoff.js";
import { scrub } from "../revoke/http.js";
import { newOwner } from "../revoke/owner.js";
import { iso } from "../store/clock.js";
import type { Store } from "../store/index.js";
import type { AlertConfig } from "./config.js";
import { ALERT_KIND, type AlertJob, type AlertPayload } from "./queue.js";
import { render, SIGNATURE_HEADER, sign } from "./render.js";

export interface AlertWorkerOptions {
  store: Store;
  config: AlertConfig;
  retry?: Partial<RetrySettings>;
  timeoutMs?: number;
  pollMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: (message: string) => void;
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class AlertWorker {
  private readonly owner = newOwner();
  private readonly retry: RetrySettings;
  private readonly fetch: typeof fetch;
  private readonly log: (message: string) => void;
  private readonly loop: WakeableLoop;

  constructor(private readonly options: AlertWorkerOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetch = options.fetch ?? fetch;
    this.log = options.log ?? (() => {});
    const pollMs = options.pollMs ?? 1000;
    this.loop = new WakeableLoop({
      round: () => this.runDue(),
      waitMs: () => {
        const next = options.store.jobs.nextRunAfter(ALERT_KIND);
        const now = options.store.clock().getTime();
        return next ? Math.min(Math.max(Date.parse(next) - now, 0), pollMs) : pollMs;
      },
      sleep: options.sleep ?? abortableSleep,
      onError: (error) => this.log(`alert worker: ${error.message}`),
    });
  }

  start(): void {
    this.loop.start();
  }

  notify(): void {
    this.loop.notify();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Delivers every alert that is due; returns how many it tried. */
  async runDue(): Promise<number> {
    const { store } = this.options;
    const jobs = store.jobs.claim<AlertPayload>({
      kind: ALERT_KIND,
      owner: this.owner,
      leaseMs: 60_000,
      limit: 50,
    });
    await Promise.all(jobs.map((job) => this.deliver(job)));
    return jobs.length;
  }

  private async deliver(job: AlertJob): Promise<void> {
    const { store, config } = this.options;
    if (store.jobs.startAttempt([job.id], this.owner).length === 0) return;
    const url = config.urls[job.payload.target];
    let error: string | undefined;
    if (!url) error = `no ${job.payload.target} URL is configured any more`;
    else {
      const body = render(job.payload.target, job.payload.event, config.consoleUrl);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "leakwarden",
      };
      if (job.payload.target === "webhook" && config.webhookSecret)
        headers[SIGNATURE_HEADER] = sign(body, config.webhookSecret);
      try {
        const response = await this.fetch(url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) error = `HTTP ${response.status}`;
      } catch (failure) {
        // The URL is a credential (a Slack or Teams webhook): it never appears in the error kept.
        error = scrub((failure as Error).message, [url]);
      }
    }
    const attempts = job.attempts + 1;
    if (!error) {
      store.jobs.finish(job.id, this.owner, { state: "done", outcome: "delivered" });
      return;
    }
    if (attempts >= job.maxAttempts || !url) {
      store.transaction(() => {
        if (!store.jobs.finish(job.id, this.owner, { state: "dead", error: error as string })) return;
        store.audit.record({
          action: "alert.dead",
          subject: `job:${job.id}`,
          detail: { target: job.payload.target, event: job.payload.event.type, error, attempts },
        });
      });
      this.log(`alert job ${job.id} to ${job.payload.target}: gave up after ${attempts} attempts (${error})`);
      return;
    }
    const runAfter = iso(new Date(store.clock().getTime() + backoffMs(attempts, this.retry)));
    store.jobs.retryLater(job.id, this.owner, runAfter, error);
  }
}
