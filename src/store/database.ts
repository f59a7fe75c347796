// Opens the one SQLite database: created private (mode 0600), WAL so that readers never block the writer,
// a busy timeout so that concurrent processes queue instead of failing, and the schema migrated.

import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { UserError } from "../errors.js";
import { assertNotNewer, MIGRATIONS, type Migration, migrate } from "./migrations.js";
import { assertPrivateFile } from "./private-file.js";

export const DEFAULT_DB_PATH = ".leakwarden/leakwarden.db";
export const MEMORY = ":memory:";

export class StoreError extends UserError {}

/** LEAKWARDEN_DB, or .leakwarden/leakwarden.db under the working folder. */
export function dbPathFrom(env: NodeJS.ProcessEnv): string {
  return env.LEAKWARDEN_DB?.trim() || DEFAULT_DB_PATH;
}

export interface OpenOptions {
  /** Create the file when it is missing (default true); false makes a missing database an error. */
  create?: boolean;
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  if (path !== MEMORY) {
    const full = resolve(path);
    if (!existsSync(full)) {
      if (options.create === false)
        throw new StoreError(
          `no leakwarden database at "${path}"; set LEAKWARDEN_DB or --db, or create one with 'leakwarden registry add' or 'leakwarden scan --record'`,
        );
      try {
        mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
        // Create it ourselves so that the mode is ours; SQLite gives the -wal and -shm files the same mode.
        closeSync(openSync(full, "a", 0o600));
      } catch (error) {
        throw new StoreError(
          `cannot create the database "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    }
    assertPrivateFile(full, "the database");
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    assertNotNewer(db, (options.migrations ?? MIGRATIONS).length);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
  } catch (error) {
    db?.close();
    throw new StoreError(`cannot open the database "${path}": ${(error as Error).message}`);
  }
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot prepare the database "${path}": ${(error as Error).message}`);
  }
  return db;
}
