// `live-check:` in a rule: the read-only request that tells whether a token of a provider leakwarden has no code
// for still works. The URL is fixed by the rule (the token never chooses where it goes), and the token goes in
// one header or one query parameter.

export interface LiveCheckSpec {
  method: "GET" | "POST";
  /** Absolute URL of the issuer's identity endpoint; https, or http to a loopback stand-in. */
  url: string;
  /** `Name: value` with `{token}` in the value. */
  header?: { name: string; value: string };
  /** ...or the name of the query parameter that carries the token. */
  query?: string;
  /** Statuses that mean the token works, and that mean it does not; anything else is unknown. */
  live: number[];
  inactive: number[];
}

const FIELDS = ["method", "url", "header", "query", "live", "inactive"];
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function statuses(value: unknown, field: string, fail: (problem: string) => never): number[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => !Number.isInteger(v) || v < 100 || v > 599))
    fail(`"live-check.${field}" must be a list of HTTP statuses`);
  return value as number[];
}

export function parseLiveCheck(value: unknown, fail: (problem: string) => never): LiveCheckSpec | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`"live-check" must be a map with method, url, header or query, live and inactive`);
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!FIELDS.includes(key)) fail(`unknown field "live-check.${key}"`);
  const method = raw.method ?? "GET";
  if (method !== "GET" && method !== "POST") fail(`"live-check.method" must be GET or POST`);
  if (typeof raw.url !== "string") return fail(`"live-check.url" is required`);
  let url: URL;
  try {
    url = new URL(raw.url);
  } catch {
    return fail(`"live-check.url" must be an absolute URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname)))
    fail(`"live-check.url" must be https (http only to 127.0.0.1 or localhost, for a stand-in)`);
  if (raw.url.includes("{token}")) fail(`"live-check.url" must not hold the token: use header or query`);
  if ((raw.header === undefined) === (raw.query === undefined))
    fail(
      `"live-check" needs exactly one of header ('Authorization: Bearer {token}') or query (a parameter name)`,
    );
  const spec: LiveCheckSpec = {
    method,
    url: raw.url,
    live: statuses(raw.live, "live", fail),
    inactive: statuses(raw.inactive, "inactive", fail),
  };
  if (spec.live.length === 0) fail(`"live-check.live" needs at least one status`);
  if (raw.header !== undefined) {
    const match =
      typeof raw.header === "string" ? /^([A-Za-z0-9-]+):\s*(.*\{token\}.*)$/.exec(raw.header) : null;
    if (!match) return fail(`"live-check.header" must look like 'Authorization: Bearer {token}'`);
    spec.header = { name: match[1] as string, value: match[2] as string };
  } else {
    if (typeof raw.query !== "string" || !/^[A-Za-z0-9_.-]+$/.test(raw.query))
      fail(`"live-check.query" must be a query parameter name`);
    spec.query = raw.query as string;
  }
  return spec;
}
