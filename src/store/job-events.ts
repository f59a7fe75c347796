// Wakes idle workers on every replica when a job is queued or freed, instead of polling: PostgreSQL's
// LISTEN/NOTIFY on one connection of its own. A notification carries the schema (replicas of one deployment
// share it) and the job kind, or "*" when a write freed jobs of any kind, and the job's key when it was one
// job: a stage that leaves such jobs alone for now (a batch of that repository runs) need not look at the
// queue for it. On SQLite there is one App process, and it wakes its own stages directly.
//
// A replica hears its own notifications too, a round trip after it could have known: its own jobs wake it at
// once, in process, once the write commits (`JobSignals`), and the listener skips what its own connections sent.
import { type RawBuilder, sql } from "kysely";
import pg from "pg";
import type { Executor } from "./executor.js";
import { atCommit } from "./postgres.js";

export const JOB_CHANNEL = "leakwarden_jobs";

/** Jobs of `kind` were queued or freed; `key` when it was one job. */
export interface JobWake {
  kind: string;
  key?: string;
}

/** Between kind and key in a payload: neither a kind nor a job key holds a line break. */
const KEY_SEPARATOR = "\n";
/** A payload is at most 8,000 bytes: a longer key is left out, and the wake is for the whole kind. */
const MAX_KEY_LENGTH = 1_000;

/** What a notification says about a wake (`kind[\nkey]`). */
export function payloadOf({ kind, key }: JobWake): string {
  return key !== undefined && key.length <= MAX_KEY_LENGTH && !key.includes(KEY_SEPARATOR)
    ? `${kind}${KEY_SEPARATOR}${key}`
    : kind;
}

/** `kind[\nkey]` back into a wake. */
export function wakeOf(payload: string): JobWake {
  const at = payload.indexOf(KEY_SEPARATOR);
  return at < 0 ? { kind: payload } : { kind: payload.slice(0, at), key: payload.slice(at + 1) };
}

/**
 * Queues one notification per wake, in one statement, delivered when the write commits (never for a rollback).
 * In a transaction it goes with the COMMIT, in the same round trip (postgres.ts `atCommit`), so the payloads go
 * as literals: a transaction that wakes workers costs no round trip more than one that does not (the record of
 * a scan is on the way to its revocations). Outside one it runs at once.
 */
export async function notifyJobs(db: Executor, wakes: readonly JobWake[]): Promise<void> {
  if (wakes.length === 0) return;
  const payloads = wakes.map((wake) => pg.escapeLiteral(payloadOf(wake))).join(", ");
  await sql
    .raw(
      atCommit(
        `SELECT pg_notify(${pg.escapeLiteral(JOB_CHANNEL)}, current_schema() || ':' || k) FROM unnest(ARRAY[${payloads}]::text[]) AS k`,
      ),
    )
    .execute(db);
}

/**
 * The call that notifies one wake, given as its payload (`payloadOf`), for a statement that notifies as it
 * writes (see accept-delivery.ts).
 */
export function notifyCall(payload: string): RawBuilder<unknown> {
  return sql`pg_notify(${JOB_CHANNEL}, current_schema() || ':' || ${payload})`;
}

/** What a listener is told: a kind ("*": any), and the job's key when it was one job. */
export type WakeListener = (kind: string, key?: string) => void;

/** This process's side of job notifications: its stages' wakes, and its own connections' server processes. */
export class JobSignals {
  private readonly listeners = new Set<WakeListener>();
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
  on(wake: WakeListener): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  /** Jobs were queued or freed here, and the write is committed. */
  wake(wakes: Iterable<JobWake>): void {
    for (const { kind, key } of wakes) for (const wake of this.listeners) wake(kind, key);
  }
}

export interface JobListener {
  stop(): Promise<void>;
}

/**
 * Calls `wake(kind, key)` for every job notification in this schema until stop(): other processes' from the server,
 * this process's own from `signals`. A lost connection is made again after a second, and `wake("*")` is called
 * then: something may have been queued meanwhile.
 */
export async function listenForJobs(
  pool: pg.Pool,
  signals: JobSignals,
  wake: WakeListener,
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
      const [from, rest] = (message.payload ?? "").split(/:(.*)/s);
      if (signals.backends.has(message.processId)) return;
      if (message.channel !== JOB_CHANNEL || from !== schema || !rest) return;
      const { kind, key } = wakeOf(rest);
      if (kind) wake(kind, key);
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
