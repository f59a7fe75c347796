// The JSON report: `{ version: 1, findings, stats }`, documented in the README.
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import { type PublicOptions, toPublic } from "./public.js";
import type { RunInfo } from "./run-info.js";

export const REPORT_VERSION = 1;

export interface JsonOptions extends PublicOptions {
  /** Fields to add to each finding (registry match, revocation). */
  extra?: (finding: Finding) => Record<string, unknown>;
  run?: RunInfo;
  /** Findings left out of the report, by what left them out (baseline, .leakwardenignore). */
  suppressed?: Record<string, number>;
}

export function renderJson(
  findings: readonly Finding[],
  stats: ScanStats,
  options: JsonOptions = {},
): string {
  const { extra, run, suppressed } = options;
  const report = {
    version: REPORT_VERSION,
    ...(run ? { run } : {}),
    findings: findings.map((f) => (extra ? { ...toPublic(f, options), ...extra(f) } : toPublic(f, options))),
    stats,
    ...(suppressed ? { suppressed } : {}),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
