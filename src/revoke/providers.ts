// The set of revokers, one per provider, built from the environment and any overrides.
import { AzureDevOpsRevoker } from "./azure-devops.js";
import { GitHubRevoker } from "./github.js";
import { GitHubInstallationRevoker } from "./github-installation.js";
import { GitLabRevoker } from "./gitlab.js";
import { type ProviderOverrides, providerSettings } from "./settings.js";
import { SlackRevoker } from "./slack.js";
import type { Revoker, RevokerName, RevokerSet } from "./types.js";

export function createRevokers(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ProviderOverrides = {},
): RevokerSet {
  const settings = providerSettings(env, overrides);
  const revokers: Revoker[] = [
    new AzureDevOpsRevoker(settings),
    new GitHubRevoker(settings),
    new GitHubInstallationRevoker(settings),
    new GitLabRevoker(settings),
    new SlackRevoker(settings),
  ];
  return new Map<RevokerName, Revoker>(revokers.map((r) => [r.name, r]));
}
