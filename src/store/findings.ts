// The `findings` table: one row per leak location, unique by fingerprint and location, so a re-scan updates
// the row it found before. Rows hold the redacted preview and the hash, never the secret.
import type { Database } from "better-sqlite3";
import type { Confidence, Encoding, PublicFinding, Severity } from "../scan/types.js";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export const FINDING_STATUSES = ["open", "revoked", "resolved"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
export const RESOLUTIONS = ["false-positive", "accepted-risk", "revoked-manually"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface FindingRecord {
  id: number;
  fingerprint: string;
  /** Where the scan ran: empty for the CLI, a repository or a CI run for the app. */
  source: string;
  ruleId: string;
  provider: string;
  description: string;
  severity: Severity;
  confidence: Confidence;
  encoding: Encoding;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  commit: string | null;
  author: string | null;
  date: string | null;
  redacted: string;
  secretHash: string;
  status: FindingStatus;
  resolution: Resolution | null;
  note: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  /** How many scans recorded it. */
  timesSeen: number;
  resolvedAt: string | null;
}

interface Row {
  id: number;
  fingerprint: string;
  source: string;
  location: string;
  rule_id: string;
  provider: string;
  description: string;
  severity: Severity;
  confidence: Confidence;
  encoding: Encoding;
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
  status: FindingStatus;
  resolution: Resolution | null;
  note: string | null;
  first_seen_at: string;
  last_seen_at: string;
  times_seen: number;
  resolved_at: string | null;
}

function fromRow(row: Row): FindingRecord {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    source: row.source,
    ruleId: row.rule_id,
    provider: row.provider,
    description: row.description,
    severity: row.severity,
    confidence: row.confidence,
    encoding: row.encoding,
    file: row.file,
    line: row.line,
    column: row.col,
    endLine: row.end_line,
    endColumn: row.end_col,
    commit: row.commit_sha,
    author: row.author,
    date: row.committed_at,
    redacted: row.redacted,
    secretHash: row.secret_hash,
    status: row.status,
    resolution: row.resolution,
    note: row.note,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    timesSeen: row.times_seen,
    resolvedAt: row.resolved_at,
  };
}

/** The position part of a finding's identity: the fingerprint already names the rule, secret and path. */
export function locationKey(f: Pick<PublicFinding, "commit" | "line" | "column">): string {
  return `${f.commit ?? ""}:${f.line}:${f.column}`;
}

export interface FindingFilter {
  status?: FindingStatus;
  provider?: string;
  secretHash?: string;
}

/** What a console narrows the findings to; dates compare with the first time a finding was seen. */
export interface FindingSearch extends FindingFilter {
  ruleId?: string;
  source?: string;
  confidence?: Confidence;
  severity?: string;
  /** The last live check's verdict on the token (the `validations` table). */
  validity?: "live" | "inactive" | "unknown";
  /** ISO date (inclusive) and ISO date (exclusive). */
  seenFrom?: string;
  seenBefore?: string;
}

export const FINDING_SORTS = ["newest", "oldest", "severity", "rule", "source"] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

const ORDER_BY: Record<FindingSort, string> = {
  newest: "id DESC",
  oldest: "id",
  severity:
    "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, id DESC",
  rule: "rule_id, id DESC",
  source: "source, id DESC",
};

/** The WHERE clause of a search, with named parameters; only fixed column names reach the SQL. */
function searchClause(search: FindingSearch): { where: string; params: Record<string, string> } {
  const columns: [keyof FindingSearch, string][] = [
    ["status", "status = @status"],
    ["provider", "provider = @provider"],
    ["secretHash", "secret_hash = @secretHash"],
    ["ruleId", "rule_id = @ruleId"],
    ["source", "source = @source"],
    ["confidence", "confidence = @confidence"],
    ["severity", "severity = @severity"],
    ["validity", "secret_hash IN (SELECT secret_hash FROM validations WHERE status = @validity)"],
    ["seenFrom", "first_seen_at >= @seenFrom"],
    ["seenBefore", "first_seen_at < @seenBefore"],
  ];
  const where: string[] = [];
  const params: Record<string, string> = {};
  for (const [key, sql] of columns) {
    const value = search[key];
    if (value === undefined || value === "") continue;
    where.push(sql);
    params[key] = value;
  }
  return { where: where.length ? `WHERE ${where.join(" AND ")}` : "", params };
}

export class FindingTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Inserts a finding, or refreshes the one already recorded at the same place; status and triage are kept. */
  record(finding: PublicFinding, source = ""): { finding: FindingRecord; created: boolean } {
    const now = iso(this.clock());
    const row = statement<Record<string, unknown>, Row>(
      this.db,
      `INSERT INTO findings (fingerprint, source, location, rule_id, provider, description, severity, confidence,
           encoding, file, line, col, end_line, end_col, commit_sha, author, committed_at, redacted, secret_hash,
           first_seen_at, last_seen_at)
         VALUES (@fingerprint, @source, @location, @rule_id, @provider, @description, @severity, @confidence,
           @encoding, @file, @line, @col, @end_line, @end_col, @commit_sha, @author, @committed_at, @redacted,
           @secret_hash, @now, @now)
         ON CONFLICT (fingerprint, source, location) DO UPDATE SET
           confidence = excluded.confidence, severity = excluded.severity, description = excluded.description,
           encoding = excluded.encoding, end_line = excluded.end_line, end_col = excluded.end_col,
           redacted = excluded.redacted, last_seen_at = excluded.last_seen_at, times_seen = times_seen + 1
         RETURNING *`,
    ).get({
      fingerprint: finding.fingerprint,
      source,
      location: locationKey(finding),
      rule_id: finding.ruleId,
      provider: finding.provider,
      description: finding.description,
      severity: finding.severity,
      confidence: finding.confidence,
      encoding: finding.encoding,
      file: finding.file,
      line: finding.line,
      col: finding.column,
      end_line: finding.endLine,
      end_col: finding.endColumn,
      commit_sha: finding.commit ?? null,
      author: finding.author ?? null,
      committed_at: finding.date ?? null,
      redacted: finding.redacted,
      secret_hash: finding.secretHash,
      now,
    }) as Row;
    // Counted in the same statement, so that concurrent scans agree on which of them saw it first.
    return { finding: fromRow(row), created: row.times_seen === 1 };
  }

  byId(id: number): FindingRecord | undefined {
    const row = statement<[number], Row>(this.db, "SELECT * FROM findings WHERE id = ?").get(id);
    return row && fromRow(row);
  }

  /** The finding recorded at this place, if any. */
  find(fingerprint: string, source: string, location: string): FindingRecord | undefined {
    const row = statement<[string, string, string], Row>(
      this.db,
      "SELECT * FROM findings WHERE fingerprint = ? AND source = ? AND location = ?",
    ).get(fingerprint, source, location);
    return row && fromRow(row);
  }

  list(filter: FindingFilter = {}): FindingRecord[] {
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (filter.status) {
      where.push("status = @status");
      params.status = filter.status;
    }
    if (filter.provider) {
      where.push("provider = @provider");
      params.provider = filter.provider;
    }
    if (filter.secretHash) {
      where.push("secret_hash = @secretHash");
      params.secretHash = filter.secretHash;
    }
    const sql = `SELECT * FROM findings ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id`;
    return statement<Record<string, string>, Row>(this.db, sql).all(params).map(fromRow);
  }

  /** One page of a search, and how many findings match it in all. */
  search(
    search: FindingSearch,
    options: { sort: FindingSort; limit: number; offset: number },
  ): { findings: FindingRecord[]; total: number } {
    const { where, params } = searchClause(search);
    const total = (
      statement<Record<string, string>, { n: number }>(
        this.db,
        `SELECT count(*) AS n FROM findings ${where}`,
      ).get(params) as { n: number }
    ).n;
    const findings = statement<Record<string, unknown>, Row>(
      this.db,
      `SELECT * FROM findings ${where} ORDER BY ${ORDER_BY[options.sort]} LIMIT @limit OFFSET @offset`,
    )
      .all({ ...params, limit: options.limit, offset: options.offset })
      .map(fromRow);
    return { findings, total };
  }

  /**
   * Every match of a search, in batches of `batch`, for an export that must not hold 100,000 rows at once. The
   * matching ids are taken first, so no statement stays open between batches (a slow reader would otherwise
   * keep the connection busy and block every write).
   */
  *each(search: FindingSearch, sort: FindingSort, batch = 1000): Generator<FindingRecord[]> {
    const { where, params } = searchClause(search);
    const ids = statement<Record<string, string>, { id: number }>(
      this.db,
      `SELECT id FROM findings ${where} ORDER BY ${ORDER_BY[sort]}`,
    )
      .all(params)
      .map((r) => r.id);
    const rows = statement<[string], Row>(
      this.db,
      "SELECT * FROM findings WHERE id IN (SELECT value FROM json_each(?))",
    );
    for (let i = 0; i < ids.length; i += batch) {
      const slice = ids.slice(i, i + batch);
      const byId = new Map(rows.all(JSON.stringify(slice)).map((r) => [r.id, fromRow(r)]));
      // A finding deleted in between is left out.
      yield slice.flatMap((id) => byId.get(id) ?? []);
    }
  }

  /**
   * Of these fingerprints, those a person resolved as a false positive or an accepted risk for this source:
   * triage feeds back, so a later scan does not report them again.
   */
  triaged(source: string, fingerprints: readonly string[]): Set<string> {
    if (fingerprints.length === 0) return new Set();
    return new Set(
      statement<[string, string], { fingerprint: string }>(
        this.db,
        `SELECT DISTINCT fingerprint FROM findings
           WHERE source = ? AND status = 'resolved' AND resolution IN ('false-positive', 'accepted-risk')
             AND fingerprint IN (SELECT value FROM json_each(?))`,
      )
        .all(source, JSON.stringify([...new Set(fingerprints)]))
        .map((r) => r.fingerprint),
    );
  }

  /** Opens a resolved finding again. */
  reopen(id: number): FindingRecord | undefined {
    const row = statement<[number], Row>(
      this.db,
      `UPDATE findings SET status = 'open', resolution = NULL, note = NULL, resolved_at = NULL
         WHERE id = ? AND status = 'resolved' RETURNING *`,
    ).get(id);
    return row && fromRow(row);
  }

  resolve(id: number, resolution: Resolution, note: string | null): FindingRecord | undefined {
    const row = statement<[Resolution, string | null, string, number], Row>(
      this.db,
      "UPDATE findings SET status = 'resolved', resolution = ?, note = ?, resolved_at = ? WHERE id = ? RETURNING *",
    ).get(resolution, note, iso(this.clock()), id);
    return row && fromRow(row);
  }

  /** The token behind these findings is revoked: every open finding of it says so. Returns their ids. */
  markRevoked(secretHash: string): number[] {
    return statement<[string], { id: number }>(
      this.db,
      "UPDATE findings SET status = 'revoked' WHERE secret_hash = ? AND status = 'open' RETURNING id",
    )
      .all(secretHash)
      .map((r) => r.id);
  }

  /** A revocation that did not take: the token's findings are open again. Returns their ids. */
  reopenRevoked(secretHash: string): number[] {
    return statement<[string], { id: number }>(
      this.db,
      "UPDATE findings SET status = 'open' WHERE secret_hash = ? AND status = 'revoked' RETURNING id",
    )
      .all(secretHash)
      .map((r) => r.id);
  }
}
