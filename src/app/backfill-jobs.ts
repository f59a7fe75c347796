// The backfill queue: one durable job per repository whose whole history is to be scanned (on install, when
// repositories are added, or by hand with `leakwarden backfill`), at the bulk priority, so that live pushes go
// ahead of it in every stage. A job for a whole installation lists its repositories, then queues one each.
import { type StageOptions, StageRunner } from "../jobs/stage.js";
import type { Store } from "../store/index.js";
import { type JobRecord, PRIORITY } from "../store/jobs.js";
import { installationQueue } from "./report-jobs.js";

export const BACKFILL_KIND = "backfill";
export const BACKFILL_MAX_ATTEMPTS = 5;

export interface RepositoryBackfill {
  type: "repository";
  /** OWNER/REPO. */
  fullName: string;
  /** Absent when started by hand with OWNER/REPO: the stage asks GitHub which installation covers it. */
  installation?: number;
  /** What started it: a webhook delivery, `cli`, an installation's backfill job. */
  trigger: string;
}

export interface InstallationBackfill {
  type: "installation";
  installation: number;
  trigger: string;
}

export type BackfillPayload = RepositoryBackfill | InstallationBackfill;
export type BackfillJob = JobRecord<BackfillPayload>;

export type BackfillOutcome = { jobId: number; created: boolean };

/**
 * Queues a repository's backfill unless one is queued or running already (then that one is returned). Call
 * inside a transaction when it goes with other writes.
 */
export async function enqueueRepositoryBackfill(
  store: Store,
  backfill: Omit<RepositoryBackfill, "type">,
): Promise<BackfillOutcome> {
  return store.transaction(async (tx) => {
    const running = await tx.backfills.unfinished(backfill.fullName);
    if (running) return { jobId: running.jobId, created: false };
    const { job, created } = await tx.jobs.enqueue<BackfillPayload>({
      kind: BACKFILL_KIND,
      key: `${BACKFILL_KIND}:${backfill.fullName}:${backfill.trigger}`,
      queue: backfill.installation !== undefined ? installationQueue(backfill.installation) : "unresolved",
      payload: { type: "repository", ...backfill },
      maxAttempts: BACKFILL_MAX_ATTEMPTS,
      priority: PRIORITY.bulk,
    });
    if (created) {
      await tx.backfills.queued(job.id, backfill.fullName, backfill.installation ?? null);
      await tx.audit.record({
        action: "backfill.queue",
        subject: backfill.fullName,
        detail: { job: job.id, installation: backfill.installation ?? null, trigger: backfill.trigger },
      });
    }
    return { jobId: job.id, created };
  });
}

/** Queues the listing of an installation's repositories; each then gets its own backfill. */
export async function enqueueInstallationBackfill(
  store: Store,
  installation: number,
  trigger: string,
): Promise<BackfillOutcome> {
  return store.transaction(async (tx) => {
    const { job, created } = await tx.jobs.enqueue<BackfillPayload>({
      kind: BACKFILL_KIND,
      key: `${BACKFILL_KIND}:installation:${installation}:${trigger}`,
      queue: installationQueue(installation),
      payload: { type: "installation", installation, trigger },
      maxAttempts: BACKFILL_MAX_ATTEMPTS,
      priority: PRIORITY.bulk,
    });
    if (created)
      await tx.audit.record({
        action: "backfill.queue",
        subject: `installation:${installation}`,
        detail: { job: job.id, trigger },
      });
    return { jobId: job.id, created };
  });
}

/**
 * A webhook that adds repositories (installation created, installation_repositories added): records the
 * delivery and queues a backfill per repository, or one for the installation when the payload lists none.
 */
export async function acceptInstallationDelivery(
  store: Store,
  delivery: string,
  event: string,
  installation: number,
  repositories: readonly string[] | undefined,
): Promise<{ queued: number; duplicate: boolean }> {
  return store.transaction(async (tx) => {
    if (!(await tx.deliveries.record(delivery, event, null))) return { queued: 0, duplicate: true };
    const trigger = `delivery:${delivery}`;
    if (repositories === undefined)
      return {
        queued: (await enqueueInstallationBackfill(tx, installation, trigger)).created ? 1 : 0,
        duplicate: false,
      };
    let queued = 0;
    for (const fullName of repositories)
      if ((await enqueueRepositoryBackfill(tx, { fullName, installation, trigger })).created) queued++;
    return { queued, duplicate: false };
  });
}

/** Backfill slots apart from the scan stage's, so a long history never holds a push's scan slot. */
export function backfillConcurrencyFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.LEAKWARDEN_BACKFILL_CONCURRENCY;
  if (raw === undefined || raw === "") return 1;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64)
    throw new Error(`LEAKWARDEN_BACKFILL_CONCURRENCY must be a whole number from 1 to 64, not "${raw}"`);
  return Number(raw);
}

export type BackfillRunnerOptions = Omit<StageOptions<BackfillPayload>, "kind" | "pausedQueues" | "perQueue">;

/** The backfill stage: its own slots, one repository per installation at a time. */
export class BackfillRunner extends StageRunner<BackfillPayload> {
  constructor(
    options: BackfillRunnerOptions & { pausedQueues?: StageOptions<BackfillPayload>["pausedQueues"] },
  ) {
    super({ perQueue: 1, ...options, kind: BACKFILL_KIND });
  }
}
