// The store: one database and one object per table, on SQLite (the embedded default) or PostgreSQL (several
// replicas). Every method is async; nothing outside src/store/ writes SQL or knows the engine.
import { userInfo } from "node:os";
import type Database from "better-sqlite3";
import { sql } from "kysely";
import type pg from "pg";
import { acceptInOneStatement, type Delivery, type DeliveryOutcome } from "./accept-delivery.js";
import { AuditLog } from "./audit.js";
import { BackfillTable } from "./backfills.js";
import { BreachTable } from "./breaches.js";
import { type Clock, systemClock } from "./clock.js";
import { MEMORY, type OpenOptions, openDatabase } from "./database.js";
import { DeliveryTable } from "./deliveries.js";
import type { EngineName } from "./dialect.js";
import type { Executor } from "./executor.js";
import { FindingTable } from "./findings.js";
import { Insights } from "./insights.js";
import {
  type JobListener,
  JobSignals,
  type JobWake,
  listenForJobs,
  notifyJobs,
  type WakeListener,
} from "./job-events.js";
import { JobTable, type NewJob } from "./jobs.js";
import { Locks } from "./locks.js";
import { MIGRATIONS } from "./migrations.js";
import { createPool, migratePostgres, postgresKysely, warmUp } from "./postgres.js";
import { PullRequestScanTable } from "./pull-requests.js";
import { SecretBox } from "./secret-box.js";
import { sqliteKysely } from "./sqlite.js";
import { type DatabaseTarget, describeTarget, targetFrom } from "./target.js";
import { TokenTable } from "./tokens.js";
import { ValidationTable } from "./validations.js";
import { WritePaceTable } from "./write-pace.js";

export interface StoreOptions extends OpenOptions {
  /** A SQLite file (wins over LEAKWARDEN_DATABASE_URL); `:memory:` for a throwaway. */
  path?: string;
  /** A PostgreSQL URL; default LEAKWARDEN_DATABASE_URL. Without either, the SQLite file at LEAKWARDEN_DB. */
  url?: string;
  /** PostgreSQL: work in this schema (created when missing). */
  schema?: string;
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: open the pool's connections now and keep them open while idle (a long-running App). Otherwise
   * an idle connection closes after 10 s, and the first burst after a quiet spell waits for new ones: each
   * takes a server process, 40–100 ms on a busy machine, on the way to a revocation.
   */
  warmPool?: boolean;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Who the audit log names for this process's actions: LEAKWARDEN_ACTOR, else the OS user. */
  actor?: string;
}

export function defaultActor(env: NodeJS.ProcessEnv): string {
  if (env.LEAKWARDEN_ACTOR) return env.LEAKWARDEN_ACTOR;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** What a store was opened on; shared by the store and every transaction-scoped store made from it. */
export interface StoreContext {
  engine: EngineName;
  /** The SQLite file, or the PostgreSQL URL without its password. */
  path: string;
  clock: Clock;
  actor: string;
  box: SecretBox;
  /** The SQLite connection (tests, pragmas); undefined on PostgreSQL. */
  sqlite?: Database.Database;
  /** The PostgreSQL pool (LISTEN connections, advisory locks); undefined on SQLite. */
  pool?: pg.Pool;
  /** This process's own job notifications (PostgreSQL). */
  signals?: JobSignals;
  /** Locks across every process on the database. */
  locks: Locks;
  /** Releases the engine's connections once the query builder is destroyed. */
  release: () => Promise<void> | void;
}

export class Store {
  readonly tokens: TokenTable;
  readonly findings: FindingTable;
  readonly jobs: JobTable;
  readonly audit: AuditLog;
  /** The GitHub App's tables. */
  readonly deliveries: DeliveryTable;
  readonly breaches: BreachTable;
  /** Backfill progress per repository, and the latest scan of each pull request. */
  readonly backfills: BackfillTable;
  readonly pullRequests: PullRequestScanTable;
  /** Live-check verdicts by token hash. */
  readonly validations: ValidationTable;
  /** Summaries for the console. */
  readonly insights: Insights;
  /** GitHub's write pace per installation queue, shared by every replica. */
  readonly writePace: WritePaceTable;
  /** What to do once this transaction has ended: committed, or rolled back. */
  private readonly endings: { committed(): void; rolledBack(): void }[] = [];

  constructor(
    readonly db: Executor,
    private readonly context: StoreContext,
  ) {
    const { clock } = context;
    this.tokens = new TokenTable(db, clock);
    this.findings = new FindingTable(db, clock);
    this.jobs = new JobTable(db, clock, context.engine, context.signals);
    this.audit = new AuditLog(db, clock, context.actor);
    this.deliveries = new DeliveryTable(db, clock);
    this.breaches = new BreachTable(db, clock);
    this.backfills = new BackfillTable(db, clock);
    this.pullRequests = new PullRequestScanTable(db, clock);
    this.validations = new ValidationTable(db, clock);
    this.insights = new Insights(db);
    this.writePace = new WritePaceTable(db, clock, context.engine);
  }

  get engine(): EngineName {
    return this.context.engine;
  }

  get path(): string {
    return this.context.path;
  }

  get clock(): Clock {
    return this.context.clock;
  }

  /** Seals the values that queued jobs need (see secret-box.ts). */
  get box(): SecretBox {
    return this.context.box;
  }

  /** The SQLite connection, for tests and pragmas; undefined on PostgreSQL. */
  get sqlite(): Database.Database | undefined {
    return this.context.sqlite;
  }

  /** The PostgreSQL pool; undefined on SQLite. */
  get pool(): pg.Pool | undefined {
    return this.context.pool;
  }

  /**
   * Inside a transaction: waits for the named lock, held until the transaction ends, across every replica.
   * On SQLite the transaction's write lock already serialises every writer.
   */
  async lockForTransaction(name: string): Promise<void> {
    if (!this.db.isTransaction) throw new Error("lockForTransaction needs a transaction's store");
    if (this.engine === "postgres")
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`leakwarden.${name}`}))`.execute(this.db);
  }

  /** The schema version the database is at (PRAGMA user_version, or schema_migrations). */
  async schemaVersion(): Promise<number> {
    if (this.context.sqlite) return this.context.sqlite.pragma("user_version", { simple: true }) as number;
    const row = await sql<{
      version: number | null;
    }>`SELECT max(version) AS version FROM schema_migrations`.execute(this.db);
    return row.rows[0]?.version ?? 0;
  }

  /** Named locks across every replica on this database (see locks.ts). */
  get locks(): Locks {
    return this.context.locks;
  }

  /**
   * Calls `wake(kind, key)` when a job is queued or freed ("*": any kind; the key when it was one job).
   * PostgreSQL only: on SQLite one App process wakes its own stages, and this returns undefined.
   */
  async listenForJobs(
    wake: WakeListener,
    onError?: (error: Error) => void,
  ): Promise<JobListener | undefined> {
    const { pool, signals } = this.context;
    return pool && signals ? listenForJobs(pool, signals, wake, onError) : undefined;
  }

  /**
   * Runs `fn` in one transaction with a store bound to it: use `tx`, not this store, inside (on SQLite this
   * store waits for the transaction to end). On SQLite the write lock is taken at once, so that concurrent
   * writers queue instead of deadlocking. Inside a transaction, a nested call joins it.
   */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    let wakes: JobWake[] = [];
    let tx: Store | undefined;
    let result: T;
    try {
      result = await this.db.transaction().execute(async (trx) => {
        tx = new Store(trx, this.context);
        const out = await fn(tx);
        // The jobs it queued or freed, told to every replica with the commit, and delivered by it.
        wakes = tx.jobs.takeNotified();
        await notifyJobs(trx, wakes);
        return out;
      });
    } catch (error) {
      for (const ending of tx?.endings ?? []) ending.rolledBack();
      throw error;
    }
    this.context.signals?.wake(wakes);
    for (const ending of tx?.endings ?? []) ending.committed();
    return result;
  }

  /**
   * Inside a transaction: runs `committed` once it has committed, or `rolledBack` if it fails (work that may
   * only start once the writes are visible to every replica).
   */
  whenEnded(committed: () => void, rolledBack: () => void): void {
    if (!this.db.isTransaction) throw new Error("whenEnded needs a transaction's store");
    this.endings.push({ committed, rolledBack });
  }

  /**
   * Queues the job a webhook delivery brings and records the delivery with the job's id, in a transaction of its
   * own: the job first, so that the delivery is written once (a round trip fewer than recording it, queueing and
   * linking the two). A redelivery, whichever replica saw the first, rolls the job back and queues nothing. On
   * PostgreSQL, the same in one statement (accept-delivery.ts).
   */
  async acceptDelivery<P>(delivery: Delivery, job: NewJob<P>): Promise<DeliveryOutcome> {
    if (this.db.isTransaction) throw new Error("acceptDelivery runs in a transaction of its own");
    if (this.engine === "postgres") {
      const { outcome, wake } = await acceptInOneStatement(this.db, this.clock, delivery, job);
      if (wake) this.context.signals?.wake([wake]);
      return outcome;
    }
    try {
      return await this.transaction(async (tx) => {
        const queued = await tx.jobs.enqueue(job);
        if (!(await tx.deliveries.record(delivery.id, delivery.event, delivery.repository, queued.job.id)))
          throw new Redelivery();
        return queued.created ? "queued" : "already-queued";
      });
    } catch (error) {
      if (error instanceof Redelivery) return "duplicate-delivery";
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.db.isTransaction) throw new Error("a transaction's store is closed by its transaction");
    await this.db.destroy();
    // Kysely only closes a driver it used: a store opened and closed without a query closes here.
    await this.context.release();
  }
}

/** Thrown inside acceptDelivery's transaction to roll back the job a redelivery would have queued. */
class Redelivery extends Error {}

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const env = options.env ?? process.env;
  const target = targetFrom({ path: options.path, url: options.url, schema: options.schema, env });
  if (target.engine === "postgres") return openPostgresStore(target, options, env);
  const path = target.path;
  const sqlite = openDatabase(path, options);
  const close = () => {
    if (!sqlite.open) return;
    try {
      // Keeps the query planner's statistics current; cheap, and SQLite's advice for every closing connection.
      sqlite.pragma("optimize");
    } catch {
      // A busy database is no reason to fail a command that has done its work.
    }
    sqlite.close();
  };
  return new Store(sqliteKysely(sqlite, close), {
    engine: "sqlite",
    path,
    clock: options.clock ?? systemClock,
    actor: options.actor ?? defaultActor(env),
    box: SecretBox.forDatabase(path, env),
    sqlite,
    locks: new Locks(undefined),
    release: close,
  });
}

/** Several replicas on one PostgreSQL database: the schema migrated under a lock, one key for sealed values. */
async function openPostgresStore(
  target: Extract<DatabaseTarget, { engine: "postgres" }>,
  options: StoreOptions,
  env: NodeJS.ProcessEnv,
): Promise<Store> {
  // Refused before anything connects: a replica without the shared key could not open what others sealed.
  const box = SecretBox.forSharedDatabase(env);
  const pool = createPool(target.url, {
    max: options.poolSize,
    schema: target.schema,
    keepIdle: options.warmPool === true,
  });
  const signals = new JobSignals();
  signals.track(pool);
  try {
    await migratePostgres(pool, options.migrations ?? MIGRATIONS, { schema: target.schema });
    if (options.warmPool) await warmUp(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new Store(postgresKysely(pool), {
    engine: "postgres",
    path: describeTarget(target),
    clock: options.clock ?? systemClock,
    actor: options.actor ?? defaultActor(env),
    box,
    pool,
    signals,
    locks: new Locks(pool),
    release: async () => {
      // Kysely ends the pool when it used it; ending it twice is an error.
      if (!(pool as { ended?: boolean }).ended) await pool.end();
    },
  });
}

export type { Delivery, DeliveryOutcome };
export { MEMORY };
