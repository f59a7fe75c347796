// A revocation handed off by the scan that found the token to this process's revocation worker. Its job is
// written as running under the worker, its attempt counted and audited, in the scan's own transaction, and
// its call starts the moment that transaction commits. It skips the claim round between a scan and its
// revocations (a look for due work, the claim, a transaction to count the attempt: on PostgreSQL six round
// trips after the commit). Only calls the worker has a free slot for now are handed off; the rest are queued
// as ever. Should the process die before the call, the job's lease brings it back like any claimed job.

import type { NewAuditEntry } from "../store/audit.js";
import { iso } from "../store/clock.js";
import type { NewJob } from "../store/jobs.js";
import { batchesOf } from "./batches.js";
import type { RevocationRequest, RevokeJob } from "./queue.js";
import type { RevocationTarget, Revoker } from "./types.js";

/** A job whose attempt is counted, and what its call needs. */
export interface Ready {
  job: RevokeJob;
  target: RevocationTarget;
}

/** What a handoff needs of the worker it hands jobs to. */
export interface CallSlots {
  readonly owner: string;
  readonly leaseMs: number;
  now(): number;
  /** Takes up to `wanted` of the provider's free call slots: none when its calls must wait in the queue. */
  take(revoker: Revoker, wanted: number): number;
  /** Gives back slots taken for calls that will not be made. */
  give(revoker: Revoker, count: number): void;
  /** Runs one call per batch in slots already taken; settles once every call has ended. */
  call(revoker: Revoker, batches: Ready[][]): Promise<unknown>;
  /** The `revoke.attempt` audit entry of one call. */
  attemptEntry(revoker: Revoker, batch: Ready[]): NewAuditEntry;
  /** Waits for the handoff (its calls, or its end without any) before the worker stops. */
  track(done: Promise<void>): void;
}

type Started = NewJob<unknown>["startedBy"];

/**
 * One transaction's handoff: `claims` and `written` in the transaction, then `commit` or `abort` once it has
 * ended (enqueueRevocations arranges both).
 */
export class Handoff {
  /** The calls taken, each as the indexes of its requests. */
  private held: { revoker: Revoker; requests: number[] }[] = [];
  private ready: { revoker: Revoker; batch: Ready[] }[] = [];
  private jobIds = new Set<number>();
  private ended = false;
  private tracked = false;
  private settle: () => void = () => {};

  constructor(private readonly slots: CallSlots) {}

  /**
   * Per request, in order: how its job is to be written when its call is handed off, or undefined when it
   * goes through the queue. Takes a slot per call.
   */
  claims(requests: readonly RevocationRequest[]): Started[] {
    if (this.ended) throw new Error("this handoff has ended");
    const byRevoker = new Map<Revoker, number[]>();
    requests.forEach(({ revoker }, i) => {
      const list = byRevoker.get(revoker);
      if (list) list.push(i);
      else byRevoker.set(revoker, [i]);
    });
    const started: Started = {
      owner: this.slots.owner,
      leaseUntil: iso(new Date(this.slots.now() + this.slots.leaseMs)),
    };
    const out: Started[] = requests.map(() => undefined);
    for (const [revoker, indexes] of byRevoker) {
      const batches = batchesOf(revoker, indexes, (i) => (requests[i] as RevocationRequest).target);
      const taken = this.slots.take(revoker, batches.length);
      if (taken > 0 && !this.tracked) {
        this.tracked = true;
        this.slots.track(new Promise<void>((resolve) => (this.settle = resolve)));
      }
      for (const batch of batches.slice(0, taken)) {
        this.held.push({ revoker, requests: batch });
        for (const i of batch) out[i] = started;
      }
    }
    return out;
  }

  /**
   * The jobs as written, in the transaction: the attempt entries to audit with them. A call whose jobs were
   * not written by this claim (another scan had queued the token) gives its slot back.
   */
  written(
    requests: readonly RevocationRequest[],
    queued: readonly { job: RevokeJob; created: boolean }[],
  ): NewAuditEntry[] {
    const fresh: { revoker: Revoker; batch: Ready[] }[] = [];
    for (const { revoker, requests: indexes } of this.held) {
      const batch: Ready[] = [];
      for (const i of indexes) {
        const q = queued[i];
        if (!q?.created || q.job.state !== "running" || q.job.owner !== this.slots.owner) continue;
        const { target, options } = requests[i] as RevocationRequest;
        // As a claim returns it: the attempts before this one. A provider that revokes by value gets the value
        // in hand, as unsealing would give it.
        batch.push({
          job: { ...q.job, attempts: q.job.attempts - 1 },
          target: revoker.byValue ? { ...target, secret: options.secret } : target,
        });
        this.jobIds.add(q.job.id);
      }
      if (batch.length > 0) fresh.push({ revoker, batch });
      else this.slots.give(revoker, 1);
    }
    this.held = [];
    this.ready.push(...fresh);
    return fresh.map(({ revoker, batch }) => this.slots.attemptEntry(revoker, batch));
  }

  /** Whether this job's call is handed off (it needs no wake of the queue). */
  takes(jobId: number): boolean {
    return this.jobIds.has(jobId);
  }

  /** The transaction committed: the calls start. */
  commit(): void {
    if (this.ended) return;
    this.ended = true;
    const calls = this.ready.map(({ revoker, batch }) => this.slots.call(revoker, [batch]));
    this.ready = [];
    void Promise.all(calls).finally(() => this.settle());
  }

  /** It did not: nothing was written, and every slot goes back. */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    for (const { revoker } of [...this.held, ...this.ready]) this.slots.give(revoker, 1);
    this.held = [];
    this.ready = [];
    this.jobIds.clear();
    this.settle();
  }
}
