// A repository's `.github/leakwarden.yml`. A broken file never stops scanning: defaults apply and the
// problem is reported in the breach issue.

export type RevokePolicy = "registered" | "live" | "all" | "off";

export interface RepoSettings {
  pathsIgnore: string[];
  disabledRules: string[];
  revoke: RevokePolicy;
  /** Ask each token's issuer whether it still works (live checks); on by default. */
  validate: boolean;
  issues: { enabled: boolean; labels: string[]; assignees: string[] };
  scan: { pushes: boolean; logs: boolean; text: boolean };
  logs: { delete: boolean };
  /** Text on GitHub (issues, comments, discussions, release notes): `redact` edits a token out of it. */
  text: { redact: boolean };
}

export const SETTINGS_FILE = "leakwarden.yml";
export const REQUIRED_LABELS = ["security", "leaked-credential"];

export function defaultRepoSettings(): RepoSettings {
  return {
    pathsIgnore: [],
    disabledRules: [],
    revoke: "registered",
    validate: true,
    issues: { enabled: true, labels: [...REQUIRED_LABELS], assignees: [] },
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
    only(issues, ["enabled", "labels", "assignees"], "issues", own);
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
