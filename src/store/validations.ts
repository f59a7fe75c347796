// The `validations` table: the last live-check verdict on each token, by hash, with a time to live.
import type { Database } from "better-sqlite3";
import type { Validity } from "../validate/types.js";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

export interface ValidationRecord {
  secretHash: string;
  provider: string;
  validity: Validity;
  checkedAt: string;
  expiresAt: string;
}

interface Row {
  secret_hash: string;
  provider: string;
  status: Validity["status"];
  identity: string | null;
  scopes: string | null;
  detail: string | null;
  checked_at: string;
  expires_at: string;
}

function validityOf(row: Row): Validity {
  if (row.status === "live")
    return {
      status: "live",
      identity: row.identity ?? "",
      ...(row.scopes ? { scopes: JSON.parse(row.scopes) as string[] } : {}),
    };
  if (row.status === "inactive") return { status: "inactive", detail: row.detail ?? "" };
  return { status: "unknown", why: row.detail ?? "" };
}

export class ValidationTable {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  save(secretHash: string, provider: string, validity: Validity, ttlMs: number): ValidationRecord {
    const now = this.clock();
    const checkedAt = iso(now);
    const expiresAt = iso(new Date(now.getTime() + ttlMs));
    const detail =
      validity.status === "inactive" ? validity.detail : validity.status === "unknown" ? validity.why : null;
    statement(
      this.db,
      `INSERT INTO validations (secret_hash, provider, status, identity, scopes, detail, checked_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (secret_hash) DO UPDATE SET provider = excluded.provider, status = excluded.status,
         identity = excluded.identity, scopes = excluded.scopes, detail = excluded.detail,
         checked_at = excluded.checked_at, expires_at = excluded.expires_at`,
    ).run(
      secretHash,
      provider,
      validity.status,
      validity.status === "live" ? validity.identity : null,
      validity.status === "live" && validity.scopes ? JSON.stringify(validity.scopes) : null,
      detail,
      checkedAt,
      expiresAt,
    );
    return { secretHash, provider, validity, checkedAt, expiresAt };
  }

  /** The last verdict, fresh or not. */
  get(secretHash: string): ValidationRecord | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM validations WHERE secret_hash = ?").get(
      secretHash,
    );
    if (!row) return undefined;
    return {
      secretHash: row.secret_hash,
      provider: row.provider,
      validity: validityOf(row),
      checkedAt: row.checked_at,
      expiresAt: row.expires_at,
    };
  }

  /** The last verdict while it is still within its time to live. */
  fresh(secretHash: string): ValidationRecord | undefined {
    const record = this.get(secretHash);
    return record && record.expiresAt > iso(this.clock()) ? record : undefined;
  }
}
