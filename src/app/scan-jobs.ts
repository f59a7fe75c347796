// The app's durable scan queue: webhook handlers write a job and return; this stage fetches and scans, records
// the findings and queues their revocations and report, with leases, retries and crash recovery.
import { type StageOptions, StageRunner } from "../jobs/stage.js";
import type { JobRecord } from "../store/jobs.js";

export const SCAN_KIND = "scan";
export const SCAN_MAX_ATTEMPTS = 5;
/** The most pushes to one repository that one scan slot takes together (one settings read, one fetch). */
export const SCAN_BATCH_LIMIT = 50;

export interface RepositoryRef {
  owner: string;
  name: string;
  fullName: string;
  htmlUrl: string;
  /** The branch the settings file is read from; absent in jobs queued by older versions. */
  defaultBranch?: string;
  /**
   * From the webhook's `repository.visibility` (or `private`). A public repository's breach is never reported
   * in public (report-routing.ts); unknown counts as public.
   */
  visibility?: RepositoryVisibility;
}

export type RepositoryVisibility = "public" | "private" | "internal";

/** `visibility` when GitHub sends it (public, private, internal), else `private`; neither: unknown. */
export function visibilityOf(repository: {
  private?: unknown;
  visibility?: unknown;
}): RepositoryVisibility | undefined {
  const v = repository.visibility;
  if (v === "public" || v === "private" || v === "internal") return v;
  if (repository.private === true) return "private";
  if (repository.private === false) return "public";
  return undefined;
}

/** Public unless the webhook said private or internal: a breach is withheld rather than published by mistake. */
export function isPublicRepository(repository: Pick<RepositoryRef, "visibility">): boolean {
  return repository.visibility !== "private" && repository.visibility !== "internal";
}

export interface PushScan {
  type: "push";
  installation: number;
  repository: RepositoryRef;
  ref: string;
  before: string;
  after: string;
  pusher: string;
  compareUrl?: string;
}

export interface RunScan {
  type: "workflow_run";
  installation: number;
  repository: RepositoryRef;
  runId: number;
  attempt: number;
  runName: string;
  runUrl: string;
  actor: string;
  /** The run's number in its workflow (Build #12). */
  runNumber?: number;
  /** When the run started (ISO): what it logged was exposed from then. */
  startedAt?: string;
}

export type ScanPayload = PushScan | RunScan;
export type ScanJob = JobRecord<ScanPayload>;

export type ScanRunnerOptions = Omit<StageOptions<ScanPayload>, "kind" | "perQueue" | "pausedQueues">;

/** The scan stage: fetch, scan, record, queue revocations and the report. Never waits for a GitHub write. */
export class ScanJobRunner extends StageRunner<ScanPayload> {
  constructor(options: ScanRunnerOptions) {
    super({ ...options, kind: SCAN_KIND });
  }
}
