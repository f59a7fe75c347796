// Webhooks with text on GitHub, and secret scanning alerts: each only wires, as a push does. It records the
// delivery, queues a job that names the text or alert (never its content) and returns; the text stage reads it.
import type { Probot } from "probot";
import type { Store } from "../store/index.js";
import type { AppIdentity } from "./app-identity.js";
import { SECRET_SCANNING_EVENT, TEXT_EVENTS, textScanFor } from "./text-events.js";
import { acceptTextDelivery } from "./text-jobs.js";

type Guard = <C>(handler: (context: C) => Promise<void>) => (context: C) => Promise<void>;

/** Every `event.action` leakwarden scans the text of, and the secret scanning alert it matches. */
export function textEventNames(): string[] {
  return [
    ...Object.entries(TEXT_EVENTS).flatMap(([event, spec]) => spec.actions.map((a) => `${event}.${a}`)),
    `${SECRET_SCANNING_EVENT}.created`,
  ];
}

export function registerTextHandlers(
  app: Probot,
  store: Store,
  queued: () => void,
  guarded: Guard,
  identity?: AppIdentity,
): void {
  app.on(
    textEventNames() as Parameters<Probot["on"]>[0],
    guarded(async (context: { id: string; name: string; payload: unknown; log: Probot["log"] }) => {
      const payload = context.payload as Record<string, unknown>;
      const spec = TEXT_EVENTS[context.name];
      // The App's own issue, comment or redaction edit: nothing it wrote is read again, nothing is recorded.
      if (spec && identity?.sentBy(payload, payload[spec.field])) {
        context.log.debug(
          { delivery: context.id, event: `${context.name}.${String(payload.action)}` },
          "the App's own text: not scanned",
        );
        return;
      }
      // The slug is learnt at start; when GitHub did not answer then, it is asked again (not waited for).
      if (identity && identity.botLogin === undefined) identity.learn().catch(() => {});
      const scan = textScanFor(context.name, payload, context.id);
      if (!scan) return;
      const outcome = await acceptTextDelivery(store, context.id, context.name, scan);
      if (outcome === "queued") queued();
      context.log.info(
        {
          delivery: context.id,
          repository: scan.repository.fullName,
          ...(scan.type === "text"
            ? { text: scan.text.kind, id: scan.text.id }
            : { alert: scan.alert.number }),
          outcome,
        },
        `${context.name} received`,
      );
    }) as Parameters<Probot["on"]>[1],
  );
}
