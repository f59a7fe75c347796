// When a worker looks for jobs left running by a dead process on this host. The look is a query, and on
// PostgreSQL every NOTIFY from any replica wakes the worker: looking on every wake-up cost a statement each
// time. A crash is found by the first round of the next process, so a look every few seconds is enough.

export const ORPHAN_CHECK_MS = 5_000;

export class OrphanCheck {
  private last: number | undefined;

  constructor(
    private readonly now: () => number,
    private readonly everyMs = ORPHAN_CHECK_MS,
  ) {}

  /** True when a look is due (always the first time, and when the clock went back); counts it as done. */
  due(): boolean {
    const now = this.now();
    if (this.last !== undefined && now >= this.last && now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }
}
