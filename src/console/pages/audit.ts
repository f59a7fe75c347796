// Audit log: the newest entries, filterable by action (or a prefix such as `revoke.`) and subject.
import { summariseDetail } from "../../cli/findings.js";
import type { Store } from "../../store/index.js";
import { type Html, html, when } from "../html.js";

export const AUDIT_LIMIT = 500;

export async function auditPage(store: Store, base: string, params: URLSearchParams): Promise<Html> {
  const action = params.get("action")?.trim() || undefined;
  const subject = params.get("subject")?.trim() || undefined;
  const entries = (await store.audit.list({ action, subject, limit: AUDIT_LIMIT })).reverse();
  return html`<form class="filters" method="get" action="${base}/audit" aria-label="Filter the audit log">
<label>Action <input name="action" value="${action ?? ""}" placeholder="revoke."></label>
<label>Subject <input name="subject" value="${subject ?? ""}" placeholder="finding:12"></label>
<button type="submit">Filter</button></form>
<p>The newest ${entries.length} entries${entries.length === AUDIT_LIMIT ? ` (at most ${AUDIT_LIMIT})` : ""}.</p>
<table class="audit"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Subject</th><th scope="col">Provider</th><th scope="col">Detail</th></tr></thead><tbody>
${entries.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.subject ?? ""}</td><td>${e.provider ?? ""}</td><td>${summariseDetail(e.detail)}</td></tr>`)}
</tbody></table>`;
}
