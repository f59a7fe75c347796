// The `tokens` table: the registry of tokens the organisation issued. Values are never stored: a token is
// its SHA-256 (`secretHash`), a redacted preview, and what it takes to revoke it.

import type { Database } from "better-sqlite3";
import { UserError } from "../errors.js";
import { type Clock, iso } from "./clock.js";
import { statement } from "./statements.js";

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

interface Row {
  id: number;
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
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private params(token: NewToken, now: string) {
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
  insert(token: NewToken): TokenRecord {
    const existing = this.byHash(token.secretHash);
    if (existing) throw new DuplicateTokenError(existing);
    const row = statement<Record<string, unknown>, Row>(
      this.db,
      `INSERT INTO tokens (secret_hash, preview, provider, rule_id, org, authorization_id, owner, name, scopes,
           all_orgs, minted, created_at, expires_at, registered_at)
         VALUES (@secret_hash, @preview, @provider, @rule_id, @org, @authorization_id, @owner, @name, @scopes,
           @all_orgs, @minted, @created_at, @expires_at, @registered_at)
         RETURNING *`,
    ).get(this.params(token, iso(this.clock()))) as Row;
    return fromRow(row);
  }

  /** Registers a token, or replaces the metadata of the one with the same hash (imports are repeatable). */
  upsert(token: NewToken): { token: TokenRecord; created: boolean } {
    const existing = this.byHash(token.secretHash);
    if (!existing) return { token: this.insert(token), created: true };
    const params = this.params(token, iso(this.clock()));
    const row = statement<Record<string, unknown>, Row>(
      this.db,
      `UPDATE tokens SET preview = @preview, provider = @provider, rule_id = @rule_id, org = @org,
           authorization_id = @authorization_id, owner = @owner, name = @name, scopes = @scopes,
           all_orgs = @all_orgs, minted = @minted, created_at = @created_at, expires_at = @expires_at
         WHERE id = @id RETURNING *`,
    ).get({ ...params, created_at: token.createdAt ?? existing.createdAt, id: existing.id }) as Row;
    return { token: fromRow(row), created: false };
  }

  byHash(secretHash: string): TokenRecord | undefined {
    const row = statement<[string], Row>(this.db, "SELECT * FROM tokens WHERE secret_hash = ?").get(
      secretHash,
    );
    return row && fromRow(row);
  }

  byId(id: number): TokenRecord | undefined {
    const row = statement<[number], Row>(this.db, "SELECT * FROM tokens WHERE id = ?").get(id);
    return row && fromRow(row);
  }

  list(): TokenRecord[] {
    return statement<[], Row>(this.db, "SELECT * FROM tokens ORDER BY id").all().map(fromRow);
  }

  remove(id: number): boolean {
    return statement(this.db, "DELETE FROM tokens WHERE id = ?").run(id).changes > 0;
  }

  /** Records the first revocation; later ones keep the original time. */
  /** The token still works after all: it is not revoked. */
  clearRevoked(secretHash: string): void {
    statement(this.db, "UPDATE tokens SET revoked_at = NULL WHERE secret_hash = ?").run(secretHash);
  }

  markRevoked(secretHash: string, at: string): boolean {
    return (
      statement(this.db, "UPDATE tokens SET revoked_at = ? WHERE secret_hash = ? AND revoked_at IS NULL").run(
        at,
        secretHash,
      ).changes > 0
    );
  }
}
