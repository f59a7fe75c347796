// npm run bench: scanning throughput and peak memory of the real CLI, median of several runs.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { largeJson, TYPESCRIPT, tokenLines } from "./corpus.js";
import { benchHistory, benchRealHistory } from "./history.js";
import { benchHook } from "./hook.js";
import { benchLoad } from "./load.js";
import { median } from "./median.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "bin", "leakwarden.js");
const RUSAGE = join(here, "rusage.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function treeSize(path) {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += await treeSize(join(path, name));
  return total;
}

/** Runs the CLI on `targets`; returns wall seconds and peak RSS in MB. */
function runScan(targets, extra = []) {
  const started = process.hrtime.bigint();
  const args = [
    "--import",
    RUSAGE,
    CLI,
    "scan",
    "--format",
    "json",
    "--max-file-size",
    "1GB",
    "--no-ignore", // the corpus lives under this checkout's git-ignored node_modules/
    ...extra,
    ...targets,
  ];
  const child = spawnSync(process.execPath, args, {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0 && child.status !== 1)
    throw new Error(`scan failed (${child.status}): ${child.stderr}`);
  const rss = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr)?.[1] ?? 0) / 1024;
  return { seconds, rss, stats: JSON.parse(child.stdout).stats };
}

export function bench(label, targets, bytes, extra = []) {
  runScan(targets, extra); // warm the page cache
  const runs = Array.from({ length: RUNS }, () => runScan(targets, extra));
  const seconds = median(runs.map((r) => r.seconds));
  const rss = median(runs.map((r) => r.rss));
  const mb = bytes / 1024 / 1024;
  console.log(
    `${label.padEnd(34)} ${mb.toFixed(1).padStart(7)} MB  ${seconds.toFixed(3)} s  ${(mb / seconds).toFixed(0).padStart(4)} MB/s  peak RSS ${rss.toFixed(0)} MB`,
  );
  return { seconds, rss, mb };
}

const json = await largeJson(64);
const tsBytes = await treeSize(TYPESCRIPT);
const jsonBytes = statSync(json).size;
console.log(`leakwarden bench: median of ${RUNS} runs, wall time of the whole CLI (start-up included)\n`);
bench("typescript package", [TYPESCRIPT], tsBytes);
bench("typescript package, 1 thread", [TYPESCRIPT], tsBytes, ["--threads", "1"]);
bench("large JSON (one 64 MB file)", [json], jsonBytes);
bench("corpus (typescript + JSON)", [TYPESCRIPT, json], tsBytes + jsonBytes);
const tokens = await tokenLines(80_000);
bench("80,000 token lines (one file)", [tokens], statSync(tokens).size);

benchHook(CLI, RUNS);

// What --record, --registry and --revoke add (bench/store.js).
await import("./store.js");
await benchHistory(CLI, RUNS);
await benchRealHistory(CLI, RUNS);
await import("./console.js");

// The App under a burst of leaking pushes (bench/load.js): one run each, it takes minutes.
console.log("\nleakwarden load bench: the App on local stand-ins\n");
// SQLite with one replica; with LEAKWARDEN_BENCH_DATABASE_URL also PostgreSQL with one and two replicas.
const setups = [
  { engine: "sqlite", replicas: 1 },
  ...(process.env.LEAKWARDEN_BENCH_DATABASE_URL
    ? [
        { engine: "postgres", replicas: 1 },
        { engine: "postgres", replicas: 2 },
      ]
    : []),
];
for (const pushes of [50, 200]) for (const setup of setups) await benchLoad(pushes, setup);
