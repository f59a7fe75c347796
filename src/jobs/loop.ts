// A worker's main loop: run a round, then sleep until the next one is due or someone queues work (notify),
// until stop(). Shared by the revocation worker and the app's stages, whose rounds only start jobs in free slots
// (a job that ends notifies the loop): no round waits for a slow job. A background loop (the alerts)
// steps aside while tokens are being found and revoked: on a burst, killing them comes first.

export interface LoopOptions {
  /** One round of work; an error is reported and the loop goes on. */
  round: () => Promise<unknown>;
  /** How long to sleep after a round (the next due job, or a polling interval). */
  waitMs: () => number | Promise<number>;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  onError: (error: Error) => void;
  /** Background work: steps aside while this says urgent work runs, for at most `maxYieldMs` at a time. */
  yieldTo?: () => boolean;
  maxYieldMs?: number;
}

/** How often a loop that steps aside looks again: an in-process check, no query. */
const YIELD_LOOK_MS = 20;
/** Stepping aside is not cut short by a wake: new work waits its turn like the rest. */
const UNINTERRUPTED = new AbortController().signal;
/** The longest background work steps aside before it takes a round anyway: it is late, never starved. */
export const MAX_YIELD_MS = 500;

export class WakeableLoop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private notified = false;
  private wake: AbortController | undefined;
  /** When this loop began stepping aside for urgent work (clock ms). */
  private yieldingSince: number | undefined;

  constructor(private readonly options: LoopOptions) {}

  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        if (this.stepsAside()) {
          await this.options.sleep(YIELD_LOOK_MS, UNINTERRUPTED);
          continue;
        }
        this.notified = false;
        try {
          await this.options.round();
        } catch (error) {
          this.options.onError(error as Error);
        }
        // Work queued during the round: go round again without sleeping.
        if (this.stopping || this.notified) continue;
        this.wake = new AbortController();
        let waitMs: number;
        try {
          waitMs = await this.options.waitMs();
        } catch (error) {
          // The database is away: try again in a second rather than spin.
          this.options.onError(error as Error);
          waitMs = 1_000;
        }
        if (this.stopping || this.notified) continue;
        await this.options.sleep(Math.max(waitMs, 1), this.wake.signal);
      }
    })();
  }

  /** Whether to leave the machine to urgent work a moment longer before the next round. */
  private stepsAside(): boolean {
    const { yieldTo, maxYieldMs = MAX_YIELD_MS } = this.options;
    if (!yieldTo?.()) {
      this.yieldingSince = undefined;
      return false;
    }
    const now = Date.now();
    this.yieldingSince ??= now;
    if (now - this.yieldingSince < maxYieldMs) return true;
    this.yieldingSince = undefined;
    return false;
  }

  /** Wakes the loop for work just queued. */
  notify(): void {
    this.notified = true;
    this.wake?.abort();
  }

  /** Lets the current round finish, then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.abort();
    await this.running;
    this.running = undefined;
  }
}
