// The `backfills` table: how far each repository's backfill got (queued, running, done, failed, cancelled;
// commits scanned and findings), for /healthz and the console. Counts only: a backfill's findings are in
// `findings`. Cancelled is final: the worker of a running backfill reads it at its next checkpoint and stops.
import type { Selectable } from "kysely";
import { type Clock, iso } from "./clock.js";
import { changed, count, type Executor } from "./executor.js";
import type { BackfillsTable } from "./schema.js";

export const BACKFILL_STATES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type BackfillState = (typeof BACKFILL_STATES)[number];

export interface BackfillRecord {
  jobId: number;
  repository: string;
  installation: number | null;
  state: BackfillState;
  commits: number;
  findings: number;
  updatedAt: string;
}

function fromRow(row: Selectable<BackfillsTable>): BackfillRecord {
  return {
    jobId: Number(row.job_id),
    repository: row.repository,
    installation: row.installation === null ? null : Number(row.installation),
    state: row.state,
    commits: Number(row.commits),
    findings: Number(row.findings),
    updatedAt: row.updated_at,
  };
}

export class BackfillTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  /** Records a queued backfill; nothing when its job already has a row. */
  async queued(jobId: number, repository: string, installation: number | null): Promise<void> {
    await this.db
      .insertInto("backfills")
      .values({ job_id: jobId, repository, installation, state: "queued", updated_at: iso(this.clock()) })
      .onConflict((oc) => oc.column("job_id").doNothing())
      .execute();
  }

  /**
   * A new state and, when given, counts; a retry going back to `running` starts its counts again. A cancelled
   * backfill keeps its state (and the counts it reached): false then, which tells its worker to stop.
   */
  async update(
    jobId: number,
    state: Exclude<BackfillState, "cancelled">,
    counts: { commits?: number; findings?: number } = {},
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("backfills")
      .set({
        state,
        updated_at: iso(this.clock()),
        ...(counts.commits !== undefined ? { commits: counts.commits } : {}),
        ...(counts.findings !== undefined ? { findings: counts.findings } : {}),
      })
      .where("job_id", "=", jobId)
      .where("state", "!=", "cancelled")
      .executeTakeFirst();
    return changed(result);
  }

  /**
   * Cancels the backfills of an installation that have not finished: all of them, or those of some
   * repositories. A backfill queued by hand without an installation is cancelled too when its repository is
   * named. Returns what was cancelled, with the state each was in.
   */
  async cancel(filter: {
    installation: number;
    repositories?: readonly string[];
  }): Promise<BackfillRecord[]> {
    const { installation, repositories } = filter;
    if (repositories?.length === 0) return [];
    const before = await this.db
      .selectFrom("backfills")
      .selectAll()
      .where("state", "in", ["queued", "running"])
      .$if(repositories === undefined, (q) => q.where("installation", "=", installation))
      .$if(repositories !== undefined, (q) =>
        q
          .where("repository", "in", repositories as readonly string[])
          .where((eb) => eb.or([eb("installation", "=", installation), eb("installation", "is", null)])),
      )
      .orderBy("job_id")
      .execute();
    if (before.length === 0) return [];
    // Only those still unfinished now: a worker may have finished one meanwhile.
    const cancelled = await this.db
      .updateTable("backfills")
      .set({ state: "cancelled", updated_at: iso(this.clock()) })
      .where(
        "job_id",
        "in",
        before.map((r) => r.job_id),
      )
      .where("state", "in", ["queued", "running"])
      .returning("job_id")
      .execute();
    const ids = new Set(cancelled.map((r) => Number(r.job_id)));
    return before.map(fromRow).filter((r) => ids.has(r.jobId));
  }

  async byJob(jobId: number): Promise<BackfillRecord | undefined> {
    const row = await this.db
      .selectFrom("backfills")
      .selectAll()
      .where("job_id", "=", jobId)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  /** The backfill of a repository that has not finished, if any. */
  async unfinished(repository: string): Promise<BackfillRecord | undefined> {
    const row = await this.db
      .selectFrom("backfills")
      .selectAll()
      .where("repository", "=", repository)
      .where("state", "in", ["queued", "running"])
      .orderBy("job_id")
      .limit(1)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  /** Repositories per state, and the commits scanned by every backfill (running ones so far). */
  async summary(): Promise<Record<BackfillState, number> & { commitsScanned: number }> {
    const out = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, commitsScanned: 0 };
    const rows = await this.db
      .selectFrom("backfills")
      .select((eb) => ["state", eb.fn.countAll().as("n"), eb.fn.sum("commits").as("commits")])
      .groupBy("state")
      .execute();
    for (const row of rows) {
      out[row.state] = count(row.n as number | string);
      out.commitsScanned += count(row.commits as number | string | null);
    }
    return out;
  }
}
