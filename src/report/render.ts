// Picks the renderer for --format: every report format, and what each needs from the run.

import type { Rule } from "../scan/rules.js";
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import { renderCsv } from "./csv.js";
import { renderGithub } from "./github.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import type { RunInfo } from "./run-info.js";
import { renderSarif } from "./sarif.js";
import { renderText, type TextOptions } from "./text.js";

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

export function renderReport(format: Format, input: ReportInput): string {
  const { findings, stats, run, showSecrets } = input;
  switch (format) {
    case "json":
      return renderJson(findings, stats, {
        showSecrets,
        extra: input.extra,
        run,
        suppressed: input.suppressed,
      });
    case "sarif":
      return renderSarif(findings, input.rules, run, input.extra);
    case "csv":
      return renderCsv(findings, { showSecrets });
    case "junit":
      return renderJunit(findings, stats, run);
    case "github":
      return renderGithub(findings, stats);
    case "html":
      return renderHtml(findings, stats, run);
    default:
      return renderText(findings, stats, { ...input.text, showSecrets });
  }
}
