// The `breaches` and `breach_tokens` tables: the issue opened for each push or run, and the tokens it
// reports, so that a later revocation outcome is commented on the right issues exactly once.
import type { Selectable } from "kysely";
import { type Clock, iso } from "./clock.js";
import { changed, count, type Executor, IN_SLICE } from "./executor.js";
import type { BreachesTable } from "./schema.js";

/** A breach that reports a token: whether its issue awaits the token's outcome, and its public notice. */
export interface TokenReport {
  key: string;
  awaitingComment: boolean;
  notice: BreachRecord["notice"];
}

export interface BreachRecord {
  key: string;
  repository: string;
  installation: number;
  issueNumber: number | null;
  issueUrl: string | null;
  createdAt: string;
  /** Where the issue lives: the leaking repository, or a private security repository. */
  issueRepository: string;
  /** The short public notice after every token is revoked: asked (pending), posted, or not asked. */
  notice: "pending" | "posted" | null;
}

export interface BreachToken {
  breachKey: string;
  secretHash: string;
  preview: string;
  description: string;
}

type Row = Selectable<BreachesTable>;

function fromRow(row: Row): BreachRecord {
  return {
    key: row.key,
    repository: row.repository,
    installation: row.installation,
    issueNumber: row.issue_number,
    issueUrl: row.issue_url,
    createdAt: row.created_at,
    issueRepository: row.issue_repository ?? row.repository,
    notice: noticeOf(row.notice),
  };
}

function noticeOf(notice: string | null): BreachRecord["notice"] {
  return notice === "pending" || notice === "posted" ? notice : null;
}

export class BreachTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  /**
   * Claims a breach key before its issue is opened. `created` is false when an earlier attempt claimed it
   * (on this replica or another): that attempt may have opened the issue and stopped before recording it.
   */
  async open(
    key: string,
    repository: string,
    installation: number,
    tokens: readonly Omit<BreachToken, "breachKey">[],
    options: { issueRepository?: string; notice?: boolean } = {},
  ): Promise<{ record: BreachRecord; created: boolean }> {
    const inserted = await this.db
      .insertInto("breaches")
      .values({
        key,
        repository,
        installation,
        created_at: iso(this.clock()),
        issue_repository:
          options.issueRepository && options.issueRepository !== repository ? options.issueRepository : null,
        notice: options.notice ? "pending" : null,
      })
      .onConflict((oc) => oc.column("key").doNothing())
      .returning("key")
      .executeTakeFirst();
    if (tokens.length > 0)
      await this.db
        .insertInto("breach_tokens")
        .values(
          tokens.map((t, position) => ({
            breach_key: key,
            secret_hash: t.secretHash,
            preview: t.preview,
            description: t.description,
            position,
          })),
        )
        .onConflict((oc) => oc.columns(["breach_key", "secret_hash"]).doNothing())
        .execute();
    return { record: (await this.byKey(key)) as BreachRecord, created: inserted !== undefined };
  }

  /** The public notice was posted; false when another worker posted it first. */
  async noticePosted(key: string): Promise<boolean> {
    return changed(
      await this.db
        .updateTable("breaches")
        .set({ notice: "posted" })
        .where("key", "=", key)
        .where("notice", "=", "pending")
        .executeTakeFirst(),
    );
  }

  /** The tokens a breach reports, in the order it reported them. */
  async tokensOf(key: string): Promise<BreachToken[]> {
    const rows = await this.db
      .selectFrom("breach_tokens")
      .select(["breach_key", "secret_hash", "preview", "description"])
      .where("breach_key", "=", key)
      .orderBy("position")
      .execute();
    return rows.map((t) => ({
      breachKey: t.breach_key,
      secretHash: t.secret_hash,
      preview: t.preview,
      description: t.description,
    }));
  }

  /** Every breach still waiting to post its public notice (after a restart, those now due are queued). */
  async pendingNotices(): Promise<BreachRecord[]> {
    const rows = await this.db.selectFrom("breaches").selectAll().where("notice", "=", "pending").execute();
    return rows.map(fromRow);
  }

  /** Breaches that wait to post their public notice and report this token. */
  async noticesAwaiting(secretHash: string): Promise<BreachRecord[]> {
    const rows = await this.db
      .selectFrom("breach_tokens as t")
      .innerJoin("breaches as b", "b.key", "t.breach_key")
      .selectAll("b")
      .where("t.secret_hash", "=", secretHash)
      .where("b.notice", "=", "pending")
      .execute();
    return rows.map(fromRow);
  }

  async issueOpened(key: string, number: number, url: string): Promise<void> {
    await this.db
      .updateTable("breaches")
      .set({ issue_number: number, issue_url: url })
      .where("key", "=", key)
      .execute();
  }

  async byKey(key: string): Promise<BreachRecord | undefined> {
    const row = await this.db.selectFrom("breaches").selectAll().where("key", "=", key).executeTakeFirst();
    return row && fromRow(row);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom("breaches")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return count(row.n as number | string);
  }

  /**
   * Every breach that reports each of these tokens, with what a revocation outcome may have to follow up there:
   * whether its issue is open and has not commented on the token, and its public notice. By token, in one read
   * however many (a token no breach reports is left out).
   */
  async reportsOfAll(secretHashes: readonly string[]): Promise<Map<string, TokenReport[]>> {
    const out = new Map<string, TokenReport[]>();
    const unique = [...new Set(secretHashes)];
    for (let i = 0; i < unique.length; i += IN_SLICE) {
      const rows = await this.db
        .selectFrom("breach_tokens as t")
        .innerJoin("breaches as b", "b.key", "t.breach_key")
        .select(["t.secret_hash", "b.key", "b.issue_number", "b.notice", "t.commented_at"])
        .where("t.secret_hash", "in", unique.slice(i, i + IN_SLICE))
        .execute();
      for (const row of rows) {
        const reports = out.get(row.secret_hash) ?? [];
        reports.push({
          key: row.key,
          awaitingComment: row.issue_number !== null && row.commented_at === null,
          notice: noticeOf(row.notice),
        });
        out.set(row.secret_hash, reports);
      }
    }
    return out;
  }

  /** Every breach issue that reports this token, commented on or not (a later confirmation goes to all). */
  issuesFor(secretHash: string): Promise<(BreachRecord & BreachToken)[]> {
    return this.issuesReporting(secretHash, false);
  }

  /** Issues that report this token and have not had its outcome commented yet. */
  awaitingComment(secretHash: string): Promise<(BreachRecord & BreachToken)[]> {
    return this.issuesReporting(secretHash, true);
  }

  private async issuesReporting(
    secretHash: string,
    awaitingOnly: boolean,
  ): Promise<(BreachRecord & BreachToken)[]> {
    const rows = await this.db
      .selectFrom("breach_tokens as t")
      .innerJoin("breaches as b", "b.key", "t.breach_key")
      .selectAll("b")
      .select(["t.secret_hash", "t.preview", "t.description"])
      .where("t.secret_hash", "=", secretHash)
      .$if(awaitingOnly, (q) => q.where("t.commented_at", "is", null))
      .where("b.issue_number", "is not", null)
      .execute();
    return rows.map((row) => ({
      ...fromRow(row),
      breachKey: row.key,
      secretHash: row.secret_hash,
      preview: row.preview,
      description: row.description,
    }));
  }

  /** Every token whose outcome no opened issue has heard yet: after a restart, outcomes that came in are found. */
  async uncommented(): Promise<{ breachKey: string; secretHash: string; installation: number }[]> {
    const rows = await this.db
      .selectFrom("breach_tokens as t")
      .innerJoin("breaches as b", "b.key", "t.breach_key")
      .select(["b.key", "t.secret_hash", "b.installation"])
      .where("t.commented_at", "is", null)
      .where("b.issue_number", "is not", null)
      .execute();
    return rows.map((row) => ({
      breachKey: row.key,
      secretHash: row.secret_hash,
      installation: row.installation,
    }));
  }

  /** The breach an issue reports, with its tokens. */
  async byIssueUrl(url: string): Promise<{ record: BreachRecord; tokens: BreachToken[] } | undefined> {
    const row = await this.db
      .selectFrom("breaches")
      .selectAll()
      .where("issue_url", "=", url)
      .executeTakeFirst();
    if (!row) return undefined;
    const tokens = await this.db
      .selectFrom("breach_tokens")
      .select(["breach_key", "secret_hash", "preview", "description"])
      .where("breach_key", "=", row.key)
      .orderBy("position")
      .orderBy("secret_hash")
      .execute();
    return {
      record: fromRow(row),
      tokens: tokens.map((t) => ({
        breachKey: t.breach_key,
        secretHash: t.secret_hash,
        preview: t.preview,
        description: t.description,
      })),
    };
  }

  /** The breaches that reported this token, newest first. */
  async forToken(secretHash: string): Promise<BreachRecord[]> {
    const rows = await this.db
      .selectFrom("breach_tokens as t")
      .innerJoin("breaches as b", "b.key", "t.breach_key")
      .selectAll("b")
      .where("t.secret_hash", "=", secretHash)
      .orderBy("b.created_at", "desc")
      .execute();
    return rows.map(fromRow);
  }

  /** Marks the comment as posted; false when another worker posted it first. */
  async commented(key: string, secretHash: string): Promise<boolean> {
    return changed(
      await this.db
        .updateTable("breach_tokens")
        .set({ commented_at: iso(this.clock()) })
        .where("breach_key", "=", key)
        .where("secret_hash", "=", secretHash)
        .where("commented_at", "is", null)
        .executeTakeFirst(),
    );
  }
}
