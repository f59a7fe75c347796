// Where the providers are and how to authenticate: environment variables, overridable in code (the app passes
// its GitHub Enterprise API URL). One place for the names and defaults that the README documents.
import { UserError } from "../errors.js";
import { type AdoCredential, adoCredentialFrom, StaticAdoCredential } from "./ado-credential.js";
import type { HttpSettings } from "./http.js";

export interface ProviderSettings extends HttpSettings {
  /** LEAKWARDEN_ADO_VSSPS_URL: Azure DevOps identity service, hosting the Token Admin and PAT lifecycle APIs. */
  adoVsspsUrl: string;
  /**
   * Where the Microsoft Entra token sent as Bearer comes from: AZURE_* (renewed) or LEAKWARDEN_ADO_TOKEN (static);
   * `problem` when the settings are incomplete, undefined when there are none.
   */
  adoCredential?: AdoCredential | { problem: string };
  /** LEAKWARDEN_GITHUB_API_URL: REST API root; https://HOST/api/v3 on GitHub Enterprise Server. */
  githubApiUrl: string;
  /** LEAKWARDEN_GITLAB_URL: the GitLab instance. */
  gitlabUrl: string;
  /** LEAKWARDEN_SLACK_API_URL: Slack Web API root. */
  slackApiUrl: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

const trim = (url: string) => url.replace(/\/+$/, "");

export class ProviderSettingsError extends UserError {}

export function providerUrl(value: string, variable: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("not http");
  } catch {
    throw new ProviderSettingsError(`${variable} must be an http(s) URL, not "${value}"`);
  }
  return trim(value);
}

/** Overrides in code; `adoToken` stands for a static LEAKWARDEN_ADO_TOKEN. */
export type ProviderOverrides = Partial<ProviderSettings> & { adoToken?: string };

export function providerSettings(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ProviderOverrides = {},
): ProviderSettings {
  const timeout = env.LEAKWARDEN_HTTP_TIMEOUT_MS;
  if (timeout !== undefined && !/^\d+$/.test(timeout))
    throw new ProviderSettingsError(
      `LEAKWARDEN_HTTP_TIMEOUT_MS must be a number of milliseconds, not "${timeout}"`,
    );
  return {
    adoVsspsUrl: providerUrl(
      overrides.adoVsspsUrl ?? env.LEAKWARDEN_ADO_VSSPS_URL ?? "https://vssps.dev.azure.com",
      "LEAKWARDEN_ADO_VSSPS_URL",
    ),
    adoCredential:
      overrides.adoCredential ??
      (overrides.adoToken
        ? new StaticAdoCredential(overrides.adoToken)
        : adoCredentialFrom(env, overrides.now)),
    githubApiUrl: providerUrl(
      overrides.githubApiUrl ?? env.LEAKWARDEN_GITHUB_API_URL ?? "https://api.github.com",
      "LEAKWARDEN_GITHUB_API_URL",
    ),
    gitlabUrl: providerUrl(
      overrides.gitlabUrl ?? env.LEAKWARDEN_GITLAB_URL ?? "https://gitlab.com",
      "LEAKWARDEN_GITLAB_URL",
    ),
    slackApiUrl: providerUrl(
      overrides.slackApiUrl ?? env.LEAKWARDEN_SLACK_API_URL ?? "https://slack.com/api",
      "LEAKWARDEN_SLACK_API_URL",
    ),
    timeoutMs: overrides.timeoutMs ?? (timeout ? Number(timeout) : DEFAULT_TIMEOUT_MS),
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    now: overrides.now ?? Date.now,
  };
}
