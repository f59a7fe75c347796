// The tables as Kysely sees them: one interface per table, columns as stored (snake_case, text timestamps).
// Both engines store the same shapes: ISO 8601 text for times, 0/1 integers for flags, JSON text for details.
import type { Generated } from "kysely";

export interface TokensTable {
  id: Generated<number>;
  secret_hash: string;
  preview: string;
  provider: string;
  rule_id: string | null;
  org: string | null;
  authorization_id: string | null;
  owner: string | null;
  name: string | null;
  scopes: string | null;
  all_orgs: number;
  minted: number;
  created_at: string;
  expires_at: string | null;
  registered_at: string;
  revoked_at: string | null;
}

export interface FindingsTable {
  id: Generated<number>;
  fingerprint: string;
  source: Generated<string>;
  location: string;
  rule_id: string;
  provider: string;
  description: string;
  severity: string;
  confidence: string;
  encoding: string;
  file: string;
  line: number;
  col: number;
  end_line: number;
  end_col: number;
  commit_sha: string | null;
  author: string | null;
  committed_at: string | null;
  redacted: string;
  secret_hash: string;
  status: Generated<string>;
  resolution: string | null;
  note: string | null;
  first_seen_at: string;
  last_seen_at: string;
  times_seen: Generated<number>;
  resolved_at: string | null;
}

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  key: string;
  priority: Generated<number>;
  queue: string;
  payload: string;
  sealed: Buffer | null;
  state: string;
  outcome: string | null;
  attempts: Generated<number>;
  max_attempts: number;
  run_after: string;
  owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  provider: string | null;
  secret_hash: string | null;
  detail: string | null;
}

export interface DeliveriesTable {
  id: string;
  event: string;
  repository: string | null;
  job_id: number | null;
  received_at: string;
}

export interface BreachesTable {
  key: string;
  repository: string;
  installation: number;
  issue_number: number | null;
  issue_url: string | null;
  created_at: string;
  /** Where the issue lives when not in `repository` (migration 7): a private security repository. */
  issue_repository: string | null;
  /** The public notice once every token is revoked (migration 7): null, 'pending' or 'posted'. */
  notice: string | null;
}

export interface BreachTokensTable {
  breach_key: string;
  secret_hash: string;
  preview: string;
  description: string;
  commented_at: string | null;
  /** Where the token stands in its issue (migration 6): tokens list in the order they were reported. */
  position: Generated<number>;
}

export interface ValidationsTable {
  secret_hash: string;
  provider: string;
  status: string;
  identity: string | null;
  scopes: string | null;
  detail: string | null;
  checked_at: string;
  expires_at: string;
}

export interface BackfillsTable {
  job_id: number;
  repository: string;
  installation: number | null;
  state: "queued" | "running" | "done" | "failed" | "cancelled";
  commits: Generated<number>;
  findings: Generated<number>;
  updated_at: string;
}

export interface PullRequestScansTable {
  key: string;
  repository: string;
  number: number;
  installation: number;
  head: string;
  html_url: string;
  /** JSON: the scan's public, redacted findings. */
  findings: string;
  comment_id: number | null;
  updated_at: string;
}

/** Times in milliseconds (the store's clock), not text: the pace is reckoned in SQL, on both engines alike. */
export interface WritePaceTable {
  queue: string;
  next_at: number;
  paused_until: number;
}

export interface Tables {
  tokens: TokensTable;
  findings: FindingsTable;
  jobs: JobsTable;
  audit: AuditTable;
  deliveries: DeliveriesTable;
  breaches: BreachesTable;
  breach_tokens: BreachTokensTable;
  validations: ValidationsTable;
  backfills: BackfillsTable;
  pull_request_scans: PullRequestScansTable;
  write_pace: WritePaceTable;
}
