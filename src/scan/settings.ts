// What a scan needs to build its engine; plain data, so that worker threads can build the same one.
import { UserError } from "../errors.js";
import { compileRules } from "./compile.js";
import { Engine } from "./engine.js";
import { loadRules, type Rule } from "./rules.js";

export interface EngineSettings {
  /** Extra rule folders or files (--rules). */
  ruleDirs: string[];
  /** Rule ids to leave out (rules.disable, or a repository's settings). */
  disabledRules: string[];
  /** Regex sources: a secret matching one is allowed. */
  allow: string[];
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = { ruleDirs: [], disabledRules: [], allow: [] };

export class SettingsError extends UserError {}

export function selectRules(settings: EngineSettings): Rule[] {
  const rules = loadRules(settings.ruleDirs);
  const known = new Set(rules.map((r) => r.id));
  for (const id of settings.disabledRules) {
    if (!known.has(id))
      throw new SettingsError(
        `rules.disable names "${id}", which is not a rule; see 'leakwarden rules list'`,
      );
  }
  return rules.filter((r) => !settings.disabledRules.includes(r.id));
}

export function compileAllow(patterns: readonly string[]): RegExp[] {
  return patterns.map((source) => {
    try {
      return new RegExp(source);
    } catch (error) {
      throw new SettingsError(`allow pattern /${source}/ is not a valid regex: ${(error as Error).message}`);
    }
  });
}

export function createEngine(settings: EngineSettings): Engine {
  return new Engine(compileRules(selectRules(settings)), { allow: compileAllow(settings.allow) });
}
