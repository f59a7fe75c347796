// Revocation jobs in the durable queue: one per token (the job key is the token's hash), written before any
// call is made. Tokens revoked by value travel sealed; nothing else about them is secret.
import { UserError } from "../errors.js";
import type { Secret } from "../scan/secret.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import type { RevocationTarget, Revoker, RevokerName } from "./types.js";

export const REVOKE_KIND = "revoke";
export const DEFAULT_MAX_ATTEMPTS = 6;

export interface RevokePayload {
  secretHash: string;
  preview: string;
  tokenId: number | null;
  org: string | null;
  authorizationId: string | null;
  minted: boolean;
}

export type RevokeJob = JobRecord<RevokePayload>;

export function revocationKey(secretHash: string): string {
  return `${REVOKE_KIND}:${secretHash}`;
}

export async function revocationJob(store: Store, secretHash: string): Promise<RevokeJob | undefined> {
  return await store.jobs.byKey<RevokePayload>(revocationKey(secretHash));
}

export class QueueError extends UserError {}

/**
 * Enqueues the revocation of one token; a second request for the same token returns the first job. Call it
 * inside a store transaction when it goes with other writes.
 */
export async function enqueueRevocation(
  store: Store,
  revoker: Revoker,
  target: RevocationTarget,
  options: {
    tokenId: number | null;
    secret?: Secret;
    maxAttempts?: number;
    priority?: number;
    reason: string;
  },
): Promise<{ job: RevokeJob; created: boolean }> {
  const key = revocationKey(target.secretHash);
  if (revoker.byValue && !options.secret)
    throw new QueueError(`${revoker.name} revokes by value: the token itself is needed`);
  const existing = await store.jobs.byKey<RevokePayload>(key);
  if (existing) {
    // Found again by more urgent work (a push, after a backfill queued it): it keeps the more urgent place.
    if (options.priority !== undefined && options.priority < existing.priority)
      return await store.jobs.enqueue<RevokePayload>({ ...existing, priority: options.priority });
    return { job: existing, created: false };
  }
  const payload: RevokePayload = {
    secretHash: target.secretHash,
    preview: target.preview,
    tokenId: options.tokenId,
    org: target.org ?? null,
    authorizationId: target.authorizationId ?? null,
    minted: target.minted ?? false,
  };
  const sealed = revoker.byValue && options.secret ? store.box.seal(options.secret.reveal(), key) : null;
  const result = await store.jobs.enqueue<RevokePayload>({
    kind: REVOKE_KIND,
    key,
    queue: revoker.name,
    payload,
    sealed,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
  });
  if (result.created)
    await store.audit.record({
      action: "revoke.enqueue",
      subject: `job:${result.job.id}`,
      provider: revoker.name,
      secretHash: target.secretHash,
      detail: { preview: target.preview, tokenId: options.tokenId, reason: options.reason },
    });
  return result;
}

/** The target a job describes, without its value. */
export function targetOf(job: RevokeJob): RevocationTarget {
  return {
    secretHash: job.payload.secretHash,
    preview: job.payload.preview,
    org: job.payload.org,
    authorizationId: job.payload.authorizationId,
    minted: job.payload.minted,
  };
}

export const REVOCATION_STATUSES = [
  "revoked",
  "already-revoked",
  "pending",
  "failed",
  "cancelled",
  "would-revoke",
  "not-revocable",
  "skipped",
] as const;
export type RevocationStatus = (typeof REVOCATION_STATUSES)[number];

/** What a report says about a finding's revocation. */
export interface RevocationView {
  status: RevocationStatus;
  provider: string | null;
  /** When it was revoked, gave up, or (pending) when the next attempt is due. */
  at: string | null;
  reason?: string;
  jobId?: number;
  /** After `revoked`: what a live check since says (validate/confirm.ts). */
  confirmation?: "checking" | "confirmed" | "accepted" | "did-not-take" | "unconfirmed";
}

export function viewOfJob(job: RevokeJob): RevocationView {
  const provider = job.queue as RevokerName;
  switch (job.state) {
    case "done":
      return {
        status: job.outcome === "already-revoked" ? "already-revoked" : "revoked",
        provider,
        at: job.finishedAt,
        jobId: job.id,
      };
    case "dead":
      return {
        status: "failed",
        provider,
        at: job.finishedAt,
        reason: job.lastError ?? undefined,
        jobId: job.id,
      };
    case "cancelled":
      return {
        status: "cancelled",
        provider,
        at: job.finishedAt,
        reason: job.lastError ?? undefined,
        jobId: job.id,
      };
    default:
      return {
        status: "pending",
        provider,
        at: job.state === "pending" ? job.runAfter : null,
        reason: job.lastError ?? undefined,
        jobId: job.id,
      };
  }
}
