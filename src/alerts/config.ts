// Where alerts go, from the environment: a Slack incoming webhook, a Microsoft Teams workflow webhook, and any
// HTTPS endpoint that verifies an HMAC signature. The URLs are credentials: they stay in the environment and
// never reach the job queue, a log or the audit log.
import { UserError } from "../errors.js";

export const ALERT_TARGETS = ["slack", "teams", "webhook"] as const;
export type AlertTarget = (typeof ALERT_TARGETS)[number];

export interface AlertConfig {
  urls: Partial<Record<AlertTarget, string>>;
  /** Signs the generic webhook's body (X-Leakwarden-Signature-256). */
  webhookSecret?: string;
  /** The console's public address, for links to a finding. */
  consoleUrl?: string;
}

export class AlertConfigError extends UserError {}

const ENV: Record<AlertTarget, string> = {
  slack: "LEAKWARDEN_ALERT_SLACK_URL",
  teams: "LEAKWARDEN_ALERT_TEAMS_URL",
  webhook: "LEAKWARDEN_ALERT_WEBHOOK_URL",
};

/** HTTPS only; plain http is allowed for this machine (a local relay, or a test's stand-in). */
function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AlertConfigError(`${name} is not a URL`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
    throw new AlertConfigError(`${name} must be an https:// URL`);
  return value;
}

export function alertConfigFrom(env: NodeJS.ProcessEnv): AlertConfig {
  const urls: AlertConfig["urls"] = {};
  for (const target of ALERT_TARGETS) {
    const value = env[ENV[target]]?.trim();
    if (value) urls[target] = checkUrl(ENV[target], value);
  }
  const webhookSecret = env.LEAKWARDEN_ALERT_WEBHOOK_SECRET || undefined;
  if (urls.webhook && !webhookSecret)
    throw new AlertConfigError(
      "LEAKWARDEN_ALERT_WEBHOOK_URL needs LEAKWARDEN_ALERT_WEBHOOK_SECRET: the receiver verifies the signature with it",
    );
  return {
    urls,
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(env.LEAKWARDEN_CONSOLE_URL ? { consoleUrl: env.LEAKWARDEN_CONSOLE_URL.replace(/\/$/, "") } : {}),
  };
}

export function alertTargets(config: AlertConfig): AlertTarget[] {
  return ALERT_TARGETS.filter((t) => config.urls[t]);
}
