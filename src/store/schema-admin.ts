// `leakwarden db status` and `db migrate` on either engine: how far a database's schema is, and bringing it up
// to date. SQLite keeps its version in PRAGMA user_version, PostgreSQL in schema_migrations.
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { openDatabase, StoreError } from "./database.js";
import { MIGRATIONS, type Migration } from "./migrations.js";
import { createPool, migratePostgres, schemaStatus } from "./postgres.js";
import { type DatabaseTarget, describeTarget } from "./target.js";

export interface DatabaseStatus {
  engine: DatabaseTarget["engine"];
  where: string;
  /** 0 for a database that does not exist yet. */
  current: number;
  latest: number;
  pending: { version: number; name: string }[];
}

function pendingOf(migrations: readonly Migration[], current: number) {
  return migrations.slice(current).map((m) => ({ version: m.version, name: m.name }));
}

export async function databaseStatus(
  target: DatabaseTarget,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<DatabaseStatus> {
  const base = { engine: target.engine, where: describeTarget(target), latest: migrations.length };
  if (target.engine === "sqlite") {
    if (!existsSync(target.path)) return { ...base, current: 0, pending: pendingOf(migrations, 0) };
    let db: Database.Database | undefined;
    try {
      db = new Database(target.path, { readonly: true, fileMustExist: true });
      const current = db.pragma("user_version", { simple: true }) as number;
      return { ...base, current, pending: pendingOf(migrations, current) };
    } catch (error) {
      throw new StoreError(`cannot read the database "${target.path}": ${(error as Error).message}`);
    } finally {
      db?.close();
    }
  }
  const pool = createPool(target.url, { max: 1, schema: target.schema });
  try {
    const status = await schemaStatus(pool, migrations);
    return { ...base, current: status.current, pending: pendingOf(migrations, status.current) };
  } finally {
    await pool.end();
  }
}

/** Applies what is pending; returns the versions it ran (none when another replica got there first). */
export async function migrateDatabase(
  target: DatabaseTarget,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  if (target.engine === "sqlite") {
    const before = existsSync(target.path) ? (await databaseStatus(target, migrations)).current : 0;
    openDatabase(target.path, { migrations }).close();
    return migrations.slice(before).map((m) => m.version);
  }
  const pool = createPool(target.url, { max: 1, schema: target.schema });
  try {
    return await migratePostgres(pool, migrations, { schema: target.schema });
  } finally {
    await pool.end();
  }
}
