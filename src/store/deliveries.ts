// The `deliveries` table: webhook deliveries already handled, by GitHub's delivery id.
import { type Clock, iso } from "./clock.js";
import { count, type Executor } from "./executor.js";

export interface DeliveryRecord {
  id: string;
  event: string;
  repository: string | null;
  jobId: number | null;
  receivedAt: string;
}

export class DeliveryTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a delivery, with the job it queued if any; false when it was recorded before (a redelivery),
   * whichever replica saw it first.
   */
  async record(id: string, event: string, repository: string | null, jobId?: number): Promise<boolean> {
    const row = await this.db
      .insertInto("deliveries")
      .values({ id, event, repository, received_at: iso(this.clock()), job_id: jobId ?? null })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    return row !== undefined;
  }

  async byId(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirst();
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

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom("deliveries")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return count(row.n as number | string);
  }
}
