// The `deliveries` table: webhook deliveries already handled, by GitHub's delivery id.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export interface DeliveryRecord {
  id: string;
  event: string;
  repository: string | null;
  jobId: number | null;
  receivedAt: string;
}

interface Row {
  id: string;
  event: string;
  repository: string | null;
  job_id: number | null;
  received_at: string;
}

export class DeliveryTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Records a delivery; false when it was recorded before (a redelivery). */
  record(id: string, event: string, repository: string | null): boolean {
    return (
      statement(
        this.db,
        "INSERT INTO deliveries (id, event, repository, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      ).run(id, event, repository, iso(this.clock())).changes > 0
    );
  }

  /** Links a delivery to the job it created. */
  attachJob(id: string, jobId: number): void {
    statement(this.db, "UPDATE deliveries SET job_id = ? WHERE id = ?").run(jobId, id);
  }

  byId(id: string): DeliveryRecord | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM deliveries WHERE id = ?").get(id);
    return (
      row && {
        id: row.id,
        event: row.event,
        repository: row.repository,
        jobId: row.job_id,
        receivedAt: row.received_at,
      }
    );
  }

  count(): number {
    return (
      statement<[], { n: number }>(this.db, "SELECT count(*) AS n FROM deliveries").get() as { n: number }
    ).n;
  }
}
