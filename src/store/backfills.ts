// The `backfills` table: how far each repository's backfill got (queued, running, done, failed; commits
// scanned and findings), for /healthz and the console. Counts only: a backfill's findings are in `findings`.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export const BACKFILL_STATES = ["queued", "running", "done", "failed"] as const;
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

interface Row {
  job_id: number;
  repository: string;
  installation: number | null;
  state: BackfillState;
  commits: number;
  findings: number;
  updated_at: string;
}

function fromRow(row: Row): BackfillRecord {
  return {
    jobId: row.job_id,
    repository: row.repository,
    installation: row.installation,
    state: row.state,
    commits: row.commits,
    findings: row.findings,
    updatedAt: row.updated_at,
  };
}

export class BackfillTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Records a queued backfill; nothing when its job already has a row. */
  queued(jobId: number, repository: string, installation: number | null): void {
    statement(
      this.db,
      `INSERT INTO backfills (job_id, repository, installation, state, updated_at) VALUES (?, ?, ?, 'queued', ?)
         ON CONFLICT (job_id) DO NOTHING`,
    ).run(jobId, repository, installation, iso(this.clock()));
  }

  /** A new state and, when given, counts; a retry going back to `running` starts its counts again. */
  update(jobId: number, state: BackfillState, counts: { commits?: number; findings?: number } = {}): void {
    statement(
      this.db,
      `UPDATE backfills SET state = ?, commits = coalesce(?, commits), findings = coalesce(?, findings),
           updated_at = ?
         WHERE job_id = ?`,
    ).run(state, counts.commits ?? null, counts.findings ?? null, iso(this.clock()), jobId);
  }

  byJob(jobId: number): BackfillRecord | undefined {
    const row = statement<[number], Row>(this.db, "SELECT * FROM backfills WHERE job_id = ?").get(jobId);
    return row && fromRow(row);
  }

  /** The backfill of a repository that has not finished, if any. */
  unfinished(repository: string): BackfillRecord | undefined {
    const row = statement<[string], Row>(
      this.db,
      "SELECT * FROM backfills WHERE repository = ? AND state IN ('queued', 'running') ORDER BY job_id LIMIT 1",
    ).get(repository);
    return row && fromRow(row);
  }

  /** Repositories per state, and the commits scanned by every backfill (running ones so far). */
  summary(): Record<BackfillState, number> & { commitsScanned: number } {
    const out = { queued: 0, running: 0, done: 0, failed: 0, commitsScanned: 0 };
    const rows = statement<[], { state: BackfillState; n: number; commits: number }>(
      this.db,
      "SELECT state, count(*) AS n, coalesce(sum(commits), 0) AS commits FROM backfills GROUP BY state",
    ).all();
    for (const row of rows) {
      out[row.state] = row.n;
      out.commitsScanned += row.commits;
    }
    return out;
  }
}
