// Kysely on the SQLite file: better-sqlite3 underneath, with two changes to Kysely's stock driver. Statements
// are prepared once per SQL text (preparing costs more than running a small indexed query), and a transaction
// begins IMMEDIATE, taking the write lock at once so that concurrent processes queue instead of deadlocking.
import type Database from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from "kysely";
import type { Tables } from "./schema.js";

const MAX_PREPARED = 500;

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/** Kysely over an open better-sqlite3 database; destroying it runs `close` (which closes the database). */
export function sqliteKysely(db: Database.Database, close: () => void): Kysely<Tables> {
  const prepared = new Map<string, Database.Statement>();
  const database = {
    prepare(sql: string) {
      let statement = prepared.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        // Lists of varying length make new texts: keep the cache bounded, dropping the oldest.
        if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value as string);
        prepared.set(sql, statement);
      }
      return statement;
    },
    close,
  };
  return new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database }) });
}
