// What a live check says about a token, and the interface every provider's check implements. A check makes
// one read-only identity call to the provider that issued the token, and never to any other host.
import type { Secret } from "../scan/secret.js";

export type Validity =
  /** The token works: who it belongs to and what it may do, never the token. */
  | { status: "live"; identity: string; scopes?: string[] }
  /** The provider refused it: revoked, expired or never valid. */
  | { status: "inactive"; detail: string }
  /** No verdict (throttled, an outage, a check this token cannot have): why. */
  | { status: "unknown"; why: string };

export type ValidityStatus = Validity["status"];

export interface ValidationTarget {
  secretHash: string;
  secret: Secret;
  /** The Azure DevOps organisation a registered PAT belongs to. */
  org?: string | null;
  /** A second half found with it: the AWS secret access key for a key id. */
  partner?: Secret;
}

export interface Validator {
  /** The provider whose rate limit it shares: `github`, `aws`... */
  readonly provider: string;
  /** Why this target cannot be checked (no organisation, no partner secret); undefined when it can. */
  cannotCheck?(target: Pick<ValidationTarget, "org" | "partner">): string | undefined;
  validate(target: ValidationTarget): Promise<Validity>;
}
