// The HTML report: one self-contained file (no network, no external files) that a security team can open
// offline: per-provider counts and a table of findings that sorts by any column and filters as you type.
// Every value is escaped; the page's content security policy forbids loading anything.
import type { ScanStats } from "../scan/run.js";
import type { Finding, Severity } from "../scan/types.js";
import type { RunInfo } from "./run-info.js";
import { escapeMarkup as x } from "./xml.js";

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.4rem;margin:0 0 .3rem}
.meta{color:#57606a;margin:0 0 1rem}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
#findings th{cursor:pointer;user-select:none}
#findings th[aria-sort=ascending]::after{content:" \\25B2"}
#findings th[aria-sort=descending]::after{content:" \\25BC"}
.critical,.high{color:#a40e26;font-weight:600}.medium{color:#9a6700}
code{font-family:ui-monospace,monospace;word-break:break-all}
input{font:inherit;padding:.3rem .5rem;width:24rem;margin:0 0 .8rem}
`;

// Sorting compares data-sort values (numbers where the column is numeric); filtering matches every word
// typed against a row's text.
const SCRIPT = `
const table = document.getElementById("findings");
const body = table.tBodies[0];
const count = document.getElementById("shown");
table.tHead.addEventListener("click", (event) => {
  const th = event.target.closest("th");
  if (!th) return;
  const index = th.cellIndex;
  const numeric = th.dataset.type === "number";
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const key = (row) => row.cells[index].dataset.sort ?? row.cells[index].textContent;
  const rows = [...body.rows].sort((a, b) => {
    const [p, q] = [key(a), key(b)];
    const order = numeric ? Number(p) - Number(q) : p.localeCompare(q);
    return ascending ? order : -order;
  });
  body.append(...rows);
});
document.getElementById("filter").addEventListener("input", (event) => {
  const words = event.target.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let shown = 0;
  for (const row of body.rows) {
    const text = row.textContent.toLowerCase();
    row.hidden = !words.every((word) => text.includes(word));
    if (!row.hidden) shown++;
  }
  count.textContent = String(shown);
});
`;

const COLUMNS: [label: string, type: "text" | "number"][] = [
  ["Severity", "number"],
  ["Confidence", "text"],
  ["Provider", "text"],
  ["Rule", "text"],
  ["File", "text"],
  ["Line", "number"],
  ["Commit", "text"],
  ["Token", "text"],
];

function row(f: Finding): string {
  const cells = [
    `<td class="${x(f.severity)}" data-sort="${SEVERITY_RANK[f.severity]}">${x(f.severity)}</td>`,
    `<td>${x(f.confidence)}</td>`,
    `<td>${x(f.provider)}</td>`,
    `<td title="${x(f.description)}">${x(f.ruleId)}</td>`,
    `<td><code>${x(f.file)}</code></td>`,
    `<td data-sort="${f.line}">${f.line}:${f.column}</td>`,
    `<td><code title="${x(f.author ?? "")} ${x(f.date ?? "")}">${x(f.commit?.slice(0, 12) ?? "")}</code></td>`,
    `<td><code>${x(f.redacted)}</code>${f.encoding === "plain" ? "" : ` via ${x(f.encoding)}`}</td>`,
  ];
  return `<tr>${cells.join("")}</tr>`;
}

function providerCounts(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.provider, (counts.get(f.provider) ?? 0) + 1);
  const rows = [...counts]
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .map(([provider, n]) => `<tr><td>${x(provider)}</td><td>${n}</td></tr>`);
  return `<table id="providers"><thead><tr><th>Provider</th><th>Findings</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderHtml(findings: readonly Finding[], stats: ScanStats, run: RunInfo): string {
  const scanned =
    stats.commits === undefined
      ? `${stats.files} files`
      : `${stats.commits} commits (${stats.files} ${stats.blobs ? "blobs checked" : "file changes"})`;
  const headers = COLUMNS.map(([label, type]) => `<th data-type="${type}" scope="col">${label}</th>`).join(
    "",
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leakwarden report: ${findings.length} findings</title>
<style>${STYLE}</style>
</head>
<body>
<h1>leakwarden: <span id="total">${findings.length}</span> leaked secrets</h1>
<p class="meta">Scanned ${x(run.targets.join(", "))}: ${scanned}, ${stats.skipped} skipped, from ${x(run.startedAt)} to ${x(run.endedAt)}. leakwarden ${x(run.version)}, rule set ${x(run.ruleSet.version)} (${run.ruleSet.rules} rules).</p>
<h2>By provider</h2>
${providerCounts(findings)}
<h2>Findings</h2>
<input id="filter" type="search" placeholder="Filter: type words to match" aria-label="Filter findings">
<p class="meta"><span id="shown">${findings.length}</span> shown. Click a column heading to sort.</p>
<table id="findings"><thead><tr>${headers}</tr></thead>
<tbody>
${findings.map(row).join("\n")}
</tbody></table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
