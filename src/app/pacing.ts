// GitHub's secondary rate limits, kept per installation: content-creating requests (POST, PATCH, PUT, DELETE)
// go one at a time, at least `intervalMs` apart, and a 403/429 that asks for a wait (Retry-After, an
// exhausted rate limit, "secondary rate limit") pauses that installation only. Other installations go on.
import { setTimeout as delay } from "node:timers/promises";
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import { pauseMs } from "../revoke/http.js";
import type { Store } from "../store/index.js";

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

/** How long a replica goes by the pauses it last read from the store: `pausedQueues` is asked on every round. */
export const PAUSES_FRESH_MS = 1_000;

export interface WritePacerOptions {
  /**
   * Keeps the pace in the store: every replica on its database then shares one pace per queue, and a pause
   * that one of them is given holds for all. Without a store, the pace is this process's own (tests).
   */
  store?: Store;
  /** Clock time (ms); default the store's clock, else the system's. */
  now?: () => number;
}

export class WritePacer {
  /** Without a store: queue → clock time (ms) of its next allowed write. */
  private readonly next = new Map<string, number>();
  /** Queue → clock time (ms) before which GitHub asked for no call: this process's pauses, and the store's. */
  private readonly paused = new Map<string, number>();
  private readonly store: Store | undefined;
  private readonly now: () => number;
  /** When the store's pauses were last read (clock ms), and the read under way. */
  private pausesReadAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly intervalMs = DEFAULT_WRITE_INTERVAL_MS,
    options: WritePacerOptions = {},
  ) {
    const { store } = options;
    this.store = store;
    this.now = options.now ?? (store ? () => store.clock().getTime() : Date.now);
  }

  /** Waits for the queue's next write slot, and takes it. */
  async turn(queue: string): Promise<void> {
    const at = this.store
      ? await this.store.writePace.reserve(queue, this.intervalMs)
      : this.reserveHere(queue);
    const wait = at - this.now();
    if (wait > 0) await delay(wait);
  }

  private reserveHere(queue: string): number {
    const at = Math.max(this.now(), this.next.get(queue) ?? 0, this.paused.get(queue) ?? 0);
    this.next.set(queue, at + this.intervalMs);
    return at;
  }

  /** GitHub asked the queue to wait until `untilMs`: seen here at once, and by the other replicas. */
  async pause(queue: string, untilMs: number): Promise<void> {
    this.note(queue, untilMs);
    await this.store?.writePace.pause(queue, untilMs);
  }

  private note(queue: string, untilMs: number): void {
    if ((this.paused.get(queue) ?? 0) < untilMs) this.paused.set(queue, untilMs);
  }

  /**
   * Queues that GitHub asked to wait, and until when: the report stage starts no job for them before. With a
   * store, the other replicas' pauses are read in the background at most once every PAUSES_FRESH_MS, so this
   * costs no statement per call; a job started in a pause not yet seen here still waits for it in `turn`.
   */
  pausedQueues(): ReadonlyMap<string, number> {
    const now = this.now();
    if (this.store && !this.reading && now - this.pausesReadAt >= PAUSES_FRESH_MS) {
      this.pausesReadAt = now;
      this.reading = this.readPauses(this.store)
        .catch(() => {
          // The pauses known here hold until the next read; turn() keeps to the store's anyway.
        })
        .finally(() => {
          this.reading = undefined;
        });
    }
    for (const [queue, until] of this.paused) if (until <= now) this.paused.delete(queue);
    return this.paused;
  }

  private async readPauses(store: Store): Promise<void> {
    // A pause only grows, and ends by itself: the larger of what is known here and what the store says holds.
    for (const [queue, until] of await store.writePace.paused()) this.note(queue, until);
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
        // Held here at once; a store that cannot take it now must not turn GitHub's answer into a failure.
        await this.pause(queue, this.now() + wait).catch(() => undefined);
        throw new RetryAfter(
          `GitHub asked to wait ${Math.ceil(wait / 1000)} s (${(error as RequestFailure).status} on ${options.method} ${options.url})`,
          wait,
        );
      }
    });
    return octokit;
  }
}
