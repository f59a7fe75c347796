// Findings: filters, sort and pages computed by the database, exports of the filtered set, and "was this
// token ever leaked?" (the browser sends the SHA-256 of the value, never the value).
import { csvCell } from "../../report/csv.js";
import type { Confidence } from "../../scan/types.js";
import {
  FINDING_SORTS,
  FINDING_STATUSES,
  type FindingRecord,
  type FindingSearch,
  type FindingSort,
  type FindingStatus,
} from "../../store/findings.js";
import type { Store } from "../../store/index.js";
import { type Html, html, when } from "../html.js";

export const PAGE_SIZE = 50;
const CONFIDENCES = ["high", "medium"] as const;
const VALIDITIES = ["live", "inactive", "unknown"] as const;
const HASH = /^sha256:[0-9a-f]{64}$/;

export interface FindingsQuery {
  search: FindingSearch;
  sort: FindingSort;
  page: number;
  /** Values as given, to fill the form and the links again. */
  params: URLSearchParams;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return value && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

function day(value: string | null): string | undefined {
  return value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

/** Reads the query string; unknown values are ignored rather than trusted. */
export function parseFindingsQuery(params: URLSearchParams): FindingsQuery {
  const to = day(params.get("to"));
  const hash = params.get("hash")?.trim().toLowerCase();
  const search: FindingSearch = {
    status: oneOf<FindingStatus>(params.get("status"), FINDING_STATUSES),
    provider: params.get("provider")?.trim() || undefined,
    ruleId: params.get("rule")?.trim() || undefined,
    source: params.get("repository")?.trim() || undefined,
    confidence: oneOf<Confidence>(params.get("confidence"), CONFIDENCES),
    validity: oneOf(params.get("validity"), VALIDITIES),
    seenFrom: day(params.get("from")),
    // Inclusive of the whole "to" day.
    seenBefore: to ? new Date(Date.parse(to) + 86_400_000).toISOString().slice(0, 10) : undefined,
    secretHash: hash && HASH.test(hash) ? hash : undefined,
    severity: params.get("severity")?.trim() || undefined,
  };
  const page = Math.max(1, Math.floor(Number(params.get("page")) || 1));
  return { search, sort: oneOf(params.get("sort"), FINDING_SORTS) ?? "newest", page, params };
}

function withParams(params: URLSearchParams, changes: Record<string, string | null>): string {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const text = next.toString();
  return text ? `?${text}` : "";
}

function select(name: string, label: string, options: readonly string[], current: string | null): Html {
  return html`<label>${label} <select name="${name}"><option value="">any</option>${options.map(
    (o) => html`<option${o === current ? html` selected` : ""}>${o}</option>`,
  )}</select></label>`;
}

function text(name: string, label: string, current: string | null, type = "text"): Html {
  return html`<label>${label} <input type="${type}" name="${name}" value="${current ?? ""}"></label>`;
}

export function findingLocation(f: FindingRecord): string {
  const at = `${f.file}:${f.line}`;
  return f.commit ? `${f.commit.slice(0, 12)} ${at}` : at;
}

async function leakCheck(store: Store, hash: string | undefined, total: number): Promise<Html> {
  const answer = hash
    ? html`<p role="status" class="${total ? "bad" : "good"}">${
        total
          ? `Yes: this token was found ${total} time${total === 1 ? "" : "s"} (listed below).`
          : "No: leakwarden has never recorded this token."
      }${(await store.tokens.byHash(hash)) ? " It is in the registry." : ""}</p>`
    : "";
  return html`<form class="leak-check" method="get" action="" id="leak-check">
<h2>Was this token ever leaked?</h2>
<p>Your browser hashes the value (SHA-256); only the hash is sent.</p>
<label>Token <input type="password" id="leak-value" autocomplete="off" spellcheck="false"></label>
<input type="hidden" name="hash" id="leak-hash">
<button type="submit">Check</button>
<p class="js-needed" id="leak-js">This check needs JavaScript.</p>
${answer}</form>`;
}

export async function findingsPage(store: Store, base: string, query: FindingsQuery): Promise<Html> {
  const { search, sort, page, params } = query;
  const { findings, total } = await store.findings.search(search, {
    sort,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const exportQuery = withParams(params, { page: null });
  return html`${await leakCheck(store, search.secretHash, total)}
<form class="filters" method="get" action="${base}/findings" aria-label="Filter findings">
${select("status", "Status", FINDING_STATUSES, params.get("status"))}
${text("provider", "Provider", params.get("provider"))}
${text("rule", "Rule", params.get("rule"))}
${text("repository", "Repository", params.get("repository"))}
${select("confidence", "Confidence", CONFIDENCES, params.get("confidence"))}
${select("validity", "Live check", VALIDITIES, params.get("validity"))}
${text("from", "Seen from", params.get("from"), "date")}
${text("to", "Seen to", params.get("to"), "date")}
${select("sort", "Sort", FINDING_SORTS, params.get("sort"))}
<button type="submit">Filter</button>
</form>
<p><span id="total">${total}</span> findings · export <a href="${base}/findings.csv${exportQuery}">CSV</a> <a href="${base}/findings.json${exportQuery}">JSON</a></p>
<table class="findings"><thead><tr><th scope="col">#</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Rule</th><th scope="col">Token</th><th scope="col">Repository</th><th scope="col">Location</th><th scope="col">First seen</th></tr></thead><tbody>
${findings.map(
  (f) =>
    html`<tr><td><a href="${base}/findings/${f.id}">${f.id}</a></td><td><span class="status ${f.status}">${f.status}${f.resolution ? `: ${f.resolution}` : ""}</span></td><td>${f.severity}</td><td>${f.ruleId}</td><td><code>${f.redacted}</code></td><td>${f.source || "-"}</td><td>${findingLocation(f)}</td><td>${when(f.firstSeenAt)}</td></tr>`,
)}
</tbody></table>
<nav class="pages" aria-label="Pages">
${page > 1 ? html`<a rel="prev" href="${base}/findings${withParams(params, { page: String(page - 1) })}">Previous</a>` : ""}
<span>page ${page} of ${pages}</span>
${page < pages ? html`<a rel="next" href="${base}/findings${withParams(params, { page: String(page + 1) })}">Next</a>` : ""}
</nav>`;
}

/** What an export holds about a finding: the stored record, which has a preview and a hash, never a value. */
const EXPORT_COLUMNS = [
  "id",
  "status",
  "resolution",
  "severity",
  "confidence",
  "ruleId",
  "provider",
  "source",
  "file",
  "line",
  "column",
  "commit",
  "author",
  "redacted",
  "secretHash",
  "firstSeenAt",
  "lastSeenAt",
  "note",
] as const;

export async function* exportCsv(store: Store, query: FindingsQuery): AsyncGenerator<string> {
  yield `${EXPORT_COLUMNS.join(",")}\r\n`;
  for await (const batch of store.findings.each(query.search, query.sort))
    yield batch.map((f) => `${EXPORT_COLUMNS.map((c) => csvCell(f[c])).join(",")}\r\n`).join("");
}

export async function* exportJson(store: Store, query: FindingsQuery): AsyncGenerator<string> {
  let first = true;
  yield "[";
  for await (const batch of store.findings.each(query.search, query.sort)) {
    if (batch.length === 0) continue;
    const rows = batch.map((f) => JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, f[c]]))));
    yield `${first ? "\n" : ",\n"}${rows.join(",\n")}`;
    first = false;
  }
  yield "\n]\n";
}
