// Wakes idle workers on every replica when a job is queued or freed, instead of polling: PostgreSQL's
// LISTEN/NOTIFY on one connection of its own. A notification carries the schema (replicas of one deployment
// share it) and the job kind, or "*" when a write freed jobs of any kind. On SQLite there is one App process,
// and it wakes its own stages directly.
//
// A replica hears its own notifications too, a round trip after it could have known: its own jobs wake it at
// once, in process, once the write commits (`JobSignals`), and the listener skips what its own connections sent.
import { sql } from "kysely";
import type pg from "pg";
import type { Executor } from "./executor.js";

export const JOB_CHANNEL = "leakwarden_jobs";

/** Queues one notification per kind, in one statement; in a transaction delivered at commit, never for a rollback. */
export async function notifyJobs(db: Executor, kinds: readonly string[]): Promise<void> {
  if (kinds.length === 0) return;
  await sql`SELECT pg_notify(${JOB_CHANNEL}, current_schema() || ':' || k) FROM unnest(${[...kinds]}::text[]) AS k`.execute(
    db,
  );
}

/** This process's side of job notifications: its stages' wakes, and its own connections' server processes. */
export class JobSignals {
  private readonly listeners = new Set<(kind: string) => void>();
  /** The server process of each connection in this store's pool: notifications they sent are this process's. */
  readonly backends = new Set<number>();

  /** Follows a pool's connections; call before the pool connects. */
  track(pool: pg.Pool): void {
    pool.on("connect", (client) => {
      const pid = (client as { processID?: number }).processID;
      if (pid !== undefined) this.backends.add(pid);
    });
    pool.on("remove", (client) => {
      const pid = (client as { processID?: number }).processID;
      if (pid !== undefined) this.backends.delete(pid);
    });
  }

  /** Calls `wake` for this process's own jobs; returns an unsubscribe. */
  on(wake: (kind: string) => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  /** Jobs of these kinds were queued or freed here, and the write is committed. */
  wake(kinds: Iterable<string>): void {
    for (const kind of kinds) for (const wake of this.listeners) wake(kind);
  }
}

export interface JobListener {
  stop(): Promise<void>;
}

/**
 * Calls `wake(kind)` for every job notification in this schema until stop(): other processes' from the server,
 * this process's own from `signals`. A lost connection is made again after a second, and `wake("*")` is called
 * then: something may have been queued meanwhile.
 */
export async function listenForJobs(
  pool: pg.Pool,
  signals: JobSignals,
  wake: (kind: string) => void,
  onError: (error: Error) => void = () => {},
): Promise<JobListener> {
  let stopped = false;
  const unsubscribe = signals.on(wake);
  let client: pg.PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = await pool.connect();
    const schema = (await next.query<{ schema: string }>("SELECT current_schema() AS schema")).rows[0]
      ?.schema;
    next.on("notification", (message) => {
      const [from, kind] = (message.payload ?? "").split(/:(.*)/s);
      if (signals.backends.has(message.processId)) return;
      if (message.channel === JOB_CHANNEL && from === schema && kind) wake(kind);
    });
    next.on("error", (error) => {
      onError(error);
      next.release(true);
      if (client === next) client = undefined;
      if (!stopped) retry = setTimeout(() => void reconnect(), 1_000);
    });
    await next.query(`LISTEN ${JOB_CHANNEL}`);
    client = next;
  };
  const reconnect = async () => {
    try {
      await connect();
      wake("*");
    } catch (error) {
      onError(error as Error);
      if (!stopped) retry = setTimeout(() => void reconnect(), 1_000);
    }
  };
  await connect();
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(retry);
      const current = client;
      client = undefined;
      if (!current) return;
      await current.query(`UNLISTEN ${JOB_CHANNEL}`).catch(() => {});
      current.release();
    },
  };
}
