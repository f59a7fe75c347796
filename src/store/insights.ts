// Read-only summaries for the console's overview: counts across findings and the revocation queue. They are
// aggregate queries, so that the overview stays fast with 100,000 findings.
import type { Database } from "better-sqlite3";
import { statement } from "./statements.js";

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

export class Insights {
  constructor(private readonly db: Database) {}

  /** Open findings grouped by a column, largest first. */
  openBy(column: "severity" | "provider" | "source", limit = 10): Tally[] {
    // The column is one of three fixed names, never user input.
    return statement<[number], Tally>(
      this.db,
      `SELECT ${column} AS key, count(*) AS count FROM findings WHERE status = 'open'
         GROUP BY ${column} ORDER BY count DESC, key LIMIT ?`,
    ).all(limit);
  }

  /** Findings first seen per ISO week (Monday), for the last `weeks` weeks before `now`. */
  newPerWeek(now: Date, weeks: number): Tally[] {
    const since = new Date(now.getTime() - weeks * 7 * 86_400_000).toISOString();
    return statement<[string], Tally>(
      this.db,
      `SELECT date(first_seen_at, '-' || ((strftime('%w', first_seen_at) + 6) % 7) || ' days') AS key,
           count(*) AS count
         FROM findings WHERE first_seen_at >= ? GROUP BY key ORDER BY key`,
    ).all(since);
  }

  /** Revocation jobs by state. */
  revocations(): Record<"done" | "pending" | "running" | "dead" | "cancelled", number> {
    const counts = { done: 0, pending: 0, running: 0, dead: 0, cancelled: 0 };
    const rows = statement<[string], { state: keyof typeof counts; n: number }>(
      this.db,
      "SELECT state, count(*) AS n FROM jobs WHERE kind = ? GROUP BY state",
    ).all(REVOKE_KIND);
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /** Open findings whose token has no revocation under way or done: someone has to decide. */
  needsHuman(): number {
    // The job key is `revoke:<hash>`: the set of hashes is built once, not looked up per finding.
    return (
      statement<[number, string], { n: number }>(
        this.db,
        `SELECT count(*) AS n FROM findings WHERE status = 'open' AND secret_hash NOT IN (
           SELECT substr(key, ?) FROM jobs WHERE kind = ? AND state IN ('pending', 'running', 'done'))`,
      ).get(REVOKE_KIND.length + 2, REVOKE_KIND) as { n: number }
    ).n;
  }

  /** Seconds from a token's first finding to its revocation, for every token revoked by the queue, sorted. */
  secondsToRevocation(): number[] {
    return (
      statement<[number, string], { s: number }>(
        this.db,
        `SELECT (julianday(j.finished_at) - julianday(min(f.first_seen_at))) * 86400 AS s
         FROM jobs j JOIN findings f ON f.secret_hash = substr(j.key, ?)
         WHERE j.kind = ? AND j.state = 'done' GROUP BY j.id ORDER BY s`,
      )
        .all(REVOKE_KIND.length + 2, REVOKE_KIND)
        // julianday() is a float: round to the millisecond that the timestamps hold.
        .map((r) => Math.max(0, Math.round(r.s * 1000) / 1000))
    );
  }

  queueHealth(kind: string): QueueHealth {
    const row = statement<[string], QueueHealth>(
      this.db,
      `SELECT coalesce(sum(state = 'pending'), 0) AS pending, coalesce(sum(state = 'running'), 0) AS running,
           coalesce(sum(state = 'dead'), 0) AS dead, min(CASE WHEN state = 'pending' THEN created_at END) AS oldestPending
         FROM jobs WHERE kind = ?`,
    ).get(kind) as QueueHealth;
    return row;
  }
}
