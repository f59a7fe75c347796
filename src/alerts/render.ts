// What an alert says, per destination: Slack's message, a Teams Adaptive Card, or the event as JSON signed
// like GitHub's webhooks (sha256=HMAC-SHA256 of the body). Events hold redacted previews only.
import { createHmac } from "node:crypto";
import type { AlertTarget } from "./config.js";

export const SIGNATURE_HEADER = "x-leakwarden-signature-256";

export type AlertEvent =
  | {
      type: "breach";
      /** Unique per event: the job key is made from it, so an event is delivered once per destination. */
      id: string;
      at: string;
      repository: string;
      issueUrl: string;
      tokens: { preview: string; description: string }[];
    }
  | {
      type: "revocation";
      id: string;
      at: string;
      outcome: "revoked" | "already-revoked" | "failed";
      provider: string;
      preview: string;
      detail?: string;
      findingIds: number[];
    };

/** The console page the alert points to. */
export function consoleLink(event: AlertEvent, consoleUrl: string | undefined): string | undefined {
  if (!consoleUrl) return undefined;
  if (event.type === "revocation" && event.findingIds[0] !== undefined)
    return `${consoleUrl}/findings/${event.findingIds[0]}`;
  if (event.type === "breach")
    return `${consoleUrl}/findings?status=open&repository=${encodeURIComponent(event.repository)}`;
  return `${consoleUrl}/`;
}

export function summary(event: AlertEvent): string {
  if (event.type === "breach") {
    const list = event.tokens.map((t) => `${t.preview} (${t.description})`).join(", ");
    return `leakwarden: ${event.tokens.length} leaked token${event.tokens.length === 1 ? "" : "s"} in ${event.repository}: ${list}. Issue: ${event.issueUrl}`;
  }
  const what =
    event.outcome === "failed"
      ? `could not revoke ${event.preview} through ${event.provider}${event.detail ? `: ${event.detail}` : ""}`
      : `${event.outcome === "revoked" ? "revoked" : "found already revoked"} ${event.preview} through ${event.provider}`;
  return `leakwarden: ${what}`;
}

export function sign(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The body to post to a destination. */
export function render(target: AlertTarget, event: AlertEvent, consoleUrl: string | undefined): string {
  const link = consoleLink(event, consoleUrl);
  const text = summary(event);
  if (target === "slack")
    return JSON.stringify({ text: link ? `${text}\n<${link}|Open in the console>` : text });
  if (target === "teams")
    return JSON.stringify({
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.4",
            body: [{ type: "TextBlock", text, wrap: true }],
            ...(link
              ? { actions: [{ type: "Action.OpenUrl", title: "Open in the console", url: link }] }
              : {}),
          },
        },
      ],
    });
  return JSON.stringify({ ...event, ...(link ? { url: link } : {}) });
}
