// Repository settings kept for a short while per repository: a burst of pushes to one repository reads
// `.github/leakwarden.yml` once, not once per push. A push to the default branch (where the file is read from)
// drops the entry first, so a changed file applies to that push; a settings file inherited through `_extends`
// applies within the time to live. Settings that could not be read are never kept.

/** How long settings are kept: short enough that a change made elsewhere applies within a minute. */
export const SETTINGS_TTL_MS = 30_000;

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class SettingsCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs = SETTINGS_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The settings under `key`: kept ones while fresh, else `read()`, shared by callers that ask meanwhile.
   * A value that `keep` refuses (a failed read) is returned but not kept.
   */
  get(key: string, read: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.value;
    if (this.ttlMs <= 0) return read();
    const value = read();
    const fresh = { at: this.now(), value };
    this.entries.set(key, fresh);
    const drop = () => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    };
    value.then((v) => (keep(v) ? undefined : drop()), drop);
    // Entries only grow with the repositories pushed to; old ones go when another is added.
    if (this.entries.size > 1000)
      for (const [k, e] of this.entries) if (this.now() - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }

  /** The settings under `key` may have changed (a push to the default branch): read them again next time. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
