// npm: `GET /-/whoami` with the token as Bearer answers the user name while it works, 401 once revoked.
import { type BearerCheck, field, ok } from "./bearer.js";

export const NPM_CHECK: BearerCheck = {
  provider: "npm",
  base: (s) => s.npmRegistryUrl,
  call: (base, value) => ({
    method: "GET",
    url: `${base}/-/whoami`,
    headers: { Authorization: `Bearer ${value}` },
  }),
  live: (a) => ok(a, `npm user ${field(a, "username") ?? "?"}`),
};
