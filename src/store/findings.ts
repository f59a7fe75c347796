// The `findings` table: one row per leak location, unique by fingerprint and location, so a re-scan updates
// the row it found before. Rows hold the redacted preview and the hash, never the secret.
import { type ExpressionBuilder, type Selectable, sql } from "kysely";
import type { Confidence, Encoding, PublicFinding, Severity } from "../scan/types.js";
import { type Clock, iso } from "./clock.js";
import { count, type Executor, IN_SLICE } from "./executor.js";
import type { FindingsTable, Tables } from "./schema.js";

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

type Row = Selectable<FindingsTable>;

function fromRow(row: Row): FindingRecord {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    source: row.source,
    ruleId: row.rule_id,
    provider: row.provider,
    description: row.description,
    severity: row.severity as Severity,
    confidence: row.confidence as Confidence,
    encoding: row.encoding as Encoding,
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
    status: row.status as FindingStatus,
    resolution: row.resolution as Resolution | null,
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

/** A search as conditions on fixed columns; only values, never names, come from the caller. */
function searchWhere(search: FindingSearch) {
  return (eb: ExpressionBuilder<Tables, "findings">) => {
    const conditions = [];
    const set = (value: string | undefined) => value !== undefined && value !== "";
    if (set(search.status)) conditions.push(eb("status", "=", search.status as string));
    if (set(search.provider)) conditions.push(eb("provider", "=", search.provider as string));
    if (set(search.secretHash)) conditions.push(eb("secret_hash", "=", search.secretHash as string));
    if (set(search.ruleId)) conditions.push(eb("rule_id", "=", search.ruleId as string));
    if (set(search.source)) conditions.push(eb("source", "=", search.source as string));
    if (set(search.confidence)) conditions.push(eb("confidence", "=", search.confidence as string));
    if (set(search.severity)) conditions.push(eb("severity", "=", search.severity as string));
    if (set(search.validity))
      conditions.push(
        eb(
          "secret_hash",
          "in",
          eb
            .selectFrom("validations")
            .select("secret_hash")
            .where("status", "=", search.validity as string),
        ),
      );
    if (set(search.seenFrom)) conditions.push(eb("first_seen_at", ">=", search.seenFrom as string));
    if (set(search.seenBefore)) conditions.push(eb("first_seen_at", "<", search.seenBefore as string));
    return eb.and(conditions);
  };
}

function uniqueKey(source: string, f: PublicFinding): string {
  return `${f.fingerprint}\u0000${source}\u0000${locationKey(f)}`;
}

/** Rows a batch writes in one statement: 21 values each, well under both engines' parameter limits. */
const BATCH = 400;

export class FindingTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  /** Inserts a finding, or refreshes the one already recorded at the same place; status and triage are kept. */
  async record(finding: PublicFinding, source = ""): Promise<{ finding: FindingRecord; created: boolean }> {
    return (await this.recordMany([finding], source))[0] as { finding: FindingRecord; created: boolean };
  }

  /**
   * `record` for many findings, in few statements; results in the findings' order. A batch never holds the
   * same place twice (one statement cannot update a row twice), so a repeat goes to the next batch.
   */
  async recordMany(
    findings: readonly PublicFinding[],
    source = "",
  ): Promise<{ finding: FindingRecord; created: boolean }[]> {
    const now = iso(this.clock());
    const results: { finding: FindingRecord; created: boolean }[] = [];
    let batch: PublicFinding[] = [];
    let keys = new Set<string>();
    const flush = async () => {
      if (batch.length === 0) return;
      const rows = await this.upsert(batch, source, now);
      const byKey = new Map(rows.map((r) => [`${r.fingerprint}\u0000${r.source}\u0000${r.location}`, r]));
      for (const f of batch) {
        const row = byKey.get(uniqueKey(source, f)) as Row;
        // Counted in the same statement, so that concurrent scans agree on which of them saw it first.
        results.push({ finding: fromRow(row), created: row.times_seen === 1 });
      }
      batch = [];
      keys = new Set();
    };
    for (const f of findings) {
      const key = uniqueKey(source, f);
      if (keys.has(key) || batch.length >= BATCH) await flush();
      batch.push(f);
      keys.add(key);
    }
    await flush();
    return results;
  }

  private upsert(findings: readonly PublicFinding[], source: string, now: string): Promise<Row[]> {
    return this.db
      .insertInto("findings")
      .values(
        findings.map((finding) => ({
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
          first_seen_at: now,
          last_seen_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(["fingerprint", "source", "location"]).doUpdateSet((eb) => ({
          confidence: eb.ref("excluded.confidence"),
          severity: eb.ref("excluded.severity"),
          description: eb.ref("excluded.description"),
          encoding: eb.ref("excluded.encoding"),
          end_line: eb.ref("excluded.end_line"),
          end_col: eb.ref("excluded.end_col"),
          redacted: eb.ref("excluded.redacted"),
          last_seen_at: eb.ref("excluded.last_seen_at"),
          times_seen: eb("findings.times_seen", "+", 1),
        })),
      )
      .returningAll()
      .execute();
  }

  async byId(id: number): Promise<FindingRecord | undefined> {
    const row = await this.db.selectFrom("findings").selectAll().where("id", "=", id).executeTakeFirst();
    return row && fromRow(row);
  }

  /** The finding recorded at this place, if any. */
  async find(fingerprint: string, source: string, location: string): Promise<FindingRecord | undefined> {
    const row = await this.db
      .selectFrom("findings")
      .selectAll()
      .where("fingerprint", "=", fingerprint)
      .where("source", "=", source)
      .where("location", "=", location)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async list(filter: FindingFilter = {}): Promise<FindingRecord[]> {
    const rows = await this.db
      .selectFrom("findings")
      .selectAll()
      .where(searchWhere({ status: filter.status, provider: filter.provider, secretHash: filter.secretHash }))
      .orderBy("id")
      .execute();
    return rows.map(fromRow);
  }

  /** One page of a search, and how many findings match it in all. */
  async search(
    search: FindingSearch,
    options: { sort: FindingSort; limit: number; offset: number },
  ): Promise<{ findings: FindingRecord[]; total: number }> {
    const where = searchWhere(search);
    const total = await this.db
      .selectFrom("findings")
      .select((eb) => eb.fn.countAll().as("n"))
      .where(where)
      .executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom("findings")
      .selectAll()
      .where(where)
      .orderBy(sql.raw(ORDER_BY[options.sort]))
      .limit(options.limit)
      .offset(options.offset)
      .execute();
    return { findings: rows.map(fromRow), total: count(total.n as number | string) };
  }

  /**
   * Every match of a search, in batches of `batch`, for an export that must not hold 100,000 rows at once. The
   * matching ids are taken first, so no statement stays open between batches (a slow reader would otherwise
   * keep the connection busy and block every write).
   */
  async *each(search: FindingSearch, sort: FindingSort, batch = 1000): AsyncGenerator<FindingRecord[]> {
    const ids = (
      await this.db
        .selectFrom("findings")
        .select("id")
        .where(searchWhere(search))
        .orderBy(sql.raw(ORDER_BY[sort]))
        .execute()
    ).map((r) => r.id);
    for (let i = 0; i < ids.length; i += batch) {
      const slice = ids.slice(i, i + batch);
      const rows = await this.db.selectFrom("findings").selectAll().where("id", "in", slice).execute();
      const byId = new Map(rows.map((r) => [r.id, fromRow(r)]));
      // A finding deleted in between is left out.
      yield slice.flatMap((id) => byId.get(id) ?? []);
    }
  }

  /**
   * Of these fingerprints (without them: of all), those a person resolved as a false positive or an accepted
   * risk for this source: triage feeds back, so a later scan does not report them again.
   */
  async triaged(source: string, fingerprints?: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    const unique = [...new Set(fingerprints)];
    // In slices: both engines cap the parameters of one statement.
    const slices: (string[] | undefined)[] = [];
    if (fingerprints === undefined) slices.push(undefined);
    else for (let i = 0; i < unique.length; i += 500) slices.push(unique.slice(i, i + 500));
    for (const slice of slices) {
      const rows = await this.db
        .selectFrom("findings")
        .select("fingerprint")
        .distinct()
        .where("source", "=", source)
        .where("status", "=", "resolved")
        .where("resolution", "in", ["false-positive", "accepted-risk"])
        .$if(slice !== undefined, (q) => q.where("fingerprint", "in", slice as string[]))
        .execute();
      for (const r of rows) out.add(r.fingerprint);
    }
    return out;
  }

  /** Opens a resolved finding again. */
  async reopen(id: number): Promise<FindingRecord | undefined> {
    const row = await this.db
      .updateTable("findings")
      .set({ status: "open", resolution: null, note: null, resolved_at: null })
      .where("id", "=", id)
      .where("status", "=", "resolved")
      .returningAll()
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async resolve(id: number, resolution: Resolution, note: string | null): Promise<FindingRecord | undefined> {
    const row = await this.db
      .updateTable("findings")
      .set({ status: "resolved", resolution, note, resolved_at: iso(this.clock()) })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    return row && fromRow(row);
  }

  /** The token behind these findings is revoked: every open finding of it says so. Returns their ids. */
  async markRevoked(secretHash: string): Promise<number[]> {
    return (await this.moveStatus([secretHash], "open", "revoked")).get(secretHash) ?? [];
  }

  /** `markRevoked` for several tokens in one statement (per slice): each token's findings' ids, by hash. */
  async markAllRevoked(secretHashes: readonly string[]): Promise<Map<string, number[]>> {
    return this.moveStatus(secretHashes, "open", "revoked");
  }

  /** A revocation that did not take: the token's findings are open again. Returns their ids. */
  async reopenRevoked(secretHash: string): Promise<number[]> {
    return (await this.moveStatus([secretHash], "revoked", "open")).get(secretHash) ?? [];
  }

  private async moveStatus(
    secretHashes: readonly string[],
    from: FindingStatus,
    to: FindingStatus,
  ): Promise<Map<string, number[]>> {
    const moved = new Map<string, number[]>();
    for (let i = 0; i < secretHashes.length; i += IN_SLICE) {
      const rows = await this.db
        .updateTable("findings")
        .set({ status: to })
        .where("secret_hash", "in", secretHashes.slice(i, i + IN_SLICE))
        .where("status", "=", from)
        .returning(["id", "secret_hash"])
        .execute();
      for (const row of rows) moved.set(row.secret_hash, [...(moved.get(row.secret_hash) ?? []), row.id]);
    }
    for (const ids of moved.values()) ids.sort((a, b) => a - b);
    return moved;
  }
}
