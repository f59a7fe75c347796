// CSV (RFC 4180): one row per finding, for spreadsheets and ticket imports.
import type { Finding } from "../scan/types.js";
import { type PublicOptions, toPublic } from "./public.js";

const COLUMNS = [
  "severity",
  "confidence",
  "ruleId",
  "provider",
  "file",
  "line",
  "column",
  "endLine",
  "endColumn",
  "encoding",
  "redacted",
  "secretHash",
  "fingerprint",
  "commit",
  "author",
  "date",
  "introduced",
] as const;

/**
 * Quotes a cell when it needs it, and defuses cells a spreadsheet would run as a formula (a path or author
 * name starting with `=`, `+`, `-` or `@`) by prefixing a quote, as OWASP advises.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderCsv(findings: readonly Finding[], options: PublicOptions = {}): string {
  const columns: string[] = [...COLUMNS, ...(options.showSecrets ? ["secret"] : [])];
  const rows = findings.map((f) => {
    const row = toPublic(f, options) as Record<string, unknown>;
    return columns.map((c) => csvCell(row[c])).join(",");
  });
  return `${[columns.join(","), ...rows].join("\r\n")}\r\n`;
}
