// History benchmark: `leakwarden scan --git` (read by patches, the default) and `--history-scan blobs` against
// `git log -p -U0 --all > /dev/null` on the same repository. Two repositories: a synthetic one built at bench
// time with git fast-import in bench/.cache (thousands of commits of code-like text, feature branches merged
// back, renames, binaries, and a few tokens), and a real one named by LEAKWARDEN_BENCH_REPO (a clone of
// expressjs/express, say: `git clone --mirror <url> /tmp/express.git`), which is never committed here.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SAMPLE_FORMATS, SeededRandom } from "../dist/scan/samples.js";
import { CACHE } from "./corpus.js";
import { median } from "./median.js";

const COMMITS = Number(process.env.BENCH_HISTORY_COMMITS ?? 6000);
const FILES = 240;
const BRANCH_EVERY = 150;
const BRANCH_COMMITS = 6;
const LEAK_EVERY = 400;
const WORDS = [
  "const",
  "return",
  "function",
  "value",
  "result",
  "config",
  "request",
  "response",
  "items",
  "index",
  "await",
  "export",
  "import",
  "string",
  "number",
  "options",
  "handler",
  "context",
  "error",
  "token",
  "client",
  "server",
  "build",
  "deploy",
];
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A code-like line: indentation, identifiers, a string or a number, now and then a hash or a base64 blob. */
function codeLine(rng) {
  const indent = " ".repeat(2 * rng.below(4));
  const words = Array.from({ length: 2 + rng.below(6) }, () => WORDS[rng.below(WORDS.length)]);
  const kind = rng.below(10);
  if (kind === 0) return `${indent}const ${words[0]}Hash = "${rng.chars("0123456789abcdef", 40)}";`;
  if (kind === 1) return `${indent}data.${words[0]} = "${rng.chars(ALNUM, 48)}";`;
  if (kind < 4) return `${indent}${words.join(".")}(${rng.below(100000)});`;
  return `${indent}${words[0]} ${words.slice(1).join("_")} = ${words.join(" + ")};`;
}

function fileLines(rng, count) {
  return Array.from({ length: count }, () => codeLine(rng));
}

/** Replaces, inserts or deletes a few lines somewhere in the file. */
function edit(rng, lines) {
  const at = rng.below(lines.length + 1);
  const removed = rng.below(3) === 0 ? 0 : rng.below(6);
  const added = fileLines(rng, 1 + rng.below(12));
  lines.splice(at, removed, ...added);
}

/** Writes the fast-import stream; resolves when git has taken it all. */
async function fastImport(repo) {
  const child = spawn("git", ["fast-import", "--quiet", "--done"], {
    cwd: repo,
    stdio: ["pipe", "inherit", "inherit"],
  });
  const write = async (text) => {
    if (!child.stdin.write(text)) await new Promise((resolve) => child.stdin.once("drain", resolve));
  };
  const blob = (content) => `data ${Buffer.byteLength(content)}\n${content}\n`;
  const rng = new SeededRandom(20261128);
  const tokens = new SeededRandom(99);
  const files = new Map();
  for (let i = 0; i < FILES; i++)
    files.set(`src/module${i}/file${i}.ts`, fileLines(rng, 150 + rng.below(500)));
  const paths = () => [...files.keys()];
  let mark = 0;
  let time = 1_600_000_000;
  let mainTip = 0;
  const commit = async (branch, from, merge, changes, message) => {
    mark++;
    time += 600;
    let text = `commit refs/heads/${branch}\nmark :${mark}\n`;
    text += `author Dev ${mark % 7} <dev${mark % 7}@example.com> ${time} +0000\n`;
    text += `committer Dev ${mark % 7} <dev${mark % 7}@example.com> ${time} +0000\n`;
    text += blob(message);
    if (from) text += `from :${from}\n`;
    if (merge) text += `merge :${merge}\n`;
    await write(text);
    for (const change of changes) await write(change);
    await write("\n");
    return mark;
  };
  const modify = (path) => `M 100644 inline ${path}\n${blob(`${(files.get(path) ?? []).join("\n")}\n`)}`;

  // The first commit adds every file.
  mainTip = await commit("main", 0, 0, paths().map(modify), "initial import\n");
  let made = 1;
  while (made < COMMITS) {
    if (made % BRANCH_EVERY === 0) {
      // A feature branch on files main leaves alone meanwhile, merged back with a resolution of its own.
      const branch = `feature-${made}`;
      const own = paths().filter((_, i) => i % 40 === (made / BRANCH_EVERY) % 40);
      let tip = mainTip;
      for (let i = 0; i < BRANCH_COMMITS; i++) {
        const path = own[rng.below(own.length)];
        edit(rng, files.get(path));
        tip = await commit(branch, tip, 0, [modify(path)], `work on ${branch}\n`);
      }
      const fixed = own[0];
      files.get(fixed).push(codeLine(rng));
      mainTip = await commit("main", mainTip, tip, [...own.map(modify)], `Merge ${branch}\n`);
      made += BRANCH_COMMITS + 1;
      continue;
    }
    const changes = [];
    const touched = 1 + rng.below(3);
    for (let i = 0; i < touched; i++) {
      const all = paths();
      const path = all[rng.below(all.length)];
      edit(rng, files.get(path));
      if (made % LEAK_EVERY === 7 && i === 0) {
        files.get(path).push(`  const token = "${SAMPLE_FORMATS["github-pat"](tokens)}";`);
      }
      changes.push(modify(path));
    }
    if (made % 97 === 0) {
      // A rename with an edit: -M follows it.
      const from = paths()[rng.below(FILES)];
      const to = from.replace(/\.ts$/, `-${made}.ts`);
      files.set(to, files.get(from));
      files.delete(from);
      edit(rng, files.get(to));
      changes.push(`D ${from}\n`, modify(to));
    }
    if (made % 250 === 0) {
      const bytes = Buffer.from(rng.bytes(20_000));
      changes.push(`M 100644 inline assets/image-${made}.bin\ndata ${bytes.length}\n`, bytes, "\n");
    }
    mainTip = await commit("main", mainTip, 0, changes, `change ${made}\n`);
    made++;
  }
  await write("done\n");
  child.stdin.end();
  const code = await new Promise((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`git fast-import failed (${code})`);
}

/** The benchmark repository, built once and reused. */
export async function historyRepository() {
  const repo = join(CACHE, `history-${COMMITS}-v3`);
  if (existsSync(join(repo, "leakwarden-ready"))) return repo;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  const git = (...args) => {
    const result = spawnSync("git", args, { cwd: repo, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  };
  git("init", "--quiet", "--bare");
  const started = performance.now();
  await fastImport(repo);
  // Deltas recomputed as a server packs them for a clone (fast-import's own are poor and slow git down);
  // then gc writes the commit-graph, as in any maintained repository.
  git("repack", "-a", "-d", "-f", "--quiet");
  git("gc", "--quiet");
  spawnSync("touch", ["leakwarden-ready"], { cwd: repo });
  console.log(`built ${repo} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return repo;
}

/**
 * A long linear history of small edits, for memory: `commits` commits that each change one of 2,000 files of
 * about 2 KB (one line replaced, now and then one added). Ten times expressjs/express's commit count is 115,000.
 * Built once with git fast-import in bench/.cache.
 */
export async function longHistoryRepository(commits) {
  const repo = join(CACHE, `long-history-${commits}-v1`);
  if (existsSync(join(repo, "leakwarden-ready"))) return repo;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  spawnSync("git", ["init", "--quiet", "--bare"], { cwd: repo });
  const child = spawn("git", ["fast-import", "--quiet", "--done"], {
    cwd: repo,
    stdio: ["pipe", "inherit", "inherit"],
  });
  const write = async (text) => {
    if (!child.stdin.write(text)) await new Promise((resolve) => child.stdin.once("drain", resolve));
  };
  const rng = new SeededRandom(20261201);
  const files = Array.from({ length: 2000 }, () => fileLines(rng, 50));
  for (let mark = 1; mark <= commits; mark++) {
    const index = rng.below(files.length);
    const lines = files[index];
    lines[rng.below(lines.length)] = codeLine(rng);
    if (rng.below(4) === 0) lines.push(codeLine(rng));
    const content = `${lines.join("\n")}\n`;
    const message = `change ${mark}\n`;
    await write(
      `commit refs/heads/main\nmark :${mark}\ncommitter Dev <dev@example.com> ${1_600_000_000 + mark * 60} +0000\n` +
        `data ${message.length}\n${message}${mark > 1 ? `from :${mark - 1}\n` : ""}` +
        `M 100644 inline src/dir${index % 40}/file${index}.ts\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  await write("done\n");
  child.stdin.end();
  if ((await new Promise((resolve) => child.on("close", resolve))) !== 0)
    throw new Error("git fast-import failed");
  spawnSync("git", ["gc", "--quiet"], { cwd: repo });
  spawnSync("touch", ["leakwarden-ready"], { cwd: repo });
  return repo;
}

function timed(command, args, cwd) {
  const started = process.hrtime.bigint();
  const child = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0 && child.status !== 1)
    throw new Error(`${command} failed (${child.status}): ${child.stderr}`);
  const rss = Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr)?.[1] ?? 0) / 1024;
  return { seconds, stdout: child.stdout, rss };
}

/** Bytes `git log -p -U0 --all` writes: what the patch scan parses. */
function patchBytes(repo) {
  const child = spawnSync("sh", ["-c", "git log -p -U0 --all | wc -c"], { cwd: repo, encoding: "utf8" });
  return Number(child.stdout.trim());
}

/**
 * Runs `git log -p -U0 --all > /dev/null`, `scan --git --history-scan blobs` and `scan --git --history-scan
 * patches` in turn, `runs` rounds: on a busy machine each round's ratio compares
 * neighbours in time. Checks first that both ways give the same findings. Prints medians and ratios.
 */
export async function benchHistory(cli, runs, repo, label = "history") {
  repo ??= await historyRepository();
  const gitLog = () => timed("sh", ["-c", "git log -p -U0 --all > /dev/null"], repo);
  const rusage = join(import.meta.dirname, "rusage.js");
  const scan = (...extra) =>
    timed(
      process.execPath,
      ["--import", rusage, cli, "scan", "--git", "--format", "json", ...extra, repo],
      repo,
    );
  gitLog();
  const byBlobs = JSON.parse(scan("--history-scan", "blobs").stdout);
  const byPatches = JSON.parse(scan("--history-scan", "patches").stdout);
  const same = JSON.stringify(byBlobs.findings) === JSON.stringify(byPatches.findings);
  const git = [];
  const blobs = [];
  const patches = [];
  for (let i = 0; i < runs; i++) {
    git.push(gitLog().seconds);
    blobs.push(scan("--history-scan", "blobs"));
    patches.push(scan("--history-scan", "patches"));
  }
  const g = median(git);
  const b = median(blobs.map((r) => r.seconds));
  const p = median(patches.map((r) => r.seconds));
  const ratio = (runsOf) => median(git.map((t, i) => runsOf[i].seconds / t)).toFixed(2);
  const mb = (bytes) => bytes / 1024 / 1024;
  const blobMb = mb(byBlobs.stats.bytes);
  const patchMb = mb(patchBytes(repo));
  console.log(
    `\n${label}: ${byBlobs.stats.commits} commits, ${byBlobs.stats.files} blobs checked (${blobMb.toFixed(1)} MB), ${patchMb.toFixed(1)} MB of git log -p -U0 output, ${byBlobs.findings.length} findings`,
  );
  console.log(
    `  same findings by blobs and by patches: ${same ? "yes" : "NO"} (${byBlobs.findings.length} and ${byPatches.findings.length})`,
  );
  console.log(`  git log -p -U0 --all > /dev/null        ${g.toFixed(3)} s (median of ${runs})`);
  console.log(
    `  scan --git (blobs, the default)         ${b.toFixed(3)} s, ${(blobMb / b).toFixed(0)} MB/s of blobs, peak RSS ${median(blobs.map((r) => r.rss)).toFixed(0)} MB; ratio ${ratio(blobs)} (median of per-round ratios; target <= 1.0)`,
  );
  console.log(
    `  scan --git --history-scan patches       ${p.toFixed(3)} s, ${(patchMb / p).toFixed(0)} MB/s of patches, peak RSS ${median(patches.map((r) => r.rss)).toFixed(0)} MB; ratio ${ratio(patches)}`,
  );
  return { same, ratio: Number(ratio(blobs)) };
}

/** The real-repository case: a clone (bare or not) named by LEAKWARDEN_BENCH_REPO; never committed here. */
export async function benchRealHistory(cli, runs) {
  const repo = process.env.LEAKWARDEN_BENCH_REPO;
  if (!repo) {
    console.log(
      "\nhistory of a real repository: skipped, LEAKWARDEN_BENCH_REPO is not set (e.g. a git clone --mirror of expressjs/express)",
    );
    return undefined;
  }
  return benchHistory(cli, runs, repo, `real repository ${repo}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cli = join(import.meta.dirname, "..", "bin", "leakwarden.js");
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  if (process.env.BENCH_HISTORY_SYNTHETIC !== "0") await benchHistory(cli, runs);
  await benchRealHistory(cli, runs);
  // Memory on a long history: BENCH_HISTORY_LONG=115000 (ten times expressjs/express's commits).
  const long = Number(process.env.BENCH_HISTORY_LONG ?? 0);
  if (long > 0)
    await benchHistory(cli, runs, await longHistoryRepository(long), `long linear history (${long} commits)`);
}
