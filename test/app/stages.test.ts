// The app's stages end to end on real parts: a real SQLite file, real git repositories, HTTP stand-ins for
// GitHub and Azure DevOps. Revocation must not wait for reports, and a crash between stages must lose nothing.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { breachKey } from "../../src/app/breach-issue.js";
import { GitCache, type PushOutcome, type PushRef } from "../../src/app/git-cache.js";
import { acceptDelivery } from "../../src/app/handlers.js";
import { Pipeline, type PipelineOptions } from "../../src/app/pipeline.js";
import { REPORT_KIND } from "../../src/app/report-jobs.js";
import { SCAN_KIND, SCAN_MAX_ATTEMPTS, type ScanPayload } from "../../src/app/scan-jobs.js";
import { type AzureDevOpsStandIn, startAzureDevOpsStandIn } from "../../src/demo/azure-devops.js";
import { type GitHubStandIn, startGitHubStandIn, type WriteThrottle } from "../../src/demo/github.js";
import { Registry } from "../../src/registry/registry.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret } from "../../src/scan/secret.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../../src/sources/log-archive.js";
import { openStore, type Store } from "../../src/store/index.js";
import { PRIORITY } from "../../src/store/jobs.js";
import { LiveChecker } from "../../src/validate/checker.js";
import { CONFIRM_KIND } from "../../src/validate/confirm.js";
import { validateSettings } from "../../src/validate/settings.js";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { TestOctokit } from "../support/probot.js";
import { tokens } from "../support/tokens.js";

const ENTRA = "entra-token-for-stage-tests";
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface World {
  dir: string;
  github: GitHubStandIn;
  ado: AzureDevOpsStandIn;
  dbPath: string;
  pats: string[];
  payloads: ScanPayload[];
  logs: string[];
  pipeline(store: Store, options?: Partial<PipelineOptions>): Pipeline;
}

/** `pushes` branches, each leaking its own registered Azure DevOps PAT, in a repository served from disk. */
async function world(pushes: number, seed: number, throttle?: WriteThrottle): Promise<World> {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const github = await startGitHubStandIn(join(dir.path, "served"), throttle ? { throttle } : {});
  const ado = await startAzureDevOpsStandIn(() => "", ENTRA);
  cleanups.push(github.close, ado.close);
  const work = join(dir.path, "work");
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", work]);
  git(work, "config", "user.email", "dana@example.com");
  git(work, "config", "user.name", "Dana Dev");
  git(work, "commit", "--quiet", "--allow-empty", "-m", "start");
  const base = git(work, "rev-parse", "HEAD");
  const t = tokens(seed);
  const pats: string[] = [];
  const branches: { ref: string; after: string }[] = [];
  for (let i = 0; i < pushes; i++) {
    const pat = t.adoPat();
    pats.push(pat);
    git(work, "checkout", "--quiet", "-b", `leak-${i}`, base);
    execFileSync("sh", ["-c", `printf 'export AZURE_DEVOPS_EXT_PAT=%s\\n' "$PAT" > deploy.sh`], {
      cwd: work,
      env: { ...process.env, PAT: pat },
    });
    git(work, "add", ".");
    git(work, "commit", "--quiet", "-m", `deploy ${i}`);
    branches.push({ ref: `refs/heads/leak-${i}`, after: git(work, "rev-parse", "HEAD") });
  }
  const served = join(dir.path, "served", "acme", "app.git");
  git(dir.path, "clone", "--quiet", "--bare", work, served);
  const dbPath = join(dir.path, "app.db");
  const store = await openStore({ path: dbPath, env: {} });
  const registry = new Registry(store);
  for (const pat of pats)
    await registry.add(new Secret(pat), {
      provider: "azure-devops",
      org: "contoso",
      authorizationId: randomUUID(),
    });
  await store.close();
  const repository = {
    owner: "acme",
    name: "app",
    fullName: "acme/app",
    htmlUrl: "https://github.com/acme/app",
    visibility: "private" as const,
  };
  const payloads: ScanPayload[] = branches.map((b) => ({
    type: "push",
    installation: 7,
    repository,
    ref: b.ref,
    before: "0".repeat(40),
    after: b.after,
    pusher: "dana-dev",
  }));
  const logs: string[] = [];
  const pipeline = (store: Store, options: Partial<PipelineOptions> = {}) =>
    new Pipeline({
      store,
      octokitFor: async () =>
        new TestOctokit({ auth: { token: github.installationToken }, baseUrl: `${github.url}/api/v3` }),
      revokers: createRevokers(
        { LEAKWARDEN_ADO_TOKEN: ENTRA, LEAKWARDEN_ADO_VSSPS_URL: ado.url },
        { githubApiUrl: `${github.url}/api/v3` },
      ),
      cache: new GitCache({ root: join(dir.path, "cache"), maxBytes: 1e9, remote: join(dir.path, "served") }),
      rules: loadRules(),
      maxFileSize: 1e6,
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
      scanConcurrency: 2,
      writeIntervalMs: 0,
      log: (line) => logs.push(line),
      warn: (line) => logs.push(line),
      ...options,
    });
  return { dir: dir.path, github, ado, dbPath, pats, payloads, logs, pipeline };
}

async function deliver(store: Store, payloads: ScanPayload[]): Promise<void> {
  for (const p of payloads)
    if (p.type === "push") await acceptDelivery(store, randomUUID(), "push", p.repository.fullName, p);
}

async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the stages", () => {
  it("a throttled GitHub (403 + Retry-After on every second write) does not delay revocations", async () => {
    const w = await world(3, 901, { everyNth: 2, retryAfterSeconds: 3 });
    const store = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => store.close());
    const pipeline = w.pipeline(store);
    await pipeline.start();
    cleanups.push(() => pipeline.stop());
    await deliver(store, w.payloads);
    pipeline.scansQueued();

    await until("every revocation", () => w.ado.revoked.length >= 3);
    expect(w.github.issues.length).toBeLessThan(3);
    // GitHub refuses a write and asks for 3 s: the reports wait for it; the revocations did not.
    await until("a report waiting for GitHub", async () =>
      (await store.jobs.list({ kind: REPORT_KIND })).some(
        (j) => j.state === "pending" && /GitHub asked to wait 3 s \(403/.test(j.lastError ?? ""),
      ),
    );
    // The pause is kept in the store, where every replica on the database sees it.
    expect([...(await store.writePace.paused()).keys()]).toEqual(["installation:7"]);
    expect(w.ado.revoked).toHaveLength(3);

    await until("every issue", () => w.github.issues.length >= 3, 60_000);
    await pipeline.drain(10_000);
    // The issues came after the revocations: each says so in its body, and needs no comment.
    for (const issue of w.github.issues) {
      expect(issue.body).toMatch(/revoked at .* through the Azure DevOps Token Admin API/);
      expect(issue.comments).toEqual([]);
    }
    expect(w.ado.revoked).toHaveLength(3);
    expect(new Set(w.ado.revoked).size).toBe(3);
    expect(w.github.issues).toHaveLength(3);
    expect((await store.jobs.list({ kind: REPORT_KIND })).every((j) => j.state === "done")).toBe(true);
    // A Retry-After wait spent no attempt.
    expect((await store.jobs.list({ kind: REPORT_KIND })).every((j) => j.attempts === 1)).toBe(true);
    expect(w.logs.join("\n")).toMatch(/stage times from the webhook: scan .* s, revoke .* s, report .* s/);
    for (const pat of w.pats) expect(w.logs.join("\n")).not.toContain(pat);
  }, 90_000);

  it("a crash between stages loses nothing: each stage picks up after a restart, exactly once", async () => {
    const w = await world(2, 902);
    const dead = `${hostname()}:2147483646:deadbeef`;

    // First life: the scans run, then the process dies before revoking or reporting.
    let store = await openStore({ path: w.dbPath, env: {} });
    await deliver(store, w.payloads);
    await w.pipeline(store).scans.drain(20_000);
    expect((await store.jobs.counts(REPORT_KIND)).pending).toBe(2);
    // It had taken one report job when it died.
    expect(
      await store.jobs.claim({ kind: REPORT_KIND, owner: dead, leaseMs: 3_600_000, limit: 1 }),
    ).toHaveLength(1);
    await store.close();
    expect(w.ado.revoked).toEqual([]);

    // Second life: the issues are opened; the revocations run in a worker that dies before the outcome
    // comments are queued (no listener).
    store = await openStore({ path: w.dbPath, env: {} });
    const second = w.pipeline(store);
    await second.reports.drain(20_000);
    expect(w.github.issues).toHaveLength(2);
    const bare = new RevocationWorker({
      store,
      revokers: createRevokers({ LEAKWARDEN_ADO_TOKEN: ENTRA, LEAKWARDEN_ADO_VSSPS_URL: w.ado.url }, {}),
    });
    await bare.drain({ maxWaitMs: 20_000 });
    expect(w.ado.revoked).toHaveLength(2);
    await store.close();

    // Third life: the sweep at start finds the outcomes no issue has heard yet.
    store = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => store.close());
    const third = w.pipeline(store);
    await third.start();
    cleanups.push(() => third.stop());
    await until("the outcome comments", () => w.github.issues.every((i) => i.comments.length === 1));
    await third.drain(20_000);
    // Redelivering the pushes changes nothing.
    await deliver(store, w.payloads);
    await third.drain(20_000);
    expect(w.ado.revoked).toHaveLength(2);
    expect(w.github.issues).toHaveLength(2);
    expect(w.github.issues.map((i) => i.comments.length)).toEqual([1, 1]);
    expect(await store.audit.list({ action: "report.resume" })).toHaveLength(1);
    // The reports queued between stages hold previews, never a token.
    expectNotInFiles(databaseFiles(w.dbPath), w.pats);
    expectNotInText(w.logs, w.pats);
  }, 90_000);
});

/** A cache whose batch stalls after its first `pass` pushes are recorded: a worker that hangs mid-batch, then dies. */
class StallingCache extends GitCache {
  stalled = false;
  private release: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  constructor(
    root: string,
    remote: string,
    private readonly pass: number,
  ) {
    super({ root, maxBytes: 1e9, remote });
  }

  override scanPushes<T>(
    repository: { fullName: string },
    token: string | undefined,
    updates: readonly PushRef[],
    scan: (path: string, indices: readonly number[]) => Promise<PushOutcome<T>[]>,
  ): Promise<PushOutcome<T>[]> {
    return super.scanPushes(repository, token, updates, async (path, indices) => {
      // The first pushes of the batch are scanned and recorded; then the worker hangs.
      await scan(path, indices.slice(0, this.pass));
      this.stalled = true;
      await this.gate;
      throw new Error("the worker died");
    });
  }

  /** The hung worker comes back, too late: its scans fail. */
  wake(): void {
    this.release();
  }
}

const scanLines = (logs: string[]) => logs.filter((l) => l.startsWith("scan job "));

describe("a burst of pushes to one repository", () => {
  it("is scanned together, and each push still gets its own issue; every token is revoked once", async () => {
    const w = await world(6, 903);
    const store = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => store.close());
    await deliver(store, w.payloads);
    const pipeline = w.pipeline(store, { scanConcurrency: 1 });
    await pipeline.start();
    cleanups.push(() => pipeline.stop());

    await until("every revocation", () => w.ado.revoked.length >= 6);
    await until("every issue", () => w.github.issues.length >= 6);
    await pipeline.drain(20_000);
    // One scan slot took all six at once.
    const lines = scanLines(w.logs);
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/one of 6 pushes taken together; settings .* s, fetch/);
    // Each push has its own issue, naming its own branch and only its own token's preview.
    expect(w.github.issues).toHaveLength(6);
    const refs = w.github.issues.map((i) => /refs\/heads\/(leak-\d+)/.exec(i.body)?.[1]).sort();
    expect(refs).toEqual(["leak-0", "leak-1", "leak-2", "leak-3", "leak-4", "leak-5"]);
    for (const issue of w.github.issues) {
      const own = Number(/leak-(\d+)/.exec(issue.body)?.[1]);
      const pat = w.pats[own] as string;
      expect(issue.body).toContain(pat.slice(-4));
      for (const [i, other] of w.pats.entries())
        if (i !== own) expect(issue.body).not.toContain(other.slice(-4));
    }
    expect(w.ado.revoked).toHaveLength(6);
    expect(new Set(w.ado.revoked).size).toBe(6);
    const scans = await store.jobs.list({ kind: SCAN_KIND });
    expect(scans.every((j) => j.state === "done" && j.attempts === 1)).toBe(true);
    expectNotInFiles(databaseFiles(w.dbPath), w.pats);
    expectNotInText(w.logs, w.pats);
  }, 90_000);

  it("confirms each revocation once it has ended, without a look at it before", async () => {
    const w = await world(3, 905);
    const store = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => store.close());
    const putOff = vi.spyOn(store.jobs, "release");
    await deliver(store, w.payloads);
    const checker = new LiveChecker({
      store,
      settings: validateSettings({ LEAKWARDEN_ADO_URL: w.ado.url }),
      ttlMs: 60_000,
    });
    const pipeline = w.pipeline(store, { checker });
    await pipeline.start();
    cleanups.push(() => pipeline.stop());

    const confirmed = await until("every confirmation", async () => {
      const done = (await store.jobs.list({ kind: CONFIRM_KIND })).filter((j) => j.state === "done");
      return done.length >= 3 && done;
    });
    expect(confirmed.map((j) => j.outcome)).toEqual(["confirmed", "confirmed", "confirmed"]);
    expect(w.ado.revoked).toHaveLength(3);
    // Woken by its revocation's outcome, a confirmation is never taken too early and put off for later.
    const ids = new Set(confirmed.map((j) => j.id));
    expect(putOff.mock.calls.filter(([released]) => released.some((id) => ids.has(id)))).toEqual([]);
  }, 60_000);

  it("a worker that stalls mid-batch loses no push: once its lease runs out another takes the batch over", async () => {
    const w = await world(6, 904);
    const served = join(w.dir, "served");
    // First worker: it records two pushes of the batch, then hangs (as a process that froze and died would).
    const first = await openStore({ path: w.dbPath, env: {} });
    await deliver(first, w.payloads);
    const stalling = new StallingCache(join(w.dir, "cache-a"), served, 2);
    const a = w.pipeline(first, { scanConcurrency: 1, scanLeaseMs: 1_500, cache: stalling });
    await a.start();
    // Two pushes recorded (their reports are queued), the other four stuck in the hung scan.
    const recorded = async () => (await first.jobs.list({ kind: REPORT_KIND })).length;
    await until("the first worker to hang", async () => stalling.stalled && (await recorded()) === 2);
    expect((await first.jobs.counts(SCAN_KIND)).running).toBe(6);

    // Second worker: it takes over every job of the batch when the lease runs out.
    const second = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => second.close());
    const b = w.pipeline(second, { scanConcurrency: 1 });
    await b.start();
    cleanups.push(() => b.stop());
    await until("every revocation", () => w.ado.revoked.length >= 6, 30_000);
    await until("every issue", () => w.github.issues.length >= 6, 30_000);
    await until("every scan job done", async () => (await second.jobs.counts(SCAN_KIND)).done === 6);

    // The hung worker wakes up: its late failures change nothing (the jobs are no longer its own).
    stalling.wake();
    await a.stop();
    await first.close();
    await b.drain(20_000);
    expect((await second.jobs.list({ kind: SCAN_KIND })).every((j) => j.state === "done")).toBe(true);
    expect(w.ado.revoked).toHaveLength(6);
    expect(new Set(w.ado.revoked).size).toBe(6);
    expect(w.github.issues).toHaveLength(6);
    expect(new Set(w.github.issues.map((i) => /leak-\d+/.exec(i.body)?.[0])).size).toBe(6);
  }, 90_000);

  it("a backfill-priority push does not ride along with a push to its repository ahead of another's push", async () => {
    const w = await world(3, 905);
    // A second repository holding the same commits.
    git(
      w.dir,
      "clone",
      "--quiet",
      "--bare",
      join(w.dir, "served", "acme", "app.git"),
      "served/acme/other.git",
    );
    const store = await openStore({ path: w.dbPath, env: {} });
    cleanups.push(() => store.close());
    const [p0, p1, p2] = w.payloads as [ScanPayload, ScanPayload, ScanPayload];
    // Queued first: the backfill of acme/app's leak-1; then a live push to acme/app, then one to acme/other.
    const backfill = (
      await store.jobs.enqueue<ScanPayload>({
        kind: SCAN_KIND,
        key: breachKey("acme/app", {
          kind: "push",
          ref: (p1 as { ref: string }).ref,
          after: (p1 as { after: string }).after,
        }),
        queue: SCAN_KIND,
        payload: p1,
        maxAttempts: SCAN_MAX_ATTEMPTS,
        priority: PRIORITY.bulk,
      })
    ).job;
    const other = {
      ...p2,
      repository: { ...p2.repository, name: "other", fullName: "acme/other" },
    } as ScanPayload;
    await deliver(store, [p0, other]);
    const pipeline = w.pipeline(store, { scanConcurrency: 1 });
    await pipeline.scans.drain(30_000);

    const order = scanLines(w.logs).map((l) =>
      /^scan job \d+ \(push:(acme\/\w+):refs\/heads\/(leak-\d)/.exec(l)?.slice(1).join(" "),
    );
    expect(order).toEqual(["acme/app leak-0", "acme/other leak-2", "acme/app leak-1"]);
    // Each went alone: the backfill waited its turn rather than ride along with the live push to its repository.
    for (const line of scanLines(w.logs)) expect(line).not.toMatch(/taken together/);
    expect((await store.jobs.byId(backfill.id))?.state).toBe("done");
  }, 90_000);
});
