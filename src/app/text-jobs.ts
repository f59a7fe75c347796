// The durable queue behind text on GitHub (issues, pull request descriptions, comments, discussions, release
// notes) and GitHub's own secret scanning alerts. A job names what to read, never the text or the secret: the
// stage reads them from GitHub when it runs, so that no token is ever written to the database.
import { type StageOptions, StageRunner } from "../jobs/stage.js";
import type { TextRef } from "../sources/github-text.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import type { RepositoryRef } from "./scan-jobs.js";

export const TEXT_SCAN_KIND = "text-scan";
export const TEXT_SCAN_MAX_ATTEMPTS = 5;

export interface TextScan {
  type: "text";
  installation: number;
  repository: RepositoryRef;
  text: TextRef;
  /** The webhook's action: `edited` reports only tokens that this text had not reported before. */
  action: string;
  /** Who wrote (or last edited) it: the breach issue mentions them. */
  author: string;
  /** Which version of the text: its `updated_at`, else the delivery id. One scan and one issue per version. */
  version: string;
}

export interface SecretAlertScan {
  type: "secret_scanning_alert";
  installation: number;
  repository: RepositoryRef;
  alert: { number: number; url: string; secretType: string };
}

export type TextScanPayload = TextScan | SecretAlertScan;
export type TextScanJob = JobRecord<TextScanPayload>;

/** One job per text version or alert, however many deliveries. */
export function textScanKey(repository: string, payload: TextScanPayload): string {
  return payload.type === "text"
    ? `${TEXT_SCAN_KIND}:${repository}:${payload.text.kind}:${payload.text.id}:${payload.version}`
    : `${TEXT_SCAN_KIND}:${repository}:secret-scanning-alert:${payload.alert.number}`;
}

export type TextDeliveryOutcome = "queued" | "duplicate-delivery" | "already-queued";

/** Records the delivery and queues its scan in one transaction. */
export async function acceptTextDelivery(
  store: Store,
  delivery: string,
  event: string,
  payload: TextScanPayload,
): Promise<TextDeliveryOutcome> {
  const repository = payload.repository.fullName;
  return store.acceptDelivery(
    { id: delivery, event, repository },
    {
      kind: TEXT_SCAN_KIND,
      key: textScanKey(repository, payload),
      queue: TEXT_SCAN_KIND,
      payload,
      maxAttempts: TEXT_SCAN_MAX_ATTEMPTS,
    },
  );
}

export type TextScanRunnerOptions = Omit<StageOptions<TextScanPayload>, "kind" | "perQueue" | "pausedQueues">;

/** The text stage: read the text or the alert, scan or match it, record, queue revocations and the report. */
export class TextScanRunner extends StageRunner<TextScanPayload> {
  constructor(options: TextScanRunnerOptions) {
    super({ ...options, kind: TEXT_SCAN_KIND });
  }
}
