// Which findings get revoked. Registry matches are revoked; tokens that are not registered but can be revoked
// by their value are revoked when the policy is `all`, or under `live` when a live check says they work;
// `off` reports only.
import type { TokenRecord } from "../store/tokens.js";
import { isRevokerName, type RevocationTarget, type Revoker, type RevokerSet } from "./types.js";

export const POLICIES = ["registered", "live", "all", "off"] as const;
export type RevocationPolicy = (typeof POLICIES)[number];
export const DEFAULT_POLICY: RevocationPolicy = "registered";

export type Decision =
  | { action: "revoke"; revoker: Revoker; target: RevocationTarget }
  | { action: "skip"; status: "skipped" | "not-revocable"; provider: string | null; reason: string };

export interface DecisionInput {
  /** The revoker the finding's rule names (`revoke:` in rules/*.yml), if any. */
  ruleRevoker: string | undefined;
  provider: string;
  secretHash: string;
  preview: string;
  token: TokenRecord | undefined;
  policy: RevocationPolicy;
  /** A live check said the token works (policy `live`). */
  live?: boolean;
}

/** The revoker for a finding: its rule's, else the registered token's provider when that is one. */
export function revokerFor(revokers: RevokerSet, ruleRevoker: string | undefined, token?: TokenRecord) {
  const name = ruleRevoker ?? token?.provider;
  return isRevokerName(name) ? revokers.get(name) : undefined;
}

export function decide(revokers: RevokerSet, input: DecisionInput): Decision {
  const revoker = revokerFor(revokers, input.ruleRevoker, input.token);
  const skip = (status: "skipped" | "not-revocable", reason: string): Decision => ({
    action: "skip",
    status,
    provider: revoker?.name ?? null,
    reason,
  });
  if (input.policy === "off")
    return skip("skipped", "the revocation policy is off: findings are only reported");
  if (!revoker)
    return skip(
      "not-revocable",
      `leakwarden cannot revoke ${input.provider} tokens through an API: revoke it at the provider`,
    );
  if (!input.token && input.policy === "registered")
    return skip("skipped", "not in the registry, and the policy revokes registered tokens only");
  if (!input.token && input.policy === "live" && !input.live)
    return skip(
      "skipped",
      "not in the registry, and the policy revokes unregistered tokens only when a live check says they work",
    );
  if (!input.token && !revoker.byValue)
    return skip(
      "not-revocable",
      "not in the registry: Azure DevOps revokes a PAT only by its authorization id, which the registry holds",
    );
  const target: RevocationTarget = {
    secretHash: input.secretHash,
    preview: input.token?.preview ?? input.preview,
    org: input.token?.org ?? null,
    authorizationId: input.token?.authorizationId ?? null,
    minted: input.token?.minted ?? false,
  };
  const problem = revoker.cannotRevoke(target);
  if (problem) return skip("not-revocable", problem);
  return { action: "revoke", revoker, target };
}
