// Confirmed revocation: after a provider says it revoked a token, ask the token's issuer again, read-only,
// whether it still works. The checks are durable jobs (kind `confirm`), written with the revocation and holding
// the token sealed, so that re-checks over a provider's propagation window (Azure DevOps: up to an hour)
// survive restarts. Outcomes: confirmed (no longer works), accepted (still works, within the window: GitHub
// processing a 202, Azure DevOps propagating), did-not-take (still works after the window: loud), unconfirmed
// (the issuer gave no verdict until the window closed).
import { Coalescer } from "../jobs/coalescer.js";
import { WakeableLoop } from "../jobs/loop.js";
import { newOwner } from "../revoke/owner.js";
import {
  REVOKE_KIND,
  type RevocationView,
  type RevokeJob,
  type RevokePayload,
  revocationKey,
  viewOfJob,
} from "../revoke/queue.js";
import type { Secret } from "../scan/secret.js";
import { iso } from "../store/clock.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import type { LiveChecker } from "./checker.js";

export const CONFIRM_KIND = "confirm";

/** How long after a revocation a provider may still accept the token (documented, or observed). */
export const PROPAGATION_MS: Record<string, number> = {
  "azure-devops": 60 * 60 * 1000,
  github: 15 * 60 * 1000,
  "github-installation": 5 * 60 * 1000,
  gitlab: 5 * 60 * 1000,
  slack: 5 * 60 * 1000,
};
const DEFAULT_PROPAGATION_MS = 5 * 60 * 1000;
/** The first re-check comes this long after the last one; each next one twice as long after. */
export const FIRST_RECHECK_MS = 30 * 1000;
/** While the revocation itself has not finished, look again this often. */
const REVOCATION_POLL_MS = 5 * 1000;

export interface ConfirmPayload {
  secretHash: string;
  preview: string;
  ruleId: string;
  provider: string;
  org: string | null;
}

export type ConfirmJob = JobRecord<ConfirmPayload>;
export type ConfirmationStatus = "checking" | "confirmed" | "accepted" | "did-not-take" | "unconfirmed";

export interface ConfirmationOutcome {
  secretHash: string;
  preview: string;
  provider: string;
  status: Exclude<ConfirmationStatus, "checking">;
  detail: string;
  /** Findings opened again because the token still works. */
  reopened: number[];
}

export function confirmKey(secretHash: string): string {
  return `${CONFIRM_KIND}:${secretHash}`;
}

/** Queues the checks that will confirm a revocation; call it in the transaction that queues the revocation. */
export async function enqueueConfirmation(
  store: Store,
  payload: ConfirmPayload,
  secret: Secret,
): Promise<ConfirmJob> {
  return (await enqueueConfirmations(store, [{ payload, secret }]))[0] as ConfirmJob;
}

/** `enqueueConfirmation` for several tokens, in one statement. */
export async function enqueueConfirmations(
  store: Store,
  requests: readonly { payload: ConfirmPayload; secret: Secret }[],
): Promise<ConfirmJob[]> {
  const queued = await store.jobs.enqueueMany<ConfirmPayload>(
    requests.map(({ payload, secret }) => {
      const key = confirmKey(payload.secretHash);
      return {
        kind: CONFIRM_KIND,
        key,
        queue: payload.provider,
        payload,
        sealed: store.box.seal(secret.reveal(), key),
        // Bounded by the window, not by a count: each check that gets no verdict is tried again.
        maxAttempts: 1000,
      };
    }),
  );
  return queued.map((q) => q.job);
}

/** Where a token's confirmation stands, for reports. */
export async function confirmationOf(
  store: Store,
  secretHash: string,
): Promise<{ status: ConfirmationStatus; detail?: string } | undefined> {
  const job = await store.jobs.byKey<ConfirmPayload>(confirmKey(secretHash));
  if (!job || job.state === "cancelled") return undefined;
  // The audit log holds each step's account; the job holds where it stands.
  const said = async (action: string) =>
    (await store.audit.list({ secretHash, action, subject: `job:${job.id}` })).at(-1)?.detail?.detail as
      | string
      | undefined;
  if (job.state === "done") {
    const status = job.outcome as ConfirmationStatus;
    return { status, detail: await said(`revoke.${status}`) };
  }
  if (job.state === "dead") return { status: "unconfirmed", detail: job.lastError ?? undefined };
  const accepted = await said("revoke.accepted");
  return accepted ? { status: "accepted", detail: job.lastError ?? accepted } : { status: "checking" };
}

/**
 * A revocation job's view with what the live checks since say: a revocation that did not take is reported as
 * failed, not revoked.
 */
export async function withConfirmation(store: Store, job: RevokeJob): Promise<RevocationView> {
  const view = viewOfJob(job);
  if (view.status !== "revoked") return view;
  const confirmation = await confirmationOf(store, job.payload.secretHash);
  if (!confirmation) return view;
  if (confirmation.status === "did-not-take")
    return {
      ...view,
      status: "failed",
      confirmation: "did-not-take",
      reason: confirmation.detail ?? "the token still works after the provider said it was revoked",
    };
  return {
    ...view,
    confirmation: confirmation.status,
    ...(confirmation.detail ? { reason: confirmation.detail } : {}),
  };
}

export interface ConfirmOptions {
  store: Store;
  checker: LiveChecker;
  leaseMs?: number;
  pollMs?: number;
  log?: (message: string) => void;
}

type EndStatus = "confirmed" | "did-not-take" | "unconfirmed";

/** A check that ends, and how. */
interface Ending {
  job: ConfirmJob;
  status: EndStatus;
  detail: string;
}

/** A check to make now: its revocation has ended, and its attempt is counted. */
interface Check {
  job: ConfirmJob;
  revocation: RevokeJob;
  sealed: Buffer;
}

export class ConfirmationWorker {
  private readonly owner = newOwner();
  private readonly endings = new Coalescer<Ending, number[] | undefined>((endings) => this.endAll(endings));
  private readonly listeners = new Set<(outcome: ConfirmationOutcome) => void>();
  private readonly loop: WakeableLoop;
  private readonly store: Store;
  private readonly log: (message: string) => void;

  constructor(private readonly options: ConfirmOptions) {
    this.store = options.store;
    this.log = options.log ?? (() => {});
    const pollMs = options.pollMs ?? REVOCATION_POLL_MS;
    this.loop = new WakeableLoop({
      round: () => this.runDue(),
      waitMs: async () => {
        const next = await this.store.jobs.nextRunAfter(CONFIRM_KIND);
        return next ? Math.min(Math.max(Date.parse(next) - this.now(), 0), pollMs) : pollMs;
      },
      sleep: async (ms, signal) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      },
      onError: (error) => this.log(`confirmation worker: ${error.message}`),
    });
  }

  onOutcome(listener: (outcome: ConfirmationOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.loop.start();
  }

  notify(): void {
    this.loop.notify();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private now(): number {
    return this.store.clock().getTime();
  }

  /** Runs every check that is due now; returns how many it took. */
  async runDue(): Promise<number> {
    const claimed = await this.store.jobs.claim<ConfirmPayload>({
      kind: CONFIRM_KIND,
      owner: this.owner,
      leaseMs: this.options.leaseMs ?? 5 * 60 * 1000,
      limit: 100,
    });
    if (claimed.length === 0) return 0;
    // One look at the claimed checks' revocations, and one statement each for those still under way (put off)
    // and those that never happened (nothing to confirm): a burst's checks cost a few statements, not a few a token.
    const revocations = await this.store.jobs.byKeys<RevokePayload>(
      claimed.map((job) => revocationKey(job.payload.secretHash)),
    );
    const checks: Check[] = [];
    const valueGone: ConfirmJob[] = [];
    const underWay: number[] = [];
    const never: number[] = [];
    for (const job of claimed) {
      const revocation = revocations.get(revocationKey(job.payload.secretHash));
      const state = revocation?.kind === REVOKE_KIND ? revocation.state : undefined;
      if (revocation && state === "done") {
        if (job.sealed) checks.push({ job, revocation, sealed: job.sealed });
        else valueGone.push(job);
      } else if (state === "pending" || state === "running") underWay.push(job.id);
      else never.push(job.id);
    }
    await this.store.jobs.release(underWay, this.owner, this.later(REVOCATION_POLL_MS));
    await this.store.jobs.finishAll(never, this.owner, {
      state: "cancelled",
      reason: "the revocation did not happen",
    });
    // Every check this round makes counts its attempt in one statement; a check whose value is gone ends at once.
    const started = new Set(
      await this.store.jobs.startAttempt(
        checks.map(({ job }) => job.id),
        this.owner,
      ),
    );
    await Promise.all([
      ...valueGone.map((job) => this.end(job, "unconfirmed", "the token's value is no longer held")),
      ...checks.filter(({ job }) => started.has(job.id)).map((check) => this.confirm(check)),
    ]);
    return claimed.length;
  }

  private later(ms: number): string {
    return iso(new Date(this.now() + ms));
  }

  /** Checks again a token whose revocation has ended (`revocation`: its job, done); the attempt is counted. */
  private async confirm({ job, revocation, sealed }: Check): Promise<void> {
    const { secretHash, preview, provider } = job.payload;
    const deadline =
      Date.parse(revocation.finishedAt ?? iso(this.store.clock())) +
      (PROPAGATION_MS[provider] ?? DEFAULT_PROPAGATION_MS);
    const secret = this.store.box.open(sealed, job.key);
    const record = await this.options.checker.check(
      job.payload.ruleId,
      { secretHash, secret, org: job.payload.org },
      { fresh: true },
    );
    const verdict = record.validity;
    const windowLeft = deadline - this.now();
    if (verdict.status === "inactive") {
      await this.end(job, "confirmed", `the token no longer works: ${verdict.detail}`);
      return;
    }
    if (windowLeft <= 0) {
      if (verdict.status === "live")
        await this.end(
          job,
          "did-not-take",
          `${provider} said the token was revoked, but it still works (${verdict.identity}) ${Math.round((this.now() - Date.parse(revocation.finishedAt ?? "")) / 60000)} minutes later`,
        );
      else
        await this.end(
          job,
          "unconfirmed",
          `no verdict from the issuer before the window closed: ${verdict.why}`,
        );
      return;
    }
    // Still inside the window: look again later, twice as long after each check, never past the deadline.
    const wait = Math.min(FIRST_RECHECK_MS * 2 ** Math.max(0, job.attempts), windowLeft);
    const note =
      verdict.status === "live"
        ? `revocation accepted; the token still works (${verdict.identity}); checking again until ${iso(new Date(deadline))}`
        : `no verdict yet (${verdict.why})`;
    const firstAccepted =
      verdict.status === "live" &&
      (await this.store.audit.list({ secretHash, action: "revoke.accepted", subject: `job:${job.id}` }))
        .length === 0;
    await this.store.transaction(async (tx) => {
      await tx.jobs.retryLater(job.id, this.owner, this.later(wait), note);
      if (firstAccepted)
        await tx.audit.record({
          action: "revoke.accepted",
          subject: `job:${job.id}`,
          provider,
          secretHash,
          detail: { preview, detail: note },
        });
    });
    if (firstAccepted)
      this.emit({ secretHash, preview, provider, status: "accepted", detail: note, reopened: [] });
  }

  /** Ends a check; with the others that end meanwhile, in one transaction (endAll). */
  private async end(job: ConfirmJob, status: EndStatus, detail: string): Promise<void> {
    const [reopened] = await this.endings.submit([{ job, status, detail }]);
    if (reopened === undefined) return;
    const { secretHash, preview, provider } = job.payload;
    this.log(`${preview}: ${status === "did-not-take" ? "REVOCATION DID NOT TAKE" : status}: ${detail}`);
    this.emit({ secretHash, preview, provider, status, detail, reopened });
  }

  /**
   * Ends checks together: a statement per outcome and one for their audit entries, not a transaction each (a
   * burst's revocations end within moments of each other). Per check: the findings it opened again, or
   * undefined when this worker no longer held it.
   */
  private endAll(endings: Ending[]): Promise<(number[] | undefined)[]> {
    return this.store.transaction(async (tx) => {
      const ended = new Set<number>();
      for (const status of new Set(endings.map((e) => e.status))) {
        const ids = endings.filter((e) => e.status === status).map((e) => e.job.id);
        for (const id of await tx.jobs.finishAll(ids, this.owner, { state: "done", outcome: status }))
          ended.add(id);
      }
      const reopened = new Map<number, number[]>();
      for (const { job, status } of endings) {
        if (status !== "did-not-take" || !ended.has(job.id)) continue;
        // Not revoked after all: the findings are open again and the registry must not say otherwise.
        await tx.tokens.clearRevoked(job.payload.secretHash);
        reopened.set(job.id, await tx.findings.reopenRevoked(job.payload.secretHash));
      }
      await tx.audit.recordMany(
        endings
          .filter(({ job }) => ended.has(job.id))
          .map(({ job, status, detail }) => ({
            action: `revoke.${status}`,
            subject: `job:${job.id}`,
            provider: job.payload.provider,
            secretHash: job.payload.secretHash,
            detail: { preview: job.payload.preview, detail },
          })),
      );
      return endings.map(({ job }) => (ended.has(job.id) ? (reopened.get(job.id) ?? []) : undefined));
    });
  }

  private emit(outcome: ConfirmationOutcome): void {
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch (error) {
        this.log(`a confirmation listener failed: ${(error as Error).message}`);
      }
    }
  }
}
