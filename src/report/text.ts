// The human report: findings grouped by file, then one summary line.
import { formatBytes, plural, printable, type Style, table } from "../cli/terminal.js";
import type { ScanStats } from "../scan/run.js";
import type { Finding, Severity } from "../scan/types.js";

export interface TextOptions {
  style: Style;
  showSecrets?: boolean;
  /** A last column per finding: registry match, revocation. */
  note?: (finding: Finding, style: Style) => string;
}

const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** Severity first (what a reader acts on), then how sure the match is. */
function severity(f: Finding, style: Style): string {
  const colour = f.severity === "critical" || f.severity === "high" ? style.red : style.yellow;
  return `${colour(f.severity)} ${style.dim(`(${f.confidence} confidence)`)}`;
}

function location(f: Finding): string {
  return f.commit ? `${f.commit.slice(0, 12)} ${f.line}:${f.column}` : `${f.line}:${f.column}`;
}

export function renderText(
  findings: readonly Finding[],
  stats: ScanStats,
  { style, showSecrets, note }: TextOptions,
): string {
  const out: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = byFile.get(f.file);
    if (list) list.push(f);
    else byFile.set(f.file, [f]);
  }
  for (const [file, list] of byFile) {
    // File names, rule IDs and matched text come from the scanned content: never raw to a terminal.
    out.push(style.bold(printable(file)));
    const rows = list.map((f) => [
      `  ${severity(f, style)}`,
      style.dim(location(f)),
      style.cyan(printable(f.ruleId)),
      printable(showSecrets ? f.secret.reveal() : f.redacted),
      f.encoding === "plain" ? "" : style.dim(`via ${f.encoding}`),
      ...(note ? [note(f, style)] : []),
    ]);
    out.push(table(rows), "");
  }
  out.push(summary(findings, stats, style));
  return `${out.join("\n")}\n`;
}

export function summary(findings: readonly Finding[], stats: ScanStats, style: Style): string {
  const files = new Set(findings.map((f) => f.file)).size;
  const seconds = (stats.durationMs / 1000).toFixed(2);
  const what =
    stats.commits === undefined
      ? `${plural(stats.files, "file")} (${formatBytes(stats.bytes)})`
      : stats.blobs
        ? `${plural(stats.commits, "commit")} (${plural(stats.files, "blob")} checked, ${formatBytes(stats.bytes)})`
        : `${plural(stats.commits, "commit")} (${plural(stats.files, "file change")}, ${formatBytes(stats.bytes)} added)`;
  const scanned = `scanned ${what} in ${seconds}s`;
  const skipped = stats.skipped > 0 ? `; ${skippedSummary(stats)}` : "";
  if (findings.length === 0) {
    // "No leaked secrets found" alone would be a promise about content that was never looked at (what a
    // setting or an ignore file left out on purpose is not such content).
    const { binary, tooLarge, unreadable } = stats.skippedBy;
    if (binary + tooLarge + unreadable > 0 || stats.notScanned)
      return `${style.yellow("No leaked secrets found in what was scanned")}; ${scanned}${skipped}.`;
    return `${style.green("No leaked secrets found")}; ${scanned}${skipped}.`;
  }
  const bySeverity = SEVERITIES.map((level) => [level, findings.filter((f) => f.severity === level).length])
    .filter(([, n]) => n !== 0)
    .map(([level, n]) => `${n} ${level}`);
  const counts = `${plural(findings.length, "finding")} (${bySeverity.join(", ")}) in ${plural(files, "file")}`;
  return `${style.red(style.bold(counts))}; ${scanned}${skipped}.`;
}

/** Named skips shown in the summary; the JSON report lists them all. */
const MAX_NAMED = 10;

/** `skipped 3: 2 too large, 1 archive bomb (a.zip!b.txt: why)`: every skip, by reason, and the named ones. */
function skippedSummary(stats: ScanStats): string {
  const reasons = Object.entries(stats.skippedBy)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${reason.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`);
  const named = stats.notScanned ?? [];
  const listed = named.slice(0, MAX_NAMED).map(printable);
  if (named.length > MAX_NAMED) listed.push(`and ${named.length - MAX_NAMED} more`);
  const notes = listed.length > 0 ? ` (${listed.join("; ")})` : "";
  return `skipped ${stats.skipped}: ${reasons.join(", ")}${notes}`;
}
