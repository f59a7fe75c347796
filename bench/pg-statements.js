// Preloaded into a benchmarked `serve` on PostgreSQL (BENCH_NODE_ARGS="--import ./bench/pg-statements.js", an
// absolute path): counts the statements it sends, by shape (parameters left out, so never a value), and
// prints the totals when it exits. Each statement is a round trip: this is where PostgreSQL's time goes.
// With BENCH_PG_TIMELINE=FILE it also writes, to FILE.<pid>, each statement's start (epoch ms), its time to an
// answer (ms) and its shape, in order: what waits for what in a burst (a pool full of one stage's statements
// ahead of another's, say) shows there, not in the totals.
import { writeFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

const pg = createRequire(process.argv[1])("pg");
const counts = new Map();
const timeline = process.env.BENCH_PG_TIMELINE;
const steps = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === "string" ? config : (config?.text ?? "");
  const shape = text.replace(/\s+/g, " ").slice(0, 100);
  counts.set(shape, (counts.get(shape) ?? 0) + 1);
  const started = performance.now();
  const result = query.call(this, config, values, callback);
  if (timeline && typeof result?.then === "function") {
    const step = (performance.timeOrigin + started).toFixed(1);
    const done = () => steps.push(`${step} ${(performance.now() - started).toFixed(2)} ${shape}`);
    result.then(done, done);
  }
  return result;
};

process.on("exit", () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  const lines = rows.slice(0, 40).map(([shape, n]) => `BENCH_PG ${String(n).padStart(6)} ${shape}`);
  writeSync(2, `\nBENCH_PG_STATEMENTS=${total}\n${lines.join("\n")}\n`);
  if (timeline) writeFileSync(`${timeline}.${process.pid}`, `${steps.sort().join("\n")}\n`);
});
