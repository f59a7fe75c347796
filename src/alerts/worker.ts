// Delivers queued alerts as a stage of the pipeline (src/jobs/stage.ts): one POST per job, a timeout, backoff
// with jitter on failure, and a dead job (audited as alert.dead) after the last attempt. The destination URLs
// come from the configuration, never from the job.
import { type StageOptions, StageRunner } from "../jobs/stage.js";
import { scrub } from "../revoke/http.js";
import type { AlertConfig } from "./config.js";
import { ALERT_KIND, type AlertPayload } from "./queue.js";
import { render, SIGNATURE_HEADER, sign } from "./render.js";

/** Posts one alert; throws when it was not delivered (the stage retries it). */
export async function deliverAlert(
  payload: AlertPayload,
  config: AlertConfig,
  post: typeof fetch = fetch,
  timeoutMs = 10_000,
): Promise<void> {
  const url = config.urls[payload.target];
  if (!url) throw new Error(`no ${payload.target} URL is configured`);
  const body = render(payload.target, payload.event, config.consoleUrl);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "leakwarden" };
  if (payload.target === "webhook" && config.webhookSecret)
    headers[SIGNATURE_HEADER] = sign(body, config.webhookSecret);
  let response: Response;
  try {
    response = await post(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // The URL is a credential (a Slack or Teams webhook): it never appears in the error kept.
    throw new Error(scrub((error as Error).message, [url]));
  }
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}

export type AlertRunnerOptions = Omit<StageOptions<AlertPayload>, "kind" | "handle"> & {
  config: AlertConfig;
  timeoutMs?: number;
  fetch?: typeof fetch;
};

/** The alert stage: its own slots, so a slow endpoint never holds up a scan, a revocation or a report. */
export class AlertWorker extends StageRunner<AlertPayload> {
  constructor({ config, timeoutMs, fetch: post, ...options }: AlertRunnerOptions) {
    super({
      retry: { baseMs: 2_000, maxMs: 10 * 60 * 1000 },
      ...options,
      kind: ALERT_KIND,
      handle: (job) => deliverAlert(job.payload, config, post, timeoutMs),
    });
  }
}
