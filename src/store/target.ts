// Which database a process uses: LEAKWARDEN_DATABASE_URL (postgres://…) selects PostgreSQL; without it, the
// SQLite file at LEAKWARDEN_DB (default .leakwarden/leakwarden.db). A path given on the command line (--db)
// always means a SQLite file.
import { DEFAULT_DB_PATH } from "./database.js";
import { isPostgresUrl, PostgresError, redactUrl } from "./postgres.js";

export type DatabaseTarget =
  | { engine: "sqlite"; path: string }
  | {
      engine: "postgres";
      url: string;
      /** Work in this schema instead of the URL's default (tests give each file its own). */
      schema?: string;
    };

export function targetFrom(options: {
  path?: string;
  url?: string;
  schema?: string;
  env: NodeJS.ProcessEnv;
}): DatabaseTarget {
  if (options.path !== undefined) return { engine: "sqlite", path: options.path };
  const url = options.url ?? options.env.LEAKWARDEN_DATABASE_URL?.trim();
  if (url) {
    if (!isPostgresUrl(url))
      throw new PostgresError(
        `LEAKWARDEN_DATABASE_URL must be a postgres:// URL (got ${redactUrl(url)}); unset it to use the SQLite file`,
      );
    return { engine: "postgres", url, ...(options.schema ? { schema: options.schema } : {}) };
  }
  return { engine: "sqlite", path: options.env.LEAKWARDEN_DB?.trim() || DEFAULT_DB_PATH };
}

/** Where the data is, for people: the file, or the URL without its password. */
export function describeTarget(target: DatabaseTarget): string {
  return target.engine === "sqlite"
    ? target.path
    : `${redactUrl(target.url)}${target.schema ? ` (schema ${target.schema})` : ""}`;
}
