// One interface for every provider that can revoke a token, so that the worker, the policy and the CLI
// never need to know which provider they are talking to.
import type { Secret } from "../scan/secret.js";

export const REVOKER_NAMES = ["azure-devops", "github", "github-installation", "gitlab", "slack"] as const;
export type RevokerName = (typeof REVOKER_NAMES)[number];

export function isRevokerName(name: string | undefined | null): name is RevokerName {
  return REVOKER_NAMES.includes(name as RevokerName);
}

/** What a revocation is about. Registry data for providers that revoke by id, the value for those that revoke by value. */
export interface RevocationTarget {
  secretHash: string;
  preview: string;
  secret?: Secret;
  org?: string | null;
  authorizationId?: string | null;
  /** Created by `registry mint`: the PAT lifecycle API can revoke it. */
  minted?: boolean;
}

export type AttemptResult =
  | { kind: "revoked" }
  /** 404, "not found", or a token that no longer authenticates: nothing left to revoke. */
  | { kind: "already-revoked"; detail: string }
  /** Worth trying again: 429, 5xx, a timeout, a network error. */
  | { kind: "retry"; error: string; retryAfterMs?: number }
  /** Trying again would not help: refused credentials, a malformed request. */
  | { kind: "failed"; error: string };

export interface CallSummary {
  method: string;
  url: string;
  status?: number;
}

export interface BatchResult {
  call: CallSummary;
  /** One per target, in order. */
  results: AttemptResult[];
  /** The provider asked for a pause (Retry-After, an exhausted rate limit): no call to it before then. */
  pauseMs?: number;
}

export interface Revoker {
  readonly name: RevokerName;
  /** Revokes by value: the job must carry the token, sealed. */
  readonly byValue: boolean;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** Tokens per call. */
  readonly batchSize: number;
  /** When only some targets can share a call: those with the same key go together (by default, any). */
  batchKey?(target: RevocationTarget): string;
  /** The provider's published call budget, kept across processes through the audit log. */
  readonly budget?: { calls: number; windowMs: number };
  /** Why no call can be made at all right now (a missing credential); undefined when ready. */
  unready?(): string | undefined;
  /** Why this target can never be revoked here (no authorization id in the registry...); undefined when it can. */
  cannotRevoke(target: RevocationTarget): string | undefined;
  /** The call that would be made, for --dry-run and the audit log. Never holds a secret. */
  describe(target: RevocationTarget): CallSummary;
  revoke(targets: readonly RevocationTarget[]): Promise<BatchResult>;
}

export type RevokerSet = ReadonlyMap<RevokerName, Revoker>;
