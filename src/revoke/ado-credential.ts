// The Microsoft Entra access token that Azure DevOps' Token Admin and PAT lifecycle APIs take as Bearer. Such a
// token lives about an hour, so a long-running App gets its tokens through @azure/identity (service principal
// with a secret or certificate, workload identity federation, managed identity), caches each one and renews
// it before it expires. A static LEAKWARDEN_ADO_TOKEN still works, for a one-off CLI call, and says it expires.
import type { AccessToken, TokenCredential } from "@azure/identity";
import { scrub } from "./http.js";

/** Azure DevOps' resource id in Microsoft Entra: every token for its REST APIs is issued for it. */
export const ADO_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798";
export const ADO_SCOPE = `${ADO_RESOURCE}/.default`;

/** Renew this long before a token expires, so that no call goes out with a token about to lapse. */
export const RENEW_BEFORE_MS = 5 * 60 * 1000;

export interface AdoCredential {
  /** Where the token comes from, for logs and errors: never a secret. */
  readonly description: string;
  /** False for a static token: asking again gives the same one. */
  readonly renewable: boolean;
  /** Said once when the credential is chosen (a static token expires); undefined when nothing to say. */
  readonly warning?: string;
  /** A token valid for a while yet; `fresh` throws the cached one away first (after a 401). */
  token(options?: { fresh?: boolean }): Promise<string>;
}

/** The credential could give no token; `retry` when trying later may help (Entra down, a timeout). */
export class AdoCredentialError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** OAuth 2.0 error codes (RFC 6749 §5.2) that MSAL puts first in its message: the request itself is refused. */
const OAUTH_REFUSAL =
  /^(invalid_client|unauthorized_client|invalid_grant|invalid_request|invalid_scope|unsupported_grant_type)\b/;

export class StaticAdoCredential implements AdoCredential {
  readonly description = "LEAKWARDEN_ADO_TOKEN";
  readonly renewable = false;
  readonly warning =
    "LEAKWARDEN_ADO_TOKEN is a static Microsoft Entra token: it expires about an hour after it was issued and is never renewed; for 'serve', set AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret, certificate or federated token instead (see the README)";

  constructor(private readonly value: string) {}

  async token(): Promise<string> {
    return this.value;
  }
}

/**
 * Tokens from an @azure/identity credential, cached until RENEW_BEFORE_MS before they expire. `make` builds the
 * credential (loaded on first use): a fresh one after a 401 also drops MSAL's own cache, which would hand back the refused token.
 */
export class EntraAdoCredential implements AdoCredential {
  readonly renewable = true;
  private credential: Promise<TokenCredential> | undefined;
  private cached: AccessToken | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    readonly description: string,
    private readonly make: () => Promise<TokenCredential>,
    private readonly now: () => number = Date.now,
    /** Values to scrub from error text (a client secret). */
    private readonly secrets: readonly string[] = [],
  ) {}

  private usable(token: AccessToken | undefined): token is AccessToken {
    if (!token) return false;
    const now = this.now();
    if (token.refreshAfterTimestamp !== undefined && now >= token.refreshAfterTimestamp) return false;
    return now < token.expiresOnTimestamp - RENEW_BEFORE_MS;
  }

  async token(options: { fresh?: boolean } = {}): Promise<string> {
    if (options.fresh) {
      this.cached = undefined;
      this.credential = undefined;
    } else if (this.usable(this.cached)) return this.cached.token;
    // Concurrent callers share one request to Entra.
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<string> {
    let token: AccessToken | null;
    try {
      this.credential ??= this.make();
      token = await (await this.credential).getToken(ADO_SCOPE);
    } catch (error) {
      const err = error as { name?: string; message?: string; statusCode?: number };
      const status = err.statusCode;
      // A refused credential stays refused; anything else (Entra down, a timeout) may pass later.
      const refused =
        err.name === "CredentialUnavailableError" ||
        (status !== undefined && status < 500 && status !== 429) ||
        OAUTH_REFUSAL.test(String(err.message));
      const retry = !refused;
      const said = scrub(String(err.message ?? error).split("\n")[0] ?? "", this.secrets).slice(0, 300);
      throw new AdoCredentialError(`no Microsoft Entra token from ${this.description}: ${said}`, retry);
    }
    if (!token) throw new AdoCredentialError(`${this.description} gave no Microsoft Entra token`, false);
    this.cached = token;
    return token.token;
  }
}

const KNOWN_AUTHORITIES = [
  "https://login.microsoftonline.com",
  "https://login.microsoftonline.us",
  "https://login.chinacloudapi.cn",
  "https://login.microsoftonline.de",
];

/** The same environment variables @azure/identity's EnvironmentCredential reads, plus managed identity. */
export function adoCredentialFrom(
  env: NodeJS.ProcessEnv,
  now: () => number = Date.now,
): AdoCredential | { problem: string } | undefined {
  const tenantId = env.AZURE_TENANT_ID || undefined;
  const clientId = env.AZURE_CLIENT_ID || undefined;
  const secret = env.AZURE_CLIENT_SECRET || undefined;
  const certificatePath = env.AZURE_CLIENT_CERTIFICATE_PATH || undefined;
  const federatedTokenFile = env.AZURE_FEDERATED_TOKEN_FILE || undefined;
  const authorityHost = (env.AZURE_AUTHORITY_HOST || undefined)?.replace(/\/+$/, "");
  const managed = /^(1|true|yes)$/i.test(env.LEAKWARDEN_ADO_MANAGED_IDENTITY ?? "");
  // Instance discovery asks login.microsoftonline.com about the authority: not for a private or sovereign one.
  const authority = {
    ...(authorityHost ? { authorityHost } : {}),
    disableInstanceDiscovery: authorityHost !== undefined && !KNOWN_AUTHORITIES.includes(authorityHost),
  };
  const identity = () => import("@azure/identity");
  const servicePrincipal = (how: string) => `service principal ${clientId} (${how}) of tenant ${tenantId}`;
  const wantsServicePrincipal = secret || certificatePath || federatedTokenFile;
  if (wantsServicePrincipal && (!tenantId || !clientId))
    return {
      problem:
        "AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE is set, but AZURE_TENANT_ID and AZURE_CLIENT_ID must be set too",
    };
  if (tenantId && clientId && secret)
    return new EntraAdoCredential(
      servicePrincipal("client secret"),
      async () => new (await identity()).ClientSecretCredential(tenantId, clientId, secret, authority),
      now,
      [secret],
    );
  if (tenantId && clientId && certificatePath) {
    const certificatePassword = env.AZURE_CLIENT_CERTIFICATE_PASSWORD || undefined;
    return new EntraAdoCredential(
      servicePrincipal("certificate"),
      async () =>
        new (await identity()).ClientCertificateCredential(
          tenantId,
          clientId,
          { certificatePath, ...(certificatePassword ? { certificatePassword } : {}) },
          authority,
        ),
      now,
      certificatePassword ? [certificatePassword] : [],
    );
  }
  if (tenantId && clientId && federatedTokenFile)
    return new EntraAdoCredential(
      servicePrincipal("workload identity federation"),
      async () =>
        new (await identity()).WorkloadIdentityCredential({
          tenantId,
          clientId,
          tokenFilePath: federatedTokenFile,
          ...authority,
        }),
      now,
    );
  if (managed)
    return new EntraAdoCredential(
      clientId ? `managed identity ${clientId}` : "the system-assigned managed identity",
      async () => {
        const { ManagedIdentityCredential } = await identity();
        return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
      },
      now,
    );
  if (env.LEAKWARDEN_ADO_TOKEN) return new StaticAdoCredential(env.LEAKWARDEN_ADO_TOKEN);
  return undefined;
}

/** Calls with a token; when the answer says the token was refused, once more with a fresh one. */
export async function withAdoToken<T>(
  credential: AdoCredential,
  call: (token: string) => Promise<T>,
  refused: (result: T) => boolean,
): Promise<T> {
  const first = await call(await credential.token());
  if (!credential.renewable || !refused(first)) return first;
  return call(await credential.token({ fresh: true }));
}
