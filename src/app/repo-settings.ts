// A repository's `.github/leakwarden.yml`. A broken file never stops scanning: defaults apply and the
// problem is reported in the breach issue.
import { isGitHubFullName } from "./git-cache.js";

export type RevokePolicy = "registered" | "live" | "all" | "off";

export interface RepoSettings {
  pathsIgnore: string[];
  disabledRules: string[];
  revoke: RevokePolicy;
  /** Ask each token's issuer whether it still works (live checks); on by default. */
  validate: boolean;
  issues: {
    enabled: boolean;
    labels: string[];
    assignees: string[];
    /**
     * The private security repository (owner/name) that receives breach issues of public repositories, and of
     * private ones with `central`. An organisation setting: read from the organisation's `.github` repository.
     */
    repository?: string;
    /** Private repositories report in the security repository too (organisation or repository setting). */
    central: boolean;
    /** A public repository gets a short notice (no file, line or preview) once every token is revoked. */
    publicNotice: boolean;
  };
  scan: { pushes: boolean; logs: boolean; text: boolean };
  logs: { delete: boolean };
  /** Text on GitHub (issues, comments, discussions, release notes): `redact` edits a token out of it. */
  text: { redact: boolean };
}

export const SETTINGS_FILE = "leakwarden.yml";
/** The organisation's settings: `.github/leakwarden.yml` in its `.github` repository, as Probot reads defaults. */
export const ORG_SETTINGS_REPO = ".github";
export const REQUIRED_LABELS = ["security", "leaked-credential"];

export function defaultRepoSettings(): RepoSettings {
  return {
    pathsIgnore: [],
    disabledRules: [],
    revoke: "registered",
    validate: true,
    issues: {
      enabled: true,
      labels: [...REQUIRED_LABELS],
      assignees: [],
      central: false,
      publicNotice: false,
    },
    scan: { pushes: true, logs: true, text: true },
    logs: { delete: false },
    text: { redact: false },
  };
}

class SettingsProblem extends Error {}

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new SettingsProblem(`"${where}" must be a map`);
  return value as Record<string, unknown>;
}

/** How many entries a list may hold, and how long each may be: a list is work (API calls) and memory. */
export const LIST_LIMITS: Record<string, { items: number; length: number }> = {
  "paths-ignore": { items: 200, length: 500 },
  "rules.disable": { items: 100, length: 100 },
  // GitHub's own limits: label names up to 50 characters, at most 10 assignees, logins up to 39 characters.
  "issues.labels": { items: 10, length: 50 },
  "issues.assignees": { items: 10, length: 39 },
};

function strings(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw new SettingsProblem(`"${where}" must be a list of strings`);
  const limit = LIST_LIMITS[where];
  if (limit && (value.length > limit.items || value.some((v: string) => v.length > limit.length)))
    throw new SettingsProblem(
      `"${where}" takes at most ${limit.items} entries of at most ${limit.length} characters each`,
    );
  return value as string[];
}

function flag(value: unknown, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new SettingsProblem(`"${where}" must be true or false`);
  return value;
}

function repositoryName(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > 140 || !isGitHubFullName(value))
    throw new SettingsProblem(`"${where}" must be a repository as owner/name`);
  return value;
}

/**
 * Refuses unknown keys. A key is named only when this repository's own file has it: one inherited through
 * `_extends` belongs to another repository, and its name must not appear in this one's issue.
 */
function only(map: Record<string, unknown>, keys: string[], where: string, own: unknown): void {
  for (const key of Object.keys(map)) {
    if (keys.includes(key)) continue;
    const ownMap = where ? (own as Record<string, unknown> | undefined)?.[where] : own;
    const named =
      typeof ownMap === "object" && ownMap !== null && Object.hasOwn(ownMap, key)
        ? `"${where ? `${where}.` : ""}${key.slice(0, 100)}"`
        : `${where ? `under "${where}" ` : ""}in a file named by _extends (its name is not shown: it belongs to another repository)`;
    throw new SettingsProblem(`unknown setting ${named} (known: ${keys.join(", ")})`);
  }
}

/** Parsed settings and, when the file was refused, why: then the settings are the defaults. */
export function parseRepoSettings(
  raw: unknown,
  /** This repository's own file, when `raw` also holds settings merged in through `_extends`. */
  own: unknown = raw,
): { settings: RepoSettings; problem?: string } {
  const settings = defaultRepoSettings();
  try {
    const top = record(raw, "the file");
    only(top, ["paths-ignore", "rules", "revoke", "validate", "issues", "scan", "logs", "text"], "", own);
    const rules = record(top.rules, "rules");
    only(rules, ["disable"], "rules", own);
    const issues = record(top.issues, "issues");
    only(issues, ["enabled", "labels", "assignees", "repository", "central", "public_notice"], "issues", own);
    const securityRepository = repositoryName(issues.repository, "issues.repository");
    const scan = record(top.scan, "scan");
    only(scan, ["pushes", "logs", "text"], "scan", own);
    const logs = record(top.logs, "logs");
    only(logs, ["delete"], "logs", own);
    const text = record(top.text, "text");
    only(text, ["redact"], "text", own);
    if (top.revoke !== undefined && !["registered", "live", "all", "off"].includes(top.revoke as string)) {
      throw new SettingsProblem(`"revoke" must be registered, live, all or off`);
    }
    const labels = strings(issues.labels, "issues.labels");
    return {
      settings: {
        pathsIgnore: strings(top["paths-ignore"], "paths-ignore") ?? settings.pathsIgnore,
        disabledRules: strings(rules.disable, "rules.disable") ?? settings.disabledRules,
        revoke: (top.revoke as RevokePolicy | undefined) ?? settings.revoke,
        validate: flag(top.validate, "validate") ?? true,
        issues: {
          enabled: flag(issues.enabled, "issues.enabled") ?? true,
          // The two labels that identify a breach issue are always there; a repository can add its own.
          labels: [...new Set([...REQUIRED_LABELS, ...(labels ?? [])])],
          assignees: strings(issues.assignees, "issues.assignees") ?? [],
          ...(securityRepository ? { repository: securityRepository } : {}),
          central: flag(issues.central, "issues.central") ?? false,
          publicNotice: flag(issues.public_notice, "issues.public_notice") ?? false,
        },
        scan: {
          pushes: flag(scan.pushes, "scan.pushes") ?? true,
          logs: flag(scan.logs, "scan.logs") ?? true,
          text: flag(scan.text, "scan.text") ?? true,
        },
        logs: { delete: flag(logs.delete, "logs.delete") ?? false },
        text: { redact: flag(text.redact, "text.redact") ?? false },
      },
    };
  } catch (error) {
    if (error instanceof SettingsProblem) return { settings, problem: error.message };
    throw error;
  }
}

/** What the organisation's own settings file decides for all its repositories. */
export interface OrgSettings {
  /** The private security repository breach issues go to. */
  repository?: string;
  central: boolean;
  publicNotice: boolean;
  /** Why the organisation's file was ignored, if it was. */
  problem?: string;
}

interface ConfigReader {
  config: {
    get(params: { owner: string; repo: string; path: string }): Promise<{
      config: unknown;
      files: { config: unknown }[];
    }>;
  };
}

/**
 * Reads `OWNER/.github`'s `.github/leakwarden.yml` (following `_extends`, as Probot's loader does). Its
 * `issues.repository` is the only one that counts: a repository's own file cannot send its breaches elsewhere.
 */
export async function readOrgSettings(octokit: ConfigReader, owner: string): Promise<OrgSettings> {
  let raw: unknown = null;
  try {
    const { config, files } = await octokit.config.get({
      owner,
      repo: ORG_SETTINGS_REPO,
      path: `.github/${SETTINGS_FILE}`,
    });
    if (files.some((file) => file.config !== null)) raw = config;
  } catch (error) {
    return {
      central: false,
      publicNotice: false,
      problem: `${owner}/${ORG_SETTINGS_REPO}'s settings could not be read: ${(error as Error).message.split("\n")[0]}`,
    };
  }
  const { settings, problem } = parseRepoSettings(raw);
  if (problem)
    return { central: false, publicNotice: false, problem: `${owner}/${ORG_SETTINGS_REPO}: ${problem}` };
  return {
    ...(settings.issues.repository ? { repository: settings.issues.repository } : {}),
    central: settings.issues.central,
    publicNotice: settings.issues.publicNotice,
  };
}

/** A repository's settings with its organisation's routing applied. */
export function withOrgSettings(
  settings: RepoSettings,
  org: OrgSettings,
  ownFile: unknown,
): { settings: RepoSettings; problem?: string; orgProblem?: string } {
  const { repository: _fromMergedFile, ...issues } = settings.issues;
  const ownIssues = (ownFile as { issues?: unknown } | null)?.issues;
  const ownRepository =
    typeof ownIssues === "object" && ownIssues !== null && Object.hasOwn(ownIssues, "repository");
  return {
    settings: {
      ...settings,
      issues: {
        ...issues,
        ...(org.repository ? { repository: org.repository } : {}),
        central: issues.central || org.central,
        publicNotice: issues.publicNotice || org.publicNotice,
      },
    },
    ...(org.problem ? { orgProblem: org.problem } : {}),
    ...(ownRepository
      ? {
          problem:
            '"issues.repository" is an organisation setting and was not used here: set it in the organisation\'s .github repository',
        }
      : {}),
  };
}
