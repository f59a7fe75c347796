// Runs revocation jobs: per-provider concurrency with continuous claiming, batching, exponential backoff with jitter,
// Retry-After and rate-limit headers honoured, a bounded number of attempts, crash recovery. Every attempt and
// outcome is audited; listeners hear each final outcome (the app comments on its issue).
import { setTimeout as delay } from "node:timers/promises";
import { Coalescer } from "../jobs/coalescer.js";
import { WakeableLoop } from "../jobs/loop.js";
import { OrphanCheck } from "../jobs/orphan-check.js";
import type { NewAuditEntry } from "../store/audit.js";
import { iso } from "../store/clock.js";
import type { Store } from "../store/index.js";
import { backoffMs, DEFAULT_RETRY, type RetrySettings } from "./backoff.js";
import { batchesOf } from "./batches.js";
import { type CallSlots, Handoff, type Ready } from "./handoff.js";
import { scrub } from "./http.js";
import { newOwner, ownerIsGone } from "./owner.js";
import { REVOKE_KIND, type RevokeJob, type RevokePayload, targetOf } from "./queue.js";
import {
  type AttemptResult,
  type CallSummary,
  isRevokerName,
  type Revoker,
  type RevokerSet,
} from "./types.js";

export interface RevocationOutcome {
  jobId: number;
  secretHash: string;
  preview: string;
  provider: string;
  outcome: "revoked" | "already-revoked" | "failed";
  at: string;
  attempts: number;
  /** Why it failed, or what the provider said when it was already revoked. */
  detail?: string;
  tokenId: number | null;
  /** Open findings of this token that the revocation closed. */
  findingIds: number[];
}

/** Hears an outcome; the worker waits for a listener that returns a promise (so a queued comment is written). */
export type OutcomeListener = (outcome: RevocationOutcome) => unknown;

export interface WorkerOptions {
  store: Store;
  revokers: RevokerSet;
  retry?: Partial<RetrySettings>;
  /** How long a claimed job is ours before another worker may take it over (default 5 minutes). */
  leaseMs?: number;
  /** How often to look for work in continuous mode, or at jobs other workers are running (default 500 ms). */
  pollMs?: number;
  /** Jobs taken per round. */
  claimLimit?: number;
  owner?: string;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** One line per event; never holds a secret. */
  log?: (message: string) => void;
  /** The longest one provider call can take (its HTTP timeout): drain starts no retry it could not finish. */
  callTimeoutMs?: number;
}

export interface DrainResult {
  processed: number;
  /** Jobs still waiting (a retry due later than the wait allows) or run by another worker. */
  pending: number;
  running: number;
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Woken early: that is what the signal is for.
  }
}

/** A job whose call revoked its token (or found it revoked already). */
interface Revoked {
  revoker: Revoker;
  job: RevokeJob;
  attempts: number;
  result: Extract<AttemptResult, { kind: "revoked" | "already-revoked" }>;
  call: CallSummary;
}

interface RevokedWrite {
  at: string;
  findingIds: number[];
}

function isRevoked(result: AttemptResult): result is Revoked["result"] {
  return result.kind === "revoked" || result.kind === "already-revoked";
}

export class RevocationWorker {
  readonly owner: string;
  private readonly store: Store;
  readonly revokers: RevokerSet;
  private readonly retry: RetrySettings;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly callTimeoutMs: number;
  private readonly claimLimit: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly log: (message: string) => void;
  private readonly listeners = new Set<OutcomeListener>();
  /** Provider name → calls in flight. */
  private readonly busy = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Provider name → clock time before which it gets no call, and why. */
  private readonly pausedUntil = new Map<string, number>();
  private readonly pauseReasons = new Map<string, string>();
  private readonly loop: WakeableLoop;
  private readonly orphans: OrphanCheck;
  /** Running (start() until stop()): only then does it take handoffs. */
  private accepting = false;
  private readonly slots: CallSlots;
  /** Revocations that end while one is being written are written together, in the next transaction. */
  private readonly revokedWrites = new Coalescer<Revoked, RevokedWrite | undefined>((ended) =>
    this.writeRevoked(ended),
  );

  constructor(options: WorkerOptions) {
    this.store = options.store;
    this.revokers = options.revokers;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.leaseMs = options.leaseMs ?? 5 * 60 * 1000;
    this.pollMs = options.pollMs ?? 500;
    this.callTimeoutMs = options.callTimeoutMs ?? 0;
    this.claimLimit = options.claimLimit ?? 2000;
    this.owner = options.owner ?? newOwner();
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.log = options.log ?? (() => {});
    this.orphans = new OrphanCheck(() => this.now());
    this.slots = this.callSlots();
    // Continuous: a round only starts calls; a call that ends wakes the loop to take the next jobs at once.
    this.loop = new WakeableLoop({
      round: async () => this.dispatch(),
      waitMs: async () => {
        const next = await this.store.jobs.nextWake(REVOKE_KIND, { except: this.fullProviders() });
        return next ? Math.min(Math.max(Date.parse(next) - this.now(), 0), this.pollMs) : this.pollMs;
      },
      sleep: this.sleep,
      onError: (error) => this.log(`revocation worker: ${error.message}`),
    });
  }

  /** Calls in flight now. */
  get running(): number {
    return this.inFlight.size;
  }

  /** Hears every job that ends: revoked, already revoked, or failed for good. Returns an unsubscribe. */
  onOutcome(listener: OutcomeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private now(): number {
    return this.store.clock().getTime();
  }

  /** Jobs left running by a process on this host that died: back in the queue, due now (every few seconds). */
  private async recoverOrphans(): Promise<void> {
    if (!this.orphans.due()) return;
    for (const job of await this.store.jobs.running(REVOKE_KIND)) {
      if (job.owner === this.owner || !ownerIsGone(job.owner)) continue;
      await this.store.transaction(async (tx) => {
        if (!(await tx.jobs.requeue(job.id, job.owner as string))) return;
        await tx.audit.record({
          action: "revoke.resume",
          subject: `job:${job.id}`,
          detail: { interruptedWorker: job.owner },
        });
        this.log(`job ${job.id}: its worker stopped mid-job; resuming it`);
      });
    }
  }

  /**
   * Claims, for each provider with a free slot, the most urgent due jobs it can take in its free calls, and starts
   * those calls; returns how many jobs it took. A provider whose calls are all in flight is left alone: its jobs
   * wait in the store, and go together in the next call (batching) when a slot frees.
   */
  private async dispatch(): Promise<number> {
    await this.recoverOrphans();
    // One look at which providers have due jobs, then a claim for each of those only.
    const due = await this.store.jobs.dueQueues(REVOKE_KIND);
    let taken = 0;
    for (const revoker of this.revokers.values()) {
      const free = revoker.concurrency - (this.busy.get(revoker.name) ?? 0);
      if (free <= 0 || !due.has(revoker.name)) continue;
      const jobs = await this.store.jobs.claim<RevokePayload>({
        kind: REVOKE_KIND,
        owner: this.owner,
        leaseMs: this.leaseMs,
        limit: Math.min(this.claimLimit, free * revoker.batchSize),
        queues: { only: [revoker.name] },
      });
      const batches = batchesOf(revoker, jobs, targetOf);
      // Calls past the free slots (jobs for several organisations, say) give their jobs back, due now.
      const surplus = batches.splice(free).flat();
      taken += jobs.length - surplus.length;
      if (batches.length > 0) this.launch(revoker, batches);
      if (surplus.length > 0)
        await this.store.jobs.release(
          surplus.map((job) => job.id),
          this.owner,
          iso(new Date(this.now())),
        );
    }
    // Jobs for a provider this process does not know cannot be run here.
    const known = new Set<string>(this.revokers.keys());
    if (![...due].some((queue) => !known.has(queue))) return taken;
    const strays = await this.store.jobs.claim<RevokePayload>({
      kind: REVOKE_KIND,
      owner: this.owner,
      leaseMs: this.leaseMs,
      limit: this.claimLimit,
      queues: { except: [...this.revokers.keys()] },
    });
    for (const job of strays) {
      const reason = isRevokerName(job.queue)
        ? `the ${job.queue} provider is not configured here`
        : `no provider module named "${job.queue}"`;
      await this.giveUp(job, job.queue, job.attempts, reason);
    }
    return taken + strays.length;
  }

  /**
   * Starts one call per batch. Their attempts are counted and audited in one transaction for all of them (on
   * PostgreSQL each statement is a round trip, and the calls wait for it), then each call runs in its own slot.
   */
  private launch(revoker: Revoker, batches: RevokeJob[][]): void {
    this.occupy(revoker, batches.length);
    const started = this.startCalls(revoker, batches).catch((error: Error) => {
      this.log(`revocation worker: ${error.message}`);
      return [] as Ready[][];
    });
    void this.runCalls(revoker, batches.length, started);
  }

  private occupy(revoker: Revoker, slots: number): void {
    this.busy.set(revoker.name, (this.busy.get(revoker.name) ?? 0) + slots);
  }

  /**
   * Runs the call of each of `count` batches once `held` says its jobs, one in each slot taken for it; settles
   * once every call has ended.
   */
  private runCalls(revoker: Revoker, count: number, held: Promise<Ready[][]>): Promise<unknown> {
    const calls: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      let answered = false;
      // The provider's slot frees as soon as its call has answered: writing the outcome and telling the
      // listeners (comments, alerts) go on beside the next call, not ahead of it.
      const free = () => {
        if (answered) return;
        answered = true;
        this.busy.set(revoker.name, (this.busy.get(revoker.name) ?? 1) - 1);
        this.loop.notify();
      };
      const call: Promise<void> = held
        .then((ready) => {
          const batch = ready[i] ?? [];
          return batch.length > 0 ? this.call(revoker, batch, free) : undefined;
        })
        .catch((error: Error) => this.log(`revocation worker: ${error.message}`))
        .finally(() => {
          free();
          this.inFlight.delete(call);
          this.loop.notify();
        });
      this.inFlight.add(call);
      calls.push(call);
    }
    return Promise.all(calls);
  }

  /**
   * A handoff for one transaction that queues revocations (a scan's): the calls this worker has a free slot
   * for are claimed in that transaction and made as soon as it commits. None while the worker is not running.
   */
  handoff(): Handoff | undefined {
    return this.accepting ? new Handoff(this.slots) : undefined;
  }

  /** What a handoff takes from this worker: its call slots, leases and calls. */
  private callSlots(): CallSlots {
    return {
      owner: this.owner,
      leaseMs: this.leaseMs,
      now: () => this.now(),
      take: (revoker, wanted) => {
        // A budget is counted in the store under a lock, and a paused or unready provider waits: those go
        // through the queue.
        if (!this.accepting || this.revokers.get(revoker.name) !== revoker) return 0;
        if (revoker.budget || revoker.unready?.()) return 0;
        if ((this.pausedUntil.get(revoker.name) ?? 0) > this.now()) return 0;
        const taken = Math.max(0, Math.min(wanted, revoker.concurrency - (this.busy.get(revoker.name) ?? 0)));
        this.occupy(revoker, taken);
        return taken;
      },
      give: (revoker, count) => {
        this.occupy(revoker, -count);
        this.loop.notify();
      },
      call: (revoker, batches) => this.runCalls(revoker, batches.length, Promise.resolve(batches)),
      attemptEntry: (revoker, batch) => this.attemptEntry(revoker, batch),
      track: (done) => {
        const tracked: Promise<void> = done.finally(() => this.inFlight.delete(tracked));
        this.inFlight.add(tracked);
      },
    };
  }

  /** Providers whose calls are all in flight: what they have due waits for a slot, not the clock. */
  private fullProviders(): string[] {
    return [...this.revokers.values()]
      .filter((r) => (this.busy.get(r.name) ?? 0) >= r.concurrency)
      .map((r) => r.name);
  }

  /** Runs every job that is due now, taking more as calls end; returns how many it took. */
  async runDue(): Promise<number> {
    let taken = await this.dispatch();
    while (this.inFlight.size > 0) {
      await Promise.race(this.inFlight);
      taken += await this.dispatch();
    }
    return taken;
  }

  /**
   * Runs jobs until none is left that can finish within `maxWaitMs` (retries due later stay queued), or, with
   * `jobIds`, until those have ended. Waits for jobs that another worker is running.
   */
  async drain(options: { maxWaitMs: number; jobIds?: readonly number[] }): Promise<DrainResult> {
    const deadline = this.now() + options.maxWaitMs;
    let processed = 0;
    for (;;) {
      const ran = await this.runDue();
      processed += ran;
      const counts = await this.store.jobs.counts(REVOKE_KIND, options.jobIds);
      const result = { processed, pending: counts.pending, running: counts.running };
      if (counts.pending + counts.running === 0) return result;
      const now = this.now();
      const next = await this.store.jobs.nextRunAfter(REVOKE_KIND, options.jobIds);
      let wake = next ? Math.max(now, Date.parse(next)) : Number.POSITIVE_INFINITY;
      if (counts.running > 0) wake = Math.min(wake, now + this.pollMs);
      if (wake + this.callTimeoutMs > deadline) return result;
      // Never spin: something due now that we could not take is someone else's.
      await this.sleep(Math.max(wake - now, ran === 0 ? 10 : 0));
    }
  }

  /** Runs jobs as they come due until stop(); notify() wakes it for a job just queued. */
  start(): void {
    this.accepting = true;
    this.loop.start();
  }

  notify(): void {
    this.loop.notify();
  }

  async stop(): Promise<void> {
    this.accepting = false;
    await this.loop.stop();
    await Promise.all(this.inFlight);
  }

  private pause(provider: string, until: number, why: string): void {
    if ((this.pausedUntil.get(provider) ?? 0) >= until) return;
    this.pausedUntil.set(provider, until);
    this.pauseReasons.set(provider, why);
    this.log(`${provider}: no calls until ${iso(new Date(until))} (${why})`);
  }

  /** Providers that may not be called now (a spent budget, Retry-After), until when and why: for /healthz. */
  waiting(): { provider: string; until: string; reason: string }[] {
    const now = this.now();
    return [...this.pausedUntil]
      .filter(([, until]) => until > now)
      .map(([provider, until]) => ({
        provider,
        until: iso(new Date(until)),
        reason: this.pauseReasons.get(provider) ?? "",
      }));
  }

  /** When the provider may be called again, if it is paused now. */
  private async pausedUntilFor(revoker: Revoker): Promise<number | undefined> {
    const now = this.now();
    const paused = this.pausedUntil.get(revoker.name);
    if (paused !== undefined && paused > now) return paused;
    return this.budgetSpentUntil(revoker, this.store);
  }

  /**
   * When a provider's call budget (GitHub: 60 an hour) frees a call, if it is spent. The budget is the audit
   * log's `revoke.attempt` entries, so every replica on the database shares it.
   */
  private async budgetSpentUntil(revoker: Revoker, store: Store): Promise<number | undefined> {
    const budget = await this.budgetLeft(revoker, store);
    return budget.left === 0 ? budget.until : undefined;
  }

  /** How many calls the provider's budget still allows now (Infinity without one), and when the next one frees. */
  private async budgetLeft(revoker: Revoker, store: Store): Promise<{ left: number; until?: number }> {
    if (!revoker.budget) return { left: Number.POSITIVE_INFINITY };
    const since = iso(new Date(this.now() - revoker.budget.windowMs));
    const used = await store.audit.countSince("revoke.attempt", revoker.name, since);
    const left = Math.max(revoker.budget.calls - used.count, 0);
    const until = used.oldest ? Date.parse(used.oldest) + revoker.budget.windowMs : undefined;
    if (left === 0 && until !== undefined)
      this.pause(
        revoker.name,
        until,
        `${revoker.budget.calls} calls per ${revoker.budget.windowMs / 60000} minutes`,
      );
    return { left: left === 0 && until === undefined ? 1 : left, until };
  }

  /**
   * Counts and audits an attempt for each batch, all in one transaction, and returns per batch the jobs whose
   * call may go now (empty for a batch that waits or failed for good). A paused provider's jobs go back without
   * counting an attempt; a budget lets only as many calls through as it has left.
   */
  private async startCalls(revoker: Revoker, batches: RevokeJob[][]): Promise<Ready[][]> {
    const paused = await this.pausedUntilFor(revoker);
    if (paused !== undefined) {
      await this.wait(revoker, batches, paused);
      return [];
    }
    const unready = revoker.unready?.();
    if (unready) {
      for (const job of batches.flat()) await this.giveUp(job, revoker.name, job.attempts, unready);
      return [];
    }
    const ready: Ready[][] = [];
    for (const batch of batches) ready.push(await this.unseal(revoker, batch));
    if (ready.every((batch) => batch.length === 0)) return [];
    return this.store.transaction(async (tx) => {
      let left = Number.POSITIVE_INFINITY;
      let until: number | undefined;
      if (revoker.budget) {
        // Counted again under a lock: two replicas must not both take the budget's last call.
        await tx.lockForTransaction(`budget:${revoker.name}`);
        ({ left, until } = await this.budgetLeft(revoker, tx));
      }
      // Batches past what the budget allows wait for it to free a call; the others go.
      const going = ready.map((batch) => (batch.length > 0 && left-- > 0 ? batch : []));
      const over = ready.flatMap((batch, i) => (going[i]?.length ? [] : batch));
      if (over.length > 0)
        await tx.jobs.release(
          over.map((r) => r.job.id),
          this.owner,
          iso(new Date(until ?? this.now())),
        );
      const ids = new Set(
        await tx.jobs.startAttempt(
          going.flat().map((r) => r.job.id),
          this.owner,
        ),
      );
      const held = going.map((batch) => batch.filter((r) => ids.has(r.job.id)));
      await tx.audit.recordMany(
        held.filter((batch) => batch.length > 0).map((batch) => this.attemptEntry(revoker, batch)),
      );
      return held;
    });
  }

  /** Nothing was called: the jobs go back without counting an attempt, and the audit log says why they wait. */
  private async wait(revoker: Revoker, batches: RevokeJob[][], paused: number): Promise<void> {
    const until = iso(new Date(paused));
    await this.store.transaction(async (tx) => {
      await tx.jobs.release(
        batches.flat().map((j) => j.id),
        this.owner,
        until,
      );
      await tx.audit.recordMany(
        batches.map((jobs) => ({
          action: "revoke.wait",
          subject: `jobs:${jobs.map((j) => j.id).join(",")}`,
          provider: revoker.name,
          detail: { tokens: jobs.length, until, reason: this.pauseReasons.get(revoker.name) ?? "" },
        })),
      );
    });
  }

  /** The batch's targets, with the token's value for a provider that revokes by value; a job whose value is gone fails. */
  private async unseal(revoker: Revoker, jobs: RevokeJob[]): Promise<Ready[]> {
    const ready: Ready[] = [];
    for (const job of jobs) {
      const target = targetOf(job);
      if (revoker.byValue) {
        if (!job.sealed) {
          await this.giveUp(
            job,
            revoker.name,
            job.attempts,
            "the token's value is no longer held; give it again with 'leakwarden revoke'",
          );
          continue;
        }
        try {
          target.secret = this.store.box.open(job.sealed, job.key);
        } catch (error) {
          await this.giveUp(job, revoker.name, job.attempts, (error as Error).message);
          continue;
        }
      }
      ready.push({ job, target });
    }
    return ready;
  }

  /** The `revoke.attempt` entry of one call: the budget counts these. */
  private attemptEntry(revoker: Revoker, batch: Ready[]): NewAuditEntry {
    const call = revoker.describe((batch[0] as Ready).target);
    const first = (batch[0] as Ready).job;
    const single = batch.length === 1;
    return {
      action: "revoke.attempt",
      subject: single ? `job:${first.id}` : `jobs:${batch.map((r) => r.job.id).join(",")}`,
      provider: revoker.name,
      secretHash: single ? first.payload.secretHash : null,
      detail: {
        call: `${call.method} ${call.url}`,
        attempt: first.attempts + 1,
        ...(single ? { preview: first.payload.preview } : { tokens: batch.length }),
      },
    };
  }

  /** Runs one call for a batch whose attempt is counted, and settles each job; `callEnded` once it answered. */
  private async call(revoker: Revoker, batch: Ready[], callEnded: () => void): Promise<void> {
    const call = revoker.describe((batch[0] as Ready).target);
    const secrets = batch.flatMap((b) => (b.target.secret ? [b.target.secret.reveal()] : []));
    let results: AttemptResult[];
    let answered: CallSummary = call;
    try {
      const outcome = await revoker.revoke(batch.map((b) => b.target));
      results = outcome.results;
      answered = outcome.call;
      if (outcome.pauseMs !== undefined && outcome.pauseMs > 0)
        this.pause(revoker.name, this.now() + outcome.pauseMs, "Retry-After or rate-limit headers");
    } catch (error) {
      const message = scrub(`${call.method} ${call.url}: ${(error as Error).message}`, secrets);
      results = batch.map(() => ({ kind: "retry", error: message }));
    }
    callEnded();
    const ended = batch.map((b, i) => ({
      revoker,
      job: b.job,
      attempts: b.job.attempts + 1,
      result: results[i] ?? ({ kind: "retry", error: "no answer" } as AttemptResult),
      call: answered,
    }));
    const revoked: Revoked[] = [];
    for (const e of ended) {
      const { result } = e;
      if (isRevoked(result)) revoked.push({ ...e, result });
      else await this.settleFailure(revoker, e.job, e.attempts, result);
    }
    const written = await this.revokedWrites.submit(revoked);
    // Told together: listeners that write (alerts, follow-ups) can take a call's outcomes in one statement.
    await Promise.all(revoked.map((e, i) => this.tellRevoked(e, written[i])));
  }

  /** Ends an attempt that revoked nothing: retried after a backoff, or dead. */
  private async settleFailure(
    revoker: Revoker,
    job: RevokeJob,
    attempts: number,
    result: Exclude<AttemptResult, Revoked["result"]>,
  ): Promise<void> {
    const { secretHash, preview } = job.payload;
    if (result.kind === "failed") {
      await this.giveUp(job, revoker.name, attempts, result.error);
      return;
    }
    if (attempts >= job.maxAttempts) {
      await this.giveUp(job, revoker.name, attempts, `gave up after ${attempts} attempts: ${result.error}`);
      return;
    }
    const wait = result.retryAfterMs ?? backoffMs(attempts, this.retry, this.random);
    const runAfter = iso(new Date(this.now() + wait));
    await this.store.transaction(async (tx) => {
      if (!(await tx.jobs.retryLater(job.id, this.owner, runAfter, result.error))) return;
      await tx.audit.record({
        action: "revoke.retry",
        subject: `job:${job.id}`,
        provider: revoker.name,
        secretHash,
        detail: { preview, attempt: attempts, error: result.error, retryAt: runAfter },
      });
    });
    this.log(
      `${preview} (job ${job.id}): attempt ${attempts} failed (${result.error}); retrying at ${runAfter}`,
    );
  }

  /**
   * Records revoked jobs (from one call or several that ended meanwhile) in one transaction: each job done, its
   * token and open findings marked, and its outcome audited. Per job: when and which findings it closed, or
   * undefined when the job is no longer ours (another worker took it over and records the outcome).
   */
  private async writeRevoked(ended: Revoked[]): Promise<(RevokedWrite | undefined)[]> {
    const at = iso(this.store.clock());
    return this.store.transaction(async (tx) => {
      const held = new Set<number>();
      for (const outcome of ["revoked", "already-revoked"] as const) {
        const ids = ended.filter((e) => e.result.kind === outcome).map((e) => e.job.id);
        if (ids.length > 0)
          for (const id of await tx.jobs.finishAll(ids, this.owner, { state: "done", outcome })) held.add(id);
      }
      const ours = ended.filter((e) => held.has(e.job.id));
      const hashes = ours.map((e) => e.job.payload.secretHash);
      if (hashes.length === 0) return ended.map(() => undefined);
      await tx.tokens.markAllRevoked(hashes, at);
      const closed = await tx.findings.markAllRevoked(hashes);
      await tx.audit.recordMany(
        ours.map(({ revoker, job, attempts, result, call }) => ({
          action: `revoke.${result.kind}`,
          subject: `job:${job.id}`,
          provider: revoker.name,
          secretHash: job.payload.secretHash,
          detail: {
            preview: job.payload.preview,
            attempts,
            call: `${call.method} ${call.url}`,
            status: call.status ?? null,
            ...(result.kind === "already-revoked" ? { detail: result.detail } : {}),
          },
        })),
      );
      return ended.map((e) =>
        held.has(e.job.id) ? { at, findingIds: closed.get(e.job.payload.secretHash) ?? [] } : undefined,
      );
    });
  }

  /** Logs a recorded revocation and tells the listeners. */
  private async tellRevoked(
    { revoker, job, attempts, result, call }: Revoked,
    written: RevokedWrite | undefined,
  ): Promise<void> {
    const { secretHash, preview, tokenId } = job.payload;
    if (written === undefined) {
      this.log(`job ${job.id}: another worker took it over; leaving the outcome to it`);
      return;
    }
    this.log(
      `${preview} (job ${job.id}): ${result.kind === "revoked" ? "revoked" : "already revoked"} through ${revoker.name} (${call.method} ${call.url}${call.status ? ` answered ${call.status}` : ""})`,
    );
    await this.emit({
      jobId: job.id,
      secretHash,
      preview,
      provider: revoker.name,
      outcome: result.kind,
      at: written.at,
      attempts,
      detail: result.kind === "already-revoked" ? result.detail : undefined,
      tokenId,
      findingIds: written.findingIds,
    });
  }

  /** The job is dead: audited, its sealed value erased, and listeners told. */
  private async giveUp(job: RevokeJob, provider: string, attempts: number, error: string): Promise<void> {
    const { secretHash, preview, tokenId } = job.payload;
    const ended = await this.store.transaction(async (tx) => {
      if (!(await tx.jobs.finish(job.id, this.owner, { state: "dead", error }))) return false;
      await tx.audit.record({
        action: "revoke.dead",
        subject: `job:${job.id}`,
        provider,
        secretHash,
        detail: { preview, attempts, error },
      });
      return true;
    });
    if (!ended) return;
    this.log(`${preview} (job ${job.id}): revocation failed: ${error}`);
    await this.emit({
      jobId: job.id,
      secretHash,
      preview,
      provider,
      outcome: "failed",
      at: iso(this.store.clock()),
      attempts,
      detail: error,
      tokenId,
      findingIds: [],
    });
  }

  private async emit(outcome: RevocationOutcome): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(outcome);
      } catch (error) {
        this.log(`an outcome listener failed: ${(error as Error).message}`);
      }
    }
  }
}
