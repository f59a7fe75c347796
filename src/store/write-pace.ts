// The `write_pace` table: GitHub's write pace per installation queue, kept in the database so that every replica
// on it keeps one pace, and a Retry-After that one replica is given pauses the queue on all of them.
import { sql } from "kysely";
import type { Clock } from "./clock.js";
import type { EngineName } from "./dialect.js";
import type { Executor } from "./executor.js";

export class WritePaceTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
    private readonly engine: EngineName = "sqlite",
  ) {}

  /**
   * Takes the queue's next write slot and returns when it is (clock ms): now, or later when the queue's last slot
   * is less than `intervalMs` ago or the queue is paused. The next slot moves to `intervalMs` after this one. One
   * statement: concurrent callers, whichever replica, take one slot each (the upsert holds the row's lock).
   */
  async reserve(queue: string, intervalMs: number): Promise<number> {
    const now = this.clock().getTime();
    const interval = Math.max(Math.round(intervalMs), 0);
    // The largest of its arguments: GREATEST on PostgreSQL, SQLite's max() with several.
    const greatest = sql.raw(this.engine === "postgres" ? "GREATEST" : "MAX");
    const row = await this.db
      .insertInto("write_pace")
      .values({ queue, next_at: now + interval, paused_until: 0 })
      .onConflict((oc) =>
        oc.column("queue").doUpdateSet({
          next_at: sql<number>`${greatest}(CAST(${now} AS BIGINT), write_pace.next_at, write_pace.paused_until) + CAST(${interval} AS BIGINT)`,
        }),
      )
      .returning("next_at")
      .executeTakeFirstOrThrow();
    return Number(row.next_at) - interval;
  }

  /** GitHub asked the queue to wait until `untilMs` (clock ms): a pause only ever grows. */
  async pause(queue: string, untilMs: number): Promise<void> {
    const until = Math.ceil(untilMs);
    const greatest = sql.raw(this.engine === "postgres" ? "GREATEST" : "MAX");
    await this.db
      .insertInto("write_pace")
      .values({ queue, next_at: 0, paused_until: until })
      .onConflict((oc) =>
        oc.column("queue").doUpdateSet({
          paused_until: sql<number>`${greatest}(write_pace.paused_until, CAST(${until} AS BIGINT))`,
        }),
      )
      .execute();
  }

  /** The queues paused now, and until when (clock ms). */
  async paused(): Promise<Map<string, number>> {
    const now = this.clock().getTime();
    const rows = await this.db
      .selectFrom("write_pace")
      .select(["queue", "paused_until"])
      .where("paused_until", ">", now)
      .execute();
    return new Map(rows.map((r) => [r.queue, Number(r.paused_until)]));
  }
}
