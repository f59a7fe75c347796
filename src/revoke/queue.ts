// Revocation jobs in the durable queue: one per token (the job key is the token's hash), written before any
// call is made. Tokens revoked by value travel sealed; nothing else about them is secret.
import { UserError } from "../errors.js";
import type { Secret } from "../scan/secret.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import type { Handoff } from "./handoff.js";
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

export interface RevocationRequest {
  revoker: Revoker;
  target: RevocationTarget;
  options: {
    tokenId: number | null;
    secret?: Secret;
    maxAttempts?: number;
    priority?: number;
    reason: string;
  };
}

/**
 * Enqueues the revocation of one token; a second request for the same token returns the first job. Call it
 * inside a store transaction when it goes with other writes.
 */
export async function enqueueRevocation(
  store: Store,
  revoker: Revoker,
  target: RevocationTarget,
  options: RevocationRequest["options"],
): Promise<{ job: RevokeJob; created: boolean }> {
  return (await enqueueRevocations(store, [{ revoker, target, options }]))[0] as {
    job: RevokeJob;
    created: boolean;
  };
}

/**
 * `enqueueRevocation` for several tokens, in order: a few statements however many there are (a batch of pushes
 * queues all its revocations at once). One job per token, whatever the number of requests for it. With a
 * handoff, the calls its worker has a free slot for are written as started, to be made once this commits.
 */
export async function enqueueRevocations(
  store: Store,
  requests: readonly RevocationRequest[],
  handoff?: Handoff,
): Promise<{ job: RevokeJob; created: boolean }[]> {
  for (const { revoker, options } of requests)
    if (revoker.byValue && !options.secret)
      throw new QueueError(`${revoker.name} revokes by value: the token itself is needed`);
  if (requests.length === 0) return [];
  // The jobs and their audit entries are written together; a handoff's calls start once that has committed.
  return store.transaction(async (tx) => {
    const started = handoff?.claims(requests) ?? [];
    if (handoff)
      tx.whenEnded(
        () => handoff.commit(),
        () => handoff.abort(),
      );
    // One INSERT: a token already queued keeps its job (moved up to a more urgent priority: a push finds what a
    // backfill queued), and is neither queued nor audited again.
    const queued = (await tx.jobs.enqueueMany<RevokePayload>(
      requests.map(({ revoker, target, options }, i) => {
        const key = revocationKey(target.secretHash);
        return {
          kind: REVOKE_KIND,
          key,
          queue: revoker.name,
          payload: {
            secretHash: target.secretHash,
            preview: target.preview,
            tokenId: options.tokenId,
            org: target.org ?? null,
            authorizationId: target.authorizationId ?? null,
            minted: target.minted ?? false,
          },
          sealed: revoker.byValue && options.secret ? tx.box.seal(options.secret.reveal(), key) : null,
          maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          ...(options.priority !== undefined ? { priority: options.priority } : {}),
          ...(started[i] ? { startedBy: started[i] } : {}),
        };
      }),
    )) as { job: RevokeJob; created: boolean }[];
    await tx.audit.recordMany([
      ...requests.flatMap(({ revoker, target, options }, i) => {
        const result = queued[i];
        if (!result?.created) return [];
        return [
          {
            action: "revoke.enqueue",
            subject: `job:${result.job.id}`,
            provider: revoker.name,
            secretHash: target.secretHash,
            detail: { preview: target.preview, tokenId: options.tokenId, reason: options.reason },
          },
        ];
      }),
      // The handed-off calls' attempts, after their jobs' queuing.
      ...(handoff?.written(requests, queued) ?? []),
    ]);
    return queued;
  });
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
