// Read-only summaries for the console's overview: counts across findings and the revocation queue. They are
// aggregate queries, so that the overview stays fast with 100,000 findings.
import { count, type Executor } from "./executor.js";

export interface Tally {
  key: string;
  count: number;
}

export interface QueueHealth {
  pending: number;
  running: number;
  dead: number;
  /** When the oldest pending job was created. */
  oldestPending: string | null;
}

const REVOKE_KIND = "revoke";

const JOB_STATES = ["done", "pending", "running", "dead", "cancelled"] as const;

/** The Monday of the ISO week a YYYY-MM-DD day is in. */
function mondayOf(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

export class Insights {
  constructor(private readonly db: Executor) {}

  /** Open findings grouped by a column, largest first. */
  async openBy(column: "severity" | "provider" | "source", limit = 10): Promise<Tally[]> {
    const rows = await this.db
      .selectFrom("findings")
      .select((eb) => [eb.ref(column).as("key"), eb.fn.countAll().as("count")])
      .where("status", "=", "open")
      .groupBy(column)
      .orderBy("count", "desc")
      .orderBy("key")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ key: r.key, count: count(r.count as number | string) }));
  }

  /** Findings first seen per ISO week (Monday), for the last `weeks` weeks before `now`. */
  async newPerWeek(now: Date, weeks: number): Promise<Tally[]> {
    const since = new Date(now.getTime() - weeks * 7 * 86_400_000).toISOString();
    // Counted per day in SQL (portable), folded into weeks here: at most 7 rows a week.
    const rows = await this.db
      .selectFrom("findings")
      .select((eb) => [
        eb.fn<string>("substr", ["first_seen_at", eb.val(1), eb.val(10)]).as("day"),
        eb.fn.countAll().as("count"),
      ])
      .where("first_seen_at", ">=", since)
      .groupBy("day")
      .execute();
    const byWeek = new Map<string, number>();
    for (const row of rows) {
      const week = mondayOf(row.day);
      byWeek.set(week, (byWeek.get(week) ?? 0) + count(row.count as number | string));
    }
    return [...byWeek]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, n]) => ({ key, count: n }));
  }

  /** Revocation jobs by state. */
  async revocations(): Promise<Record<(typeof JOB_STATES)[number], number>> {
    const counts = { done: 0, pending: 0, running: 0, dead: 0, cancelled: 0 };
    const rows = await this.db
      .selectFrom("jobs")
      .select((eb) => ["state", eb.fn.countAll().as("n")])
      .where("kind", "=", REVOKE_KIND)
      .groupBy("state")
      .execute();
    for (const row of rows) counts[row.state as keyof typeof counts] = count(row.n as number | string);
    return counts;
  }

  /** Open findings whose token has no revocation under way or done: someone has to decide. */
  async needsHuman(): Promise<number> {
    // The job key is `revoke:<hash>`: the set of hashes is built once, not looked up per finding.
    const row = await this.db
      .selectFrom("findings")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("status", "=", "open")
      .where("secret_hash", "not in", (eb) =>
        eb
          .selectFrom("jobs")
          .select((j) => j.fn<string>("substr", ["key", j.val(REVOKE_KIND.length + 2)]).as("hash"))
          .where("kind", "=", REVOKE_KIND)
          .where("state", "in", ["pending", "running", "done"]),
      )
      .executeTakeFirstOrThrow();
    return count(row.n as number | string);
  }

  /** Seconds from a token's first finding to its revocation, for every token revoked by the queue, sorted. */
  async secondsToRevocation(): Promise<number[]> {
    const rows = await this.db
      .selectFrom("jobs as j")
      .innerJoin("findings as f", (join) =>
        join.on((eb) =>
          eb("f.secret_hash", "=", eb.fn<string>("substr", ["j.key", eb.val(REVOKE_KIND.length + 2)])),
        ),
      )
      .select((eb) => ["j.id", "j.finished_at", eb.fn.min("f.first_seen_at").as("first")])
      .where("j.kind", "=", REVOKE_KIND)
      .where("j.state", "=", "done")
      .groupBy(["j.id", "j.finished_at"])
      .execute();
    return rows
      .map((r) => Math.max(0, (Date.parse(r.finished_at ?? "") - Date.parse(r.first)) / 1000))
      .filter((s) => Number.isFinite(s))
      .sort((a, b) => a - b);
  }

  async queueHealth(kind: string): Promise<QueueHealth> {
    const row = await this.db
      .selectFrom("jobs")
      .select((eb) => [
        eb.fn.countAll().filterWhere("state", "=", "pending").as("pending"),
        eb.fn.countAll().filterWhere("state", "=", "running").as("running"),
        eb.fn.countAll().filterWhere("state", "=", "dead").as("dead"),
        eb.fn.min("created_at").filterWhere("state", "=", "pending").as("oldestPending"),
      ])
      .where("kind", "=", kind)
      .executeTakeFirstOrThrow();
    return {
      pending: count(row.pending as number | string),
      running: count(row.running as number | string),
      dead: count(row.dead as number | string),
      oldestPending: (row.oldestPending as string | null) ?? null,
    };
  }
}
