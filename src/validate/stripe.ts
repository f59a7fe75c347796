// Stripe: `GET /v1/account` answers the account for a live secret key; a restricted key without that permission
// gets 403 but did authenticate; 401 means revoked or rolled.
import { type BearerCheck, field, ok } from "./bearer.js";

export const STRIPE_CHECK: BearerCheck = {
  provider: "stripe",
  base: (s) => s.stripeApiUrl,
  call: (base, value) => ({
    method: "GET",
    url: `${base}/v1/account`,
    headers: { Authorization: `Bearer ${value}` },
  }),
  // A restricted key without the account permission gets 403: it authenticated, so it is live.
  live: (a) =>
    a.status === 403
      ? { status: "live", identity: "a restricted Stripe key (no access to the account object)" }
      : ok(a, `Stripe account ${field(a, "id") ?? "?"}`),
};
