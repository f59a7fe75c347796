// The store: one SQLite database and one object per table. Nothing outside src/store/ writes SQL.
import { userInfo } from "node:os";
import type Database from "better-sqlite3";
import { AuditLog } from "./audit.js";
import { BackfillTable } from "./backfills.js";
import { BreachTable } from "./breaches.js";
import { type Clock, systemClock } from "./clock.js";
import { dbPathFrom, MEMORY, type OpenOptions, openDatabase } from "./database.js";
import { DeliveryTable } from "./deliveries.js";
import { FindingTable } from "./findings.js";
import { Insights } from "./insights.js";
import { JobTable } from "./jobs.js";
import { PullRequestScanTable } from "./pull-requests.js";
import { SecretBox } from "./secret-box.js";
import { TokenTable } from "./tokens.js";
import { ValidationTable } from "./validations.js";

export interface StoreOptions extends OpenOptions {
  /** The database file; default LEAKWARDEN_DB, else .leakwarden/leakwarden.db. `:memory:` for a throwaway. */
  path?: string;
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
  /** Seals the values that queued jobs need (see secret-box.ts). */
  readonly box: SecretBox;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly clock: Clock,
    actor: string,
    box: SecretBox,
  ) {
    this.tokens = new TokenTable(db, clock);
    this.findings = new FindingTable(db, clock);
    this.jobs = new JobTable(db, clock);
    this.audit = new AuditLog(db, clock, actor);
    this.deliveries = new DeliveryTable(db, clock);
    this.breaches = new BreachTable(db, clock);
    this.backfills = new BackfillTable(db, clock);
    this.pullRequests = new PullRequestScanTable(db, clock);
    this.validations = new ValidationTable(db, clock);
    this.insights = new Insights(db);
    this.box = box;
  }

  /** Runs `fn` in one write transaction, taken at once so that concurrent writers queue instead of deadlocking. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (!this.db.open) return;
    try {
      // Keeps the query planner's statistics current; cheap, and SQLite's advice for every closing connection.
      this.db.pragma("optimize");
    } catch {
      // A busy database is no reason to fail a command that has done its work.
    }
    this.db.close();
  }
}

export function openStore(options: StoreOptions = {}): Store {
  const env = options.env ?? process.env;
  const path = options.path ?? dbPathFrom(env);
  const db = openDatabase(path, options);
  return new Store(
    db,
    path,
    options.clock ?? systemClock,
    options.actor ?? defaultActor(env),
    SecretBox.forDatabase(path, env),
  );
}

export { MEMORY };
