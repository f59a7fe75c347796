// The `jobs` table: a durable queue. A job is a row before anything runs; its unique key makes enqueueing
// idempotent; a worker claims it with a lease, so that a job whose worker died can be taken over.
// Job payloads are plain JSON and never hold a secret; a value that a job needs travels in `sealed`,
// encrypted (see secret-box.ts), and is erased when the job ends.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export const JOB_STATES = ["pending", "running", "done", "dead", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job's priority: lower runs first, in every stage. */
export const PRIORITY = { live: 0, bulk: 10 } as const;

export interface JobRecord<P = unknown> {
  id: number;
  kind: string;
  key: string;
  priority: number;
  /** The partition a worker schedules by: for revocations, the provider. */
  queue: string;
  payload: P;
  /** Ciphertext, or null. */
  sealed: Buffer | null;
  state: JobState;
  outcome: string | null;
  attempts: number;
  maxAttempts: number;
  runAfter: string;
  owner: string | null;
  leaseUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface NewJob<P> {
  kind: string;
  key: string;
  queue: string;
  payload: P;
  sealed?: Buffer | null;
  maxAttempts: number;
  runAfter?: string;
  /** Default PRIORITY.live. */
  priority?: number;
}

interface Row {
  id: number;
  kind: string;
  key: string;
  priority: number;
  queue: string;
  payload: string;
  sealed: Buffer | null;
  state: JobState;
  outcome: string | null;
  attempts: number;
  max_attempts: number;
  run_after: string;
  owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

function fromRow<P>(row: Row): JobRecord<P> {
  return {
    id: row.id,
    kind: row.kind,
    key: row.key,
    priority: row.priority,
    queue: row.queue,
    payload: JSON.parse(row.payload) as P,
    sealed: row.sealed,
    state: row.state,
    outcome: row.outcome,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    owner: row.owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/** Which partitions (`queue` values) a claim or a look-ahead may take from. */
export interface QueueFilter {
  only?: readonly string[];
  except?: readonly string[];
}

export interface ClaimOptions {
  kind: string;
  owner: string;
  leaseMs: number;
  limit: number;
  queues?: QueueFilter;
}

const QUEUE_FILTER = `(@only IS NULL OR queue IN (SELECT value FROM json_each(@only)))
             AND (@except IS NULL OR queue NOT IN (SELECT value FROM json_each(@except)))`;

function queueParams(filter: QueueFilter = {}) {
  return {
    only: filter.only ? JSON.stringify(filter.only) : null,
    except: filter.except && filter.except.length > 0 ? JSON.stringify(filter.except) : null,
  };
}

export class JobTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private now(): string {
    return iso(this.clock());
  }

  /**
   * Adds a job unless one with the same key exists; either way returns the job that holds the key. A waiting
   * job asked for again with a more urgent priority takes that priority (a push finds what a backfill queued).
   */
  enqueue<P>(job: NewJob<P>): { job: JobRecord<P>; created: boolean } {
    const now = this.now();
    const priority = job.priority ?? PRIORITY.live;
    const inserted = statement(
      this.db,
      `INSERT INTO jobs (kind, key, priority, queue, payload, sealed, state, max_attempts, run_after, created_at,
           updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
    ).run(
      job.kind,
      job.key,
      priority,
      job.queue,
      JSON.stringify(job.payload),
      job.sealed ?? null,
      job.maxAttempts,
      job.runAfter ?? now,
      now,
      now,
    );
    if (inserted.changes === 0)
      statement(
        this.db,
        "UPDATE jobs SET priority = ? WHERE key = ? AND state = 'pending' AND priority > ?",
      ).run(priority, job.key, priority);
    return { job: this.byKey<P>(job.key) as JobRecord<P>, created: inserted.changes > 0 };
  }

  byId<P = unknown>(id: number): JobRecord<P> | undefined {
    const row = statement<[number], Row>(this.db, "SELECT * FROM jobs WHERE id = ?").get(id);
    return row && fromRow<P>(row);
  }

  byKey<P = unknown>(key: string): JobRecord<P> | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM jobs WHERE key = ?").get(key);
    return row && fromRow<P>(row);
  }

  list<P = unknown>(filter: { kind?: string; state?: JobState } = {}): JobRecord<P>[] {
    return statement<{ kind: string | null; state: string | null }, Row>(
      this.db,
      `SELECT * FROM jobs WHERE (@kind IS NULL OR kind = @kind) AND (@state IS NULL OR state = @state)
         ORDER BY id`,
    )
      .all({ kind: filter.kind ?? null, state: filter.state ?? null })
      .map((r) => fromRow<P>(r));
  }

  /**
   * Takes due jobs, most urgent priority first: pending ones whose time has come, and running ones whose lease
   * ran out (their worker died). One UPDATE, so two workers never take the same job.
   */
  claim<P = unknown>(options: ClaimOptions): JobRecord<P>[] {
    const now = this.now();
    const lease = iso(new Date(this.clock().getTime() + options.leaseMs));
    return statement<Record<string, unknown>, Row>(
      this.db,
      `UPDATE jobs SET state = 'running', owner = @owner, lease_until = @lease, updated_at = @now
         WHERE id IN (
           SELECT id FROM jobs
           WHERE kind = @kind
             AND ((state = 'pending' AND run_after <= @now) OR (state = 'running' AND lease_until < @now))
             AND ${QUEUE_FILTER}
           ORDER BY priority, run_after, id LIMIT @limit)
         RETURNING *`,
    )
      .all({
        owner: options.owner,
        lease,
        now,
        kind: options.kind,
        limit: options.limit,
        ...queueParams(options.queues),
      })
      .map((r) => fromRow<P>(r))
      .sort((a, b) => a.priority - b.priority || a.id - b.id);
  }

  /**
   * Takes more due jobs to do together with one just claimed (coalescing): those of the same kind whose key
   * starts with `keyPrefix` and whose priority is `maxPriority` or more urgent, under the same owner and lease.
   * A less urgent job never rides along ahead of more urgent work elsewhere.
   */
  claimSiblings<P = unknown>(
    options: Omit<ClaimOptions, "queues"> & { keyPrefix: string; maxPriority: number },
  ): JobRecord<P>[] {
    const now = this.now();
    const lease = iso(new Date(this.clock().getTime() + options.leaseMs));
    return statement<Record<string, unknown>, Row>(
      this.db,
      `UPDATE jobs SET state = 'running', owner = @owner, lease_until = @lease, updated_at = @now
         WHERE id IN (
           SELECT id FROM jobs
           WHERE kind = @kind AND substr(key, 1, length(@prefix)) = @prefix AND priority <= @maxPriority
             AND ((state = 'pending' AND run_after <= @now) OR (state = 'running' AND lease_until < @now))
           ORDER BY priority, run_after, id LIMIT @limit)
         RETURNING *`,
    )
      .all({
        owner: options.owner,
        lease,
        now,
        kind: options.kind,
        prefix: options.keyPrefix,
        maxPriority: options.maxPriority,
        limit: options.limit,
      })
      .map((r) => fromRow<P>(r))
      .sort((a, b) => a.priority - b.priority || a.id - b.id);
  }

  /** Counts an attempt on jobs this owner holds; returns the ids it still holds. */
  startAttempt(ids: readonly number[], owner: string): number[] {
    const update = statement<[string, number, string], { id: number }>(
      this.db,
      `UPDATE jobs SET attempts = attempts + 1, updated_at = ?
       WHERE id = ? AND state = 'running' AND owner = ? RETURNING id`,
    );
    const now = this.now();
    return ids.filter((id) => update.get(now, id, owner) !== undefined);
  }

  /** Gives held jobs back without counting an attempt (nothing was called). */
  release(ids: readonly number[], owner: string, runAfter: string): void {
    const update = statement(
      this.db,
      `UPDATE jobs SET state = 'pending', owner = NULL, lease_until = NULL, run_after = ?, updated_at = ?
       WHERE id = ? AND state = 'running' AND owner = ?`,
    );
    const now = this.now();
    for (const id of ids) update.run(runAfter, now, id, owner);
  }

  /**
   * The job must wait until `runAfter` for a reason that is not its fault (a provider's Retry-After): back in
   * the queue without spending the attempt it started.
   */
  postpone(id: number, owner: string, runAfter: string, reason: string): boolean {
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = 'pending', owner = NULL, lease_until = NULL, run_after = ?, last_error = ?,
             attempts = max(attempts - 1, 0), updated_at = ?
           WHERE id = ? AND state = 'running' AND owner = ?`,
      ).run(runAfter, reason, this.now(), id, owner).changes > 0
    );
  }

  /** An attempt failed and will be tried again at `runAfter`. False when the job is no longer ours. */
  retryLater(id: number, owner: string, runAfter: string, error: string): boolean {
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = 'pending', owner = NULL, lease_until = NULL, run_after = ?, last_error = ?,
             updated_at = ?
           WHERE id = ? AND state = 'running' AND owner = ?`,
      ).run(runAfter, error, this.now(), id, owner).changes > 0
    );
  }

  /** The job is over: `done` with an outcome, or `dead` with the last error. The sealed value is erased. */
  finish(
    id: number,
    owner: string,
    end: { state: "done"; outcome: string } | { state: "dead"; error: string },
  ) {
    const now = this.now();
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = ?, outcome = ?, last_error = coalesce(?, last_error), sealed = NULL,
             owner = NULL, lease_until = NULL, finished_at = ?, updated_at = ?
           WHERE id = ? AND state = 'running' AND owner = ?`,
      ).run(
        end.state,
        end.state === "done" ? end.outcome : null,
        end.state === "dead" ? end.error : null,
        now,
        now,
        id,
        owner,
      ).changes > 0
    );
  }

  /** Stops a job that has not finished; the sealed value is erased. */
  cancel(id: number, reason: string): boolean {
    const now = this.now();
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = 'cancelled', last_error = ?, sealed = NULL, owner = NULL, lease_until = NULL,
             finished_at = ?, updated_at = ?
           WHERE id = ? AND state IN ('pending', 'dead')`,
      ).run(reason, now, now, id).changes > 0
    );
  }

  /** Gives a dead job a fresh set of attempts, with a new sealed value when the old one was erased. */
  rearm(id: number, sealed: Buffer | null): boolean {
    const now = this.now();
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = 'pending', attempts = 0, run_after = ?, sealed = coalesce(?, sealed),
             finished_at = NULL, updated_at = ?
           WHERE id = ? AND state = 'dead'`,
      ).run(now, sealed, now, id).changes > 0
    );
  }

  /** Running jobs of a kind, for finding those whose worker is gone. */
  running(kind: string): Pick<JobRecord, "id" | "owner" | "leaseUntil">[] {
    return statement<[string], { id: number; owner: string | null; lease_until: string | null }>(
      this.db,
      "SELECT id, owner, lease_until FROM jobs WHERE kind = ? AND state = 'running'",
    )
      .all(kind)
      .map((r) => ({ id: r.id, owner: r.owner, leaseUntil: r.lease_until }));
  }

  /** Puts a running job whose worker died back in the queue, due now. */
  requeue(id: number, deadOwner: string): boolean {
    const now = this.now();
    return (
      statement(
        this.db,
        `UPDATE jobs SET state = 'pending', owner = NULL, lease_until = NULL, run_after = ?, updated_at = ?
           WHERE id = ? AND state = 'running' AND owner = ?`,
      ).run(now, now, id, deadOwner).changes > 0
    );
  }

  /** When the earliest pending job of a kind (among some ids, in some queues) is due, if any. */
  nextRunAfter(kind: string, ids?: readonly number[], queues?: QueueFilter): string | undefined {
    const row = statement<Record<string, unknown>, { next: string | null }>(
      this.db,
      `SELECT min(run_after) AS next FROM jobs WHERE kind = @kind AND state = 'pending'
           AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids))) AND ${QUEUE_FILTER}`,
    ).get({ kind, ids: ids ? JSON.stringify(ids) : null, ...queueParams(queues) });
    return row?.next ?? undefined;
  }

  /** How many jobs of a kind are in each state, optionally among some ids or in some queues. */
  counts(kind: string, ids?: readonly number[], queues?: QueueFilter): Record<JobState, number> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const rows = statement<Record<string, unknown>, { state: JobState; n: number }>(
      this.db,
      `SELECT state, count(*) AS n FROM jobs WHERE kind = @kind
           AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids))) AND ${QUEUE_FILTER} GROUP BY state`,
    ).all({ kind, ids: ids ? JSON.stringify(ids) : null, ...queueParams(queues) });
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }
}
