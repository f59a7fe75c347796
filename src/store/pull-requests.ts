// The `pull_request_scans` table: the latest scan of each pull request (public, redacted findings only) and
// the id of the one comment that shows it, so that a synchronize or a revocation outcome edits that comment.
import type { Selectable } from "kysely";
import { type Clock, iso } from "./clock.js";
import type { Executor } from "./executor.js";
import type { PullRequestScansTable } from "./schema.js";

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

function fromRow<F>(row: Selectable<PullRequestScansTable>): PullRequestScanRecord<F> {
  return {
    key: row.key,
    repository: row.repository,
    number: Number(row.number),
    installation: Number(row.installation),
    head: row.head,
    htmlUrl: row.html_url,
    findings: JSON.parse(row.findings) as F[],
    commentId: row.comment_id === null ? null : Number(row.comment_id),
    updatedAt: row.updated_at,
  };
}

export class PullRequestScanTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  /** Stores a scan of the pull request at `head`; the comment id is kept. */
  async save<F>(scan: Omit<PullRequestScanRecord<F>, "commentId" | "updatedAt">): Promise<void> {
    const changed = {
      head: scan.head,
      findings: JSON.stringify(scan.findings),
      html_url: scan.htmlUrl,
      installation: scan.installation,
      updated_at: iso(this.clock()),
    };
    await this.db
      .insertInto("pull_request_scans")
      .values({ key: scan.key, repository: scan.repository, number: scan.number, ...changed })
      .onConflict((oc) => oc.column("key").doUpdateSet(changed))
      .execute();
  }

  async byKey<F = unknown>(key: string): Promise<PullRequestScanRecord<F> | undefined> {
    const row = await this.db
      .selectFrom("pull_request_scans")
      .selectAll()
      .where("key", "=", key)
      .executeTakeFirst();
    return row && fromRow<F>(row);
  }

  async commented(key: string, commentId: number): Promise<void> {
    await this.db
      .updateTable("pull_request_scans")
      .set({ comment_id: commentId })
      .where("key", "=", key)
      .execute();
  }
}
