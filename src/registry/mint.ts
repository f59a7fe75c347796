// `registry mint`: creates an Azure DevOps PAT through the PAT lifecycle API (token-formats.md §1.5) and
// registers it at once, so that every PAT leakwarden hands out can be matched and revoked.
import { UserError } from "../errors.js";

import { AdoCredentialError, withAdoToken } from "../revoke/ado-credential.js";
import {
  AzureDevOpsRevoker,
  adoCredentialOf,
  adoHeaders,
  PAT_LIFECYCLE_API_VERSION,
  patsUrl,
} from "../revoke/azure-devops.js";
import { describeAnswer, json, send, TransportError } from "../revoke/http.js";
import type { ProviderSettings } from "../revoke/settings.js";
import { Secret } from "../scan/secret.js";
import type { TokenRecord } from "../store/tokens.js";
import { addDays } from "./dates.js";
import type { Registry } from "./registry.js";

/** Azure DevOps caps a PAT's lifetime at one year. */
export const MAX_LIFETIME_DAYS = 365;
export const FULL_SCOPE = "app_token";

export interface MintRequest {
  org: string;
  name: string;
  scopes: string[];
  lifetimeDays: number;
  /** Permit `app_token` (full access). */
  allowFullScope?: boolean;
  owner?: string;
}

export interface Minted {
  token: Secret;
  authorizationId: string;
  validFrom: string;
  validTo: string;
  scopes: string[];
  allOrgs: boolean;
}

export class MintError extends UserError {}

const SCOPE = /^(?:vso\.[a-z_]+|app_token)$/;

export function checkMintRequest(request: MintRequest): void {
  if (!request.name.trim()) throw new MintError("--name must not be empty");
  if (request.scopes.length === 0)
    throw new MintError('--scopes is required: the narrowest scopes the PAT needs, e.g. --scopes "vso.code"');
  const bad = request.scopes.find((s) => !SCOPE.test(s));
  if (bad)
    throw new MintError(
      `"${bad}" is not an Azure DevOps scope (they look like vso.code or vso.build_execute)`,
    );
  if (request.scopes.includes(FULL_SCOPE) && !request.allowFullScope)
    throw new MintError(
      "app_token gives full access to everything the user can reach; name the scopes the PAT needs, or pass --allow-full-scope if it really must have them all",
    );
  if (request.lifetimeDays > MAX_LIFETIME_DAYS)
    throw new MintError(`a PAT lives at most one year (${MAX_LIFETIME_DAYS} days); ask for less`);
}

interface PatTokenResult {
  patToken?: {
    authorizationId?: unknown;
    token?: unknown;
    validFrom?: unknown;
    validTo?: unknown;
    scope?: unknown;
    targetAccounts?: unknown;
  };
  patTokenError?: unknown;
  patTokenErrorMessage?: unknown;
}

export async function mintAdoPat(
  request: MintRequest,
  settings: ProviderSettings,
  now: Date,
): Promise<Minted> {
  checkMintRequest(request);
  const credential = adoCredentialOf(settings, "minting a PAT");
  if (typeof credential === "string") throw new MintError(credential);
  const url = `${patsUrl(settings, request.org)}?api-version=${PAT_LIFECYCLE_API_VERSION}`;
  const body = {
    displayName: request.name,
    scope: request.scopes.join(" "),
    validTo: addDays(now, request.lifetimeDays).toISOString(),
    // Global PATs can no longer be created (15 March 2026) and stop working on 1 December 2026.
    allOrgs: false,
  };
  let answer: Awaited<ReturnType<typeof send>>;
  let bearer = "";
  try {
    // A 401 created nothing: asking again with a fresh token is safe.
    answer = await withAdoToken(
      credential,
      (token) => {
        bearer = token;
        return send(
          "POST",
          url,
          {
            headers: { ...adoHeaders(token), "Content-Type": "application/json" },
            body: JSON.stringify(body),
          },
          settings,
          [token],
        );
      },
      (result) => result.status === 401,
    );
  } catch (error) {
    if (error instanceof AdoCredentialError) throw new MintError(error.message);
    if (error instanceof TransportError)
      throw new MintError(
        `${error.message}${error.timeout ? "; the PAT may have been created: check the user's PATs in Azure DevOps" : ""}`,
      );
    throw error;
  }
  const result = json(answer) as PatTokenResult | undefined;
  const value = result?.patToken?.token;
  const secrets = typeof value === "string" ? [bearer, value] : [bearer];
  if (answer.status < 200 || answer.status >= 300)
    throw new MintError(describeAnswer("POST", url, answer, secrets));
  if (result?.patTokenError !== undefined && result.patTokenError !== "none")
    throw new MintError(
      `Azure DevOps refused to create the PAT: ${String(result.patTokenError)}${
        typeof result.patTokenErrorMessage === "string" ? ` (${result.patTokenErrorMessage})` : ""
      }`,
    );
  const pat = result?.patToken;
  if (typeof value !== "string" || typeof pat?.authorizationId !== "string")
    throw new MintError(`POST ${url} answered ${answer.status} without a token and an authorization id`);
  return {
    token: new Secret(value),
    authorizationId: pat.authorizationId,
    validFrom: typeof pat.validFrom === "string" ? new Date(pat.validFrom).toISOString() : now.toISOString(),
    validTo: typeof pat.validTo === "string" ? new Date(pat.validTo).toISOString() : body.validTo,
    scopes: typeof pat.scope === "string" ? pat.scope.split(" ").filter(Boolean) : request.scopes,
    allOrgs: pat.targetAccounts === null,
  };
}

/**
 * Mints and registers. A PAT that cannot be registered is revoked again at once: an unregistered PAT is one
 * leakwarden could not revoke if it leaked.
 */
export async function mintAndRegister(
  registry: Registry,
  request: MintRequest,
  settings: ProviderSettings,
  now: Date,
): Promise<{ minted: Minted; token: TokenRecord }> {
  const minted = await mintAdoPat(request, settings, now);
  try {
    const { token } = await registry.add(
      minted.token,
      {
        provider: "azure-devops",
        org: request.org,
        authorizationId: minted.authorizationId,
        owner: request.owner,
        name: request.name,
        scopes: minted.scopes,
        createdAt: minted.validFrom,
        expiresAt: minted.validTo,
        allOrgs: minted.allOrgs,
        minted: true,
      },
      // Azure DevOps just issued it: it is a token, whatever the rules say about its format.
      { force: true },
    );
    return { minted, token };
  } catch (error) {
    const revoker = new AzureDevOpsRevoker(settings);
    const undo = await revoker.revoke([
      {
        secretHash: "",
        preview: "",
        org: request.org,
        authorizationId: minted.authorizationId,
        minted: true,
      },
    ]);
    const undone = undo.results[0]?.kind === "revoked" || undo.results[0]?.kind === "already-revoked";
    throw new MintError(
      `the PAT was created but could not be registered (${(error as Error).message}); ${
        undone
          ? "it was revoked again"
          : `revoking it failed too: revoke authorization ${minted.authorizationId} in Azure DevOps by hand`
      }`,
    );
  }
}
