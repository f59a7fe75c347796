// The token registry: what the organisation issued, known by hash. Adding a token checks it against the
// scanning rules (the registry must be able to match what a scan finds) and keeps only its hash, a preview and
// what it takes to revoke it.
import { UserError } from "../errors.js";

import { isAuthorizationId } from "../revoke/azure-devops.js";
import type { Engine } from "../scan/engine.js";
import { type Secret, secretHash } from "../scan/secret.js";
import { createEngine, DEFAULT_ENGINE_SETTINGS } from "../scan/settings.js";
import type { Store } from "../store/index.js";
import { DuplicateTokenError, type NewToken, type TokenRecord } from "../store/tokens.js";
import { DateError, parseDate } from "./dates.js";
import { identify, previewOf } from "./identify.js";

export interface TokenMetadata {
  provider?: string;
  org?: string;
  authorizationId?: string;
  owner?: string;
  name?: string;
  scopes?: string[];
  expiresAt?: string;
  createdAt?: string;
  allOrgs?: boolean;
  minted?: boolean;
}

export interface AddOptions {
  /** Register a value that no rule recognises, or whose checksum fails. */
  force?: boolean;
}

export class RegistryError extends UserError {}

/** Scopes as the user writes them: "vso.code vso.build", or with commas. */
export function parseScopes(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** What the registry tells the rest of leakwarden about a match: safe to print and to publish in a report. */
export interface RegistryMatch {
  id: number;
  provider: string;
  owner: string | null;
  name: string | null;
}

export function toMatch(token: TokenRecord): RegistryMatch {
  return { id: token.id, provider: token.provider, owner: token.owner, name: token.name };
}

export class Registry {
  #engine: Engine | undefined;

  constructor(
    private readonly store: Store,
    private readonly makeEngine: () => Engine = () => createEngine(DEFAULT_ENGINE_SETTINGS),
  ) {}

  private engine(): Engine {
    this.#engine ??= this.makeEngine();
    return this.#engine;
  }

  /** Checks a value and its metadata and builds the row to store; warnings say what will not work. */
  prepare(
    value: string,
    meta: TokenMetadata,
    options: AddOptions = {},
  ): { token: NewToken; warnings: string[] } {
    if (value.length === 0) throw new RegistryError("no token was given");
    if (/\s/.test(value))
      throw new RegistryError("the token contains whitespace: give exactly one token, nothing around it");
    const identity = identify(value, this.engine());
    if (!identity && !options.force)
      throw new RegistryError(
        "the value is not a token format leakwarden knows (see 'leakwarden rules list'); check that it was copied whole, or pass --force to register it anyway",
      );
    if (identity && identity.confidence !== "high" && !options.force)
      throw new RegistryError(
        `the value looks like a ${identity.rule.description} but its checksum fails, so it was probably mistyped; pass --force to register it anyway`,
      );
    const provider = meta.provider ?? identity?.rule.provider;
    if (!provider)
      throw new RegistryError("--provider is needed for a token whose format leakwarden does not know");
    if (identity && meta.provider && meta.provider !== identity.rule.provider && !options.force)
      throw new RegistryError(
        `the token is a ${identity.rule.description} (provider ${identity.rule.provider}), not ${meta.provider}; leave out --provider or correct it`,
      );
    if (!/^[a-z0-9][a-z0-9-]*$/.test(provider))
      throw new RegistryError(`provider "${provider}" must be lower-case letters, digits and dashes`);
    const warnings: string[] = [];
    if (meta.authorizationId !== undefined) {
      if (provider !== "azure-devops")
        throw new RegistryError("an authorization id only applies to Azure DevOps tokens");
      if (!isAuthorizationId(meta.authorizationId))
        throw new RegistryError(
          `the authorization id must be a UUID such as 7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b, not "${meta.authorizationId}"`,
        );
      if (!meta.org)
        throw new RegistryError("an Azure DevOps token with an authorization id needs its --org too");
    }
    if (meta.org !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(meta.org))
      throw new RegistryError(`"${meta.org}" is not an organisation name (letters, digits, dots, dashes)`);
    if (provider === "azure-devops" && !meta.authorizationId)
      warnings.push(
        "without --org and --authorization-id leakwarden can recognise this Azure DevOps token but not revoke it",
      );
    if (meta.expiresAt && meta.createdAt && meta.expiresAt <= meta.createdAt)
      throw new RegistryError("the expiry date is before the creation date");
    return {
      token: {
        secretHash: secretHash(value),
        preview: identity?.preview ?? previewOf(value),
        provider,
        ruleId: identity?.rule.id ?? null,
        org: meta.org ?? null,
        authorizationId: meta.authorizationId?.toLowerCase() ?? null,
        owner: meta.owner ?? null,
        name: meta.name ?? null,
        scopes: meta.scopes ?? [],
        allOrgs: meta.allOrgs ?? false,
        minted: meta.minted ?? false,
        createdAt: meta.createdAt,
        expiresAt: meta.expiresAt ?? null,
      },
      warnings,
    };
  }

  async add(
    secret: Secret,
    meta: TokenMetadata,
    options: AddOptions = {},
  ): Promise<{ token: TokenRecord; warnings: string[] }> {
    const { token, warnings } = this.prepare(secret.reveal(), meta, options);
    try {
      const stored = await this.store.transaction(async (tx) => {
        const row = await tx.tokens.insert(token);
        await tx.audit.record({
          action: meta.minted ? "registry.mint" : "registry.add",
          subject: `token:${row.id}`,
          provider: row.provider,
          secretHash: row.secretHash,
          detail: {
            preview: row.preview,
            name: row.name,
            owner: row.owner,
            org: row.org,
            forced: !!options.force,
          },
        });
        return row;
      });
      return { token: stored, warnings };
    } catch (error) {
      if (error instanceof DuplicateTokenError)
        throw new RegistryError(
          `this token is already registered as #${error.existing.id}; 'leakwarden registry remove ${error.existing.id}' first to replace it`,
        );
      throw error;
    }
  }

  /**
   * Imports JSON Lines: `{"token": "...", "provider", "org", "authorizationId", "owner", "name", "scopes",
   * "expires", "created", "allOrgs"}`. All or nothing: a bad line stops the import before anything is stored.
   * Tokens already registered get the new metadata.
   */
  async importJsonLines(
    text: string,
    options: AddOptions = {},
  ): Promise<{ added: number; updated: number; warnings: string[] }> {
    const prepared: { token: NewToken; line: number }[] = [];
    const warnings: string[] = [];
    const seen = new Map<string, number>();
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === "") return;
      try {
        const { value, meta } = parseImportLine(raw);
        const result = this.prepare(value, meta, options);
        const earlier = seen.get(result.token.secretHash);
        if (earlier !== undefined) throw new RegistryError(`the same token is on line ${earlier}`);
        seen.set(result.token.secretHash, line);
        prepared.push({ token: result.token, line });
        for (const w of result.warnings) warnings.push(`line ${line}: ${w}`);
      } catch (error) {
        if (error instanceof RegistryError || error instanceof DateError)
          throw new RegistryError(`line ${line}: ${error.message}; nothing was imported`);
        throw error;
      }
    });
    let added = 0;
    let updated = 0;
    await this.store.transaction(async (tx) => {
      for (const { token, line } of prepared) {
        const { token: row, created } = await tx.tokens.upsert(token);
        if (created) added++;
        else updated++;
        await tx.audit.record({
          action: created ? "registry.import" : "registry.update",
          subject: `token:${row.id}`,
          provider: row.provider,
          secretHash: row.secretHash,
          detail: { preview: row.preview, name: row.name, owner: row.owner, org: row.org, line },
        });
      }
    });
    return { added, updated, warnings };
  }

  async lookup(hash: string): Promise<TokenRecord | undefined> {
    return await this.store.tokens.byHash(hash);
  }

  /** The registered tokens among these hashes, by hash. */
  async lookupMany(hashes: readonly string[]): Promise<Map<string, TokenRecord>> {
    return await this.store.tokens.byHashes(hashes);
  }

  async list(): Promise<TokenRecord[]> {
    return await this.store.tokens.list();
  }

  async remove(id: number): Promise<TokenRecord> {
    const token = await this.store.tokens.byId(id);
    if (!token) throw new RegistryError(`no registered token #${id}; 'leakwarden registry list' shows them`);
    await this.store.transaction(async (tx) => {
      await tx.tokens.remove(id);
      await tx.audit.record({
        action: "registry.remove",
        subject: `token:${id}`,
        provider: token.provider,
        secretHash: token.secretHash,
        detail: { preview: token.preview, name: token.name, owner: token.owner },
      });
    });
    return token;
  }
}

const IMPORT_KEYS = new Set([
  "token",
  "provider",
  "org",
  "authorizationId",
  "owner",
  "name",
  "scopes",
  "expires",
  "created",
  "allOrgs",
]);

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new RegistryError(`"${key}" must be a string`);
  return value;
}

/** One import line. Errors never quote the line: it holds a token. */
function parseImportLine(raw: string): { value: string; meta: TokenMetadata } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RegistryError("not a JSON object");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new RegistryError("not a JSON object");
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!IMPORT_KEYS.has(key))
      throw new RegistryError(`unknown field "${key}" (known: ${[...IMPORT_KEYS].join(", ")})`);
  const value = optionalString(record, "token");
  if (!value) throw new RegistryError('no "token" field');
  const scopes = record.scopes;
  if (scopes !== undefined && typeof scopes !== "string" && !Array.isArray(scopes))
    throw new RegistryError('"scopes" must be a string or a list of strings');
  if (Array.isArray(scopes) && scopes.some((s) => typeof s !== "string"))
    throw new RegistryError('"scopes" must be a string or a list of strings');
  if (record.allOrgs !== undefined && typeof record.allOrgs !== "boolean")
    throw new RegistryError('"allOrgs" must be true or false');
  const expires = optionalString(record, "expires");
  const created = optionalString(record, "created");
  return {
    value,
    meta: {
      provider: optionalString(record, "provider"),
      org: optionalString(record, "org"),
      authorizationId: optionalString(record, "authorizationId"),
      owner: optionalString(record, "owner"),
      name: optionalString(record, "name"),
      scopes: typeof scopes === "string" ? parseScopes(scopes) : (scopes as string[] | undefined),
      expiresAt: expires ? parseDate(expires, '"expires"', true) : undefined,
      createdAt: created ? parseDate(created, '"created"') : undefined,
      allOrgs: record.allOrgs as boolean | undefined,
    },
  };
}
