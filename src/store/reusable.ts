// Statements built by Kysely once per engine and then only given new values. Building a query and compiling it
// to SQL is work for the event loop at every call: for a long statement (a webhook's accept is five CTEs) it costs
// more than the round trip itself, and in a burst the same few statements run hundreds of times, each time
// with the same text. Here the query is built with placeholders for its values, compiled once, and each call
// puts its values where the placeholders landed in the compiled parameters.
import { type Compilable, type CompiledQuery, createQueryId, type QueryResult } from "kysely";
import type { Executor } from "./executor.js";

/** Stands for a value while the statement is built; anything but passing it on as a value is a mistake. */
class Placeholder {
  constructor(readonly name: string) {}
  toString(): string {
    throw new Error(`the value "${this.name}" of a reusable statement was used as more than a value`);
  }
  toJSON(): never {
    throw new Error(`the value "${this.name}" of a reusable statement was used as more than a value`);
  }
}

export type Values = Record<string, unknown>;

/**
 * A statement whose text depends only on the engine: `build` gets its values as placeholders, to be used only
 * as values (compared, inserted, set; never tested, spread into a column list or an `IN` list, or turned into
 * text), and runs once per engine. Returns a function that runs the statement with `values` on `db` (the store
 * or a transaction; no plugin may rewrite its queries, and the store's Kysely has none).
 */
export function reusable<V extends Values, O>(
  build: (db: Executor, values: V) => Compilable<O>,
): (db: Executor, values: V) => Promise<QueryResult<O>> {
  // By the engine's adapter class: SQLite and PostgreSQL compile to different text, transactions to the same.
  const compiled = new Map<unknown, { query: CompiledQuery<O>; names: (string | undefined)[] }>();
  return async (db, values) => {
    const engine = db.getExecutor().adapter.constructor;
    let statement = compiled.get(engine);
    if (!statement) {
      // Every name the build reads is a placeholder, given in this call or not: the first call's values never
      // become a later call's constants.
      const placeholders = new Proxy(
        {},
        { get: (_, name) => (typeof name === "string" ? new Placeholder(name) : undefined) },
      );
      const query = build(db, placeholders as V).compile();
      const names = query.parameters.map((p) => (p instanceof Placeholder ? p.name : undefined));
      statement = { query, names };
      compiled.set(engine, statement);
    }
    const { query, names } = statement;
    const parameters = query.parameters.map((constant, i) => {
      const name = names[i];
      if (name === undefined) return constant;
      if (!(name in values)) throw new Error(`a reusable statement was run without its value "${name}"`);
      return values[name];
    });
    return db.executeQuery<O>({ ...query, parameters, queryId: createQueryId() });
  };
}
