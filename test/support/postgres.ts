// PostgreSQL for tests: LEAKWARDEN_TEST_DATABASE_URL (.ci/run sets it). Each test file works in its own
// schema, so files run in parallel; without a reachable server, the PostgreSQL variants are skipped and their
// names say why.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_DATABASE_URL = process.env.LEAKWARDEN_TEST_DATABASE_URL?.trim() ?? "";

async function probe(): Promise<string | undefined> {
  if (!TEST_DATABASE_URL) return "LEAKWARDEN_TEST_DATABASE_URL is not set";
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL at LEAKWARDEN_TEST_DATABASE_URL is not reachable: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresMissing: string | undefined = await probe();

/** A fresh schema name for one test file (or one test); dropped by dropSchema. */
export function freshSchema(label: string): string {
  return `lwt_${label.replace(/[^a-z0-9]/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
}

/** A database URL whose connections work in `schema` (libpq's options parameter sets the search_path). */
export function urlForSchema(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

export async function createSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  if (postgresMissing) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
