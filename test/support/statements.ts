// Counts the statements a store's code sends (each one a round trip on PostgreSQL), through a Kysely plugin.
import type { KyselyPlugin } from "kysely";
import type { Executor } from "../../src/store/executor.js";

export function countStatements(db: Executor): { db: Executor; count: () => number } {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), count: () => n };
}
