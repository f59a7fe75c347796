// `leakwarden db copy --to postgres://…`: moves a SQLite store into an empty PostgreSQL one. Every table is
// copied row by row with its ids (so jobs, deliveries and audit entries still point at each other), in one
// PostgreSQL transaction: a copy that fails leaves the target empty. Row counts are compared at the end.
// Values sealed for queued revocations are sealed again with the target's key.
import { sql } from "kysely";
import { StoreError } from "./database.js";
import type { Store } from "./index.js";
import type { Tables } from "./schema.js";

/** Tables in an order that satisfies the foreign keys (breach_tokens after breaches). */
const TABLES = [
  "tokens",
  "findings",
  "jobs",
  "audit",
  "deliveries",
  "breaches",
  "breach_tokens",
  "validations",
] as const satisfies readonly (keyof Tables)[];

/** Tables whose integer id numbers itself: the sequence must go on after the copied ids. */
const NUMBERED = ["tokens", "findings", "jobs", "audit"] as const;

/** Stable order for reading in pages. */
const KEY: Record<(typeof TABLES)[number], string[]> = {
  tokens: ["id"],
  findings: ["id"],
  jobs: ["id"],
  audit: ["id"],
  deliveries: ["id"],
  breaches: ["key"],
  breach_tokens: ["breach_key", "secret_hash"],
  validations: ["secret_hash"],
};

const PAGE = 400;

export type CopyCounts = Record<(typeof TABLES)[number], number>;

async function counts(store: Store): Promise<CopyCounts> {
  const out = {} as CopyCounts;
  for (const table of TABLES) {
    const row = await store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

/** Copies everything in `from` (SQLite) into `to` (an empty PostgreSQL store); returns the row counts. */
export async function copyStore(
  from: Store,
  to: Store,
  progress: (line: string) => void = () => {},
): Promise<CopyCounts> {
  if (from.engine !== "sqlite" || to.engine !== "postgres")
    throw new StoreError("db copy moves a SQLite store into PostgreSQL");
  const source = await counts(from);
  const before = await counts(to);
  const busy = TABLES.filter((t) => before[t] > 0);
  if (busy.length > 0)
    throw new StoreError(
      `the PostgreSQL database is not empty (${busy.map((t) => `${t}: ${before[t]} rows`).join(", ")}); copy into an empty one`,
    );
  await to.transaction(async (tx) => {
    for (const table of TABLES) {
      let offset = 0;
      for (;;) {
        // Offsets over a stable order: the SQLite file is not written meanwhile (copy with the App stopped).
        let query = from.db.selectFrom(table).selectAll();
        for (const column of KEY[table]) query = query.orderBy(sql.ref(column));
        let rows = (await query.limit(PAGE).offset(offset).execute()) as Record<string, unknown>[];
        if (rows.length === 0) break;
        // A sealed value opens with the SQLite store's key (maybe a key file) and is sealed again with the
        // replicas' LEAKWARDEN_KEY; its plaintext lives only in this process's memory meanwhile.
        if (table === "jobs")
          rows = rows.map((row) =>
            row.sealed
              ? {
                  ...row,
                  sealed: to.box.seal(
                    from.box.open(row.sealed as Buffer, row.key as string).reveal(),
                    row.key as string,
                  ),
                }
              : row,
          );
        await tx.db
          .insertInto(table)
          .values(rows as never)
          .execute();
        offset += rows.length;
      }
      progress(`${table}: ${source[table]} rows`);
    }
    for (const table of NUMBERED)
      await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), coalesce((SELECT max(id) FROM ${sql.table(table)}), 0) + 1, false)`.execute(
        tx.db,
      );
    const copied = await counts(tx);
    const wrong = TABLES.filter((t) => copied[t] !== source[t]);
    if (wrong.length > 0)
      throw new StoreError(
        `row counts differ after the copy (${wrong.map((t) => `${t}: ${source[t]} in SQLite, ${copied[t]} copied`).join(", ")}); nothing was kept`,
      );
  });
  return source;
}
