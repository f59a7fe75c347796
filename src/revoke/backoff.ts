// Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1), capped, so that many
// workers retrying at once spread out instead of hitting a recovering provider together.

export interface RetrySettings {
  /** The first retry's delay, before jitter. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { baseMs: 2_000, maxMs: 10 * 60 * 1000 };

export function backoffMs(
  attempt: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
