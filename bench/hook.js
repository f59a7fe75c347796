// Hook latency: `leakwarden scan --staged`, what a pre-commit hook runs before every commit, in a repository
// with a typical commit's worth of staged files. Beside it, `leakwarden --version`: Node's start-up and the
// CLI's entry point, the floor no scan can go below. Medians of alternated runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRandom } from "../dist/scan/samples.js";
import { median } from "./median.js";

const FILES = 40;

function timed(args, cwd) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
  if (child.status !== 0) throw new Error(`leakwarden ${args.slice(1).join(" ")} failed: ${child.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function benchHook(cli, runs) {
  const repo = mkdtempSync(join(tmpdir(), "leakwarden-bench-hook-"));
  try {
    const git = (...args) => spawnSync("git", args, { cwd: repo, encoding: "utf8" });
    git("init", "--quiet");
    const rng = new SeededRandom(7);
    for (let i = 0; i < FILES; i++) {
      const lines = Array.from(
        { length: 30 },
        (_, n) => `export const value${n} = "${rng.chars("abcdef0123", 24)}";`,
      );
      writeFileSync(join(repo, `module${i}.ts`), `${lines.join("\n")}\n`);
    }
    git("add", "-A");
    const staged = [];
    const version = [];
    timed([cli, "scan", "--staged"], repo); // warm the page cache
    for (let i = 0; i < runs; i++) {
      staged.push(timed([cli, "scan", "--staged"], repo));
      version.push(timed([cli, "--version"], repo));
    }
    console.log(
      `\npre-commit hook: scan --staged, ${FILES} staged files   ${median(staged).toFixed(3)} s (median of ${runs}); leakwarden --version ${median(version).toFixed(3)} s`,
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  benchHook(join(import.meta.dirname, "..", "bin", "leakwarden.js"), Number(process.env.BENCH_RUNS ?? 9));
