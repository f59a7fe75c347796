// The App under a burst: the real `leakwarden serve` on local stand-ins (GitHub with GitHub-like pacing of
// writes, git over HTTP, Azure DevOps), N pushes that each leak their own registered Azure DevOps PAT, their
// signed webhooks sent within one second over one installation. Reports webhook → revoke call and webhook →
// issue percentiles, throughput, and the server's peak RSS; checks every token is revoked once, one issue per push.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { cpSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { childServerPort } from "../dist/demo/ports.js";
import { CLI, startScenario } from "../dist/demo/scenario.js";
import { Registry } from "../dist/registry/registry.js";
import { SAMPLE_FORMATS, SeededRandom } from "../dist/scan/samples.js";
import { Secret } from "../dist/scan/secret.js";
import { openStore } from "../dist/store/index.js";
import { median } from "./median.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUSAGE = join(here, "rusage.js");
/** Compressed time: GitHub asks about 1 s between content-creating requests; the stand-in refuses writes closer
 * than 250 ms (403 + Retry-After: 1), and the app is told to keep 300 ms. Reports then lag by minutes, not hours. */
const THROTTLE = { minIntervalMs: 250, retryAfterSeconds: 1 };
const WRITE_INTERVAL_MS = 300;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** Node options of every `serve` benchmarked: its peak RSS and CPU, and BENCH_NODE_ARGS (--cpu-prof --cpu-prof-dir=/tmp/prof to profile it). */
const serveNodeArgs = () => [
  "--import",
  RUSAGE,
  ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
];

/** A second `serve` on the scenario's database (PostgreSQL), its own port and git cache. */
async function startReplica(scenario) {
  const port = childServerPort();
  const env = { ...scenario.env, PORT: String(port), LEAKWARDEN_CACHE: join(scenario.dir, "repos-2") };
  const child = spawn(process.execPath, [...serveNodeArgs(), CLI, "serve"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks = [];
  child.stdout.on("data", (chunk) => chunks.push(chunk));
  child.stderr.on("data", (chunk) => chunks.push(chunk));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  /** Stops it, and returns everything it wrote (its CPU and RSS come at exit). */
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    return Buffer.concat(chunks).toString("utf8");
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child, stop };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error("the second replica did not start");
}

async function deliverTo(scenario, url, payload) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", scenario.env.WEBHOOK_SECRET).update(body).digest("hex")}`;
  const response = await fetch(`${url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": signature,
    },
    body,
  });
  return { status: response.status };
}

/**
 * `setup`: the engine, how many replicas share the webhooks (two only on PostgreSQL), over how many
 * repositories the pushes are spread (default one: a burst to one repository, scanned one batch at a time), and
 * whether each push is an update of a branch the App has scanned already (`updates`; default: new branches).
 */
export async function benchLoad(pushes, setup = { engine: "sqlite", replicas: 1 }) {
  const repositories = setup.repositories ?? 1;
  const pgUrl = process.env.LEAKWARDEN_BENCH_DATABASE_URL;
  const schema = `lw_load_${process.pid}_${setup.replicas}_${setup.repositories ?? 1}`;
  let admin;
  if (setup.engine === "postgres") {
    admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`CREATE SCHEMA "${schema}"`);
  }
  const pgEnv = () => {
    const url = new URL(pgUrl);
    url.searchParams.set("options", `-c search_path=${schema}`);
    return { LEAKWARDEN_DATABASE_URL: url.toString(), LEAKWARDEN_KEY: "ab".repeat(32) };
  };
  const scenario = await startScenario({
    githubThrottle: THROTTLE,
    nodeArgs: serveNodeArgs(),
    env: {
      ...(setup.engine === "postgres" ? pgEnv() : {}),
      LEAKWARDEN_GITHUB_WRITE_INTERVAL_MS: String(WRITE_INTERVAL_MS),
      ...(process.env.LEAKWARDEN_CONCURRENCY
        ? { LEAKWARDEN_CONCURRENCY: process.env.LEAKWARDEN_CONCURRENCY }
        : {}),
      // For bench/pg-statements.js, preloaded through BENCH_NODE_ARGS.
      ...(process.env.BENCH_PG_TIMELINE ? { BENCH_PG_TIMELINE: process.env.BENCH_PG_TIMELINE } : {}),
    },
  });
  let stopped = false;
  let replica;
  try {
    const rng = new SeededRandom(Date.now() % 2 ** 31);
    const mint = SAMPLE_FORMATS["azure-devops-pat"];
    const leaks = Array.from({ length: pushes }, (_, i) => ({
      branch: `load-${i}`,
      pat: mint(rng),
      authorizationId: randomUUID(),
    }));
    // Registered in the server's database, by hash: no token is written to a file.
    const store =
      setup.engine === "postgres"
        ? await openStore({ url: pgUrl, schema, env: { LEAKWARDEN_KEY: "ab".repeat(32) } })
        : await openStore({ path: scenario.env.LEAKWARDEN_DB, env: {} });
    const second = setup.replicas > 1 ? await startReplica(scenario) : undefined;
    replica = second;
    const registry = new Registry(store);
    for (const l of leaks)
      await registry.add(new Secret(l.pat), {
        provider: "azure-devops",
        org: "contoso",
        authorizationId: l.authorizationId,
      });
    await store.close();
    // Updates: each branch is pushed (clean) and scanned first; the burst then pushes on top of it.
    if (setup.updates)
      for (const leak of leaks)
        leak.start = await scenario.push(
          leak.branch,
          { [`${leak.branch}.md`]: "work in progress\n" },
          "Start",
        );
    for (const leak of leaks) {
      leak.update = await scenario.push(
        leak.branch,
        { "deploy.sh": `#!/bin/sh\nexport AZURE_DEVOPS_EXT_PAT=${leak.pat}\n` },
        `Deploy ${leak.branch}`,
        { onTop: setup.updates === true },
      );
    }
    // More repositories: copies of the served one (every branch in each); push i goes to repository i mod n.
    const repositoryOf = (i) => (i % repositories === 0 ? "app" : `app-${i % repositories}`);
    for (let k = 1; k < repositories; k++)
      cpSync(
        join(scenario.dir, "served", "acme", "app.git"),
        join(scenario.dir, "served", "acme", `app-${k}.git`),
        {
          recursive: true,
        },
      );
    /** Push i's webhook, to repository i mod n, through replica i mod 2. */
    const send = async (i, branch, update) => {
      const payload = scenario.pushPayload(branch, update);
      // As GitHub sends it: the default branch says which pushes may change the repository's settings.
      payload.repository.default_branch = "main";
      const name = repositoryOf(i);
      payload.repository = {
        ...payload.repository,
        name,
        full_name: `acme/${name}`,
        clone_url: payload.repository.clone_url.replace(/app\.git$/, `${name}.git`),
        html_url: `https://github.com/acme/${name}`,
      };
      const { status } =
        second && i % 2
          ? await deliverTo(scenario, second.url, payload)
          : await scenario.deliver("push", payload);
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    };
    if (setup.updates) {
      for (const [i, leak] of leaks.entries()) await send(i, leak.branch, leak.start);
      const deadline = Date.now() + 120_000;
      for (let scanned = false; !scanned; await new Promise((resolve) => setTimeout(resolve, 200))) {
        if (Date.now() > deadline) throw new Error("the branches were not scanned within 2 minutes");
        const { scans } = (await (await fetch(`${scenario.appUrl}/healthz`)).json()).queue;
        scanned = scans.pending === 0 && scans.running === 0;
      }
    }

    // The burst: every webhook within one second.
    const spacing = 1000 / pushes;
    const started = Date.now();
    await Promise.all(
      leaks.map(async (leak, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * spacing));
        leak.sentAt = Date.now();
        await send(i, leak.branch, leak.update);
      }),
    );
    const timeoutMs = 120_000 + pushes * 2 * WRITE_INTERVAL_MS * 4;
    await scenario.until(
      "every revocation",
      () => scenario.ado.revoked.length >= pushes || undefined,
      timeoutMs,
    );
    await scenario.until(
      "every issue",
      () => scenario.github.issues.length >= pushes || undefined,
      timeoutMs,
    );
    // Anything more (a second revocation, a second issue) would show within a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const byId = new Map(leaks.map((l) => [l.authorizationId, l]));
    const revokeCalls = scenario.ado.requests.filter((r) => r.path.endsWith("/_apis/tokenadmin/revocations"));
    const revokeMs = [];
    for (const call of revokeCalls)
      for (const { authorizationId } of JSON.parse(call.body)) {
        const leak = byId.get(authorizationId);
        if (leak) revokeMs.push(call.at - leak.sentAt);
      }
    const byRef = new Map(leaks.map((l) => [`refs/heads/${l.branch}:`, l]));
    const issueMs = [];
    for (const issue of scenario.github.issues) {
      // The hidden marker holds the push's key percent-encoded (breach-issue.ts markerFor).
      const marker = /push%3Aacme%2Fapp(?:%2D\d+)?%3A(\S+?)%3A[0-9a-f]{40} -->/.exec(issue.body)?.[1];
      const ref = marker && `${decodeURIComponent(marker)}:`;
      const leak = ref && byRef.get(ref);
      if (leak) issueMs.push(issue.openedAt - leak.sentAt);
    }
    const revokedOnce =
      scenario.ado.revoked.length === pushes && new Set(scenario.ado.revoked).size === pushes;
    const issuePerPush = scenario.github.issues.length === pushes && issueMs.length === pushes;
    const lastRevoke = Math.max(...revokeCalls.map((c) => c.at));
    const lastIssue = Math.max(...scenario.github.issues.map((i) => i.openedAt));
    await scenario.stop();
    stopped = true;
    const secondOutput = second ? await second.stop() : "";
    // BENCH_LOAD_LOG: where the server's log goes; the second replica's beside it, as <file>.2.
    if (process.env.BENCH_LOAD_LOG) {
      writeFileSync(process.env.BENCH_LOAD_LOG, scenario.output());
      if (second) writeFileSync(`${process.env.BENCH_LOAD_LOG}.2`, secondOutput);
    }
    const outputs = [scenario.output(), secondOutput];
    const rss = Math.max(...outputs.map((o) => Number(/BENCH_MAX_RSS_KB=(\d+)/.exec(o)?.[1] ?? 0))) / 1024;
    // Both replicas' CPU together: the second one's share of the two cores is part of what it costs.
    const cpu = (name) =>
      outputs.reduce((sum, o) => sum + Number(new RegExp(`${name}=(\\d+)`).exec(o)?.[1] ?? 0), 0);
    // Counted where GitHub refuses them, whichever replica made the write.
    const waits = scenario.github.refusedWrites.length;
    const row = (label, values) =>
      `  ${label.padEnd(20)} p50 ${seconds(percentile(values, 50)).padStart(8)}  p95 ${seconds(percentile(values, 95)).padStart(8)}  p99 ${seconds(percentile(values, 99)).padStart(8)}`;
    console.log(
      `${pushes} leaking pushes${setup.updates ? " (updates of scanned branches)" : ""}${repositories > 1 ? ` spread over ${repositories} repositories` : ""} on ${setup.engine}, ${setup.replicas} ${setup.replicas === 1 ? "replica" : "replicas"}, webhooks sent within 1 s, one installation:`,
    );
    console.log(row("webhook → revoke", revokeMs));
    console.log(row("webhook → issue", issueMs));
    console.log(
      `  throughput           ${(pushes / ((lastRevoke - started) / 1000)).toFixed(1)} revocations/s, ${(pushes / ((lastIssue - started) / 1000)).toFixed(1)} issues/s (GitHub pacing; ${waits} writes refused with Retry-After)`,
    );
    console.log(
      `  every token revoked exactly once: ${revokedOnce ? "yes" : "NO"}; one issue per push: ${issuePerPush ? "yes" : "NO"}; serve peak RSS ${rss.toFixed(0)} MB${second ? " (the larger replica)" : ""}`,
    );
    console.log(
      `  serve CPU per push   ${(cpu("BENCH_CPU_MS") / pushes).toFixed(0)} ms node, ${(cpu("BENCH_CHILD_CPU_MS") / pushes).toFixed(0)} ms git (start-up included${second ? "; both replicas" : ""})`,
    );
    if (!revokedOnce || !issuePerPush) process.exitCode = 1;
    return { revokeMs, issueMs, rss, waits, outputs };
  } finally {
    if (replica?.child.exitCode === null) replica.child.kill("SIGTERM");
    if (!stopped) await scenario.stop();
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  }
}

/**
 * The headline set-ups in `rounds` alternated rounds (SQLite, then PostgreSQL with one and with two replicas, in
 * each): on a noisy machine, a ratio of neighbours in time says more than one run of each. Prints each round's
 * p50 and the medians of the per-round ratios the targets are about (PostgreSQL/SQLite at one replica, two
 * replicas/one).
 */
async function alternatedRounds(pushes, setups, rounds) {
  const label = (setup) => `${setup.engine} ${setup.replicas}`;
  const p50s = new Map(setups.map((setup) => [label(setup), []]));
  for (let round = 1; round <= rounds; round++) {
    console.log(`\nround ${round} of ${rounds}:`);
    for (const setup of setups)
      p50s.get(label(setup)).push(percentile((await benchLoad(pushes, setup)).revokeMs, 50));
  }
  const ratios = (over, under) => p50s.get(over).map((p50, i) => p50 / p50s.get(under)[i]);
  console.log(`\n${pushes} leaking pushes, ${rounds} alternated rounds, webhook → revoke p50:`);
  for (const [name, values] of p50s)
    console.log(`  ${name.padEnd(12)} ${values.map(seconds).join(", ")} (median ${seconds(median(values))})`);
  if (!p50s.has("postgres 1")) return;
  const show = (name, values, target) =>
    console.log(
      `  ${name.padEnd(30)} ${values.map((r) => r.toFixed(2)).join(", ")} (median ${median(values).toFixed(2)}; target <= ${target})`,
    );
  show("postgres 1 / sqlite 1", ratios("postgres 1", "sqlite 1"), "1.2");
  show("postgres 2 / postgres 1", ratios("postgres 2", "postgres 1"), "1.0");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  const rounds = Number(process.env.BENCH_LOAD_ROUNDS ?? 1);
  console.log("leakwarden load bench: the App on local stand-ins\n");
  // SQLite with one replica; with LEAKWARDEN_BENCH_DATABASE_URL also PostgreSQL with one and with two replicas.
  // BENCH_LOAD_UPDATES=1: each push updates a branch the App scanned before, instead of creating one.
  const updates = process.env.BENCH_LOAD_UPDATES === "1";
  const setups = [
    { engine: "sqlite", replicas: 1, updates },
    ...(process.env.LEAKWARDEN_BENCH_DATABASE_URL
      ? [
          { engine: "postgres", replicas: 1, updates },
          { engine: "postgres", replicas: 2, updates },
        ]
      : []),
  ];
  for (const pushes of sizes.length > 0 ? sizes : [50, 200])
    if (rounds > 1) await alternatedRounds(pushes, setups, rounds);
    else for (const setup of setups) await benchLoad(pushes, setup);
  // Apart from the headline (one repository): the same pushes spread over five repositories, where replicas
  // can scan different repositories at once.
  if (process.env.LEAKWARDEN_BENCH_DATABASE_URL && process.env.BENCH_LOAD_SPREAD !== "0") {
    console.log("\nThe same, spread over several repositories (not the headline):\n");
    for (const pushes of sizes.length > 0 ? sizes : [50, 200])
      for (const replicas of [1, 2])
        await benchLoad(pushes, { engine: "postgres", replicas, repositories: 5 });
  }
}
