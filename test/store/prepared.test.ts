// On PostgreSQL the store keeps its parameterised statements prepared on each connection: parsed and planned
// once, then only bound. Seen from the server, in the connection's own pg_prepared_statements.
import { sql } from "kysely";
import type pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { atCommit } from "../../src/store/postgres.js";
import { dropSchema, freshSchema, postgresMissing, TEST_DATABASE_URL } from "../support/postgres.js";
import { TEST_KEY } from "./engines.js";

const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

/** A store of one connection: every statement, and the look at what it prepared, share a session. */
async function oneConnection(): Promise<Store> {
  const schema = freshSchema("prepared");
  schemas.push(schema);
  return openStore({
    url: TEST_DATABASE_URL,
    schema,
    env: { LEAKWARDEN_KEY: TEST_KEY },
    poolSize: 1,
  });
}

interface Prepared {
  name: string;
  statement: string;
  runs: number;
}

async function preparedOn(store: Store): Promise<Prepared[]> {
  const { rows } = await sql<Prepared>`
    SELECT name, statement, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements
  `.execute(store.db);
  return rows;
}

describe.skipIf(postgresMissing)(
  `statements prepared on PostgreSQL${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    it("a warm pool opens its connections at once and keeps them while idle", async () => {
      const schema = freshSchema("warm");
      schemas.push(schema);
      const open = (warmPool: boolean) =>
        openStore({
          url: TEST_DATABASE_URL,
          schema,
          env: { LEAKWARDEN_KEY: TEST_KEY },
          poolSize: 3,
          warmPool,
        });
      const warm = await open(true);
      const cold = await open(false);
      const pools = [warm.pool, cold.pool] as [pg.Pool, pg.Pool];
      // Connected and idle, and the pool keeps every one of them (it closes idle ones only above `min`).
      expect(pools[0].totalCount).toBe(3);
      expect(pools[0].idleCount).toBe(3);
      expect(pools[0].options.min).toBe(3);
      expect(pools[1].options.min).toBe(0);
      await warm.close();
      await cold.close();
    });

    it("prepares a statement once per connection and runs it again by name, with the right answers", async () => {
      const store = await oneConnection();
      try {
        const queued = await store.jobs.enqueue({
          kind: "scan",
          key: "push:acme/app:1",
          queue: "scan",
          payload: { n: 1 },
          maxAttempts: 3,
        });
        for (const key of ["push:acme/app:1", "push:acme/app:2", "push:acme/app:1"]) {
          const found = await store.jobs.byKey(key);
          expect(found?.id).toBe(key.endsWith(":1") ? queued.job.id : undefined);
        }
        const byKey = (await preparedOn(store)).filter((p) =>
          /from "jobs" where "key" = \$1/.test(p.statement),
        );
        expect(byKey).toHaveLength(1);
        expect(byKey[0]?.name).toMatch(/^lw_/);
        expect(byKey[0]?.runs).toBe(3);
      } finally {
        await store.close();
      }
    });

    it("does not keep a statement of many parameters prepared: long IN lists have too many shapes", async () => {
      const store = await oneConnection();
      try {
        const keys = Array.from({ length: 40 }, (_, i) => `push:acme/app:${i}`);
        await store.jobs.enqueueMany(
          keys.map((key) => ({ kind: "scan", key, queue: "scan", payload: {}, maxAttempts: 3 })),
        );
        expect((await store.jobs.list({ kind: "scan" })).map((j) => j.key).sort()).toEqual([...keys].sort());
        const statements = (await preparedOn(store)).map((p) => p.statement);
        expect(statements.some((s) => /^insert into "jobs"/.test(s))).toBe(false);
      } finally {
        await store.close();
      }
    });

    it("runs a statement prepared before a migration again, unprepared, and then leaves that connection", async () => {
      const store = await oneConnection();
      try {
        await store.jobs.enqueue({ kind: "scan", key: "k", queue: "scan", payload: {}, maxAttempts: 3 });
        expect((await store.jobs.byKey("k"))?.key).toBe("k");
        const pid = async () =>
          (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(store.db)).rows[0]?.pid;
        const before = await pid();
        // A newer replica adds a column: the prepared `select *` no longer matches what the table returns.
        await sql`ALTER TABLE jobs ADD COLUMN added_later TEXT`.execute(store.db);
        expect((await store.jobs.byKey("k"))?.key).toBe("k");
        // That connection was closed when given back: the next statement runs on a new one, prepared afresh.
        const after = await pid();
        expect(after).not.toBe(before);
        expect((await store.jobs.byKey("k"))?.key).toBe("k");
        expect((await preparedOn(store)).some((p) => /from "jobs" where "key" = \$1/.test(p.statement))).toBe(
          true,
        );
      } finally {
        await store.close();
      }
    });

    it("in a transaction, a plan made stale fails the transaction once; its retry runs on a new connection", async () => {
      const store = await oneConnection();
      try {
        await store.jobs.enqueue({ kind: "scan", key: "k", queue: "scan", payload: {}, maxAttempts: 3 });
        expect((await store.jobs.byKey("k"))?.key).toBe("k");
        await sql`ALTER TABLE jobs ADD COLUMN added_later TEXT`.execute(store.db);
        const read = () => store.transaction(async (tx) => (await tx.jobs.byKey("k"))?.key);
        // The transaction has failed by then: running the statement again in it could not help.
        await expect(read()).rejects.toThrow(/cached plan must not change result type/);
        expect(await read()).toBe("k");
      } finally {
        await store.close();
      }
    });

    it("holds a statement marked for the commit until then, and a failing one fails the commit and rolls back", async () => {
      const store = await oneConnection();
      try {
        const job = (key: string) => ({ kind: "scan", key, queue: "scan", payload: {}, maxAttempts: 1 });
        await expect(
          store.transaction(async (tx) => {
            await tx.jobs.enqueue(job("scan:kept"));
            // Held: nothing is sent, so a statement that would fail has not failed yet.
            await sql.raw(atCommit("SELECT 1/0")).execute(tx.db);
            await sql.raw(atCommit("SELECT 1")).execute(tx.db);
          }),
        ).rejects.toThrow(/division by zero/);
        expect(await store.jobs.byKey("scan:kept")).toBeUndefined();
        // The connection is usable again, and a good statement goes with its commit.
        await store.transaction(async (tx) => {
          await tx.jobs.enqueue(job("scan:kept"));
          await sql.raw(atCommit("SELECT 1")).execute(tx.db);
        });
        expect((await store.jobs.byKey("scan:kept"))?.state).toBe("pending");
        // Outside a transaction it runs at once.
        await expect(sql.raw(atCommit("SELECT 1/0")).execute(store.db)).rejects.toThrow(/division by zero/);
      } finally {
        await store.close();
      }
    });
  },
);
