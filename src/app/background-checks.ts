// Live checks that run beside the pipeline, not in it: a scan slot is not held while an issuer answers (or is
// paced), so revocation never waits for a check. The report stage waits a little for the checks of its breach
// and reads their verdicts from the store; a check lost to a crash only leaves the issue without a verdict.
// A few breaches are checked at a time: the issuers' calls are paced anyway (validate/checker.ts), and a burst's
// checks all started at once would fill the database's connections just as its revocations need them.
import { setTimeout as delay } from "node:timers/promises";
import PQueue from "p-queue";

/** Breaches checked at once: the checker's own calls to an issuer go two at a time. */
const CONCURRENCY = 2;

export class BackgroundChecks {
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly queue = new PQueue({ concurrency: CONCURRENCY });

  /** Starts `check` for a breach; its failure is logged by `onError`, never thrown into a stage. */
  start(key: string, check: () => Promise<unknown>, onError: (error: Error) => void): void {
    const previous = this.running.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.queue.add(check)).catch(onError);
    this.running.set(key, next);
    void next.finally(() => {
      if (this.running.get(key) === next) this.running.delete(key);
    });
  }

  /** Resolves when the breach's checks are done, or after `maxMs`, whichever comes first. */
  async settled(key: string, maxMs: number): Promise<void> {
    const pending = this.running.get(key);
    if (pending !== undefined) await Promise.race([pending, delay(maxMs, undefined, { ref: false })]);
  }

  /** Resolves when every check started so far is done (drain and stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }
}
