// A security team's decisions about recorded findings, and what each finding's token has been through.
import { UserError } from "../errors.js";
import { Registry, type RegistryMatch, toMatch } from "../registry/registry.js";
import type { Rule } from "../scan/rules.js";
import { type Secret, secretHash } from "../scan/secret.js";
import type { FindingRecord, Resolution } from "../store/findings.js";
import type { Store } from "../store/index.js";
import { withConfirmation } from "../validate/confirm.js";
import { decide } from "./policy.js";
import { enqueueRevocation, type RevocationView, revocationJob } from "./queue.js";
import type { RevokerSet } from "./types.js";

export class TriageError extends UserError {}

export interface FindingState {
  registry: RegistryMatch | null;
  revocation: RevocationView | null;
}

/** The registry match and revocation of a recorded finding's token. */
export async function findingState(
  store: Store,
  finding: Pick<FindingRecord, "secretHash">,
): Promise<FindingState> {
  const token = await new Registry(store).lookup(finding.secretHash);
  const job = await revocationJob(store, finding.secretHash);
  let revocation: RevocationView | null = job ? await withConfirmation(store, job) : null;
  if ((!revocation || revocation.status === "cancelled") && token?.revokedAt)
    revocation = {
      status: "revoked",
      provider: token.provider,
      at: token.revokedAt,
      reason: "marked revoked by hand",
    };
  return { registry: token ? toMatch(token) : null, revocation };
}

export async function getFinding(store: Store, id: number): Promise<FindingRecord> {
  const finding = await store.findings.byId(id);
  if (!finding) throw new TriageError(`no finding #${id}; 'leakwarden findings list' shows them`);
  return finding;
}

/**
 * Closes a finding. `revoked-manually` means the token is dead: the registry says so, a queued revocation is
 * cancelled, and the token's other open findings become revoked.
 */
export async function resolveFinding(
  store: Store,
  id: number,
  resolution: Resolution,
  note: string | null,
  actor?: string,
): Promise<FindingRecord> {
  return await store.transaction(async (tx) => {
    const finding = await getFinding(tx, id);
    const resolved = (await tx.findings.resolve(id, resolution, note)) as FindingRecord;
    if (resolution === "revoked-manually") {
      await tx.tokens.markRevoked(finding.secretHash, resolved.resolvedAt as string);
      const job = await revocationJob(tx, finding.secretHash);
      if (job && (await tx.jobs.cancel(job.id, `revoked by hand (finding #${id})`)))
        await tx.audit.record({
          action: "revoke.cancel",
          actor,
          subject: `job:${job.id}`,
          provider: job.queue,
          secretHash: finding.secretHash,
          detail: { preview: finding.redacted, reason: `finding #${id} resolved as revoked-manually` },
        });
      await tx.findings.markRevoked(finding.secretHash);
    }
    await tx.audit.record({
      action: "finding.resolve",
      actor,
      subject: `finding:${id}`,
      provider: finding.provider,
      secretHash: finding.secretHash,
      detail: { preview: finding.redacted, resolution, note, previousStatus: finding.status },
    });
    return resolved;
  });
}

/** Opens a resolved finding again (a triage mistake); the registry and the queue are left as they are. */
export async function reopenFinding(
  store: Store,
  id: number,
  note: string | null,
  actor?: string,
): Promise<FindingRecord> {
  return await store.transaction(async (tx) => {
    const finding = await getFinding(tx, id);
    const reopened = await tx.findings.reopen(id);
    if (!reopened)
      throw new TriageError(`finding #${id} is ${finding.status}, not resolved: nothing to reopen`);
    await tx.audit.record({
      action: "finding.reopen",
      actor,
      subject: `finding:${id}`,
      provider: finding.provider,
      secretHash: finding.secretHash,
      detail: { preview: finding.redacted, note, previousResolution: finding.resolution },
    });
    return reopened;
  });
}

/** The token's value is needed (a revocation by value) and leakwarden does not hold it. */
export class ValueNeededError extends TriageError {}

export type RequestResult =
  | { state: "finished"; view: RevocationView }
  | { state: "would-revoke"; view: RevocationView; call: string }
  | { state: "queued"; jobId: number; how: "new" | "rearmed" | "already queued" };

/**
 * A person asks for a finding's token to be revoked now, whatever the policy. Returns what was done; throws
 * TriageError when the token cannot be revoked, ValueNeededError when its value must be given again.
 */
export async function requestRevocation(
  store: Store,
  revokers: RevokerSet,
  rules: readonly Rule[],
  finding: FindingRecord,
  options: { secret?: Secret; dryRun?: boolean; maxAttempts?: number; actor?: string },
): Promise<RequestResult> {
  const state = await findingState(store, finding);
  if (state.revocation && ["revoked", "already-revoked", "cancelled"].includes(state.revocation.status))
    return { state: "finished", view: state.revocation };
  const token = await new Registry(store).lookup(finding.secretHash);
  const decision = decide(revokers, {
    ruleRevoker: rules.find((r) => r.id === finding.ruleId)?.revoke,
    provider: finding.provider,
    secretHash: finding.secretHash,
    preview: finding.redacted,
    token,
    policy: "all",
  });
  if (decision.action === "skip")
    throw new TriageError(`finding #${finding.id} cannot be revoked: ${decision.reason}`);
  const { revoker, target } = decision;
  if (options.secret && secretHash(options.secret.reveal()) !== finding.secretHash)
    throw new TriageError(`the token given is not the one of finding #${finding.id} (its hash differs)`);
  const call = revoker.describe(target);
  const job = await revocationJob(store, finding.secretHash);
  if (options.dryRun)
    return {
      state: "would-revoke",
      view: {
        status: "would-revoke",
        provider: revoker.name,
        at: null,
        reason: `${call.method} ${call.url}`,
      },
      call: `${call.method} ${call.url}`,
    };
  if (job && (job.state === "pending" || job.state === "running"))
    return { state: "queued", jobId: job.id, how: "already queued" };
  // A job that ended erased its sealed value: a new attempt by value needs the token again.
  if (revoker.byValue && !options.secret)
    throw new ValueNeededError(
      `revoking finding #${finding.id} through ${revoker.name} needs the token itself, and leakwarden does not keep it: pipe it in (leakwarden revoke ${finding.id} < token.txt) or name a variable with --token-env`,
    );
  return await store.transaction(async (tx) => {
    await tx.audit.record({
      action: "revoke.request",
      actor: options.actor,
      subject: `finding:${finding.id}`,
      provider: revoker.name,
      secretHash: finding.secretHash,
      detail: { preview: finding.redacted },
    });
    if (job) {
      const sealed = revoker.byValue && options.secret ? tx.box.seal(options.secret.reveal(), job.key) : null;
      await tx.jobs.rearm(job.id, sealed);
      await tx.audit.record({
        action: "revoke.rearm",
        actor: options.actor,
        subject: `job:${job.id}`,
        provider: revoker.name,
        secretHash: finding.secretHash,
        detail: { preview: finding.redacted, previousError: job.lastError },
      });
      return { state: "queued", jobId: job.id, how: "rearmed" } as const;
    }
    const created = await enqueueRevocation(tx, revoker, target, {
      tokenId: token?.id ?? null,
      secret: options.secret,
      maxAttempts: options.maxAttempts,
      reason: `requested for finding #${finding.id}`,
    });
    return { state: "queued", jobId: created.job.id, how: "new" } as const;
  });
}
