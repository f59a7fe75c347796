// One finding: where its token was seen, the registry entry, the revocation timeline, the breach issue, the
// audit trail, and the triage actions (each a form with the session's CSRF token).
import { summariseDetail } from "../../cli/findings.js";
import { findingState } from "../../revoke/triage.js";
import { type FindingRecord, RESOLUTIONS } from "../../store/findings.js";
import type { Store } from "../../store/index.js";
import { type Html, html, when } from "../html.js";
import type { Session } from "../session.js";
import { findingLocation } from "./findings.js";

/** A link to the line on GitHub when the finding came from a repository push. */
function codeLink(f: FindingRecord, webBase: string | undefined): Html | string {
  const where = findingLocation(f);
  if (!webBase || !f.commit || !/^[\w.-]+\/[\w.-]+$/.test(f.source)) return where;
  const url = `${webBase}/${f.source}/blob/${f.commit}/${f.file.split("/").map(encodeURIComponent).join("/")}#L${f.line}`;
  return html`<a href="${url}">${where}</a>`;
}

function actions(base: string, f: FindingRecord, session: Session, canRevoke: boolean): Html {
  const hidden = html`<input type="hidden" name="csrf" value="${session.csrf}">`;
  const resolve =
    f.status === "resolved"
      ? html`<form method="post" action="${base}/findings/${f.id}/reopen">${hidden}
<label>Note <input name="note" maxlength="500"></label> <button type="submit">Reopen</button></form>`
      : html`<form method="post" action="${base}/findings/${f.id}/resolve">${hidden}
<label>Resolve as <select name="resolution">${RESOLUTIONS.map((r) => html`<option>${r}</option>`)}</select></label>
<label>Note <input name="note" maxlength="500" required></label> <button type="submit">Resolve</button></form>`;
  const revoke = canRevoke
    ? html`<form method="post" action="${base}/findings/${f.id}/revoke">${hidden}<button type="submit">Revoke now</button></form>`
    : "";
  return html`<section aria-labelledby="act-h"><h2 id="act-h">Actions</h2>${resolve}${revoke}</section>`;
}

export async function findingPage(
  store: Store,
  base: string,
  f: FindingRecord,
  session: Session,
  webBase: string | undefined,
): Promise<Html> {
  const state = await findingState(store, f);
  const token = state.registry ? await store.tokens.byId(state.registry.id) : undefined;
  const occurrences = await store.findings.list({ secretHash: f.secretHash });
  const history = await store.audit.list({ secretHash: f.secretHash });
  const timeline = history.filter((e) => e.action.startsWith("revoke."));
  const breaches = await store.breaches.forToken(f.secretHash);
  const r = state.revocation;
  const check = await store.validations.get(f.secretHash);
  const v = check?.validity;
  const canRevoke =
    f.status === "open" &&
    (!r || r.status === "failed" || r.status === "cancelled" || r.status === "skipped");
  return html`<dl class="facts">
<div><dt>Status</dt><dd><span class="status ${f.status}">${f.status}</span>${f.resolution ? html` (${f.resolution}${f.note ? `: ${f.note}` : ""})` : ""}</dd></div>
<div><dt>Rule</dt><dd>${f.ruleId}: ${f.description} (${f.severity}, ${f.confidence} confidence)</dd></div>
<div><dt>Token</dt><dd><code>${f.redacted}</code> <code class="hash">${f.secretHash}</code></dd></div>
<div><dt>Live check</dt><dd>${v ? `${v.status}${v.status === "live" ? ` as ${v.identity}` : v.status === "inactive" ? `: ${v.detail}` : `: ${v.why}`} (${when(check?.checkedAt)})` : "not checked"}</dd></div>
<div><dt>Revocation</dt><dd>${r ? `${r.status}${r.provider ? ` via ${r.provider}` : ""}${r.at ? `, ${when(r.at)}` : ""}${r.reason ? `: ${r.reason}` : ""}` : "none"}</dd></div>
<div><dt>Breach issue</dt><dd>${breaches.length ? breaches.map((b) => (b.issueUrl ? html`<a href="${b.issueUrl}">${b.issueRepository}#${b.issueNumber}</a> ` : html`${b.repository} (issue not opened yet) `)) : "none"}</dd></div>
</dl>
${actions(base, f, session, canRevoke)}
<section aria-labelledby="occ-h"><h2 id="occ-h">Occurrences</h2>
<table><thead><tr><th scope="col">#</th><th scope="col">Repository or run</th><th scope="col">Where</th><th scope="col">Author</th><th scope="col">First seen</th><th scope="col">Times seen</th></tr></thead><tbody>
${occurrences.map((o) => html`<tr><td><a href="${base}/findings/${o.id}">${o.id}</a></td><td>${o.source || "(local scan)"}</td><td>${codeLink(o, webBase)}</td><td>${o.author ?? "-"}</td><td>${when(o.firstSeenAt)}</td><td>${o.timesSeen}</td></tr>`)}
</tbody></table></section>
<section aria-labelledby="reg-h"><h2 id="reg-h">Registry entry</h2>
${
  token
    ? html`<dl class="facts"><div><dt>Name</dt><dd>${token.name ?? "-"} (#${token.id})</dd></div><div><dt>Owner</dt><dd>${token.owner ?? "-"}</dd></div><div><dt>Organisation</dt><dd>${token.org ?? "-"}</dd></div><div><dt>Scopes</dt><dd>${token.scopes.join(" ") || "-"}</dd></div><div><dt>Expires</dt><dd>${when(token.expiresAt)}</dd></div><div><dt>Revoked</dt><dd>${when(token.revokedAt)}</dd></div></dl>`
    : html`<p>Not in the registry.</p>`
}</section>
<section aria-labelledby="tl-h"><h2 id="tl-h">Revocation timeline</h2>
${timeline.length ? html`<ol class="timeline">${timeline.map((e) => html`<li><time datetime="${e.at}">${when(e.at)}</time> <strong>${e.action}</strong> ${e.actor} ${summariseDetail(e.detail)}</li>`)}</ol>` : html`<p>No revocation attempts.</p>`}
</section>
<section aria-labelledby="audit-h"><h2 id="audit-h">Audit trail</h2>
<table class="audit"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Subject</th><th scope="col">Detail</th></tr></thead><tbody>
${history.length ? history.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.subject ?? ""}</td><td>${summariseDetail(e.detail)}</td></tr>`) : html`<tr><td colspan="5">No entries yet.</td></tr>`}
</tbody></table></section>`;
}
