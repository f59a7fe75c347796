// What every machine-readable report says about the run that made it: the tool and rule set versions, the
// targets, and when the scan started and ended.
import { createHash } from "node:crypto";
import type { Rule } from "../scan/rules.js";
import type { ScanStats } from "../scan/run.js";
import { VERSION } from "../version.js";

export interface RunInfo {
  tool: "leakwarden";
  version: string;
  ruleSet: { version: string; rules: number };
  targets: string[];
  startedAt: string;
  endedAt: string;
}

/** A digest of the rule definitions in use: it changes when any rule, built-in or added, changes. */
export function ruleSetVersion(rules: readonly Rule[]): string {
  const definitions = rules.map(({ file: _file, examples: _examples, ...rule }) => rule);
  return createHash("sha256").update(JSON.stringify(definitions)).digest("hex").slice(0, 12);
}

/** The scan ended now, having run for `stats.durationMs`. */
export function runInfo(rules: readonly Rule[], targets: readonly string[], stats: ScanStats): RunInfo {
  const ended = Date.now();
  return {
    tool: "leakwarden",
    version: VERSION,
    ruleSet: { version: ruleSetVersion(rules), rules: rules.length },
    targets: [...targets],
    startedAt: new Date(ended - stats.durationMs).toISOString(),
    endedAt: new Date(ended).toISOString(),
  };
}
