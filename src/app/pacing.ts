// GitHub's secondary rate limits, kept per installation: content-creating requests (POST, PATCH, PUT, DELETE)
// go one at a time, at least `intervalMs` apart, and a 403/429 that asks for a wait (Retry-After, an
// exhausted rate limit, "secondary rate limit") pauses that installation only. Other installations go on.
import { setTimeout as delay } from "node:timers/promises";
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import { pauseMs } from "../revoke/http.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** GitHub documents about one content-creating request per second as safe; without a Retry-After, 60 s. */
export const DEFAULT_WRITE_INTERVAL_MS = 1_000;
const SECONDARY_LIMIT_WAIT_MS = 60_000;
const WRITES = new Set(["POST", "PATCH", "PUT", "DELETE"]);

interface RequestFailure {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/** How long GitHub asked us to wait, when an error is a rate limit rather than a failure. */
export function rateLimitWait(error: unknown, nowMs: number): number | undefined {
  const failure = error as RequestFailure;
  if (failure.status !== 403 && failure.status !== 429) return undefined;
  const headers = new Headers();
  for (const [name, value] of Object.entries(failure.response?.headers ?? {}))
    if (value !== undefined) headers.set(name, String(value));
  const asked = pauseMs(headers, nowMs);
  if (asked !== undefined) return asked;
  if (failure.status === 429 || /secondary rate limit|abuse/i.test(failure.message ?? ""))
    return SECONDARY_LIMIT_WAIT_MS;
  return undefined;
}

export class WritePacer {
  /** Queue → clock time (ms) of its next allowed write. */
  private readonly next = new Map<string, number>();
  /** Queue → clock time (ms) before which GitHub asked for no call. */
  private readonly paused = new Map<string, number>();

  constructor(
    private readonly intervalMs = DEFAULT_WRITE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Waits for the queue's next write slot, and takes it. */
  async turn(queue: string): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.next.get(queue) ?? 0, this.paused.get(queue) ?? 0);
    this.next.set(queue, at + this.intervalMs);
    if (at > now) await delay(at - now);
  }

  pause(queue: string, untilMs: number): void {
    if ((this.paused.get(queue) ?? 0) < untilMs) this.paused.set(queue, untilMs);
  }

  /** Queues that GitHub asked to wait, and until when: the report stage starts no job for them before. */
  pausedQueues(): ReadonlyMap<string, number> {
    const now = this.now();
    for (const [queue, until] of this.paused) if (until <= now) this.paused.delete(queue);
    return this.paused;
  }

  /**
   * Makes an installation's Octokit keep to the pace: every write waits its turn, and a rate-limit answer pauses
   * the queue and becomes a RetryAfter (the job waits without spending an attempt).
   */
  pace(octokit: Octokit, queue: string): Octokit {
    octokit.hook.wrap("request", async (request, options) => {
      const write = WRITES.has(String(options.method).toUpperCase());
      if (write) await this.turn(queue);
      try {
        return await request(options);
      } catch (error) {
        const wait = rateLimitWait(error, this.now());
        if (wait === undefined) throw error;
        this.pause(queue, this.now() + wait);
        throw new RetryAfter(
          `GitHub asked to wait ${Math.ceil(wait / 1000)} s (${(error as RequestFailure).status} on ${options.method} ${options.url})`,
          wait,
        );
      }
    });
    return octokit;
  }
}
