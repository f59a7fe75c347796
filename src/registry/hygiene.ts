// The registry's hygiene report: tokens that are risky or about to break, and what to do about each.
// Facts from token-formats.md §1.4: PATs live at most a year; global PATs stop working on 1 December 2026.
import type { TokenRecord } from "../store/tokens.js";
import { daysBetween } from "./dates.js";

export const GLOBAL_PAT_END = new Date("2026-12-01T00:00:00.000Z");
export const EXPIRING_SOON_DAYS = 7;
export const OLD_AFTER_DAYS = 90;

export const CHECKS = ["full-scope", "all-orgs", "not-revocable", "expiring-soon", "old", "expired"] as const;
export type Check = (typeof CHECKS)[number];

export interface Problem {
  token: TokenRecord;
  check: Check;
  /** What is wrong and what to do, in one line. */
  detail: string;
}

const day = (iso: string) => iso.slice(0, 10);

function checkToken(token: TokenRecord, now: Date): Problem[] {
  const problems: Problem[] = [];
  const add = (check: Check, detail: string) => problems.push({ token, check, detail });
  const expires = token.expiresAt ? new Date(token.expiresAt) : undefined;
  if (expires && expires <= now) {
    add(
      "expired",
      `expired on ${day(token.expiresAt as string)}; remove it once it is no longer in use anywhere`,
    );
    return problems; // an expired token is no risk: the rest does not matter
  }
  if (token.scopes.includes("app_token"))
    add("full-scope", "full access (app_token): replace it with a PAT limited to the scopes it needs");
  if (token.allOrgs)
    add(
      "all-orgs",
      now < GLOBAL_PAT_END
        ? `global PAT: all global PATs stop working on ${day(GLOBAL_PAT_END.toISOString())}, in ${Math.ceil(daysBetween(now, GLOBAL_PAT_END))} days; replace it with one per organisation`
        : `global PAT: global PATs stopped working on ${day(GLOBAL_PAT_END.toISOString())}; replace it with one per organisation`,
    );
  if (token.provider === "azure-devops" && !token.authorizationId)
    add(
      "not-revocable",
      "no authorization id: leakwarden cannot revoke it if it leaks; re-register it with --org and --authorization-id",
    );
  if (expires && daysBetween(now, expires) <= EXPIRING_SOON_DAYS)
    add("expiring-soon", `expires on ${day(token.expiresAt as string)}; plan its replacement now`);
  const age = daysBetween(new Date(token.createdAt), now);
  if (age > OLD_AFTER_DAYS)
    add("old", `created ${Math.floor(age)} days ago (over ${OLD_AFTER_DAYS}); rotate it`);
  return problems;
}

/** Problems of the tokens not yet revoked, most urgent check first, then by token id. */
export function auditRegistry(tokens: readonly TokenRecord[], now: Date): Problem[] {
  return tokens
    .filter((t) => !t.revokedAt)
    .flatMap((t) => checkToken(t, now))
    .sort((a, b) => CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check) || a.token.id - b.token.id);
}
