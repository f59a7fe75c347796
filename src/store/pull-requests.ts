// The `pull_request_scans` table: the latest scan of each pull request (public, redacted findings only) and
// the id of the one comment that shows it, so that a synchronize or a revocation outcome edits that comment.
import type { Database } from "better-sqlite3";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export interface PullRequestScanRecord<F = unknown> {
  key: string;
  repository: string;
  number: number;
  installation: number;
  head: string;
  /** The repository's page on GitHub: links to the lines. */
  htmlUrl: string;
  findings: F[];
  commentId: number | null;
  updatedAt: string;
}

interface Row {
  key: string;
  repository: string;
  number: number;
  installation: number;
  head: string;
  html_url: string;
  findings: string;
  comment_id: number | null;
  updated_at: string;
}

function fromRow<F>(row: Row): PullRequestScanRecord<F> {
  return {
    key: row.key,
    repository: row.repository,
    number: row.number,
    installation: row.installation,
    head: row.head,
    htmlUrl: row.html_url,
    findings: JSON.parse(row.findings) as F[],
    commentId: row.comment_id,
    updatedAt: row.updated_at,
  };
}

export class PullRequestScanTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Stores a scan of the pull request at `head`; the comment id is kept. */
  save<F>(scan: Omit<PullRequestScanRecord<F>, "commentId" | "updatedAt">): void {
    statement(
      this.db,
      `INSERT INTO pull_request_scans (key, repository, number, installation, head, html_url, findings, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET head = excluded.head, findings = excluded.findings,
           html_url = excluded.html_url,
           installation = excluded.installation, updated_at = excluded.updated_at`,
    ).run(
      scan.key,
      scan.repository,
      scan.number,
      scan.installation,
      scan.head,
      scan.htmlUrl,
      JSON.stringify(scan.findings),
      iso(this.clock()),
    );
  }

  byKey<F = unknown>(key: string): PullRequestScanRecord<F> | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM pull_request_scans WHERE key = ?").get(key);
    return row && fromRow<F>(row);
  }

  commented(key: string, commentId: number): void {
    statement(this.db, "UPDATE pull_request_scans SET comment_id = ? WHERE key = ?").run(commentId, key);
  }
}
