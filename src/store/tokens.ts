// The `tokens` table: the registry of tokens the organisation issued. Values are never stored: a token is
// its SHA-256 (`secretHash`), a redacted preview, and what it takes to revoke it.

import type { Selectable } from "kysely";
import { UserError } from "../errors.js";
import { type Clock, iso } from "./clock.js";
import { changed, type Executor, IN_SLICE } from "./executor.js";
import type { TokensTable } from "./schema.js";

export interface TokenRecord {
  id: number;
  secretHash: string;
  preview: string;
  /** The provider that issued it: azure-devops, github, gitlab, slack, ... */
  provider: string;
  /** The rule that recognises its format; null when it was registered with --force. */
  ruleId: string | null;
  org: string | null;
  /** Azure DevOps revokes by this id only. */
  authorizationId: string | null;
  owner: string | null;
  name: string | null;
  scopes: string[];
  /** An Azure DevOps global (all-organisation) PAT. */
  allOrgs: boolean;
  /** Created by `registry mint`, so the PAT lifecycle API can revoke it. */
  minted: boolean;
  createdAt: string;
  expiresAt: string | null;
  registeredAt: string;
  revokedAt: string | null;
}

export type NewToken = Pick<TokenRecord, "secretHash" | "preview" | "provider"> &
  Partial<Omit<TokenRecord, "id" | "secretHash" | "preview" | "provider" | "registeredAt" | "revokedAt">>;

type Row = Selectable<TokensTable>;

function fromRow(row: Row): TokenRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    preview: row.preview,
    provider: row.provider,
    ruleId: row.rule_id,
    org: row.org,
    authorizationId: row.authorization_id,
    owner: row.owner,
    name: row.name,
    scopes: row.scopes ? row.scopes.split(" ").filter(Boolean) : [],
    allOrgs: row.all_orgs === 1,
    minted: row.minted === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    registeredAt: row.registered_at,
    revokedAt: row.revoked_at,
  };
}

export class DuplicateTokenError extends UserError {
  constructor(readonly existing: TokenRecord) {
    super(`this token is already registered as #${existing.id}`);
  }
}

export class TokenTable {
  constructor(
    private readonly db: Executor,
    private readonly clock: Clock,
  ) {}

  private values(token: NewToken, now: string) {
    return {
      secret_hash: token.secretHash,
      preview: token.preview,
      provider: token.provider,
      rule_id: token.ruleId ?? null,
      org: token.org ?? null,
      authorization_id: token.authorizationId ?? null,
      owner: token.owner ?? null,
      name: token.name ?? null,
      scopes: token.scopes && token.scopes.length > 0 ? token.scopes.join(" ") : null,
      all_orgs: token.allOrgs ? 1 : 0,
      minted: token.minted ? 1 : 0,
      created_at: token.createdAt ?? now,
      expires_at: token.expiresAt ?? null,
      registered_at: now,
    };
  }

  /** Registers a token; a token already registered is an error that names it. */
  async insert(token: NewToken): Promise<TokenRecord> {
    const existing = await this.byHash(token.secretHash);
    if (existing) throw new DuplicateTokenError(existing);
    const row = await this.db
      .insertInto("tokens")
      .values(this.values(token, iso(this.clock())))
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row);
  }

  /** Registers many tokens in few statements (imports, benchmarks); a hash already registered is an error. */
  async insertMany(tokens: readonly NewToken[]): Promise<number> {
    const now = iso(this.clock());
    // 14 values a row: well under both engines' limits on bound parameters.
    for (let i = 0; i < tokens.length; i += 500)
      await this.db
        .insertInto("tokens")
        .values(tokens.slice(i, i + 500).map((t) => this.values(t, now)))
        .execute();
    return tokens.length;
  }

  /** Registers a token, or replaces the metadata of the one with the same hash (imports are repeatable). */
  async upsert(token: NewToken): Promise<{ token: TokenRecord; created: boolean }> {
    const existing = await this.byHash(token.secretHash);
    if (!existing) return { token: await this.insert(token), created: true };
    const {
      secret_hash: _hash,
      registered_at: _registered,
      ...values
    } = this.values(token, iso(this.clock()));
    const row = await this.db
      .updateTable("tokens")
      .set({ ...values, created_at: token.createdAt ?? existing.createdAt })
      .where("id", "=", existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token: fromRow(row), created: false };
  }

  async byHash(secretHash: string): Promise<TokenRecord | undefined> {
    const row = await this.db
      .selectFrom("tokens")
      .selectAll()
      .where("secret_hash", "=", secretHash)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  /** The registered tokens among these hashes, by hash: one statement per few hundred hashes. */
  async byHashes(hashes: readonly string[]): Promise<Map<string, TokenRecord>> {
    const unique = [...new Set(hashes)];
    const found = new Map<string, TokenRecord>();
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom("tokens")
        .selectAll()
        .where("secret_hash", "in", unique.slice(i, i + 500))
        .execute();
      for (const row of rows) found.set(row.secret_hash, fromRow(row));
    }
    return found;
  }

  async byId(id: number): Promise<TokenRecord | undefined> {
    const row = await this.db.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
    return row && fromRow(row);
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.db.selectFrom("tokens").selectAll().orderBy("id").execute()).map(fromRow);
  }

  async remove(id: number): Promise<boolean> {
    return changed(await this.db.deleteFrom("tokens").where("id", "=", id).executeTakeFirst());
  }

  /** The token still works after all: it is not revoked. */
  async clearRevoked(secretHash: string): Promise<void> {
    await this.db
      .updateTable("tokens")
      .set({ revoked_at: null })
      .where("secret_hash", "=", secretHash)
      .execute();
  }

  /** Records the first revocation; later ones keep the original time. */
  async markRevoked(secretHash: string, at: string): Promise<boolean> {
    return (await this.markAllRevoked([secretHash], at)) > 0;
  }

  /** `markRevoked` for several tokens in one statement (per slice); returns how many were not revoked before. */
  async markAllRevoked(secretHashes: readonly string[], at: string): Promise<number> {
    let marked = 0;
    for (let i = 0; i < secretHashes.length; i += IN_SLICE) {
      const result = await this.db
        .updateTable("tokens")
        .set({ revoked_at: at })
        .where("secret_hash", "in", secretHashes.slice(i, i + IN_SLICE))
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      marked += Number(result.numUpdatedRows);
    }
    return marked;
  }
}
