// GitHub's own secret scanning as a source: an alert names a secret that GitHub found; leakwarden fetches it
// (the API returns the value), hashes it, matches the hash against the token registry and revokes a
// registered token the way it revokes any finding. The value lives only in memory, inside a Secret, long enough
// to hash it and, for a token revoked by value, to seal it into its revocation job (secret-box.ts).
import type { ProbotOctokit } from "probot";
import type { Engine } from "../scan/engine.js";
import { locate } from "../scan/locate.js";
import { fingerprint, redact } from "../scan/redact.js";
import { Secret, secretHash } from "../scan/secret.js";
import type { Finding } from "../scan/types.js";
import type { RepoSettings } from "./repo-settings.js";
import { actOnTextFindings, type TextActDeps } from "./text-act.js";
import type { SecretAlertScan, TextScanJob } from "./text-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** The rule id of a finding no leakwarden rule recognises: GitHub's secret type says what it is. */
export const SECRET_SCANNING_RULE = "github-secret-scanning";

export interface SecretAlert {
  number: number;
  url: string;
  secretType: string;
  secretTypeName: string;
  secret: Secret;
}

/** Reads the alert; null when it is gone or holds no secret (GitHub withholds it from some alerts). */
export async function fetchSecretAlert(
  octokit: Octokit,
  owner: string,
  repo: string,
  number: number,
): Promise<SecretAlert | null> {
  let data: Record<string, unknown>;
  try {
    ({ data } = (await octokit.request("GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}", {
      owner,
      repo,
      alert_number: number,
    })) as { data: Record<string, unknown> });
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw new Error(
      `could not read secret scanning alert #${number}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const value = data.secret;
  // The response object is dropped with this frame; the value goes on only inside a Secret.
  data.secret = undefined;
  if (typeof value !== "string" || value.length === 0) return null;
  const secretType = typeof data.secret_type === "string" ? data.secret_type : "unknown";
  return {
    number,
    url: typeof data.html_url === "string" ? data.html_url : "",
    secretType,
    secretTypeName:
      typeof data.secret_type_display_name === "string" ? data.secret_type_display_name : secretType,
    secret: new Secret(value),
  };
}

/**
 * The alert's secret as a finding. leakwarden's own rules name it when one recognises the whole value (its
 * provider, preview and revoker); otherwise GitHub's secret type does, and a registry match decides the revoker.
 */
export function alertFinding(engine: Engine, alert: SecretAlert, location: string): Finding {
  const value = alert.secret.reveal();
  const bytes = Buffer.from(value, "utf8");
  const whole = engine.detect(bytes).filter((d) => d.secret === value);
  const [own] = whole.length > 0 ? locate(bytes, whole.slice(0, 1), { file: location }) : [];
  if (own) return own;
  const hash = secretHash(value);
  return {
    ruleId: SECRET_SCANNING_RULE,
    provider: alert.secretType,
    description: alert.secretTypeName,
    severity: "high",
    confidence: "high",
    file: location,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: value.length + 1,
    encoding: "plain",
    redacted: redact(value),
    secretHash: hash,
    fingerprint: fingerprint(SECRET_SCANNING_RULE, hash, location),
    secret: alert.secret,
  };
}

export async function processSecretAlert(
  deps: TextActDeps & { engine: Engine },
  octokit: Octokit,
  job: TextScanJob & { payload: SecretAlertScan },
  settings: RepoSettings,
  settingsProblem: string | undefined,
): Promise<{ findings: number; reported: number; skipped?: string }> {
  const { payload } = job;
  const { owner, name } = payload.repository;
  const alert = await fetchSecretAlert(octokit, owner, name, payload.alert.number);
  if (!alert) return { findings: 0, reported: 0, skipped: "the alert is gone or shows no secret" };
  const url = alert.url || payload.alert.url;
  const finding = alertFinding(deps.engine, alert, url);
  const result = await actOnTextFindings(deps, {
    installation: payload.installation,
    repository: payload.repository,
    source: { kind: "secret_scanning_alert", number: alert.number, url, secretType: alert.secretTypeName },
    findings: [finding],
    settings,
    ...(settingsProblem ? { settingsProblem } : {}),
    onlyNew: true,
    // GitHub shows its own alert; leakwarden reports the ones it knows or acted on.
    worthReporting: (acted) => {
      const action = acted.actions[0];
      return Boolean(
        action?.registry ||
          (action?.revocation && !["skipped", "not-revocable"].includes(action.revocation.status)),
      );
    },
    scanJobId: job.id,
    priority: job.priority,
  });
  return {
    ...result,
    ...(result.reported === 0 ? { skipped: "not a registered token, and nothing was revoked" } : {}),
  };
}
