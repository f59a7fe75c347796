// The store's two engines for parameterised tests: each `fresh()` is an empty database (a SQLite file, or a
// PostgreSQL schema of its own), so tests and files run in parallel. `drop()` removes the schemas made.
import { join } from "node:path";
import { sql } from "kysely";
import { type Clock, systemClock } from "../../src/store/clock.js";
import { openStore, type Store } from "../../src/store/index.js";
import type { Migration } from "../../src/store/migrations.js";
import type { DatabaseTarget } from "../../src/store/target.js";
import { tempDir } from "../support/cli.js";
import { dropSchema, freshSchema, postgresMissing, TEST_DATABASE_URL } from "../support/postgres.js";

export const TEST_KEY = "ab".repeat(32);

export interface FreshOptions {
  clock?: Clock;
  actor?: string;
  migrations?: readonly Migration[];
  env?: NodeJS.ProcessEnv;
}

export interface Engine {
  name: "sqlite" | "postgres";
  /** Why this engine's tests are skipped here, if they are. */
  missing: string | undefined;
  /** A new, empty database. */
  target(): DatabaseTarget;
  open(target: DatabaseTarget, options?: FreshOptions): Promise<Store>;
  /** Sets the schema version as a newer leakwarden would have left it. */
  setVersion(store: Store, version: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function engines(label: string): Engine[] {
  const dir = tempDir();
  let n = 0;
  const schemas: string[] = [];
  const options = (o: FreshOptions = {}) => ({
    clock: o.clock ?? systemClock,
    actor: o.actor ?? "tester",
    ...(o.migrations ? { migrations: o.migrations } : {}),
  });
  return [
    {
      name: "sqlite",
      missing: undefined,
      target: () => ({ engine: "sqlite", path: join(dir.path, `db${++n}`, "leakwarden.db") }),
      open: (target, o) =>
        openStore({ path: (target as { path: string }).path, env: o?.env ?? {}, ...options(o) }),
      setVersion: async (store, version) => {
        store.sqlite?.pragma(`user_version = ${version}`);
      },
      cleanup: async () => dir.remove(),
    },
    {
      name: "postgres",
      missing: postgresMissing,
      target: () => {
        const schema = freshSchema(label);
        schemas.push(schema);
        return { engine: "postgres", url: TEST_DATABASE_URL, schema };
      },
      open: (target, o) => {
        const t = target as { url: string; schema: string };
        return openStore({
          url: t.url,
          schema: t.schema,
          env: o?.env ?? { LEAKWARDEN_KEY: TEST_KEY },
          poolSize: 4,
          ...options(o),
        });
      },
      setVersion: async (store, version) => {
        await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${version}, 'from the future', '')`.execute(
          store.db,
        );
      },
      cleanup: async () => {
        for (const schema of schemas) await dropSchema(schema);
      },
    },
  ];
}

/** The test name's suffix that says why an engine's tests are skipped. */
export function engineTitle(engine: Engine): string {
  return engine.missing ? `${engine.name} (skipped: ${engine.missing})` : engine.name;
}
