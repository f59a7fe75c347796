// Kysely on PostgreSQL, for several replicas on one database: a connection pool, the schema migrated under an
// advisory lock (two replicas starting at once cannot both run a migration), and the schema's version kept in
// `schema_migrations`. Counts (bigint) come back as numbers, as they do from SQLite.
import { createHash } from "node:crypto";
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from "kysely";
import pg from "pg";
import { UserError } from "../errors.js";
import { POSTGRES } from "./dialect.js";
import {
  assertNumbered,
  MIGRATIONS,
  type Migration,
  MigrationError,
  migrationSql,
  newerSchemaMessage,
} from "./migrations.js";
import type { Tables } from "./schema.js";

export class PostgresError extends UserError {}

const INT8 = 20;

/** bigint as a JavaScript number: row counts and GitHub ids stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for messages and `store.path`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "a PostgreSQL URL that does not parse";
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Idle connections stay open (every one the pool has opened), instead of closing after 10 s. */
  keepIdle?: boolean;
  /** Work in this schema (created when missing): the tests give each file its own. */
  schema?: string;
}

/** A schema name is put in SQL as an identifier: only plain names are accepted. */
function schemaIdentifier(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new PostgresError(
      `"${schema}" is not a schema name leakwarden accepts (lower-case letters, digits, _)`,
    );
  return `"${schema}"`;
}

export function createPool(url: string, options: PostgresOptions = {}): pg.Pool {
  if (!isPostgresUrl(url))
    throw new PostgresError(`LEAKWARDEN_DATABASE_URL must start with postgres:// (got ${redactUrl(url)})`);
  const max = options.max ?? 10;
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // pg-pool closes an idle connection only while it has more than `min`.
    min: options.keepIdle ? max : 0,
    types,
    // Every connection names this program, so that pg_stat_activity shows who holds what.
    application_name: "leakwarden",
  });
  if (options.schema) {
    const schema = schemaIdentifier(options.schema);
    pool.on("connect", (client) => {
      // Queued before any other query on this connection.
      client.query(`SET search_path TO ${schema}`).catch(() => {});
    });
  }
  // An idle connection that the server closed is not the caller's problem: the pool makes a new one.
  pool.on("error", () => {});
  return pool;
}

/** Opens every connection the pool may hold, at once, and gives them back: with `keepIdle`, they stay open. */
export async function warmUp(pool: pg.Pool): Promise<void> {
  const opening = Array.from({ length: pool.options.max }, () => pool.connect());
  const opened = await Promise.allSettled(opening);
  for (const result of opened) if (result.status === "fulfilled") result.value.release();
  const failed = opened.find((result) => result.status === "rejected");
  if (failed)
    throw new PostgresError(
      `could not open the pool's ${pool.options.max} connections (each replica keeps them open): ${(failed.reason as Error).message}`,
    );
}

/** Statements of more parameters than this (long `IN` lists) are not kept prepared: their shapes are many. */
const MAX_PREPARED_PARAMETERS = 32;

/** Names already given, by statement text: hashing the text again at every call costs more than the lookup. */
const statementNames = new Map<string, string>();
/** The App's statements take a few hundred shapes; past this many, the names are forgotten and made again. */
const MAX_STATEMENT_NAMES = 2_000;

/** The name of a statement kept prepared on each connection: the same text, the same name. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= MAX_STATEMENT_NAMES) statementNames.clear();
    name = `lw_${createHash("sha1").update(text).digest("base64url").slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** PostgreSQL's answer when a prepared `SELECT *` meets a table changed since (another replica migrated it). */
function isStalePlan(error: unknown): boolean {
  return (
    (error as { code?: string }).code === "0A000" &&
    /cached plan must not change result type/.test((error as Error).message)
  );
}

/** Starts a statement that `atCommit` marked. */
const AT_COMMIT = "-- sent with the commit\n";

/**
 * Marks a statement to go with its transaction's COMMIT, in the same round trip (the simple protocol takes several
 * statements at once): a NOTIFY takes effect at commit anyway, and need not cost a wait of its own. It holds its
 * values as literals, and answers nothing. Outside a transaction it runs at once. Should it fail, the commit
 * fails with it, and the transaction is rolled back.
 */
export function atCommit(statement: string): string {
  return `${AT_COMMIT}${statement}`;
}

/** What a statement held back for the commit answers at once. */
const HELD: pg.QueryResult = { command: "SELECT", rowCount: 0, rows: [], fields: [], oid: 0 };

/**
 * A connection whose parameterised statements are prepared once and then only bound: PostgreSQL parses and
 * plans each shape once per connection instead of at every call, which is most of its work for the App's short
 * statements. Statements without parameters (begin, commit) keep the simple protocol; those marked `atCommit`
 * are sent with the COMMIT.
 *
 * A statement prepared before a migration can no longer run: that connection then runs its statements
 * unprepared and is closed when given back. A statement outside a transaction runs again at once; in a
 * transaction the error stands (the transaction has failed), and the caller's retry gets a new connection.
 */
function preparing(client: pg.PoolClient): PostgresPoolClient {
  let inTransaction = false;
  let stale = false;
  let heldForCommit: string[] = [];
  const run = (text: string, values: readonly unknown[] = []) => {
    if (inTransaction && text.startsWith(AT_COMMIT)) {
      heldForCommit.push(text);
      return Promise.resolve(HELD);
    }
    const command = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase();
    if (command === "begin" || command === "start") inTransaction = true;
    else if (command === "commit" || command === "rollback") {
      inTransaction = false;
      const held = heldForCommit;
      heldForCommit = [];
      // Several statements answer with one result each: the commit's is the last.
      if (command === "commit" && held.length > 0)
        return client
          .query([...held, text].join(";\n"))
          .then((results: pg.QueryResult | pg.QueryResult[]) => [results].flat().at(-1) as pg.QueryResult);
    }
    if (stale || values.length === 0 || values.length > MAX_PREPARED_PARAMETERS)
      return client.query(text, [...values]);
    return client.query({ name: statementName(text), text, values: [...values] }).catch((error) => {
      if (!isStalePlan(error)) throw error;
      stale = true;
      if (inTransaction) throw error;
      return client.query(text, [...values]);
    });
  };
  return {
    query: ((textOrCursor: unknown, values?: readonly unknown[]) =>
      typeof textOrCursor === "string"
        ? run(textOrCursor, values)
        : client.query(textOrCursor as pg.Submittable)) as unknown as PostgresPoolClient["query"],
    release: (destroy?: boolean) => client.release(destroy || stale),
  };
}

export function postgresKysely(pool: pg.Pool): Kysely<Tables> {
  const prepared: PostgresPool = {
    connect: async () => preparing(await pool.connect()),
    end: () => pool.end(),
  };
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool: prepared }) });
}

/** What `db status` reports. */
export interface SchemaStatus {
  current: number;
  latest: number;
  pending: Migration[];
}

const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/** One lock per schema: replicas of one deployment wait for each other, other schemas do not. */
const LOCK = "SELECT pg_advisory_lock(hashtext('leakwarden.migrate.' || current_schema()))";
const UNLOCK = "SELECT pg_advisory_unlock(hashtext('leakwarden.migrate.' || current_schema()))";

async function currentVersion(client: pg.PoolClient): Promise<number> {
  const exists = await client.query<{ found: string | null }>(
    "SELECT to_regclass('schema_migrations')::text AS found",
  );
  if (!exists.rows[0]?.found) return 0;
  const row = await client.query<{ version: number | null }>(
    "SELECT max(version) AS version FROM schema_migrations",
  );
  return row.rows[0]?.version ?? 0;
}

async function connect(pool: pg.Pool, what: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new PostgresError(`cannot reach PostgreSQL to ${what}: ${(error as Error).message}`);
  }
}

export async function schemaStatus(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<SchemaStatus> {
  const client = await connect(pool, "read the schema version");
  try {
    const current = await currentVersion(client);
    return { current, latest: migrations.length, pending: migrations.slice(current) };
  } finally {
    client.release();
  }
}

/**
 * Runs the migrations the database has not seen, each in its own transaction, holding an advisory lock so that
 * a second replica waits and then finds nothing left to do. Refuses a schema newer than this leakwarden knows.
 */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
  options: { schema?: string } = {},
): Promise<number[]> {
  assertNumbered(migrations);
  const client = await connect(pool, "migrate the schema");
  const ran: number[] = [];
  try {
    if (options.schema)
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schemaIdentifier(options.schema)}`).catch((error) => {
        // Two openers creating it at once: the loser's "already exists" is what it wanted.
        if (!["42P06", "23505"].includes((error as { code?: string }).code ?? "")) throw error;
      });
    await client.query(LOCK);
    try {
      // Read under the lock: another replica may have migrated while we waited.
      const current = await currentVersion(client);
      if (current > migrations.length)
        throw new MigrationError(newerSchemaMessage(current, migrations.length));
      if (current === migrations.length) return ran;
      await client.query(VERSION_TABLE);
      for (const m of migrations.slice(current)) {
        await client.query("BEGIN");
        try {
          await client.query(migrationSql(m, POSTGRES));
          await client.query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            [m.version, m.name, new Date().toISOString()],
          );
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new MigrationError(
            `migration ${m.version} ("${m.name}") failed: ${(error as Error).message}`,
          );
        }
        ran.push(m.version);
      }
      return ran;
    } finally {
      await client.query(UNLOCK);
    }
  } finally {
    client.release();
  }
}
