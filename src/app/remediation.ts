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

/** A short name for a kind of token, for titles: "Leaked Azure DevOps PAT in push to main". */
const SHORT_NAME: Record<string, string> = {
  "azure-devops": "Azure DevOps PAT",
  github: "GitHub token",
  "github-installation": "GitHub App token",
  gitlab: "GitLab token",
  slack: "Slack token",
  npm: "npm token",
  aws: "AWS key",
  azure: "Azure key",
  "private-key": "private key",
  google: "Google credential",
  openai: "OpenAI key",
  anthropic: "Anthropic key",
  stripe: "Stripe key",
};

export function shortName(provider: string, description: string): string {
  return SHORT_NAME[provider] ?? description.replace(/\s*\(.*$/, "").slice(0, 40);
}

/** The variable a token of this provider conventionally lives in: what the fix reads instead of the value. */
const VARIABLE: Record<string, string> = {
  "azure-devops": "AZURE_DEVOPS_EXT_PAT",
  github: "GH_TOKEN",
  "github-installation": "GH_TOKEN",
  gitlab: "GITLAB_TOKEN",
  slack: "SLACK_TOKEN",
  npm: "NPM_TOKEN",
  aws: "AWS_SECRET_ACCESS_KEY",
};

export function variableFor(provider: string): string {
  return VARIABLE[provider] ?? `${provider.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_TOKEN`;
}

/** Where the value goes instead of the code, by platform. */
export const SECRET_STORES = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions syntax, shown as it is written
  "**GitHub Actions**: a repository or environment secret (Settings > Secrets and variables > Actions), read as `${{ secrets.NAME }}`.",
  "**Azure Pipelines**: a secret variable (the pipeline's Variables, *Keep this value secret*, or a variable group linked to Azure Key Vault), read as `$(NAME)`.",
  "**Anything else**: Azure Key Vault (or the platform's secret manager), read at run time into an environment variable.",
];

/**
 * The one-line change for a file that held a token, where the file type makes it obvious: the line reads the
 * value from the environment (filled from the secret store) instead of holding it. Undefined when not obvious.
 */
export interface FixLine {
  language: string;
  line: string;
  /** What the line alone does not say. */
  note?: string;
}

export function fixLineFor(file: string, provider: string): FixLine | undefined {
  const name = variableFor(provider);
  const lower = file.toLowerCase();
  const base = lower.split("/").pop() ?? lower;
  const ext = base.includes(".") ? base.slice(base.lastIndexOf(".") + 1) : "";
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(lower) || /(^|\/)action\.ya?ml$/.test(lower))
    return { language: "yaml", line: `${name}: \${{ secrets.${name} }}` };
  if (/azure-pipelines[^/]*\.ya?ml$/.test(lower)) return { language: "yaml", line: `${name}: $(${name})` };
  if (base === ".env" || base.startsWith(".env.") || ext === "env")
    return {
      language: "sh",
      line: `${name}=`,
      note: "commit `.env.example` with the value empty, and keep `.env` itself out of git (`.gitignore`)",
    };
  if (base === "dockerfile" || base.endsWith(".dockerfile"))
    return {
      language: "dockerfile",
      line: `RUN --mount=type=secret,id=${name.toLowerCase()},env=${name} ./build.sh`,
    };
  switch (ext) {
    case "sh":
    case "bash":
    case "zsh":
      return { language: "sh", line: `export ${name}="\${${name}}"` };
    case "ps1":
    case "psm1":
      return { language: "powershell", line: `$token = $env:${name}` };
    case "py":
      return { language: "python", line: `token = os.environ["${name}"]` };
    case "js":
    case "mjs":
    case "cjs":
    case "ts":
    case "jsx":
    case "tsx":
      return { language: "js", line: `const token = process.env.${name};` };
    case "cs":
      return { language: "csharp", line: `var token = Environment.GetEnvironmentVariable("${name}");` };
    case "java":
      return { language: "java", line: `String token = System.getenv("${name}");` };
    case "go":
      return { language: "go", line: `token := os.Getenv("${name}")` };
    case "rb":
      return { language: "ruby", line: `token = ENV.fetch("${name}")` };
    case "json":
      return {
        language: "json",
        line: `"token": ""`,
        note: `JSON cannot read the environment: leave the value empty and have the program read ${name} (or a Key Vault reference) where it loads the file`,
      };
    case "yml":
    case "yaml":
      return {
        language: "yaml",
        line: `token: \${${name}}   # substituted from the environment at deploy time`,
      };
    case "tf":
      return {
        language: "hcl",
        line: `variable "token" { sensitive = true }   # set TF_VAR_token from the secret store`,
      };
    default:
      return undefined;
  }
}
