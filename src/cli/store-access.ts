// How commands reach the database: --db or LEAKWARDEN_DB, and a clear error when there is none.
import { existsSync } from "node:fs";
import { dbPathFrom, MEMORY } from "../store/database.js";
import { openStore, type Store } from "../store/index.js";
import { type Io, UsageError } from "./command.js";

export const DB_FLAG = { db: { type: "string" } } as const;

export const DB_HELP = `  --db FILE       a SQLite database (default: PostgreSQL at $LEAKWARDEN_DATABASE_URL
                  when set, else $LEAKWARDEN_DB, else .leakwarden/leakwarden.db)`;

export function dbPath(values: { db?: string }, io: Io): string {
  return values.db ?? dbPathFrom(io.env);
}

/** Opens the database; `create: false` makes a missing one an error that says how to make it. */
export async function openCliStore(
  values: { db?: string },
  io: Io,
  options: { create: boolean },
): Promise<Store> {
  // --db names a SQLite file; without it, LEAKWARDEN_DATABASE_URL or LEAKWARDEN_DB decide (store/target.ts).
  return await openStore({ path: values.db, env: io.env, create: options.create });
}

/** For a look that writes nothing (--dry-run): the database if there is one, else an empty one in memory. */
export async function openForReading(values: { db?: string }, io: Io): Promise<Store> {
  if (values.db === undefined && io.env.LEAKWARDEN_DATABASE_URL?.trim())
    return await openStore({ env: io.env });
  const path = dbPath(values, io);
  return await openStore({ path: existsSync(path) ? path : MEMORY, env: io.env });
}

/** Runs `fn` with an open store and closes it whatever happens. */
export async function withStore<T>(
  opening: Store | Promise<Store>,
  fn: (store: Store) => Promise<T> | T,
): Promise<T> {
  const store = await opening;
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `2026-11-28 14:03` in UTC: short enough for a table, exact enough to find in the audit log. */
export function shortTime(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "-";
}

export function parseId(value: string | undefined, what: string, command: string): number {
  if (value === undefined) throw new UsageError(`${what} is missing`, command);
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${what} must be a number such as 12, not "${value}"`, command);
  return Number(value);
}
