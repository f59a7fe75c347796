// Azure DevOps: a PAT is revoked by its authorization id, never by its value (token-formats.md §1.6, §1.7).
// Organisation administrators use the Token Admin API; PATs that leakwarden minted go through the PAT
// lifecycle API, which acts on the calling user's own PATs. Both take a Microsoft Entra token as Bearer
// (ado-credential.ts): a 401 gets one fresh token and one more try.
import { type AdoCredential, AdoCredentialError, withAdoToken } from "./ado-credential.js";
import { exchange, type HttpAnswer, json, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type { AttemptResult, BatchResult, CallSummary, RevocationTarget, Revoker } from "./types.js";

export const TOKEN_ADMIN_API_VERSION = "7.1";
export const PAT_LIFECYCLE_API_VERSION = "7.1-preview.1";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isAuthorizationId(value: string): boolean {
  return UUID.test(value);
}

/** `{vssps}/{org}/_apis/tokens/pats`: the PAT lifecycle API, shared with `registry mint`. */
export function patsUrl(settings: Pick<ProviderSettings, "adoVsspsUrl">, org: string): string {
  return `${settings.adoVsspsUrl}/${encodeURIComponent(org)}/_apis/tokens/pats`;
}

export function adoHeaders(credential: string): Record<string, string> {
  return { Authorization: `Bearer ${credential}`, Accept: "application/json" };
}

export function missingCredential(action: string): string {
  return `no Azure DevOps credential: ${action} needs a Microsoft Entra access token (resource 499b84ac-1321-427f-aa17-267ca6975798); set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a certificate, a federated token, a managed identity), or LEAKWARDEN_ADO_TOKEN`;
}

/** The credential to call Azure DevOps with, or why there is none. */
export function adoCredentialOf(settings: Pick<ProviderSettings, "adoCredential">, action: string) {
  const credential = settings.adoCredential;
  if (!credential) return missingCredential(action);
  if ("problem" in credential) return `the Azure DevOps credential is incomplete: ${credential.problem}`;
  return credential as AdoCredential;
}

/** For start-up: whether a token can be had now, in one line that says from where or why not. */
export async function probeAdoCredential(
  settings: Pick<ProviderSettings, "adoCredential">,
): Promise<{ ok: boolean; message: string }> {
  const credential = adoCredentialOf(settings, "revoking Azure DevOps PATs");
  if (typeof credential === "string") return { ok: false, message: credential };
  try {
    await credential.token();
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const warning = credential.warning ? `; warning: ${credential.warning}` : "";
  return {
    ok: true,
    message: `Azure DevOps: got a Microsoft Entra token from ${credential.description}${warning}`,
  };
}

export class AzureDevOpsRevoker implements Revoker {
  readonly name = "azure-devops" as const;
  readonly byValue = false;
  readonly concurrency = 4;
  readonly batchSize = 1;

  constructor(private readonly settings: ProviderSettings) {}

  unready(): string | undefined {
    const credential = adoCredentialOf(this.settings, "revoking a PAT");
    return typeof credential === "string"
      ? `${credential}; set it, then revoke the finding again with 'leakwarden revoke'`
      : undefined;
  }

  cannotRevoke(target: RevocationTarget): string | undefined {
    if (!target.authorizationId || !target.org)
      return "Azure DevOps revokes a PAT only by its authorization id; the registry has no organisation and authorization id for this token";
    if (!isAuthorizationId(target.authorizationId))
      return `the registry's authorization id "${target.authorizationId}" is not a UUID`;
    return undefined;
  }

  describe(target: RevocationTarget): CallSummary {
    const org = target.org ?? "{org}";
    if (target.minted)
      return {
        method: "DELETE",
        url: `${patsUrl(this.settings, org)}?authorizationId=${encodeURIComponent(target.authorizationId ?? "")}&api-version=${PAT_LIFECYCLE_API_VERSION}`,
      };
    return {
      method: "POST",
      url: `${this.settings.adoVsspsUrl}/${encodeURIComponent(org)}/_apis/tokenadmin/revocations?api-version=${TOKEN_ADMIN_API_VERSION}`,
    };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const target = targets[0] as RevocationTarget;
    const call = this.describe(target);
    const problem = this.cannotRevoke(target);
    if (problem) return { call, results: [{ kind: "failed", error: problem }] };
    const credential = adoCredentialOf(this.settings, "revoking a PAT");
    if (typeof credential === "string") return { call, results: [{ kind: "failed", error: credential }] };
    const attempt = (token: string) => {
      const init = target.minted
        ? { headers: adoHeaders(token) }
        : {
            headers: { ...adoHeaders(token), "Content-Type": "application/json" },
            body: JSON.stringify([{ authorizationId: target.authorizationId }]),
          };
      return exchange(call, init, this.settings, [token], 1, (answer, description, now) => [
        judge(answer, description, target, credential.description, now),
      ]);
    };
    try {
      return await withAdoToken(credential, attempt, (result) => result.call.status === 401);
    } catch (error) {
      if (!(error instanceof AdoCredentialError)) throw error;
      return {
        call,
        results: [
          error.retry ? { kind: "retry", error: error.message } : { kind: "failed", error: error.message },
        ],
      };
    }
  }
}

function judge(
  answer: HttpAnswer,
  description: string,
  target: RevocationTarget,
  credentialName: string,
  now: number,
): AttemptResult {
  const { status } = answer;
  const patError = (json(answer) as { patTokenError?: unknown } | undefined)?.patTokenError;
  if (status === 404 || patError === "authorizationNotFound")
    return { kind: "already-revoked", detail: description };
  if (status >= 200 && status < 300) {
    if (typeof patError === "string" && patError !== "none")
      return { kind: "failed", error: `${description} (patTokenError ${patError})` };
    return { kind: "revoked" };
  }
  if (status === 401 || status === 403)
    return {
      kind: "failed",
      error: `${description}: the token from ${credentialName} was refused; ${
        target.minted
          ? "the PAT lifecycle API needs a Microsoft Entra token of the user who minted the PAT (scope vso.pats_manage)"
          : `the Token Admin API needs a Microsoft Entra token of a Project Collection Administrator of "${target.org}" (scope vso.tokenadministration)`
      }`,
    };
  return transientOutcome(answer, description, now) ?? { kind: "failed", error: description };
}
