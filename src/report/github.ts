// GitHub Actions workflow commands: one annotation per finding, shown on the pull request's diff and in the
// run's summary. Escaping follows the runner's rules, so a path or message cannot end the command early.
import type { ScanStats } from "../scan/run.js";
import type { Finding, Severity } from "../scan/types.js";

const COMMAND: Record<Severity, "error" | "warning" | "notice"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "notice",
};

/** The message after `::`. */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** A `key=value` property: also `:` and `,`, which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

export function annotation(f: Finding): string {
  const properties = {
    file: f.file,
    line: f.line,
    endLine: f.endLine,
    // Columns only make sense on one line.
    ...(f.line === f.endLine ? { col: f.column, endColumn: f.endColumn } : {}),
    title: `Leaked ${f.provider} token (${f.ruleId})`,
  };
  const props = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(",");
  const where = f.commit ? ` in commit ${f.commit.slice(0, 12)}` : "";
  const message = `${f.severity} severity, ${f.confidence} confidence: ${f.description}: ${f.redacted}${where}. Revoke it at the provider, then remove it.`;
  return `::${COMMAND[f.severity]} ${props}::${escapeData(message)}`;
}

export function renderGithub(findings: readonly Finding[], stats: ScanStats): string {
  const lines = findings.map(annotation);
  const what = stats.commits === undefined ? `${stats.files} files` : `${stats.commits} commits`;
  lines.push(
    findings.length > 0
      ? `::error title=leakwarden::${escapeData(`${findings.length} leaked secrets found (scanned ${what})`)}`
      : `::notice title=leakwarden::${escapeData(`No leaked secrets found (scanned ${what})`)}`,
  );
  return `${lines.join("\n")}\n`;
}
