// Picks the renderer for --format: every report format, and what each needs from the run.

import type { Rule } from "../scan/rules.js";
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import type { RunInfo } from "./run-info.js";
import type { TextOptions } from "./text.js";

export const FORMATS = ["text", "json", "sarif", "csv", "junit", "github", "html"] as const;
export type Format = (typeof FORMATS)[number];

export interface ReportInput {
  findings: readonly Finding[];
  stats: ScanStats;
  rules: readonly Rule[];
  run: RunInfo;
  suppressed: Record<string, number>;
  showSecrets: boolean;
  /** Fields a JSON finding or SARIF result gains (registry match, revocation, live check). */
  extra?: (finding: Finding) => Record<string, unknown>;
  text: Omit<TextOptions, "showSecrets">;
}

/** The report in `format`; only that format's renderer is loaded (a scan's start-up pays for one). */
export async function renderReport(format: Format, input: ReportInput): Promise<string> {
  const { findings, stats, run, showSecrets } = input;
  switch (format) {
    case "json":
      return (await import("./json.js")).renderJson(findings, stats, {
        showSecrets,
        extra: input.extra,
        run,
        suppressed: input.suppressed,
      });
    case "sarif":
      return (await import("./sarif.js")).renderSarif(findings, input.rules, run, input.extra);
    case "csv":
      return (await import("./csv.js")).renderCsv(findings, { showSecrets });
    case "junit":
      return (await import("./junit.js")).renderJunit(findings, stats, run);
    case "github":
      return (await import("./github.js")).renderGithub(findings, stats);
    case "html":
      return (await import("./html.js")).renderHtml(findings, stats, run);
    default:
      return (await import("./text.js")).renderText(findings, stats, { ...input.text, showSecrets });
  }
}
