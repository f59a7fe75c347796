// The `breaches` and `breach_tokens` tables: the issue opened for each push or run, and the tokens it
// reports, so that a later revocation outcome is commented on the right issues exactly once.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export interface BreachRecord {
  key: string;
  /** The repository that leaked. */
  repository: string;
  /** Where the issue lives: the leaking repository, or a private security repository. */
  issueRepository: string;
  /** The short public notice after every token is revoked: asked (pending), posted, or not asked. */
  notice: "pending" | "posted" | null;
  installation: number;
  issueNumber: number | null;
  issueUrl: string | null;
  createdAt: string;
}

export interface BreachToken {
  breachKey: string;
  secretHash: string;
  preview: string;
  description: string;
}

interface Row {
  key: string;
  repository: string;
  installation: number;
  issue_number: number | null;
  issue_url: string | null;
  issue_repository: string | null;
  notice: "pending" | "posted" | null;
  created_at: string;
}

function fromRow(row: Row): BreachRecord {
  return {
    key: row.key,
    repository: row.repository,
    issueRepository: row.issue_repository ?? row.repository,
    notice: row.notice,
    installation: row.installation,
    issueNumber: row.issue_number,
    issueUrl: row.issue_url,
    createdAt: row.created_at,
  };
}

export class BreachTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Claims a breach key before its issue is opened. `created` is false when an earlier attempt claimed it:
   * that attempt may have opened the issue and stopped before recording it.
   */
  open(
    key: string,
    repository: string,
    installation: number,
    tokens: readonly Omit<BreachToken, "breachKey">[],
    options: { issueRepository?: string; notice?: boolean } = {},
  ): { record: BreachRecord; created: boolean } {
    const inserted = statement(
      this.db,
      `INSERT INTO breaches (key, repository, installation, created_at, issue_repository, notice)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
    ).run(
      key,
      repository,
      installation,
      iso(this.clock()),
      options.issueRepository && options.issueRepository !== repository ? options.issueRepository : null,
      options.notice ? "pending" : null,
    );
    const addToken = statement(
      this.db,
      `INSERT INTO breach_tokens (breach_key, secret_hash, preview, description) VALUES (?, ?, ?, ?)
         ON CONFLICT (breach_key, secret_hash) DO NOTHING`,
    );
    for (const t of tokens) addToken.run(key, t.secretHash, t.preview, t.description);
    return { record: this.byKey(key) as BreachRecord, created: inserted.changes > 0 };
  }

  issueOpened(key: string, number: number, url: string): void {
    statement(this.db, "UPDATE breaches SET issue_number = ?, issue_url = ? WHERE key = ?").run(
      number,
      url,
      key,
    );
  }

  /** The public notice was posted; false when another worker posted it first. */
  noticePosted(key: string): boolean {
    return (
      statement(this.db, "UPDATE breaches SET notice = 'posted' WHERE key = ? AND notice = 'pending'").run(
        key,
      ).changes > 0
    );
  }

  /** The tokens a breach reports. */
  tokensOf(key: string): BreachToken[] {
    return statement<
      [string],
      { breach_key: string; secret_hash: string; preview: string; description: string }
    >(
      this.db,
      "SELECT breach_key, secret_hash, preview, description FROM breach_tokens WHERE breach_key = ? ORDER BY rowid",
    )
      .all(key)
      .map((t) => ({
        breachKey: t.breach_key,
        secretHash: t.secret_hash,
        preview: t.preview,
        description: t.description,
      }));
  }

  /** Every breach still waiting to post its public notice (after a restart, those now due are queued). */
  pendingNotices(): BreachRecord[] {
    return statement<[], Row>(this.db, "SELECT * FROM breaches WHERE notice = 'pending'").all().map(fromRow);
  }

  /** Breaches that wait to post their public notice and report this token. */
  noticesAwaiting(secretHash: string): BreachRecord[] {
    return statement<[string], Row>(
      this.db,
      `SELECT b.* FROM breach_tokens t JOIN breaches b ON b.key = t.breach_key
         WHERE t.secret_hash = ? AND b.notice = 'pending'`,
    )
      .all(secretHash)
      .map(fromRow);
  }

  byKey(key: string): BreachRecord | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM breaches WHERE key = ?").get(key);
    return row && fromRow(row);
  }

  count(): number {
    return (
      statement<[], { n: number }>(this.db, "SELECT count(*) AS n FROM breaches").get() as { n: number }
    ).n;
  }

  /** Every breach issue that reports this token, commented on or not (a later confirmation goes to all). */
  issuesFor(secretHash: string): (BreachRecord & BreachToken)[] {
    return this.issuesReporting(secretHash, false);
  }

  /** Issues that report this token and have not had its outcome commented yet. */
  awaitingComment(secretHash: string): (BreachRecord & BreachToken)[] {
    return this.issuesReporting(secretHash, true);
  }

  private issuesReporting(secretHash: string, awaitingOnly: boolean): (BreachRecord & BreachToken)[] {
    return statement<[string, number], Row & { secret_hash: string; preview: string; description: string }>(
      this.db,
      `SELECT b.*, t.secret_hash, t.preview, t.description FROM breach_tokens t JOIN breaches b ON b.key = t.breach_key
         WHERE t.secret_hash = ? AND (? = 0 OR t.commented_at IS NULL) AND b.issue_number IS NOT NULL`,
    )
      .all(secretHash, awaitingOnly ? 1 : 0)
      .map((row) => ({
        ...fromRow(row),
        breachKey: row.key,
        secretHash: row.secret_hash,
        preview: row.preview,
        description: row.description,
      }));
  }

  /** Every token whose outcome no opened issue has heard yet: after a restart, outcomes that came in are found. */
  uncommented(): { breachKey: string; secretHash: string; installation: number }[] {
    return statement<[], { key: string; secret_hash: string; installation: number }>(
      this.db,
      `SELECT b.key, t.secret_hash, b.installation FROM breach_tokens t JOIN breaches b ON b.key = t.breach_key
         WHERE t.commented_at IS NULL AND b.issue_number IS NOT NULL`,
    )
      .all()
      .map((row) => ({ breachKey: row.key, secretHash: row.secret_hash, installation: row.installation }));
  }

  /** The breach an issue reports, with its tokens. */
  byIssueUrl(url: string): { record: BreachRecord; tokens: BreachToken[] } | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM breaches WHERE issue_url = ?").get(url);
    if (!row) return undefined;
    const tokens = statement<
      [string],
      { breach_key: string; secret_hash: string; preview: string; description: string }
    >(
      this.db,
      "SELECT breach_key, secret_hash, preview, description FROM breach_tokens WHERE breach_key = ? ORDER BY rowid",
    )
      .all(row.key)
      .map((t) => ({
        breachKey: t.breach_key,
        secretHash: t.secret_hash,
        preview: t.preview,
        description: t.description,
      }));
    return { record: fromRow(row), tokens };
  }

  /** The breaches that reported this token, newest first. */
  forToken(secretHash: string): BreachRecord[] {
    return statement<[string], Row>(
      this.db,
      `SELECT b.* FROM breach_tokens t JOIN breaches b ON b.key = t.breach_key
         WHERE t.secret_hash = ? ORDER BY b.created_at DESC`,
    )
      .all(secretHash)
      .map(fromRow);
  }

  /** Marks the comment as posted; false when another worker posted it first. */
  commented(key: string, secretHash: string): boolean {
    return (
      statement(
        this.db,
        "UPDATE breach_tokens SET commented_at = ? WHERE breach_key = ? AND secret_hash = ? AND commented_at IS NULL",
      ).run(iso(this.clock()), key, secretHash).changes > 0
    );
  }
}
