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
  /** Authorizations per Token Admin call: the API sets no limit we know of; a burst's tokens fit in one. */
  readonly batchSize = 100;

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

  /**
   * The Token Admin API takes a list of one organisation's authorizations in a call (token-formats.md §1.6); the
   * PAT lifecycle API one PAT.
   */
  batchKey(target: RevocationTarget): string {
    return target.minted ? `pat:${target.authorizationId ?? ""}` : `org:${target.org ?? ""}`;
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    if (targets.length === 1) return this.revokeOne(targets[0] as RevocationTarget);
    const problems = targets.map((target) => this.cannotRevoke(target));
    const callable = targets.filter((target, i) => !problems[i] && !target.minted);
    const together = callable.length > 0 ? await this.revokeTogether(callable) : undefined;
    const results: AttemptResult[] = [];
    let next = 0;
    for (const [i, target] of targets.entries()) {
      const problem = problems[i];
      if (problem) results.push({ kind: "failed", error: problem });
      else if (target.minted) results.push((await this.revokeOne(target)).results[0] as AttemptResult);
      else results.push(together?.results[next++] as AttemptResult);
    }
    return {
      call: together?.call ?? this.describe(targets[0] as RevocationTarget),
      results,
      ...(together?.pauseMs !== undefined ? { pauseMs: together.pauseMs } : {}),
    };
  }

  /**
   * One call for several authorizations of one organisation. Its answer is the same for all of them; where it
   * cannot say which of them it is about (a 400, a 404, a patTokenError), each is asked again on its own.
   */
  private async revokeTogether(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const first = targets[0] as RevocationTarget;
    const body = JSON.stringify(targets.map((target) => ({ authorizationId: target.authorizationId })));
    const batch = await this.withCredential(first, targets.length, (call, token, credentialName) =>
      exchange(
        call,
        { headers: { ...adoHeaders(token), "Content-Type": "application/json" }, body },
        this.settings,
        [token],
        targets.length,
        (answer, description, now) => {
          const result = judge(answer, description, first, credentialName, now);
          return targets.map(() => result);
        },
      ),
    );
    const status = batch.call.status ?? 0;
    const shared = batch.results[0];
    const sameForAll =
      shared?.kind === "revoked" || shared?.kind === "retry" || status === 401 || status === 403;
    if (sameForAll) return batch;
    const alone: BatchResult[] = [];
    for (const target of targets) alone.push(await this.revokeOne(target));
    const pauses = alone.flatMap((one) => (one.pauseMs !== undefined ? [one.pauseMs] : []));
    return {
      call: batch.call,
      results: alone.map((one) => one.results[0] as AttemptResult),
      ...(pauses.length > 0 ? { pauseMs: Math.max(...pauses) } : {}),
    };
  }

  private async revokeOne(target: RevocationTarget): Promise<BatchResult> {
    const problem = this.cannotRevoke(target);
    if (problem) return { call: this.describe(target), results: [{ kind: "failed", error: problem }] };
    return this.withCredential(target, 1, (call, token, credentialName) => {
      const init = target.minted
        ? { headers: adoHeaders(token) }
        : {
            headers: { ...adoHeaders(token), "Content-Type": "application/json" },
            body: JSON.stringify([{ authorizationId: target.authorizationId }]),
          };
      return exchange(call, init, this.settings, [token], 1, (answer, description, now) => [
        judge(answer, description, target, credentialName, now),
      ]);
    });
  }

  /**
   * Runs `attempt` (the call for `target`, with a Microsoft Entra token), again with a fresh token after a 401; a
   * credential that cannot give a token fails (or retries) all `count` targets.
   */
  private async withCredential(
    target: RevocationTarget,
    count: number,
    attempt: (call: CallSummary, token: string, credentialName: string) => Promise<BatchResult>,
  ): Promise<BatchResult> {
    const call = this.describe(target);
    const all = (result: AttemptResult): BatchResult => ({
      call,
      results: Array.from({ length: count }, () => result),
    });
    const credential = adoCredentialOf(this.settings, "revoking a PAT");
    if (typeof credential === "string") return all({ kind: "failed", error: credential });
    try {
      return await withAdoToken(
        credential,
        (token) => attempt(call, token, credential.description),
        (result) => result.call.status === 401,
      );
    } catch (error) {
      if (!(error instanceof AdoCredentialError)) throw error;
      return all(
        error.retry ? { kind: "retry", error: error.message } : { kind: "failed", error: error.message },
      );
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
