// Overview: what is open, what the queue did about it, how fast, and whether the queues are healthy.
import { ALERT_KIND } from "../../alerts/queue.js";
import { REPORT_KIND } from "../../app/report-jobs.js";
import { SCAN_KIND } from "../../app/scan-jobs.js";
import { TEXT_SCAN_KIND } from "../../app/text-jobs.js";
import { REVOKE_KIND } from "../../revoke/queue.js";
import type { Store } from "../../store/index.js";
import type { Tally } from "../../store/insights.js";
import { CONFIRM_KIND } from "../../validate/confirm.js";
import { barChart } from "../chart.js";
import { type Html, html, when } from "../html.js";

const WEEKS = 12;

/** The value at quantile q of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

function tallyTable(caption: string, rows: readonly Tally[], base: string, filter: string): Html {
  return html`<table><caption>${caption}</caption><thead><tr><th scope="col">${filter[0]?.toUpperCase()}${filter.slice(1)}</th><th scope="col">Open</th></tr></thead><tbody>
${rows.length ? rows.map((r) => html`<tr><td><a href="${base}/findings?status=open&amp;${filter}=${encodeURIComponent(r.key)}">${r.key || "(local scans)"}</a></td><td>${r.count}</td></tr>`) : html`<tr><td colspan="2">none</td></tr>`}
</tbody></table>`;
}

/** Every week in the window, with zero for weeks without findings, so the chart's gaps are honest. */
function weeks(now: Date, found: readonly Tally[]): Tally[] {
  const counts = new Map(found.map((t) => [t.key, t.count]));
  const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  const out: Tally[] = [];
  for (let i = WEEKS - 1; i >= 0; i--) {
    const key = new Date(monday.getTime() - i * 7 * 86_400_000).toISOString().slice(0, 10);
    out.push({ key, count: counts.get(key) ?? 0 });
  }
  return out;
}

export async function overviewPage(store: Store, base: string): Promise<Html> {
  const now = store.clock();
  const insights = store.insights;
  const revocations = await insights.revocations();
  const seconds = await insights.secondsToRevocation();
  // Every stage of the pipeline, in the order work flows through it.
  const queues = [
    ["Scans", await insights.queueHealth(SCAN_KIND)],
    ["Text scans", await insights.queueHealth(TEXT_SCAN_KIND)],
    ["Revocations", await insights.queueHealth(REVOKE_KIND)],
    ["Revocation checks", await insights.queueHealth(CONFIRM_KIND)],
    ["Reports", await insights.queueHealth(REPORT_KIND)],
    ["Alerts", await insights.queueHealth(ALERT_KIND)],
  ] as const;
  const [bySeverity, byProvider, bySource] = [
    await insights.openBy("severity"),
    await insights.openBy("provider"),
    await insights.openBy("source"),
  ];
  const needsHuman = await insights.needsHuman();
  const perWeek = await insights.newPerWeek(now, WEEKS);
  return html`<section aria-labelledby="open-h"><h2 id="open-h">Open findings</h2>
<div class="tallies">
${tallyTable("By severity", bySeverity, base, "severity")}
${tallyTable("By provider", byProvider, base, "provider")}
${tallyTable("By repository", bySource, base, "repository")}
</div></section>
<section aria-labelledby="rev-h"><h2 id="rev-h">Revocation</h2>
<dl class="figures">
<div><dt>Revoked automatically</dt><dd>${revocations.done}</dd></div>
<div><dt>Pending</dt><dd>${revocations.pending + revocations.running}</dd></div>
<div><dt>Failed</dt><dd><a href="${base}/audit?action=revoke.dead">${revocations.dead}</a></dd></div>
<div><dt>Need a human</dt><dd>${needsHuman}</dd></div>
<div><dt>Detection to revocation, median</dt><dd>${duration(quantile(seconds, 0.5))}</dd></div>
<div><dt>Detection to revocation, p95</dt><dd>${duration(quantile(seconds, 0.95))}</dd></div>
</dl></section>
<section aria-labelledby="week-h"><h2 id="week-h">New findings per week</h2>
${barChart(weeks(now, perWeek), `New findings per week, last ${WEEKS} weeks`)}
</section>
<section aria-labelledby="queue-h"><h2 id="queue-h">Queue health</h2>
<table><thead><tr><th scope="col">Queue</th><th scope="col">Pending</th><th scope="col">Running</th><th scope="col">Oldest pending</th><th scope="col">Dead</th></tr></thead><tbody>
${queues.map(([name, q]) => html`<tr><td>${name}</td><td>${q.pending}</td><td>${q.running}</td><td>${when(q.oldestPending)}</td><td>${q.dead}</td></tr>`)}
</tbody></table></section>`;
}
