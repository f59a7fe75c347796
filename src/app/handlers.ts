// Webhook handlers only wire: record the delivery, write a durable job, return. GitHub gives a webhook ten
// seconds; the scan runner does the slow work. A delivery seen before, or a second delivery of the same
// push or run, does nothing.
import type { Probot } from "probot";
import type { Store } from "../store/index.js";
import type { AppIdentity } from "./app-identity.js";
import { type BreachKeySource, breachKey } from "./breach-issue.js";
import {
  type RepositoryRef,
  SCAN_KIND,
  SCAN_MAX_ATTEMPTS,
  type ScanPayload,
  visibilityOf,
} from "./scan-jobs.js";
import { registerTextHandlers } from "./text-handlers.js";

export interface RepositoryPayload {
  name: string;
  full_name: string;
  html_url: string;
  default_branch?: string;
  owner: { login?: string; name?: string | null };
  private?: boolean;
  visibility?: string;
}

export function repositoryRef(repository: RepositoryPayload): RepositoryRef {
  const visibility = visibilityOf(repository);
  return {
    owner: repository.owner.login ?? repository.owner.name ?? repository.full_name.split("/")[0] ?? "",
    name: repository.name,
    fullName: repository.full_name,
    htmlUrl: repository.html_url,
    ...(visibility ? { visibility } : {}),
    ...(repository.default_branch ? { defaultBranch: repository.default_branch } : {}),
  };
}

export type DeliveryOutcome = "queued" | "duplicate-delivery" | "already-queued" | "nothing-to-scan";

/** The scan job's key: one job per push (ref and commit) or per run attempt, whichever delivery brings it. */
export function scanKey(repository: string, payload: ScanPayload): string {
  const source: BreachKeySource =
    payload.type === "push"
      ? { kind: "push", ref: payload.ref, after: payload.after }
      : { kind: "workflow_run", runId: payload.runId, attempt: payload.attempt };
  return breachKey(repository, source);
}

/** Records the delivery and queues its scan in one transaction. */
export async function acceptDelivery(
  store: Store,
  delivery: string,
  event: string,
  repository: string,
  payload: ScanPayload | null,
): Promise<DeliveryOutcome> {
  if (!payload)
    return (await store.deliveries.record(delivery, event, repository))
      ? "nothing-to-scan"
      : "duplicate-delivery";
  return store.acceptDelivery(
    { id: delivery, event, repository },
    {
      kind: SCAN_KIND,
      key: scanKey(repository, payload),
      queue: SCAN_KIND,
      payload,
      maxAttempts: SCAN_MAX_ATTEMPTS,
    },
  );
}

/**
 * What a failed handler throws instead of its error. @octokit/webhooks attaches the whole event to a handler's
 * error, and the logger prints an error's properties: a payload (a commit message can hold a token) would reach
 * the log. This error keeps the message and drops the event.
 */
class HandlerFailure extends Error {
  set event(_dropped: unknown) {}
}

export function guarded<C>(handler: (context: C) => Promise<void>): (context: C) => Promise<void> {
  return async (context) => {
    try {
      await handler(context);
    } catch (error) {
      throw new HandlerFailure(`webhook handler failed: ${(error as Error).message}`);
    }
  };
}

export function registerHandlers(
  app: Probot,
  store: Store,
  /** Wakes the stage that takes what a handler queued (a scan job's key): a push wakes only the scan stage. */
  queued: { scans: (key: string) => void; texts: () => void },
  identity?: AppIdentity,
): void {
  registerTextHandlers(app, store, queued.texts, guarded, identity);
  app.on(
    "push",
    guarded(async (context) => {
      const p = context.payload;
      const installation = p.installation?.id;
      if (!installation) return;
      const deleted = p.deleted || /^0+$/.test(p.after);
      const payload: ScanPayload | null = deleted
        ? null
        : {
            type: "push",
            installation,
            repository: repositoryRef(p.repository as RepositoryPayload),
            ref: p.ref,
            before: p.before,
            after: p.after,
            pusher: p.pusher.username ?? p.pusher.name ?? p.sender?.login ?? "",
            compareUrl: p.compare,
          };
      const outcome = await acceptDelivery(store, context.id, "push", p.repository.full_name, payload);
      if (outcome === "queued" && payload) queued.scans(scanKey(p.repository.full_name, payload));
      context.log.info(
        { delivery: context.id, repository: p.repository.full_name, ref: p.ref, outcome },
        "push received",
      );
    }),
  );

  app.on(
    "workflow_run.completed",
    guarded(async (context) => {
      const p = context.payload;
      const installation = p.installation?.id;
      if (!installation) return;
      const run = p.workflow_run;
      const payload: ScanPayload = {
        type: "workflow_run",
        installation,
        repository: repositoryRef(p.repository as RepositoryPayload),
        runId: run.id,
        attempt: run.run_attempt ?? 1,
        runName: run.name ?? p.workflow?.name ?? "workflow",
        runUrl: run.html_url,
        actor: run.triggering_actor?.login ?? run.actor?.login ?? p.sender.login,
        ...(Number.isSafeInteger(run.run_number) ? { runNumber: run.run_number } : {}),
        ...(typeof run.run_started_at === "string" ? { startedAt: run.run_started_at } : {}),
      };
      const outcome = await acceptDelivery(
        store,
        context.id,
        "workflow_run",
        p.repository.full_name,
        payload,
      );
      if (outcome === "queued") queued.scans(scanKey(p.repository.full_name, payload));
      context.log.info(
        { delivery: context.id, repository: p.repository.full_name, run: run.id, outcome },
        "workflow run received",
      );
    }),
  );
}
