// The CLI's side of the revocation worker: settings from the environment, progress on stderr, and a wait
// that is bounded (retries due later stay queued for 'leakwarden revoke --pending').
import { StaticAdoCredential } from "../revoke/ado-credential.js";
import { DEFAULT_RETRY } from "../revoke/backoff.js";
import { createRevokers } from "../revoke/providers.js";
import { DEFAULT_MAX_ATTEMPTS, type RevocationView } from "../revoke/queue.js";
import { providerSettings } from "../revoke/settings.js";
import type { RevokerSet } from "../revoke/types.js";
import { type DrainResult, RevocationWorker } from "../revoke/worker.js";
import type { Store } from "../store/index.js";
import { type Io, parseCount, UsageError } from "./command.js";
import { shortTime } from "./store-access.js";
import type { Style } from "./terminal.js";

export const WAIT_FLAG = { wait: { type: "string" } } as const;
export const DEFAULT_WAIT_SECONDS = 30;

function envNumber(io: Io, name: string, fallback: number): number {
  const value = io.env[name];
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, not "${value}"`);
  return Number(value);
}

export function cliRevokers(io: Io): RevokerSet {
  return createRevokers(io.env);
}

export function maxAttempts(io: Io): number {
  return Math.max(1, envNumber(io, "LEAKWARDEN_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS));
}

export function waitMs(values: { wait?: string }, command: string): number {
  if (values.wait === "0") return 0;
  return parseCount(values.wait, "--wait", command, DEFAULT_WAIT_SECONDS) * 1000;
}

export function cliWorker(store: Store, revokers: RevokerSet, io: Io): RevocationWorker {
  return new RevocationWorker({
    store,
    revokers,
    retry: { baseMs: envNumber(io, "LEAKWARDEN_RETRY_BASE_MS", DEFAULT_RETRY.baseMs) },
    log: (line) => io.stderr.write(`leakwarden: ${line}\n`),
    // --wait is a limit: a retry whose call could outlast it stays queued.
    callTimeoutMs: providerSettings(io.env).timeoutMs,
  });
}

/** Runs the worker on `jobIds` (or everything due) for at most `maxWaitMs` of waiting. */
export async function runRevocations(
  store: Store,
  revokers: RevokerSet,
  io: Io,
  maxWaitMs: number,
  jobIds?: readonly number[],
): Promise<DrainResult> {
  const credential = providerSettings(io.env).adoCredential;
  let revokesAdo = false;
  for (const id of jobIds ?? []) if ((await store.jobs.byId(id))?.queue === "azure-devops") revokesAdo = true;
  if (credential instanceof StaticAdoCredential && revokesAdo)
    io.stderr.write(`leakwarden: warning: ${credential.warning}\n`);
  return cliWorker(store, revokers, io).drain({ maxWaitMs, jobIds });
}

/** One short phrase for a table cell: "revoked 2026-11-28 14:03", "pending (retry 14:05)", ... */
export function describeRevocation(view: RevocationView | null, s: Style): string {
  if (!view) return s.dim("-");
  switch (view.status) {
    case "revoked":
      if (view.confirmation === "confirmed") return s.green(`revoked (confirmed) ${shortTime(view.at)}`);
      if (view.confirmation === "accepted") return s.yellow(`revocation accepted ${shortTime(view.at)}`);
      if (view.confirmation === "unconfirmed") return s.yellow(`revoked (unconfirmed) ${shortTime(view.at)}`);
      return s.green(`revoked ${shortTime(view.at)}`);
    case "already-revoked":
      return s.green(`already revoked ${shortTime(view.at)}`);
    case "pending":
      return s.yellow(view.reason ? `pending (retry ${shortTime(view.at)})` : "pending");
    case "failed":
      return s.red(view.confirmation === "did-not-take" ? "revocation did not take" : "revocation failed");
    case "would-revoke":
      return s.cyan(`would revoke via ${view.provider}`);
    case "not-revocable":
      return s.dim("not revocable");
    case "skipped":
      return s.dim("not revoked (policy)");
    default:
      return s.dim(view.status);
  }
}
