// Anthropic: `GET /v1/models` with `x-api-key` and `anthropic-version` answers 200 for a working key.
import { type BearerCheck, ok } from "./bearer.js";

export const ANTHROPIC_CHECK: BearerCheck = {
  provider: "anthropic",
  base: (s) => s.anthropicApiUrl,
  call: (base, value) => ({
    method: "GET",
    url: `${base}/v1/models`,
    headers: { "x-api-key": value, "anthropic-version": "2023-06-01" },
  }),
  live: (a) =>
    a.status === 403
      ? { status: "inactive", detail: "Anthropic refused the key (403)" }
      : ok(a, "an Anthropic API key"),
};
