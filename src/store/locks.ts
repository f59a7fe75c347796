// Named locks that hold across every process on the database: a PostgreSQL advisory lock (session-level, on a
// connection of its own), or on SQLite, where one `serve` process runs the App, a lock within this process.
// Used for "one push per repository at a time" and "one breach issue per push", whichever replica runs them.
import type pg from "pg";

export class Locks {
  /** Lock name → the tail of its queue of holders in this process. */
  private readonly local = new Map<string, Promise<void>>();

  constructor(private readonly pool: pg.Pool | undefined) {}

  /**
   * Runs `fn` holding the lock `name`. Tasks of this process take turns, in order (waiting holds the caller's
   * slot, as a fetch of one repository already does). On PostgreSQL it then takes the advisory lock, and
   * returns `{ held: false }` at once, without running `fn`, when another replica holds it: the caller decides
   * (a job waits its turn in the queue, holding no slot).
   */
  async tryWith<T>(name: string, fn: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
    return this.inTurn(name, async () =>
      this.pool ? this.advisory(this.pool, name, fn) : { held: true as const, value: await fn() },
    );
  }

  /**
   * Runs `fn` holding the lock `name`, waiting for it as long as another task or replica holds it. For work
   * that should follow the holder at once rather than be put back in the queue (the next burst of pushes to a
   * repository that is being scanned).
   */
  async with<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.inTurn(name, async () => (this.pool ? this.waitFor(this.pool, name, fn) : fn()));
  }

  private async inTurn<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.local.get(name) ?? Promise.resolve();
    let done: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = before.then(() => mine);
    this.local.set(name, tail);
    await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.local.get(name) === tail) this.local.delete(name);
    }
  }

  private async advisory<T>(
    pool: pg.Pool,
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ held: true; value: T } | { held: false }> {
    const client = await pool.connect();
    let locked = false;
    try {
      const result = await client.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext('leakwarden.' || $1)) AS locked",
        [name],
      );
      locked = result.rows[0]?.locked === true;
      if (!locked) return { held: false };
      return { held: true, value: await fn() };
    } finally {
      let broken = false;
      if (locked)
        await client.query("SELECT pg_advisory_unlock(hashtext('leakwarden.' || $1))", [name]).catch(() => {
          broken = true;
        });
      // A connection that could not unlock is closed, which releases the lock.
      client.release(broken);
    }
  }

  private async waitFor<T>(pool: pg.Pool, name: string, fn: () => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query("SELECT pg_advisory_lock(hashtext('leakwarden.' || $1))", [name]);
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('leakwarden.' || $1))", [name]).catch(() => {
          broken = true;
        });
      }
    } finally {
      // A connection that could not unlock is closed, which releases the lock.
      client.release(broken);
    }
  }
}
