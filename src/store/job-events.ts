// Wakes idle workers on every replica when a job is queued or freed, instead of polling: PostgreSQL's
// LISTEN/NOTIFY on one connection of its own. A notification carries the schema (replicas of one deployment
// share it) and the job kind, or "*" when a write freed jobs of any kind. On SQLite there is one App process,
// and it wakes its own stages directly.
import { sql } from "kysely";
import type pg from "pg";
import type { Executor } from "./executor.js";

export const JOB_CHANNEL = "leakwarden_jobs";

/** Queues a notification; inside a transaction PostgreSQL delivers it at commit, never for a rollback. */
export async function notifyJobs(db: Executor, kind: string): Promise<void> {
  await sql`SELECT pg_notify(${JOB_CHANNEL}, current_schema() || ':' || ${kind})`.execute(db);
}

export interface JobListener {
  stop(): Promise<void>;
}

/**
 * Calls `wake(kind)` for every job notification in this schema until stop(). A lost connection is made again
 * after a second, and `wake("*")` is called then: something may have been queued meanwhile.
 */
export async function listenForJobs(
  pool: pg.Pool,
  wake: (kind: string) => void,
  onError: (error: Error) => void = () => {},
): Promise<JobListener> {
  let stopped = false;
  let client: pg.PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = await pool.connect();
    const schema = (await next.query<{ schema: string }>("SELECT current_schema() AS schema")).rows[0]
      ?.schema;
    next.on("notification", (message) => {
      const [from, kind] = (message.payload ?? "").split(/:(.*)/s);
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
      clearTimeout(retry);
      const current = client;
      client = undefined;
      if (!current) return;
      await current.query(`UNLISTEN ${JOB_CHANNEL}`).catch(() => {});
      current.release();
    },
  };
}
