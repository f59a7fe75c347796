// Preloaded into a benchmarked `serve` on PostgreSQL (BENCH_NODE_ARGS="--import ./bench/pg-statements.js", an
// absolute path): counts the statements it sends, by shape (parameters left out, so never a value), and
// prints the totals when it exits. Each statement is a round trip: this is where PostgreSQL's time goes.
import { writeSync } from "node:fs";
import { createRequire } from "node:module";

const pg = createRequire(process.argv[1])("pg");
const counts = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === "string" ? config : (config?.text ?? "");
  const shape = text.replace(/\s+/g, " ").slice(0, 100);
  counts.set(shape, (counts.get(shape) ?? 0) + 1);
  return query.call(this, config, values, callback);
};

process.on("exit", () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  const lines = rows.slice(0, 40).map(([shape, n]) => `BENCH_PG ${String(n).padStart(6)} ${shape}`);
  writeSync(2, `\nBENCH_PG_STATEMENTS=${total}\n${lines.join("\n")}\n`);
});
