// Alerts go through the durable job queue: one job per event and destination, written in the same store as
// everything else, so that an alert survives a restart and a slow or failing endpoint never holds up a scan
// or a revocation (they only write a row).
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import { type AlertConfig, type AlertTarget, alertTargets } from "./config.js";
import type { AlertEvent } from "./render.js";

export const ALERT_KIND = "alert";
export const ALERT_MAX_ATTEMPTS = 8;

export interface AlertPayload {
  target: AlertTarget;
  event: AlertEvent;
}

export type AlertJob = JobRecord<AlertPayload>;

/**
 * Queues each event for every configured destination, in one statement however many (a call's revocations come
 * together); returns the new jobs' ids (none for what was already queued).
 */
export async function enqueueAlerts(
  store: Store,
  config: AlertConfig,
  events: readonly AlertEvent[],
): Promise<number[]> {
  const targets = alertTargets(config);
  const queued = await store.jobs.enqueueMany<AlertPayload>(
    events.flatMap((event) =>
      targets.map((target) => ({
        kind: ALERT_KIND,
        key: `${ALERT_KIND}:${target}:${event.id}`,
        queue: target,
        payload: { target, event },
        maxAttempts: ALERT_MAX_ATTEMPTS,
      })),
    ),
  );
  return queued.flatMap(({ job, created }) => (created ? [job.id] : []));
}
