// What every table object runs its queries on: the store's Kysely instance, or the transaction it is in.
import type { DeleteResult, InsertResult, Kysely, UpdateResult } from "kysely";
import type { Tables } from "./schema.js";

export type Executor = Kysely<Tables>;

/** Whether a write touched a row. */
export function changed(result: UpdateResult | DeleteResult | InsertResult | undefined): boolean {
  if (!result) return false;
  const n =
    "numUpdatedRows" in result
      ? result.numUpdatedRows
      : "numDeletedRows" in result
        ? result.numDeletedRows
        : result.numInsertedOrUpdatedRows;
  return (n ?? 0n) > 0n;
}

/** Counts come back as numbers from SQLite and as text from PostgreSQL's bigint. */
export function count(value: number | string | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Values per `IN (…)` list: both engines cap the parameters of one statement. */
export const IN_SLICE = 500;
