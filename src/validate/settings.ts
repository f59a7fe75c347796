// Where each issuer is: the revocation settings (GitHub, GitLab, Slack, Azure DevOps) plus the base URLs only
// live checks need. Each may be overridden by one documented environment variable, for GitHub Enterprise Server,
// a self-managed GitLab, or a test's stand-in; nothing else decides where a token is sent.
import {
  type ProviderOverrides,
  type ProviderSettings,
  providerSettings,
  providerUrl,
} from "../revoke/settings.js";

export interface ValidateSettings extends ProviderSettings {
  /** LEAKWARDEN_ADO_URL: Azure DevOps services, where a PAT authenticates. */
  adoUrl: string;
  /** LEAKWARDEN_NPM_REGISTRY_URL */
  npmRegistryUrl: string;
  /** LEAKWARDEN_OPENAI_API_URL */
  openaiApiUrl: string;
  /** LEAKWARDEN_ANTHROPIC_API_URL */
  anthropicApiUrl: string;
  /** LEAKWARDEN_STRIPE_API_URL */
  stripeApiUrl: string;
  /** LEAKWARDEN_HUGGINGFACE_URL */
  huggingfaceUrl: string;
  /** LEAKWARDEN_AWS_STS_URL: the global STS endpoint, region us-east-1. */
  awsStsUrl: string;
}

export const ISSUER_URLS = {
  adoUrl: ["LEAKWARDEN_ADO_URL", "https://dev.azure.com"],
  npmRegistryUrl: ["LEAKWARDEN_NPM_REGISTRY_URL", "https://registry.npmjs.org"],
  openaiApiUrl: ["LEAKWARDEN_OPENAI_API_URL", "https://api.openai.com"],
  anthropicApiUrl: ["LEAKWARDEN_ANTHROPIC_API_URL", "https://api.anthropic.com"],
  stripeApiUrl: ["LEAKWARDEN_STRIPE_API_URL", "https://api.stripe.com"],
  huggingfaceUrl: ["LEAKWARDEN_HUGGINGFACE_URL", "https://huggingface.co"],
  awsStsUrl: ["LEAKWARDEN_AWS_STS_URL", "https://sts.amazonaws.com"],
} as const;

export function validateSettings(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ProviderOverrides & Partial<ValidateSettings> = {},
): ValidateSettings {
  const base = providerSettings(env, overrides);
  const urls = Object.fromEntries(
    Object.entries(ISSUER_URLS).map(([key, [variable, fallback]]) => [
      key,
      providerUrl(overrides[key as keyof typeof ISSUER_URLS] ?? env[variable] ?? fallback, variable),
    ]),
  ) as Record<keyof typeof ISSUER_URLS, string>;
  return { ...base, ...urls };
}
