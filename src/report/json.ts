// The JSON report: `{ version: 1, findings, stats }`, documented in the README.
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import { type PublicOptions, toPublic } from "./public.js";

export const REPORT_VERSION = 1;

export function renderJson(
  findings: readonly Finding[],
  stats: ScanStats,
  options: PublicOptions = {},
): string {
  const report = { version: REPORT_VERSION, findings: findings.map((f) => toPublic(f, options)), stats };
  return `${JSON.stringify(report, null, 2)}\n`;
}
