// Hugging Face: `GET /api/whoami-v2` answers the user and the token's role while it works.
import { type BearerCheck, field, ok } from "./bearer.js";

export const HUGGINGFACE_CHECK: BearerCheck = {
  provider: "huggingface",
  base: (s) => s.huggingfaceUrl,
  call: (base, value) => ({
    method: "GET",
    url: `${base}/api/whoami-v2`,
    headers: { Authorization: `Bearer ${value}` },
  }),
  live: (a) => {
    const role = field(a, "auth", "accessToken", "role");
    return ok(a, `Hugging Face user ${field(a, "name") ?? "?"}`, role ? [role] : undefined);
  },
};
