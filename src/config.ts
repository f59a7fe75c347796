// The scan configuration file, `.leakwarden.yml`: paths-ignore, rules.disable, allow.

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileProblem, UserError } from "./errors.js";
import { analyzeRegex, excerpt } from "./scan/regex-safety.js";
import { parseYaml } from "./yaml.js";

export interface ScanConfig {
  pathsIgnore: string[];
  disabledRules: string[];
  allow: string[];
}

export const CONFIG_FILE_NAME = ".leakwarden.yml";
/** An allow pattern describes secrets (a few dozen characters); anything far longer is a mistake or an attack. */
const MAX_ALLOW_PATTERN = 1000;

export const EMPTY_CONFIG: ScanConfig = { pathsIgnore: [], disabledRules: [], allow: [] };

export class ConfigError extends UserError {}

function strings(value: unknown, where: string, file: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new ConfigError(`${file}: "${where}" must be a list of strings`);
  }
  return value as string[];
}

/** Parses and checks a configuration text; `file` names it in errors. */
export function parseConfig(text: string, file: string): ScanConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${file}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new ConfigError(`${file}: expected a map of settings`);
  const raw = doc as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!["paths-ignore", "rules", "allow"].includes(key)) {
      throw new ConfigError(`${file}: unknown setting "${key}" (known: paths-ignore, rules, allow)`);
    }
  }
  const rules = raw.rules ?? {};
  if (typeof rules !== "object" || rules === null || Array.isArray(rules)) {
    throw new ConfigError(`${file}: "rules" must be a map, such as rules: { disable: [rule-id] }`);
  }
  const allow = strings(raw.allow, "allow", file);
  allow.forEach((source, index) => {
    // Named by position and an excerpt: the pattern itself may be huge, and an error is one line.
    const which = `allow pattern ${index + 1} (/${excerpt(source)}/)`;
    if (source.length > MAX_ALLOW_PATTERN)
      throw new ConfigError(`${file}: ${which} is refused: longer than ${MAX_ALLOW_PATTERN} characters`);
    try {
      analyzeRegex(source);
      new RegExp(source);
    } catch (error) {
      throw new ConfigError(`${file}: ${which} is refused: ${(error as Error).message}`);
    }
  });
  return {
    pathsIgnore: strings(raw["paths-ignore"], "paths-ignore", file),
    disabledRules: strings((rules as Record<string, unknown>).disable, "rules.disable", file),
    allow,
  };
}

export function loadConfigFile(path: string): ScanConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file "${path}": ${fileProblem(error)}`);
  }
  return parseConfig(text, path);
}

/** `.leakwarden.yml` in the first target's folder, when there is one. */
/** `name` in the first target's folder (the current one for stdin): where per-project files live. */
export function besideTargets(targets: readonly string[], name: string): string {
  const first = targets.find((t) => t !== "-");
  let folder = process.cwd();
  if (first && existsSync(first)) folder = statSync(first).isDirectory() ? first : dirname(first);
  return join(folder, name);
}

export function findDefaultConfig(targets: readonly string[]): string | undefined {
  const candidate = besideTargets(targets, CONFIG_FILE_NAME);
  return existsSync(candidate) ? candidate : undefined;
}
