// npm run bench (second part): what --record, --registry and --revoke add to a scan. In-process on the compiled
// modules, a real SQLite file, and a local HTTP server standing in for GitLab; median of several runs.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { actOnFindings } from "../dist/revoke/act.js";
import { createRevokers } from "../dist/revoke/providers.js";
import { RevocationWorker } from "../dist/revoke/worker.js";
import { fingerprint, redact } from "../dist/scan/redact.js";
import { loadRules } from "../dist/scan/rules.js";
import { SAMPLE_FORMATS, SeededRandom } from "../dist/scan/samples.js";
import { Secret, secretHash } from "../dist/scan/secret.js";
import { openStore } from "../dist/store/index.js";
import { median } from "./median.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FINDINGS = 10_000;
const REGISTRY = 10_000;
const JOBS = 2_000;

const rng = new SeededRandom(2026);
const rules = loadRules([]);

function finding(format, ruleId, provider, value, i) {
  const hash = secretHash(value);
  return {
    ruleId,
    provider,
    description: ruleId,
    severity: "critical",
    confidence: "high",
    file: `src/file${i}.ts`,
    line: 1 + (i % 500),
    column: 10,
    endLine: 1 + (i % 500),
    endColumn: 50,
    encoding: "plain",
    redacted: redact(value, format === "gitlab-pat-routable" ? "glpat-" : ""),
    secretHash: hash,
    fingerprint: fingerprint(ruleId, hash, `src/file${i}.ts`),
    secret: new Secret(value),
  };
}

const adoValues = Array.from({ length: REGISTRY }, () => SAMPLE_FORMATS["azure-devops-pat"](rng));
const findings = adoValues
  .slice(0, FINDINGS)
  .map((v, i) => finding("azure-devops-pat", "azure-devops-pat", "azure-devops", v, i));
const gitlab = Array.from({ length: JOBS }, (_, i) =>
  finding(
    "gitlab-pat-routable",
    "gitlab-pat-routable",
    "gitlab",
    SAMPLE_FORMATS["gitlab-pat-routable"](rng),
    i,
  ),
);

async function time(fn) {
  const started = process.hrtime.bigint();
  const result = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

async function timeAsync(fn) {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(204);
    res.end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}`;
const revokers = createRevokers({ LEAKWARDEN_GITLAB_URL: url });

// Each engine in turn: SQLite always; PostgreSQL when LEAKWARDEN_BENCH_DATABASE_URL (or the tests' URL) is set,
// in a schema of its own, dropped afterwards.
const PG_URL = process.env.LEAKWARDEN_BENCH_DATABASE_URL || process.env.LEAKWARDEN_TEST_DATABASE_URL || "";
const engines = [{ name: "sqlite" }, ...(PG_URL ? [{ name: "postgres" }] : [])];
const byEngine = {};
for (const engine of engines) {
  const results = { record: [], rescan: [], match: [], worker: [] };
  byEngine[engine.name] = results;
  for (let run = 0; run < RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), "leakwarden-bench-"));
    const schema = `lw_bench_${process.pid}_${run}`;
    const store =
      engine.name === "sqlite"
        ? await openStore({ path: join(dir, "bench.db"), env: {} })
        : await openStore({ url: PG_URL, schema, env: { LEAKWARDEN_KEY: "ab".repeat(32) } });
    await store.tokens.insertMany(
      adoValues.map((v, i) => ({
        secretHash: secretHash(v),
        preview: redact(v),
        provider: "azure-devops",
        org: "contoso",
        authorizationId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      })),
    );
    results.record.push(
      (await time(() => actOnFindings(store, revokers, rules, findings, { record: true, match: true })))
        .seconds,
    );
    results.rescan.push(
      (await time(() => actOnFindings(store, revokers, rules, findings, { record: true, match: true })))
        .seconds,
    );
    results.match.push(
      (await time(() => actOnFindings(store, revokers, rules, findings, { match: true }))).seconds,
    );
    await actOnFindings(store, revokers, rules, gitlab, { revoke: true, policy: "all" });
    const worker = new RevocationWorker({ store, revokers });
    results.worker.push(await timeAsync(() => worker.drain({ maxWaitMs: 0 })));
    if ((await store.jobs.counts("revoke")).done !== JOBS) throw new Error("not every job finished");
    if (engine.name === "postgres") await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(store.db);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
server.close();

const line = (label, count, seconds, unit) =>
  console.log(
    `${label.padEnd(46)} ${String(count).padStart(6)} ${unit}  ${seconds.toFixed(3)} s  ${Math.round(
      count / seconds,
    )
      .toString()
      .padStart(7)} ${unit}/s`,
  );
for (const [engine, results] of Object.entries(byEngine)) {
  console.log(
    `\nleakwarden store bench on ${engine}: median of ${RUNS} runs, registry of ${REGISTRY} tokens\n`,
  );
  line("--record --registry (new findings)", FINDINGS, median(results.record), "findings");
  line("--record --registry (re-scan: updates)", FINDINGS, median(results.rescan), "findings");
  line("--registry only (lookup by hash)", FINDINGS, median(results.match), "findings");
  line("worker: gitlab revocations, local stand-in", JOBS, median(results.worker), "jobs");
}
if (!PG_URL) console.log("\n(PostgreSQL: set LEAKWARDEN_BENCH_DATABASE_URL=postgres://… to measure it too)");
