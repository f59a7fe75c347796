// One durable stage of the app (scan, report): a pool of slots that takes the next due job, most urgent
// priority first, as soon as a slot frees or work is queued. No rounds: a slow job holds only its own slot.
// Jobs survive a crash (a lease, and orphans of a dead process on this host are resumed at once).
import { setTimeout as delay } from "node:timers/promises";
import { backoffMs, type RetrySettings } from "../revoke/backoff.js";
import { newOwner, ownerIsGone } from "../revoke/owner.js";
import { iso } from "../store/clock.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import { WakeableLoop } from "./loop.js";
import { OrphanCheck } from "./orphan-check.js";

/** Thrown by a handler when a provider asked it to wait: the job waits without spending an attempt. */
export class RetryAfter extends Error {
  constructor(
    message: string,
    readonly waitMs: number,
  ) {
    super(message);
  }
}

/**
 * Thrown by a handler when the job can no longer be done, now or later (what it would write to is gone): the job
 * ends `cancelled` with this reason, audited, instead of spending its attempts on failures that cannot change.
 */
export class JobCancelled extends Error {}

/**
 * Thrown by `batch.exclusive` when another replica holds the batch's lock (it is scanning that repository): the
 * job goes back to the queue without spending an attempt, and this runner leaves the jobs whose key starts with
 * `keyPrefix` alone for a moment, so that the holder, whose git cache is warm, takes them with its next batch.
 */
export class BusyElsewhere extends Error {
  constructor(readonly keyPrefix: string) {
    super(`${keyPrefix}… is being worked on by another replica`);
  }
}

/** How long a runner leaves alone the jobs another replica is busy with (it is woken when they are given back). */
export const BUSY_ELSEWHERE_MS = 2_000;

/** The most batches of one group a slot runs in a row, holding its lock, before it lets other work have a turn. */
const DRAIN_BATCHES = 4;

export interface StageOptions<P> {
  store: Store;
  /** The jobs' kind; also the name in audit actions (`<kind>.resume`, `<kind>.dead`) and log lines. */
  kind: string;
  /** Does one job; throwing means "try again later". */
  handle: (job: JobRecord<P>) => Promise<void>;
  /**
   * Coalescing: after a job is claimed, `companions` claims (under the same owner and lease) more jobs that are
   * cheaper done together with it, and `handle` does them all in one slot, telling each job's fate on its own:
   * every job keeps its lease, attempts and completion, so a crash or a failure loses none of them.
   */
  batch?: {
    /**
     * Runs the batch's work (`fn`) exclusively, e.g. holding the repository's lock: the companions are claimed
     * inside it, so a batch that had to wait takes everything that came in meanwhile. Throws BusyElsewhere,
     * without running `fn`, when another replica holds it.
     */
    exclusive?: (job: JobRecord<P>, fn: () => Promise<void>) => Promise<void>;
    /** Claimed with their attempts counted (`startAttempts`): they run as soon as they are claimed. */
    companions: (
      job: JobRecord<P>,
      claim: { owner: string; leaseMs: number; startAttempts: true },
    ) => Promise<JobRecord<P>[]>;
    /**
     * The key prefix of the jobs a batch of `job` takes as companions (a repository's pushes). While such a
     * batch runs, this runner claims none of them: they ride along with it or wait for it to end, rather than
     * hold a second slot waiting for the lock it holds and then run alone behind it.
     */
    group?: (job: JobRecord<P>) => string | undefined;
    /** Per job, in order: undefined when done, or the error it failed with (retried on its own). */
    handle: (jobs: JobRecord<P>[]) => Promise<(Error | undefined)[]>;
  };
  /** Jobs running at once. */
  concurrency?: number;
  /** Jobs of one queue (partition) running at once; unlimited when absent. */
  perQueue?: number;
  /** Queues that must not start a job before a clock time (ms), such as a paced installation. */
  pausedQueues?: () => ReadonlyMap<string, number>;
  /** Longer than the slowest job, or a second worker would take it over. */
  leaseMs?: number;
  retry?: RetrySettings;
  /** The longest sleep while nothing is due (a job queued by another process is seen by then). */
  pollMs?: number;
  /** Background stages: true while urgent work runs, which they step aside for (briefly, see loop.ts). */
  yieldTo?: () => boolean;
  log?: (message: string) => void;
}

const DEFAULT_RETRY: RetrySettings = { baseMs: 5_000, maxMs: 15 * 60 * 1000 };

/** What a claim leaves out. */
interface ClaimFilters {
  queues: { except: string[] };
  skipKeyPrefixes: string[];
}

export class StageRunner<P> {
  readonly owner = newOwner();
  private readonly options: Required<
    Omit<StageOptions<P>, "log" | "perQueue" | "pausedQueues" | "batch" | "yieldTo">
  > &
    Pick<StageOptions<P>, "perQueue" | "pausedQueues" | "batch" | "yieldTo"> & {
      log: (message: string) => void;
    };
  private readonly loop: WakeableLoop;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly busy = new Map<string, number>();
  private readonly orphans: OrphanCheck;
  /** Key prefixes another replica is busy with → until when (clock ms) this runner leaves them alone. */
  private readonly elsewhere = new Map<string, number>();
  /** Key prefixes of the batches running here → how many. */
  private readonly working = new Map<string, number>();
  /** stop() was called: a running batch takes no more of its group. */
  private stopping = false;
  /**
   * The filters of the last claim, when it found nothing more to start. Until work is queued or freed (notify),
   * a job that ends need not look at the queue again while the filters leave out at least as much: the look
   * would find nothing (a paced queue that pauses as its job ends, say).
   */
  private drainedUnder: ClaimFilters | undefined;

  constructor(options: StageOptions<P>) {
    this.options = {
      concurrency: 2,
      leaseMs: 30 * 60 * 1000,
      retry: DEFAULT_RETRY,
      pollMs: 1_000,
      log: () => {},
      ...options,
    };
    this.orphans = new OrphanCheck(() => this.now());
    this.loop = new WakeableLoop({
      round: async () => this.fill(),
      waitMs: () => this.waitMs(),
      sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => {}),
      onError: (error) => this.options.log(`${this.options.kind} runner: ${error.message}`),
      ...(options.yieldTo ? { yieldTo: options.yieldTo } : {}),
    });
  }

  /** Jobs running now. */
  get running(): number {
    return this.inFlight.size;
  }

  private now(): number {
    return this.options.store.clock().getTime();
  }

  /** Queues that may not start a job now: full, or paused. */
  private blocked(): string[] {
    const { perQueue, pausedQueues } = this.options;
    const now = this.now();
    const out = new Set<string>();
    if (perQueue !== undefined) for (const [queue, n] of this.busy) if (n >= perQueue) out.add(queue);
    for (const [queue, until] of pausedQueues?.() ?? []) if (until > now) out.add(queue);
    return [...out];
  }

  /** The key prefixes not to claim from now: batches running here, and what another replica is busy with. */
  private leftAlone(): string[] {
    const now = this.now();
    for (const [prefix, until] of this.elsewhere) if (until <= now) this.elsewhere.delete(prefix);
    return [...new Set([...this.working.keys(), ...this.elsewhere.keys()])];
  }

  /** Jobs whose worker on this host died: back in the queue at once (looked for every few seconds). */
  private async recoverOrphans(): Promise<void> {
    const { store, kind } = this.options;
    if (!this.orphans.due()) return;
    for (const job of await store.jobs.running(kind)) {
      if (job.owner === this.owner || !ownerIsGone(job.owner)) continue;
      if (await store.jobs.requeue(job.id, job.owner as string)) {
        await store.audit.record({
          action: `${kind}.resume`,
          subject: `job:${job.id}`,
          detail: { interruptedWorker: job.owner },
        });
      }
    }
  }

  /** Starts due jobs in the free slots; returns how many it started. */
  async fill(): Promise<number> {
    const { store, kind, concurrency, leaseMs, perQueue, batch } = this.options;
    await this.recoverOrphans();
    let started = 0;
    this.drainedUnder = undefined;
    while (this.inFlight.size < concurrency) {
      // With a per-queue limit or coalescing, one at a time: the next claim must see what this one took.
      const limit = perQueue === undefined && !batch ? concurrency - this.inFlight.size : 1;
      const filters = this.claimFilters();
      const jobs = await store.jobs.claim<P>({
        kind,
        owner: this.owner,
        leaseMs,
        limit,
        ...filters,
        // A job run alone starts as it is claimed; a batch counts its attempts once it holds the batch's lock.
        startAttempts: !batch,
      });
      for (const job of jobs) this.begin(job);
      started += jobs.length;
      if (jobs.length < limit) {
        this.drainedUnder = filters;
        break;
      }
    }
    return started;
  }

  /** What a claim leaves out now: full or paused queues, and the groups left alone. */
  private claimFilters(): ClaimFilters {
    return { queues: { except: this.blocked() }, skipKeyPrefixes: this.leftAlone() };
  }

  /** Whether a claim now would find nothing: the last one found nothing, and this one leaves out as much. */
  private drained(): boolean {
    const last = this.drainedUnder;
    if (last === undefined) return false;
    const now = this.claimFilters();
    const covers = (wider: readonly string[], narrower: readonly string[]) =>
      narrower.every((item) => wider.includes(item));
    return covers(now.queues.except, last.queues.except) && covers(now.skipKeyPrefixes, last.skipKeyPrefixes);
  }

  private begin(job: JobRecord<P>): void {
    this.busy.set(job.queue, (this.busy.get(job.queue) ?? 0) + 1);
    const group = this.options.batch?.group?.(job);
    if (group !== undefined) this.working.set(group, (this.working.get(group) ?? 0) + 1);
    const work = this.options.batch ? this.runBatch(job) : this.run(job);
    const running = work.finally(() => {
      if (group !== undefined) {
        const left = (this.working.get(group) ?? 1) - 1;
        if (left > 0) this.working.set(group, left);
        else this.working.delete(group);
      }
      this.inFlight.delete(job.id);
      const left = (this.busy.get(job.queue) ?? 1) - 1;
      if (left > 0) this.busy.set(job.queue, left);
      else this.busy.delete(job.queue);
      // A free slot: worth a look, unless the last look found nothing and this one would leave out as much.
      if (!this.drained()) this.loop.notify();
    });
    this.inFlight.set(job.id, running);
  }

  /** When a job could next start (clock ms): the next due job in a queue that is not blocked, or a pause's end. */
  private async nextStart(): Promise<number | undefined> {
    const { store, kind, pausedQueues } = this.options;
    const now = this.now();
    const next = await store.jobs.nextWake(kind, { except: this.blocked() }, this.leftAlone());
    let wake = next ? Date.parse(next) : undefined;
    for (const until of pausedQueues?.().values() ?? [])
      if (until > now) wake = Math.min(wake ?? until, until);
    for (const until of this.elsewhere.values()) if (until > now) wake = Math.min(wake ?? until, until);
    return wake;
  }

  /** How long to sleep: until a job could start, or pollMs (a finishing job wakes the loop anyway). */
  private async waitMs(): Promise<number> {
    const { pollMs, concurrency } = this.options;
    if (this.inFlight.size >= concurrency) return pollMs;
    const next = await this.nextStart();
    return next === undefined ? pollMs : Math.min(Math.max(next - this.now(), 0), pollMs);
  }

  /** A job claimed with its attempt counted (fill): runs it and settles it. */
  private async run(job: JobRecord<P>): Promise<void> {
    const { handle } = this.options;
    let failure: Error | undefined;
    try {
      await handle(job);
    } catch (error) {
      failure = error as Error;
    }
    await this.settle(job, failure);
  }

  /**
   * A job and its companions, done together in one slot; each is settled on its own. While it holds the
   * batch's lock, the slot goes on with what came in for the group meanwhile (up to DRAIN_BATCHES batches in a
   * row): the next batch of a burst starts at once, without giving the lock back and taking it again.
   */
  private async runBatch(first: JobRecord<P>): Promise<void> {
    const { store, batch, leaseMs } = this.options;
    if (!batch) return this.run(first);
    let ran = false;
    const work = async () => {
      ran = true;
      const claim = { owner: this.owner, leaseMs, startAttempts: true } as const;
      // The first job's attempt counts now that the lock is held; its companions' count as they are claimed.
      const [counted, companions] = await Promise.all([
        store.jobs.startAttempt([first.id], this.owner),
        batch.companions(first, claim),
      ]);
      let claimed = [...(counted.length > 0 ? [first] : []), ...companions];
      for (let round = 1; claimed.length > 0; round++) {
        const fates = await this.handleBatch(batch, claimed);
        const last = round >= DRAIN_BATCHES || this.stopping;
        // This batch's jobs are settled while the next one is claimed: two round trips at once, not in turn.
        [, claimed] = await Promise.all([
          this.settleAll(claimed, fates),
          last ? [] : batch.companions(first, claim),
        ]);
      }
    };
    try {
      await (batch.exclusive ? batch.exclusive(first, work) : work());
    } catch (error) {
      // Settling failed (the database): the leases run out and the jobs are taken again.
      if (ran) {
        this.options.log(`${this.options.kind} batch of job ${first.id} failed: ${(error as Error).message}`);
        return;
      }
      if (error instanceof BusyElsewhere) {
        // Nothing was done: back to the queue as it was (in its place), for the replica that holds the lock.
        this.elsewhere.set(error.keyPrefix, this.now() + BUSY_ELSEWHERE_MS);
        await store.jobs.release([first.id], this.owner, first.runAfter);
        return;
      }
      // The lock could not be taken: the first job's attempt fails, and it is retried like any failure.
      if ((await store.jobs.startAttempt([first.id], this.owner)).length > 0)
        await this.settle(first, error as Error);
    }
  }

  /** Jobs claimed together, their attempts counted: runs them in one go; per job, its failure or undefined. */
  private async handleBatch(
    batch: NonNullable<StageOptions<P>["batch"]>,
    jobs: JobRecord<P>[],
  ): Promise<(Error | undefined)[]> {
    try {
      return await batch.handle(jobs);
    } catch (error) {
      return jobs.map(() => error as Error);
    }
  }

  /** Settles a batch's jobs: those done end together, in one statement; each failure is settled on its own. */
  private async settleAll(jobs: JobRecord<P>[], fates: (Error | undefined)[]): Promise<void> {
    const done = jobs.filter((_, i) => fates[i] === undefined);
    await this.options.store.jobs.finishAll(
      done.map((j) => j.id),
      this.owner,
      { state: "done", outcome: "done" },
    );
    for (const [i, job] of jobs.entries()) if (fates[i] !== undefined) await this.settle(job, fates[i]);
  }

  /** Ends a job's attempt: done, cancelled, waiting for a provider, retried later, or dead. */
  private async settle(job: JobRecord<P>, error?: Error): Promise<void> {
    const { store, kind, retry, log } = this.options;
    const attempts = job.attempts + 1;
    if (error === undefined) {
      await store.jobs.finish(job.id, this.owner, { state: "done", outcome: "done" });
      return;
    }
    // It may be due again later: the next wait must count it.
    this.drainedUnder = undefined;
    const message = error.message;
    if (error instanceof JobCancelled) {
      await store.transaction(async (tx) => {
        await tx.jobs.finish(job.id, this.owner, { state: "cancelled", reason: message });
        await tx.audit.record({
          action: `${kind}.cancel`,
          subject: `job:${job.id}`,
          detail: { key: job.key, attempts, reason: message },
        });
      });
      log(`${kind} job ${job.id} (${job.key}) cancelled: ${message}`);
    } else if (error instanceof RetryAfter) {
      const runAfter = iso(new Date(this.now() + error.waitMs));
      await store.jobs.postpone(job.id, this.owner, runAfter, message);
      log(`${kind} job ${job.id} (${job.key}) waits until ${runAfter}: ${message}`);
    } else if (attempts >= job.maxAttempts) {
      await store.transaction(async (tx) => {
        await tx.jobs.finish(job.id, this.owner, { state: "dead", error: message });
        await tx.audit.record({
          action: `${kind}.dead`,
          subject: `job:${job.id}`,
          detail: { key: job.key, attempts, error: message },
        });
      });
      log(`${kind} job ${job.id} (${job.key}) failed for good after ${attempts} attempts: ${message}`);
    } else {
      const runAfter = iso(new Date(this.now() + backoffMs(attempts, retry)));
      await store.jobs.retryLater(job.id, this.owner, runAfter, message);
      log(`${kind} job ${job.id} (${job.key}) failed, retrying at ${runAfter}: ${message}`);
    }
  }

  /** Runs jobs until none is left that can start before `maxWaitMs` has passed (tests, the demo). */
  async drain(maxWaitMs = 60_000): Promise<void> {
    const { store, kind } = this.options;
    const deadline = Date.now() + maxWaitMs;
    while (Date.now() < deadline) {
      await this.fill();
      if (this.inFlight.size > 0) {
        await Promise.race(this.inFlight.values());
        continue;
      }
      const next = await this.nextStart();
      if ((await store.jobs.counts(kind)).running === 0 && (next === undefined || next > deadline)) return;
      await delay(Math.min(Math.max((next ?? 0) - this.now(), 1), 100));
    }
  }

  start(): void {
    this.stopping = false;
    this.loop.start();
  }

  /**
   * Wakes the runner for a job just queued. Not for a job (`key`) of a group this runner leaves alone for now:
   * the batch running here takes it when it ends, and another replica's busy lock is looked at again when its
   * time is up. In a burst, most pushes come in while their repository's batch runs, and a look would find nothing.
   */
  notify(key?: string): void {
    if (key !== undefined && this.leftAlone().some((prefix) => key.startsWith(prefix))) return;
    this.drainedUnder = undefined;
    this.loop.notify();
  }

  /** Stops taking jobs and waits for the running ones. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    await Promise.all(this.inFlight.values());
  }
}
