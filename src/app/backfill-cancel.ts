// Cancelling backfills: repositories removed from an installation, or the installation deleted or suspended.
// The App can no longer read those repositories (or must not act on them), so their queued backfills never start
// and a running one stops at its next checkpoint, keeping what it recorded and posting no summary issue.
import type { Store } from "../store/index.js";
import { BACKFILL_KIND } from "./backfill-jobs.js";
import { installationQueue } from "./report-jobs.js";

/** How often a running backfill looks whether it was cancelled (one small read). */
const WATCH_EVERY_MS = 1_000;

export type CancelCause = "repositories removed" | "installation deleted" | "installation suspended";

/**
 * A webhook that takes repositories away (installation_repositories removed: `repositories` listed; installation
 * deleted or suspended: all of them): records the delivery and cancels the unfinished backfills, each in the
 * audit log. A redelivery does nothing; so does a removal with nothing left to cancel.
 */
export async function acceptRemovalDelivery(
  store: Store,
  delivery: string,
  event: string,
  installation: number,
  repositories: readonly string[] | undefined,
  cause: CancelCause,
): Promise<{ cancelled: number; duplicate: boolean }> {
  return store.transaction(async (tx) => {
    if (!(await tx.deliveries.record(delivery, event, null))) return { cancelled: 0, duplicate: true };
    const reason = `${cause} (delivery ${delivery})`;
    const backfills = await tx.backfills.cancel({
      installation,
      ...(repositories !== undefined ? { repositories } : {}),
    });
    const jobs = new Set(
      await tx.jobs.cancelUnfinished(
        {
          kind: BACKFILL_KIND,
          ids: backfills.map((b) => b.jobId),
        },
        reason,
      ),
    );
    for (const b of backfills)
      await tx.audit.record({
        action: "backfill.cancel",
        subject: b.repository,
        detail: { job: b.jobId, installation, was: b.state, cause, delivery },
      });
    let listings = 0;
    if (repositories === undefined) {
      // The listing of the installation's repositories, when it has not run yet.
      for (const id of await tx.jobs.cancelUnfinished(
        { kind: BACKFILL_KIND, queue: installationQueue(installation) },
        reason,
      ))
        if (!jobs.has(id)) {
          listings++;
          await tx.audit.record({
            action: "backfill.cancel",
            subject: `installation:${installation}`,
            detail: { job: id, installation, cause, delivery },
          });
        }
    }
    return { cancelled: backfills.length + listings, duplicate: false };
  });
}

/** Thrown into a running backfill's scan (the abort reason) when its backfill was cancelled. */
export class BackfillCancelled extends Error {
  constructor(readonly jobId: number) {
    super(`backfill job ${jobId} was cancelled`);
  }
}

/**
 * Watches a running backfill's row from another replica's or this one's cancellation: `signal` aborts (git
 * stops) once it reads `cancelled`. Started when the backfill starts running, stopped when it ends.
 */
export class CancellationWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly jobId: number,
    private readonly everyMs = WATCH_EVERY_MS,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  start(): this {
    this.timer = setInterval(() => {
      // A failed read is caught up by the next one, or by the checkpoint at the end.
      this.check().catch(() => {});
    }, this.everyMs);
    this.timer.unref();
    return this;
  }

  /** Reads the backfill's state now; true once it is cancelled. */
  async check(): Promise<boolean> {
    if (this.cancelled) return true;
    const row = await this.store.backfills.byJob(this.jobId);
    if (row?.state === "cancelled") this.controller.abort(new BackfillCancelled(this.jobId));
    return this.cancelled;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
