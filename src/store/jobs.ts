// The `jobs` table: a durable queue. A job is a row before anything runs; its unique key makes enqueueing
// idempotent; a worker claims it with a lease, so that a job whose worker died can be taken over.
// Job payloads are plain JSON and never hold a secret; a value that a job needs travels in `sealed`,
// encrypted (see secret-box.ts), and is erased when the job ends.
import { type ExpressionBuilder, type Selectable, type SelectQueryBuilder, sql } from "kysely";
import { type Clock, iso } from "./clock.js";
import type { EngineName } from "./dialect.js";
import { changed, count, type Executor, IN_SLICE } from "./executor.js";
import { type JobSignals, type JobWake, notifyCall, notifyJobs, payloadOf } from "./job-events.js";
import type { JobsTable, Tables } from "./schema.js";

export const JOB_STATES = ["pending", "running", "done", "dead", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** How a job's last attempt ended it: done with an outcome, dead with the last error, cancelled with the reason. */
export type JobEnd =
  | { state: "done"; outcome: string }
  | { state: "dead"; error: string }
  | { state: "cancelled"; reason: string };

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
  /**
   * Written as running under this owner, its first attempt counted: the worker that queued it calls it at once
   * (a revocation handed off by the scan that found the token). Its lease brings it back should that worker die.
   */
  startedBy?: { owner: string; leaseUntil: string };
}

type Row = Selectable<JobsTable>;

/** The row a new job is written as: pending and due at `now` unless it says later, or started by its owner. */
export function newJobRow<P>(job: NewJob<P>, now: string) {
  const started = job.startedBy;
  return {
    kind: job.kind,
    key: job.key,
    priority: job.priority ?? PRIORITY.live,
    queue: job.queue,
    payload: JSON.stringify(job.payload),
    sealed: job.sealed ?? null,
    state: started ? "running" : "pending",
    owner: started?.owner ?? null,
    lease_until: started?.leaseUntil ?? null,
    attempts: started ? 1 : 0,
    max_attempts: job.maxAttempts,
    run_after: job.runAfter ?? now,
    created_at: now,
    updated_at: now,
  };
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
    state: row.state as JobState,
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
  /** Leaves alone the jobs whose key starts with one of these (a repository another replica is scanning). */
  skipKeyPrefixes?: readonly string[];
  /**
   * Counts an attempt for each job in the claim itself (as startAttempt would): for a worker that starts every
   * job it claims, a statement fewer per job. The records returned still say the attempts before this one.
   */
  startAttempts?: boolean;
}

type JobsWhere = ExpressionBuilder<Tables, "jobs">;

/** The partitions a filter allows, as a condition. */
function inQueues(eb: JobsWhere, filter: QueueFilter = {}) {
  const conditions = [];
  if (filter.only) conditions.push(filter.only.length > 0 ? eb("queue", "in", filter.only) : eb.lit(false));
  if (filter.except && filter.except.length > 0) conditions.push(eb("queue", "not in", filter.except));
  return eb.and(conditions);
}

/** Keys that start with none of `prefixes`, as a condition. */
function notUnder(eb: JobsWhere, prefixes: readonly string[] = []) {
  return eb.and(prefixes.map((prefix) => eb(sql<string>`substr(key, 1, ${prefix.length})`, "<>", prefix)));
}

function amongIds(eb: JobsWhere, ids?: readonly number[]) {
  if (ids === undefined) return eb.and([]);
  return ids.length > 0 ? eb("id", "in", ids) : eb.lit(false);
}

/** Due: pending and its time has come, or running with a lease that ran out (its worker died). */
function isDue(eb: JobsWhere, now: string) {
  return eb.or([
    eb.and([eb("state", "=", "pending"), eb("run_after", "<=", now)]),
    eb.and([eb("state", "=", "running"), eb("lease_until", "<", now)]),
  ]);
}

/** The selection of due job ids that a claim narrows. */
type DueQuery = SelectQueryBuilder<Tables, "jobs", { id: number }>;

/** Jobs per INSERT: both engines cap the parameters of one statement. */
const INSERT_SLICE = 200;

export class JobTable {
  /** Kinds this transaction will notify at commit → the key when it queued one job of that kind. */
  private readonly notified = new Map<string, string | undefined>();

  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
    private readonly engine: EngineName = "sqlite",
    private readonly signals?: JobSignals,
  ) {}

  private now(): string {
    return iso(this.clock());
  }

  /**
   * Tells idle workers on every replica that jobs are due (PostgreSQL; delivered when the write commits). Writes
   * that put a job off to a later time (retryLater, postpone) do not: the worker that wrote them wakes for them.
   */
  private async wake(kind: string, key?: string): Promise<void> {
    if (this.engine !== "postgres") return;
    // In a transaction, every kind is notified in one statement just before it commits (Store.transaction).
    if (this.db.isTransaction) {
      // A second job of the kind, or a wake without a key: the wake is for the whole kind.
      this.notified.set(kind, this.notified.has(kind) && this.notified.get(kind) !== key ? undefined : key);
      return;
    }
    const wake = key === undefined ? { kind } : { kind, key };
    await notifyJobs(this.db, [wake]);
    this.signals?.wake([wake]);
  }

  /**
   * Queues one job and, if it is new, notifies every replica in the same statement: outside a transaction, a
   * separate notification would be a second round trip (alerts and comments are queued one at a time).
   */
  private async insertNotifying<P>(job: NewJob<P>, now: string): Promise<Row[]> {
    const wake = { kind: job.kind, key: job.key };
    const rows = await this.db
      .with("queued", (db) =>
        db
          .insertInto("jobs")
          .values(newJobRow(job, now))
          .onConflict((oc) => oc.column("key").doNothing())
          .returningAll(),
      )
      .with("woken", (db) => db.selectFrom("queued").select(notifyCall(payloadOf(wake)).as("sent")))
      .selectFrom("queued")
      .selectAll("queued")
      .select((eb) => eb.selectFrom("woken").select(eb.fn.countAll().as("n")).as("woken"))
      .execute();
    if (rows.length > 0) this.signals?.wake([wake]);
    return rows;
  }

  /** What this transaction has to notify, once per kind: Store.transaction sends it before it commits. */
  takeNotified(): JobWake[] {
    const wakes = [...this.notified].map(([kind, key]) => (key === undefined ? { kind } : { kind, key }));
    this.notified.clear();
    return wakes;
  }

  /**
   * Adds a job unless one with the same key exists; either way returns the job that holds the key. A waiting
   * job asked for again with a more urgent priority takes that priority (a push finds what a backfill queued).
   */
  async enqueue<P>(job: NewJob<P>): Promise<{ job: JobRecord<P>; created: boolean }> {
    return (await this.enqueueMany([job]))[0] as { job: JobRecord<P>; created: boolean };
  }

  /**
   * `enqueue` for several jobs, in order, with one INSERT for those whose key is new (a batch of pushes queues
   * its revocations and reports in a round trip, not one each). A key given twice is one job.
   */
  async enqueueMany<P>(jobs: readonly NewJob<P>[]): Promise<{ job: JobRecord<P>; created: boolean }[]> {
    const now = this.now();
    const first = new Map<string, NewJob<P>>();
    for (const job of jobs) if (!first.has(job.key)) first.set(job.key, job);
    const inserted = new Map<string, JobRecord<P>>();
    const unique = [...first.values()];
    const [only] = unique;
    // One job outside a transaction on PostgreSQL: queued and notified in one statement.
    const notifying =
      only !== undefined && unique.length === 1 && this.engine === "postgres" && !this.db.isTransaction;
    for (let i = 0; i < unique.length; i += INSERT_SLICE) {
      const rows = notifying
        ? await this.insertNotifying(only, now)
        : await this.db
            .insertInto("jobs")
            .values(unique.slice(i, i + INSERT_SLICE).map((job) => newJobRow(job, now)))
            .onConflict((oc) => oc.column("key").doNothing())
            .returningAll()
            .execute();
      for (const row of rows) inserted.set(row.key, fromRow<P>(row));
    }
    // Per kind, the key of the one job queued, or undefined for several. A job written as started is its
    // owner's to run: nobody else needs waking for it.
    const kinds = new Map<string, string | undefined>();
    for (const j of inserted.values())
      if (j.state === "pending") kinds.set(j.kind, kinds.has(j.kind) ? undefined : j.key);
    if (!notifying) for (const [kind, key] of kinds) await this.wake(kind, key);
    const held = new Map<string, JobRecord<P>>();
    for (const job of unique) if (!inserted.has(job.key)) held.set(job.key, await this.moreUrgent(job));
    const given = new Set<string>();
    return jobs.map((job) => {
      const created = inserted.get(job.key);
      const out =
        created && !given.has(job.key)
          ? { job: created, created: true }
          : { job: (created ?? held.get(job.key)) as JobRecord<P>, created: false };
      given.add(job.key);
      return out;
    });
  }

  /** The job that already holds this key, moved up to the new job's priority when that is more urgent. */
  private async moreUrgent<P>(job: NewJob<P>): Promise<JobRecord<P>> {
    const priority = job.priority ?? PRIORITY.live;
    const row = await this.db
      .updateTable("jobs")
      .set({ priority })
      .where("key", "=", job.key)
      .where("state", "=", "pending")
      .where("priority", ">", priority)
      .returningAll()
      .executeTakeFirst();
    if (row) await this.wake(job.kind, job.key);
    return row ? fromRow<P>(row) : ((await this.byKey<P>(job.key)) as JobRecord<P>);
  }

  async byId<P = unknown>(id: number): Promise<JobRecord<P> | undefined> {
    const row = await this.db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
    return row && fromRow<P>(row);
  }

  async byKey<P = unknown>(key: string): Promise<JobRecord<P> | undefined> {
    const row = await this.db.selectFrom("jobs").selectAll().where("key", "=", key).executeTakeFirst();
    return row && fromRow<P>(row);
  }

  /** The jobs that hold these keys, by key. */
  async byKeys<P = unknown>(keys: readonly string[]): Promise<Map<string, JobRecord<P>>> {
    const out = new Map<string, JobRecord<P>>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom("jobs")
        .selectAll()
        .where("key", "in", unique.slice(i, i + 500))
        .execute();
      for (const row of rows) out.set(row.key, fromRow<P>(row));
    }
    return out;
  }

  async list<P = unknown>(filter: { kind?: string; state?: JobState } = {}): Promise<JobRecord<P>[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .selectAll()
      .$if(filter.kind !== undefined, (q) => q.where("kind", "=", filter.kind as string))
      .$if(filter.state !== undefined, (q) => q.where("state", "=", filter.state as string))
      .orderBy("id")
      .execute();
    return rows.map((r) => fromRow<P>(r));
  }

  /**
   * Takes due jobs, most urgent priority first: pending ones whose time has come, and running ones whose lease
   * ran out (their worker died). One UPDATE, so two workers never take the same job; on PostgreSQL the rows are
   * locked with SKIP LOCKED, so that replicas claiming at once take different jobs instead of waiting.
   */
  async claim<P = unknown>(options: ClaimOptions): Promise<JobRecord<P>[]> {
    return this.claimDue<P>(options, (q) =>
      q.where((w) => inQueues(w, options.queues)).where((w) => notUnder(w, options.skipKeyPrefixes)),
    );
  }

  /**
   * Takes more due jobs to do together with one just claimed (coalescing): those of the same kind whose key
   * starts with `keyPrefix` and whose priority is `maxPriority` or more urgent, under the same owner and lease.
   * A less urgent job never rides along ahead of more urgent work elsewhere.
   */
  async claimSiblings<P = unknown>(
    options: Omit<ClaimOptions, "queues" | "skipKeyPrefixes"> & { keyPrefix: string; maxPriority: number },
  ): Promise<JobRecord<P>[]> {
    return this.claimDue<P>(options, (q) =>
      q
        .where(sql<string>`substr(key, 1, ${options.keyPrefix.length})`, "=", options.keyPrefix)
        .where("priority", "<=", options.maxPriority),
    );
  }

  /** Claims due jobs of a kind (pending and due, or with an expired lease) that `narrow` keeps, most urgent first. */
  private async claimDue<P>(
    options: Omit<ClaimOptions, "queues" | "skipKeyPrefixes">,
    narrow: (q: DueQuery) => DueQuery,
  ): Promise<JobRecord<P>[]> {
    const now = this.now();
    const lease = iso(new Date(this.clock().getTime() + options.leaseMs));
    const rows = await this.db
      .updateTable("jobs")
      .set((eb) => ({
        state: "running",
        owner: options.owner,
        lease_until: lease,
        updated_at: now,
        ...(options.startAttempts ? { attempts: eb("attempts", "+", 1) } : {}),
      }))
      .where("id", "in", (eb) =>
        narrow(
          eb
            .selectFrom("jobs")
            .select("id")
            .where("kind", "=", options.kind)
            .where((w) => isDue(w, now)),
        )
          .orderBy("priority")
          .orderBy("run_after")
          .orderBy("id")
          .limit(options.limit)
          .$if(this.engine === "postgres", (q) => q.forUpdate().skipLocked()),
      )
      .returningAll()
      .execute();
    const before = options.startAttempts ? 1 : 0;
    return rows
      .map((r) => fromRow<P>({ ...r, attempts: r.attempts - before }))
      .sort((a, b) => a.priority - b.priority || a.id - b.id);
  }

  /** The partitions that hold due jobs of a kind: a worker claims only from those, not from every one. */
  async dueQueues(kind: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("jobs")
      .select("queue")
      .distinct()
      .where("kind", "=", kind)
      .where((w) => isDue(w, this.now()))
      .execute();
    return new Set(rows.map((r) => r.queue));
  }

  /** Counts an attempt on jobs this owner holds; returns the ids it still holds. */
  async startAttempt(ids: readonly number[], owner: string): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .updateTable("jobs")
      .set((eb) => ({ attempts: eb("attempts", "+", 1), updated_at: this.now() }))
      .where("id", "in", ids)
      .where("state", "=", "running")
      .where("owner", "=", owner)
      .returning("id")
      .execute();
    const held = new Set(rows.map((r) => r.id));
    return ids.filter((id) => held.has(id));
  }

  /**
   * Gives held jobs back without counting an attempt (nothing was called). Only jobs given back due now wake
   * workers, and only those of their kind: one put off to later is the writer's to wake for, as with retryLater.
   */
  async release(ids: readonly number[], owner: string, runAfter: string): Promise<void> {
    if (ids.length === 0) return;
    const now = this.now();
    const released = await this.db
      .updateTable("jobs")
      .set({ state: "pending", owner: null, lease_until: null, run_after: runAfter, updated_at: now })
      .where("id", "in", ids)
      .where("state", "=", "running")
      .where("owner", "=", owner)
      .returning("kind")
      .execute();
    if (runAfter > now) return;
    for (const kind of new Set(released.map((r) => r.kind))) await this.wake(kind);
  }

  /**
   * The job must wait until `runAfter` for a reason that is not its fault (a provider's Retry-After): back in
   * the queue without spending the attempt it started.
   */
  async postpone(id: number, owner: string, runAfter: string, reason: string): Promise<boolean> {
    const moved = changed(
      await this.db
        .updateTable("jobs")
        .set((eb) => ({
          state: "pending",
          owner: null,
          lease_until: null,
          run_after: runAfter,
          last_error: reason,
          attempts: eb
            .case()
            .when("attempts", ">", 0)
            .then(eb("attempts", "-", 1))
            .else(0)
            .end(),
          updated_at: this.now(),
        }))
        .where("id", "=", id)
        .where("state", "=", "running")
        .where("owner", "=", owner)
        .executeTakeFirst(),
    );
    return moved;
  }

  /** An attempt failed and will be tried again at `runAfter`. False when the job is no longer ours. */
  async retryLater(id: number, owner: string, runAfter: string, error: string): Promise<boolean> {
    const moved = changed(
      await this.db
        .updateTable("jobs")
        .set({
          state: "pending",
          owner: null,
          lease_until: null,
          run_after: runAfter,
          last_error: error,
          updated_at: this.now(),
        })
        .where("id", "=", id)
        .where("state", "=", "running")
        .where("owner", "=", owner)
        .executeTakeFirst(),
    );
    return moved;
  }

  /**
   * The job is over: `done` with an outcome, `dead` with the last error, or `cancelled` with the reason. The
   * sealed value is erased.
   */
  async finish(id: number, owner: string, end: JobEnd): Promise<boolean> {
    return (await this.finishAll([id], owner, end)).length > 0;
  }

  /** `finish` for several jobs that ended alike, in one statement (per slice); returns the ids this owner held. */
  async finishAll(ids: readonly number[], owner: string, end: JobEnd): Promise<number[]> {
    const now = this.now();
    const finished: number[] = [];
    for (let i = 0; i < ids.length; i += IN_SLICE) {
      const rows = await this.db
        .updateTable("jobs")
        .set({
          state: end.state,
          outcome: end.state === "done" ? end.outcome : null,
          ...(end.state === "dead" ? { last_error: end.error } : {}),
          ...(end.state === "cancelled" ? { last_error: end.reason } : {}),
          sealed: null,
          owner: null,
          lease_until: null,
          finished_at: now,
          updated_at: now,
        })
        .where("id", "in", ids.slice(i, i + IN_SLICE))
        .where("state", "=", "running")
        .where("owner", "=", owner)
        .returning("id")
        .execute();
      finished.push(...rows.map((r) => r.id));
    }
    return finished;
  }

  /** Stops a job that has not finished; the sealed value is erased. */
  async cancel(id: number, reason: string): Promise<boolean> {
    return changed(
      await this.db
        .updateTable("jobs")
        .set(cancelled(reason, this.now()))
        .where("id", "=", id)
        .where("state", "in", ["pending", "dead"])
        .executeTakeFirst(),
    );
  }

  /**
   * Cancels the unfinished jobs of a kind (some ids, or a whole queue), running ones included: a running job's
   * worker learns it at its own next checkpoint, and its later writes (finish, retry) then change nothing, as
   * for any job it no longer holds. Returns the ids cancelled.
   */
  async cancelUnfinished(
    filter: { kind: string; ids?: readonly number[]; queue?: string },
    reason: string,
  ): Promise<number[]> {
    if (filter.ids === undefined && filter.queue === undefined) throw new Error("name the jobs to cancel");
    const rows = await this.db
      .updateTable("jobs")
      .set(cancelled(reason, this.now()))
      .where("kind", "=", filter.kind)
      .where("state", "in", ["pending", "running"])
      .where((eb) => amongIds(eb, filter.ids))
      .$if(filter.queue !== undefined, (q) => q.where("queue", "=", filter.queue as string))
      .returning("id")
      .execute();
    return rows.map((r) => r.id);
  }

  /** Gives a dead job a fresh set of attempts, with a new sealed value when the old one was erased. */
  async rearm(id: number, sealed: Buffer | null): Promise<boolean> {
    const now = this.now();
    const moved = changed(
      await this.db
        .updateTable("jobs")
        .set({
          state: "pending",
          attempts: 0,
          run_after: now,
          ...(sealed ? { sealed } : {}),
          finished_at: null,
          updated_at: now,
        })
        .where("id", "=", id)
        .where("state", "=", "dead")
        .executeTakeFirst(),
    );
    if (moved) await this.wake("*");
    return moved;
  }

  /** Running jobs of a kind, for finding those whose worker is gone. */
  async running(kind: string): Promise<Pick<JobRecord, "id" | "owner" | "leaseUntil">[]> {
    const rows = await this.db
      .selectFrom("jobs")
      .select(["id", "owner", "lease_until"])
      .where("kind", "=", kind)
      .where("state", "=", "running")
      .execute();
    return rows.map((r) => ({ id: r.id, owner: r.owner, leaseUntil: r.lease_until }));
  }

  /** Puts a running job whose worker died back in the queue, due now. */
  async requeue(id: number, deadOwner: string): Promise<boolean> {
    const now = this.now();
    const moved = changed(
      await this.db
        .updateTable("jobs")
        .set({ state: "pending", owner: null, lease_until: null, run_after: now, updated_at: now })
        .where("id", "=", id)
        .where("state", "=", "running")
        .where("owner", "=", deadOwner)
        .executeTakeFirst(),
    );
    if (moved) await this.wake("*");
    return moved;
  }

  /** When the earliest pending job of a kind (among some ids, in some queues) is due, if any. */
  async nextRunAfter(
    kind: string,
    ids?: readonly number[],
    queues?: QueueFilter,
    skipKeyPrefixes?: readonly string[],
  ): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.min("run_after").as("next"))
      .where("kind", "=", kind)
      .where("state", "=", "pending")
      .where((eb) => amongIds(eb, ids))
      .where((eb) => inQueues(eb, queues))
      .where((eb) => notUnder(eb, skipKeyPrefixes))
      .executeTakeFirst();
    return row?.next ?? undefined;
  }

  /**
   * When a worker of this kind should next look: the earliest pending job's time, or the earliest lease that
   * runs out (a worker that died, on this replica or another, leaves its jobs to be taken over then). Pending
   * jobs under `skipKeyPrefixes` (left to a batch that is running) do not count.
   */
  async nextWake(
    kind: string,
    queues?: QueueFilter,
    skipKeyPrefixes?: readonly string[],
  ): Promise<string | undefined> {
    // Both times in one statement (each idle look at the queue is a round trip on PostgreSQL), each an index seek.
    const row = await this.db
      .selectNoFrom((eb) => [
        eb
          .selectFrom("jobs")
          .select((s) => s.fn.min("run_after").as("next"))
          .where("kind", "=", kind)
          .where("state", "=", "pending")
          .where((w) => inQueues(w, queues))
          .where((w) => notUnder(w, skipKeyPrefixes))
          .as("due"),
        eb
          .selectFrom("jobs")
          .select((s) => s.fn.min("lease_until").as("next"))
          .where("kind", "=", kind)
          .where("state", "=", "running")
          .where((w) => inQueues(w, queues))
          .as("expires"),
      ])
      .executeTakeFirst();
    const due = row?.due ?? undefined;
    const expires = row?.expires ?? undefined;
    if (due === undefined) return expires;
    return expires !== undefined && expires < due ? expires : due;
  }

  /** How many jobs of a kind are in each state, optionally among some ids or in some queues. */
  async counts(
    kind: string,
    ids?: readonly number[],
    queues?: QueueFilter,
  ): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const rows = await this.db
      .selectFrom("jobs")
      .select((eb) => ["state", eb.fn.countAll().as("n")])
      .where("kind", "=", kind)
      .where((eb) => amongIds(eb, ids))
      .where((eb) => inQueues(eb, queues))
      .groupBy("state")
      .execute();
    for (const row of rows) counts[row.state as JobState] = count(row.n as number | string);
    return counts;
  }
}

/** The columns of a cancelled job: done now, held by no one, its sealed value erased. */
function cancelled(reason: string, now: string) {
  return {
    state: "cancelled" as const,
    last_error: reason,
    sealed: null,
    owner: null,
    lease_until: null,
    finished_at: now,
    updated_at: now,
  };
}
