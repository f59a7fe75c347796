// The `audit` table: who did what, when. Append-only (triggers refuse updates and deletes). Entries name
// tokens by id, hash and preview, never by value; details are plain JSON.
import type { Selectable } from "kysely";
import { type Clock, iso } from "./clock.js";
import { count, type Executor } from "./executor.js";
import type { AuditTable } from "./schema.js";

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

type Row = Selectable<AuditTable>;

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
    private readonly db: Executor,
    private readonly clock: Clock,
    private readonly actor: string,
  ) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.db
      .insertInto("audit")
      .values(this.toRow(entry, iso(this.clock())))
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row);
  }

  /** Several entries, in order, in one INSERT per slice. */
  async recordMany(entries: readonly NewAuditEntry[]): Promise<void> {
    const at = iso(this.clock());
    for (let i = 0; i < entries.length; i += 500)
      await this.db
        .insertInto("audit")
        .values(entries.slice(i, i + 500).map((entry) => this.toRow(entry, at)))
        .execute();
  }

  private toRow(entry: NewAuditEntry, at: string) {
    return {
      at,
      actor: entry.actor ?? this.actor,
      action: entry.action,
      subject: entry.subject ?? null,
      provider: entry.provider ?? null,
      secret_hash: entry.secretHash ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    };
  }

  /** Entries oldest first; with a limit, the newest `limit` of them. */
  async list(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const action = filter.action;
    const rows = await this.db
      .selectFrom("audit")
      .selectAll()
      .$if(action !== undefined, (q) =>
        q.where((eb) =>
          (action as string).endsWith(".")
            ? eb.or([
                eb("action", "=", action as string),
                // A prefix, compared as text: no pattern characters to escape.
                eb(
                  eb.fn("substr", ["action", eb.val(1), eb.val((action as string).length)]),
                  "=",
                  action as string,
                ),
              ])
            : eb("action", "=", action as string),
        ),
      )
      .$if(filter.secretHash !== undefined, (q) => q.where("secret_hash", "=", filter.secretHash as string))
      .$if(filter.subject !== undefined, (q) => q.where("subject", "=", filter.subject as string))
      .orderBy("id", "desc")
      .$if(filter.limit !== undefined, (q) => q.limit(filter.limit as number))
      .execute();
    return rows.reverse().map(fromRow);
  }

  /** How many `action` entries a provider has since `since`, and the oldest of them: a durable rate window. */
  async countSince(
    action: string,
    provider: string,
    since: string,
  ): Promise<{ count: number; oldest: string | null }> {
    const row = await this.db
      .selectFrom("audit")
      .select((eb) => [eb.fn.countAll().as("count"), eb.fn.min("at").as("oldest")])
      .where("action", "=", action)
      .where("provider", "=", provider)
      .where("at", ">=", since)
      .executeTakeFirst();
    return { count: count(row?.count as number | string | undefined), oldest: row?.oldest ?? null };
  }
}
