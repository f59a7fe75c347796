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
  scan: { pushes: boolean; logs: boolean };
  logs: { delete: boolean };
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
    scan: { pushes: true, logs: true },
    logs: { delete: false },
  };
}

class SettingsProblem extends Error {}

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new SettingsProblem(`"${where}" must be a map`);
  return value as Record<string, unknown>;
}

function strings(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw new SettingsProblem(`"${where}" must be a list of strings`);
  return value as string[];
}

function flag(value: unknown, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new SettingsProblem(`"${where}" must be true or false`);
  return value;
}

function only(map: Record<string, unknown>, keys: string[], where: string): void {
  for (const key of Object.keys(map)) {
    if (!keys.includes(key))
      throw new SettingsProblem(
        `unknown setting "${where ? `${where}.` : ""}${key}" (known: ${keys.join(", ")})`,
      );
  }
}

/** Parsed settings and, when the file was refused, why: then the settings are the defaults. */
export function parseRepoSettings(raw: unknown): { settings: RepoSettings; problem?: string } {
  const settings = defaultRepoSettings();
  try {
    const top = record(raw, "the file");
    only(top, ["paths-ignore", "rules", "revoke", "validate", "issues", "scan", "logs"], "");
    const rules = record(top.rules, "rules");
    only(rules, ["disable"], "rules");
    const issues = record(top.issues, "issues");
    only(issues, ["enabled", "labels", "assignees"], "issues");
    const scan = record(top.scan, "scan");
    only(scan, ["pushes", "logs"], "scan");
    const logs = record(top.logs, "logs");
    only(logs, ["delete"], "logs");
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
        },
        logs: { delete: flag(logs.delete, "logs.delete") ?? false },
      },
    };
  } catch (error) {
    if (error instanceof SettingsProblem) return { settings, problem: error.message };
    throw error;
  }
}
