// The `validations` table: the last live-check verdict on each token, by hash, with a time to live.
import type { Selectable } from "kysely";
import type { Validity } from "../validate/types.js";
import { type Clock, iso } from "./clock.js";
import type { Executor } from "./executor.js";
import type { ValidationsTable } from "./schema.js";

export interface ValidationRecord {
  secretHash: string;
  provider: string;
  validity: Validity;
  checkedAt: string;
  expiresAt: string;
}

type Row = Selectable<ValidationsTable>;

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
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  async save(
    secretHash: string,
    provider: string,
    validity: Validity,
    ttlMs: number,
  ): Promise<ValidationRecord> {
    const now = this.clock();
    const checkedAt = iso(now);
    const expiresAt = iso(new Date(now.getTime() + ttlMs));
    const detail =
      validity.status === "inactive" ? validity.detail : validity.status === "unknown" ? validity.why : null;
    const values = {
      provider,
      status: validity.status,
      identity: validity.status === "live" ? validity.identity : null,
      scopes: validity.status === "live" && validity.scopes ? JSON.stringify(validity.scopes) : null,
      detail,
      checked_at: checkedAt,
      expires_at: expiresAt,
    };
    await this.db
      .insertInto("validations")
      .values({ secret_hash: secretHash, ...values })
      .onConflict((oc) => oc.column("secret_hash").doUpdateSet(values))
      .execute();
    return { secretHash, provider, validity, checkedAt, expiresAt };
  }

  /** The last verdict, fresh or not. */
  async get(secretHash: string): Promise<ValidationRecord | undefined> {
    const row = await this.db
      .selectFrom("validations")
      .selectAll()
      .where("secret_hash", "=", secretHash)
      .executeTakeFirst();
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
  async fresh(secretHash: string): Promise<ValidationRecord | undefined> {
    const record = await this.get(secretHash);
    return record && record.expiresAt > iso(this.clock()) ? record : undefined;
  }
}
