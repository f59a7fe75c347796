// What the people who own a leaked token must do now, per provider: short, ordered, for a reader who has minutes.

const AZURE_DEVOPS = [
  "If leakwarden could not revoke it, revoke it now: Azure DevOps > User settings > Personal access tokens > select the token > **Revoke**. An organization administrator can also revoke it (Organization settings > Microsoft Entra > Personal access tokens).",
  "Create a replacement with the narrowest scopes that work (never *Full access*), for one organization, with a short expiry.",
  "Prefer Microsoft Entra tokens (workload identity federation, managed identities) over PATs for pipelines and services.",
  "Check the organization's audit log (Organization settings > Auditing) for use of the leaked token since it was pushed.",
];

const GITHUB = [
  "If leakwarden could not revoke it, revoke it now: GitHub > Settings > Developer settings > Personal access tokens (or the OAuth/GitHub App's authorizations) > **Delete** / **Revoke**.",
  "Create a replacement with the fewest permissions and repositories, and an expiry; prefer a fine-grained token or a GitHub App.",
  "Review the security log (Settings > Security log) and, for organizations, the audit log for use of the token.",
];

const GENERIC = [
  "Revoke or rotate the credential at its provider now.",
  "Issue a replacement with the least privilege and the shortest lifetime that work, and store it in a secret manager.",
  "Review the provider's access logs for use of the leaked credential since it was exposed.",
];

export const REMEDIATION: Readonly<Record<string, { name: string; steps: string[] }>> = {
  "azure-devops": { name: "Azure DevOps personal access token", steps: AZURE_DEVOPS },
  github: { name: "GitHub token", steps: GITHUB },
  npm: {
    name: "npm token",
    steps: [
      "Revoke it now: `npm token revoke <id>` (find the id with `npm token list`) or npmjs.com > Access Tokens > Delete.",
      "Create a granular access token limited to the packages and the expiry you need.",
      "Check the packages the token could publish for unexpected versions.",
    ],
  },
  gitlab: {
    name: "GitLab personal access token",
    steps: [
      "If leakwarden could not revoke it, revoke it now: GitLab > Preferences > Access tokens > **Revoke**.",
      "Create a replacement with the narrowest scopes and an expiry.",
      "Review the audit events for use of the token.",
    ],
  },
  slack: {
    name: "Slack token",
    steps: [
      "If leakwarden could not revoke it, revoke it now: call `auth.revoke` with it, or regenerate it in the app's settings.",
      "Review the workspace's access logs for use of the token.",
    ],
  },
  aws: {
    name: "AWS access key",
    steps: [
      "Deactivate the key now (IAM > Users > Security credentials > Make inactive), then delete it.",
      "Replace long-term keys with roles and short-lived credentials (IAM Identity Center, OIDC federation for CI).",
      "Check CloudTrail for calls made with the key id since it was exposed.",
    ],
  },
  "private-key": {
    name: "private key",
    steps: [
      "Treat the key pair as compromised: revoke any certificate issued for it and remove the public key wherever it is trusted (authorized_keys, deploy keys, app registrations).",
      "Generate a new key pair and store the private key in a secret manager.",
    ],
  },
};

export function remediationFor(provider: string): { name: string; steps: string[] } {
  return REMEDIATION[provider] ?? { name: `${provider} credential`, steps: GENERIC };
}
