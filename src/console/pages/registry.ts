// Registry: the organisation's tokens by owner and provider, with the hygiene flags of `registry audit`.
import { auditRegistry, type Check } from "../../registry/hygiene.js";
import type { Store } from "../../store/index.js";
import { type Html, html, when } from "../html.js";

export async function registryPage(store: Store): Promise<Html> {
  const tokens = (await store.tokens.list()).sort(
    (a, b) => (a.owner ?? "").localeCompare(b.owner ?? "") || a.provider.localeCompare(b.provider),
  );
  const flags = new Map<number, { check: Check; detail: string }[]>();
  for (const p of auditRegistry(tokens, store.clock()))
    flags.set(p.token.id, [...(flags.get(p.token.id) ?? []), { check: p.check, detail: p.detail }]);
  return html`<p>${tokens.length} tokens, ${flags.size} with a hygiene problem.</p>
<table><thead><tr><th scope="col">#</th><th scope="col">Owner</th><th scope="col">Provider</th><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Organisation</th><th scope="col">Expires</th><th scope="col">Revoked</th><th scope="col">Hygiene</th></tr></thead><tbody>
${tokens.map(
  (t) =>
    html`<tr><td>${t.id}</td><td>${t.owner ?? "-"}</td><td>${t.provider}</td><td>${t.name ?? "-"}</td><td><code>${t.preview}</code></td><td>${t.org ?? "-"}</td><td>${when(t.expiresAt)}</td><td>${when(t.revokedAt)}</td><td>${(flags.get(t.id) ?? []).map((f) => html`<span class="flag" title="${f.detail}">${f.check}</span> `)}</td></tr>`,
)}
</tbody></table>`;
}
