// The `audit` table: who did what, when. Append-only (triggers refuse updates and deletes). Entries name
// tokens by id, hash and preview, never by value; details are plain JSON.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  /** Dotted verb: registry.add, finding.resolve, revoke.attempt, revoke.revoked, revoke.dead, ... */
  action: string;
  /** What it is about: `token:3`, `finding:12`, `job:7`, `jobs:7,8`. */
  subject: string | null;
  provider: string | null;
  secretHash: string | null;
  detail: Record<string, unknown> | null;
}

export type NewAuditEntry = Pick<AuditEntry, "action"> &
  Partial<Pick<AuditEntry, "subject" | "provider" | "secretHash" | "detail" | "actor">>;

interface Row {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  provider: string | null;
  secret_hash: string | null;
  detail: string | null;
}

function fromRow(row: Row): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    provider: row.provider,
    secretHash: row.secret_hash,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
  };
}

export interface AuditFilter {
  /** The newest N entries (default: all). */
  limit?: number;
  /** An action, or a prefix ending in a dot (`revoke.`). */
  action?: string;
  secretHash?: string;
  subject?: string;
}

export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly actor: string,
  ) {}

  record(entry: NewAuditEntry): AuditEntry {
    const row = statement<unknown[], Row>(
      this.db,
      `INSERT INTO audit (at, actor, action, subject, provider, secret_hash, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      iso(this.clock()),
      entry.actor ?? this.actor,
      entry.action,
      entry.subject ?? null,
      entry.provider ?? null,
      entry.secretHash ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
    ) as Row;
    return fromRow(row);
  }

  /** Entries oldest first; with a limit, the newest `limit` of them. */
  list(filter: AuditFilter = {}): AuditEntry[] {
    const action = filter.action ?? null;
    const rows = statement<Record<string, unknown>, Row>(
      this.db,
      `SELECT * FROM (
           SELECT * FROM audit
           WHERE (@action IS NULL OR action = @action OR (substr(@action, -1) = '.' AND action GLOB @action || '*'))
             AND (@hash IS NULL OR secret_hash = @hash)
             AND (@subject IS NULL OR subject = @subject)
           ORDER BY id DESC LIMIT @limit)
         ORDER BY id`,
    ).all({
      action,
      hash: filter.secretHash ?? null,
      subject: filter.subject ?? null,
      limit: filter.limit ?? -1,
    });
    return rows.map(fromRow);
  }

  /** How many `action` entries a provider has since `since`, and the oldest of them: a durable rate window. */
  countSince(action: string, provider: string, since: string): { count: number; oldest: string | null } {
    const row = statement<[string, string, string], { count: number; oldest: string | null }>(
      this.db,
      "SELECT count(*) AS count, min(at) AS oldest FROM audit WHERE action = ? AND provider = ? AND at >= ?",
    ).get(action, provider, since);
    return { count: row?.count ?? 0, oldest: row?.oldest ?? null };
  }
}
