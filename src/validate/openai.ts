// OpenAI: `GET /v1/models` answers 200 for a working key (the organization in a response header), 401 otherwise.
import { type BearerCheck, ok } from "./bearer.js";

export const OPENAI_CHECK: BearerCheck = {
  provider: "openai",
  base: (s) => s.openaiApiUrl,
  call: (base, value) => ({
    method: "GET",
    url: `${base}/v1/models`,
    headers: { Authorization: `Bearer ${value}` },
  }),
  live: (a) => ok(a, `OpenAI organization ${a.headers.get("openai-organization") ?? "(not named)"}`),
};
