// The JSON report: `{ version: 1, findings, stats }`, documented in the README.
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import { type PublicOptions, toPublic } from "./public.js";

export const REPORT_VERSION = 1;

export interface JsonOptions extends PublicOptions {
  /** Fields to add to each finding (registry match, revocation). */
  extra?: (finding: Finding) => Record<string, unknown>;
}

export function renderJson(
  findings: readonly Finding[],
  stats: ScanStats,
  options: JsonOptions = {},
): string {
  const { extra } = options;
  const report = {
    version: REPORT_VERSION,
    findings: findings.map((f) => (extra ? { ...toPublic(f, options), ...extra(f) } : toPublic(f, options))),
    stats,
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
