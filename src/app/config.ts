// `leakwarden serve` is configured by environment variables only; these names are the interface (README).
// A missing or wrong setting stops the server before it listens, with a sentence that says what to set.
import { readFileSync } from "node:fs";
import { parseTeams, type Team } from "../console/github-oauth.js";
import { UserError } from "../errors.js";
import { isGitHubFullName } from "./git-cache.js";
import { DEFAULT_WRITE_INTERVAL_MS } from "./pacing.js";

export interface ServeConfig {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  port: number;
  host: string;
  /** GitHub Enterprise (or a local stand-in): `${GHE_PROTOCOL}://${GHE_HOST}/api/v3`. Undefined for github.com. */
  baseUrl?: string;
  /** Where repositories are fetched with git: https://github.com, or `${GHE_PROTOCOL}://${GHE_HOST}`. */
  gitUrl: string;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  dbPath: string;
  cacheDir: string;
  cacheMaxBytes: number;
  /** Scans run at once. */
  concurrency: number;
  /** Reports (breach issues, comments) run at once, one per installation at a time. */
  reportConcurrency: number;
  /** Least time between two content-creating GitHub requests of one installation. */
  writeIntervalMs: number;
  /** The web console at /console: on when the App's OAuth client is set. */
  console?: ConsoleConfig;
  /**
   * LEAKWARDEN_SECURITY_REPO (owner/name): the private repository that receives public repositories' breach
   * issues when their organisation's settings name none.
   */
  securityRepository?: string;
  /** LEAKWARDEN_CONSOLE_URL: breach issues link each finding to its console page. */
  consoleUrl?: string;
}

export interface ConsoleConfig {
  clientId: string;
  clientSecret: string;
  /** LEAKWARDEN_CONSOLE_TEAMS: `acme/security acme/appsec`. */
  teams: Team[];
  /** LEAKWARDEN_CONSOLE_SECRET signs sessions (so they survive a restart); random per process without it. */
  sessionSecret?: string;
  /** LEAKWARDEN_CONSOLE_URL: the console's public address, for the OAuth callback and Secure cookies. */
  publicUrl?: string;
}

function consoleConfigFrom(env: NodeJS.ProcessEnv): ConsoleConfig | undefined {
  const clientId = env.GITHUB_CLIENT_ID;
  const clientSecret = env.GITHUB_CLIENT_SECRET;
  if (!clientId && !clientSecret) return undefined;
  if (!clientId || !clientSecret)
    throw new ServeConfigError(
      "the console needs both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the App's OAuth client)",
    );
  if (env.LEAKWARDEN_CONSOLE_SECRET !== undefined && env.LEAKWARDEN_CONSOLE_SECRET.length < 32)
    throw new ServeConfigError("LEAKWARDEN_CONSOLE_SECRET must be at least 32 characters");
  return {
    clientId,
    clientSecret,
    teams: parseTeams(env.LEAKWARDEN_CONSOLE_TEAMS),
    ...(env.LEAKWARDEN_CONSOLE_SECRET ? { sessionSecret: env.LEAKWARDEN_CONSOLE_SECRET } : {}),
    ...(env.LEAKWARDEN_CONSOLE_URL ? { publicUrl: env.LEAKWARDEN_CONSOLE_URL.replace(/\/$/, "") } : {}),
  };
}

export class ServeConfigError extends UserError {}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

/** PRIVATE_KEY as PEM (real or `\n`-escaped newlines) or base64 of the PEM; else the file at PRIVATE_KEY_PATH. */
function privateKeyFrom(env: NodeJS.ProcessEnv): string {
  if (env.PRIVATE_KEY) {
    const raw = env.PRIVATE_KEY.trim();
    if (raw.includes("-----BEGIN")) return `${raw.replace(/\\n/g, "\n").trim()}\n`;
    const decoded = Buffer.from(raw, "base64").toString("utf8");
    if (decoded.includes("-----BEGIN")) return `${decoded.trim()}\n`;
    throw new ServeConfigError("PRIVATE_KEY is neither a PEM private key nor the base64 of one");
  }
  if (env.PRIVATE_KEY_PATH) {
    try {
      return readFileSync(env.PRIVATE_KEY_PATH, "utf8");
    } catch {
      throw new ServeConfigError(`cannot read PRIVATE_KEY_PATH "${env.PRIVATE_KEY_PATH}"`);
    }
  }
  throw new ServeConfigError("set PRIVATE_KEY or PRIVATE_KEY_PATH to the GitHub App's private key (.pem)");
}

function whole(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new ServeConfigError(`${name} must be a whole number, not "${value}"`);
  return Number(value);
}

export function serveConfigFrom(env: NodeJS.ProcessEnv): ServeConfig {
  if (!env.WEBHOOK_SECRET) {
    throw new ServeConfigError(
      "WEBHOOK_SECRET is required: set it to the webhook secret of the GitHub App (leakwarden never falls back to a default)",
    );
  }
  if (!env.APP_ID || !/^\d+$/.test(env.APP_ID))
    throw new ServeConfigError("set APP_ID to the GitHub App's numeric id");
  const logLevel = (env.LOG_LEVEL ?? "info") as ServeConfig["logLevel"];
  if (!LOG_LEVELS.includes(logLevel))
    throw new ServeConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const protocol = env.GHE_PROTOCOL ?? "https";
  if (protocol !== "https" && protocol !== "http")
    throw new ServeConfigError(`GHE_PROTOCOL must be https or http, not "${protocol}"`);
  const consoleConfig = consoleConfigFrom(env);
  const securityRepository = env.LEAKWARDEN_SECURITY_REPO?.trim();
  if (securityRepository && !isGitHubFullName(securityRepository))
    throw new ServeConfigError(
      `LEAKWARDEN_SECURITY_REPO must name a repository as owner/name, not "${securityRepository.slice(0, 100)}"`,
    );
  return {
    appId: env.APP_ID,
    privateKey: privateKeyFrom(env),
    webhookSecret: env.WEBHOOK_SECRET,
    port: whole(env.PORT, "PORT", 3000),
    host: env.HOST ?? "localhost",
    ...(env.GHE_HOST ? { baseUrl: `${protocol}://${env.GHE_HOST}/api/v3` } : {}),
    gitUrl: env.GHE_HOST ? `${protocol}://${env.GHE_HOST}` : "https://github.com",
    logLevel,
    dbPath: env.LEAKWARDEN_DB || ".leakwarden/leakwarden.db",
    cacheDir: env.LEAKWARDEN_CACHE || ".leakwarden/repos",
    cacheMaxBytes: whole(
      env.LEAKWARDEN_CACHE_MAX_BYTES,
      "LEAKWARDEN_CACHE_MAX_BYTES",
      DEFAULT_CACHE_MAX_BYTES,
      1,
    ),
    concurrency: whole(env.LEAKWARDEN_CONCURRENCY, "LEAKWARDEN_CONCURRENCY", 2, 1),
    reportConcurrency: whole(env.LEAKWARDEN_REPORT_CONCURRENCY, "LEAKWARDEN_REPORT_CONCURRENCY", 4, 1),
    writeIntervalMs: whole(
      env.LEAKWARDEN_GITHUB_WRITE_INTERVAL_MS,
      "LEAKWARDEN_GITHUB_WRITE_INTERVAL_MS",
      DEFAULT_WRITE_INTERVAL_MS,
    ),
    ...(consoleConfig ? { console: consoleConfig } : {}),
    ...(securityRepository ? { securityRepository } : {}),
    ...(env.LEAKWARDEN_CONSOLE_URL ? { consoleUrl: env.LEAKWARDEN_CONSOLE_URL.replace(/\/$/, "") } : {}),
  };
}
