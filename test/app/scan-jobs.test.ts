import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { SCAN_KIND, type ScanJob, ScanJobRunner, type ScanPayload } from "../../src/app/scan-jobs.js";
import { ORPHAN_CHECK_MS } from "../../src/jobs/orphan-check.js";
import { StageRunner } from "../../src/jobs/stage.js";
import { openStore } from "../../src/store/index.js";
import { PRIORITY } from "../../src/store/jobs.js";
import { tempDir } from "../support/cli.js";

const dir = tempDir();
const store = await openStore({ path: join(dir.path, "jobs.db"), env: {} });
afterAll(async () => {
  await store.close();
  dir.remove();
});

const payload: ScanPayload = {
  type: "workflow_run",
  installation: 1,
  repository: { owner: "acme", name: "app", fullName: "acme/app", htmlUrl: "", visibility: "private" },
  runId: 1,
  attempt: 1,
  runName: "CI",
  runUrl: "",
  actor: "dana",
};
const enqueue = async (key: string, maxAttempts = 3, priority: number = PRIORITY.live) =>
  (
    await store.jobs.enqueue<ScanPayload>({
      kind: SCAN_KIND,
      key,
      queue: SCAN_KIND,
      payload,
      maxAttempts,
      priority,
    })
  ).job;

describe("the scan runner", () => {
  it("resumes a job whose worker died mid-scan, and runs it once", async () => {
    const job = await enqueue("crashed");
    // A worker on this host with a process id that no longer exists claimed it, then died.
    const dead = `${hostname()}:2147483646:deadbeef`;
    expect(
      (await store.jobs.claim({ kind: SCAN_KIND, owner: dead, leaseMs: 3_600_000, limit: 10 })).map(
        (j) => j.id,
      ),
    ).toEqual([job.id]);
    const handled: number[] = [];
    const runner = new ScanJobRunner({ store, handle: async (j) => void handled.push(j.id) });
    await runner.drain(5000);
    expect(handled).toEqual([job.id]);
    expect(await store.jobs.byId(job.id)).toMatchObject({ state: "done", attempts: 1 });
    expect(await store.audit.list({ action: "scan.resume" })).toHaveLength(1);
    await runner.drain(1000);
    expect(handled).toEqual([job.id]);
  });

  it("retries a failing job with backoff, then gives up and audits it", async () => {
    const job = await enqueue("flaky", 2);
    let calls = 0;
    const failing = async (_: ScanJob) => {
      calls++;
      throw new Error("GitHub answered 502");
    };
    const runner = new ScanJobRunner({ store, handle: failing, retry: { baseMs: 1, maxMs: 1 } });
    await runner.drain(5000);
    expect(calls).toBe(2);
    expect(await store.jobs.byId(job.id)).toMatchObject({
      state: "dead",
      attempts: 2,
      lastError: "GitHub answered 502",
    });
    expect((await store.audit.list({ action: "scan.dead" }))[0]?.detail).toMatchObject({
      key: "flaky",
      attempts: 2,
    });
  });

  it("a backfill-priority job does not overtake a push queued after it", async () => {
    const handled: string[] = [];
    await enqueue("backfill-1", 3, PRIORITY.bulk);
    await enqueue("backfill-2", 3, PRIORITY.bulk);
    await enqueue("push", 3, PRIORITY.live);
    const runner = new ScanJobRunner({
      store,
      concurrency: 1,
      handle: async (j) => void handled.push(j.key),
    });
    await runner.drain(5000);
    expect(handled).toEqual(["push", "backfill-1", "backfill-2"]);
  });

  it("takes the next job as soon as a slot frees, while a slow job holds its own", async () => {
    const handled: string[] = [];
    let releaseSlow: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    await enqueue("slow");
    for (let i = 0; i < 5; i++) await enqueue(`quick-${i}`);
    const runner = new ScanJobRunner({
      store,
      concurrency: 2,
      pollMs: 60_000,
      handle: async (j) => {
        if (j.key === "slow") await slow;
        handled.push(j.key);
      },
    });
    runner.start();
    for (let i = 0; i < 200 && handled.length < 5; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // All five quick jobs went through the second slot while the slow one held the first.
    expect(handled).toEqual(["quick-0", "quick-1", "quick-2", "quick-3", "quick-4"]);
    releaseSlow();
    await runner.stop();
    expect(handled).toContain("slow");
  });

  it("wakes up for a job queued while it sleeps", async () => {
    const handled: string[] = [];
    const runner = new ScanJobRunner({
      store,
      handle: async (j) => void handled.push(j.key),
      pollMs: 60_000,
    });
    runner.start();
    await enqueue("queued-later");
    runner.notify();
    for (let i = 0; i < 100 && handled.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(handled).toEqual(["queued-later"]);
  });
});

describe("looking for jobs of a dead worker", () => {
  it("looks on the first round, then at most every few seconds: a wake-up is not a query", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const timed = await openStore({
      path: join(dir.path, "orphans.db"),
      env: {},
      clock: () => new Date(now),
    });
    try {
      const runner = new ScanJobRunner({ store: timed, concurrency: 1, handle: async () => {} });
      expect(await runner.fill()).toBe(0);
      const job = (
        await timed.jobs.enqueue<ScanPayload>({
          kind: SCAN_KIND,
          key: "orphan",
          queue: SCAN_KIND,
          payload,
          maxAttempts: 3,
        })
      ).job;
      await timed.jobs.claim({
        kind: SCAN_KIND,
        owner: `${hostname()}:2147483646:deadbeef`,
        leaseMs: 3_600_000,
        limit: 1,
      });
      // Woken a moment later: the dead worker's job is not looked for again yet.
      now += ORPHAN_CHECK_MS - 1;
      expect(await runner.fill()).toBe(0);
      expect((await timed.jobs.byId(job.id))?.state).toBe("running");
      now += 1;
      expect(await runner.fill()).toBe(1);
      await runner.stop();
      expect(await timed.jobs.byId(job.id)).toMatchObject({ state: "done", attempts: 1 });
      expect(await timed.audit.list({ action: "scan.resume" })).toHaveLength(1);
    } finally {
      await timed.close();
    }
  });
});

/**
 * A runner that batches jobs by repository (the key up to its last ':'), as the scan stage batches pushes, on a
 * store of its own; the batch of `a:1` holds its slot until `finish()`. `batches` lists what each batch took.
 */
async function batchingRunner(name: string, options: { pollMs?: number } = {}) {
  const store = await openStore({ path: join(dir.path, `${name}.db`), env: {} });
  const kind = name;
  const add = (key: string) => store.jobs.enqueue({ kind, key, queue: kind, payload: {}, maxAttempts: 3 });
  let finish: () => void = () => {};
  const holding = new Promise<void>((resolve) => (finish = resolve));
  const batches: string[][] = [];
  const group = (key: string) => key.slice(0, key.lastIndexOf(":") + 1);
  const runner = new StageRunner<unknown>({
    store,
    kind,
    concurrency: 2,
    ...options,
    handle: async () => {},
    batch: {
      group: (job) => group(job.key),
      companions: (job, claim) =>
        store.jobs.claimSiblings({
          kind,
          ...claim,
          keyPrefix: group(job.key),
          maxPriority: job.priority,
          limit: 9,
        }),
      handle: async (jobs) => {
        batches.push(jobs.map((j) => j.key));
        if (jobs[0]?.key === "a:1") await holding;
        return jobs.map(() => undefined);
      },
    },
  });
  return { store, runner, add, batches, finish: () => finish() };
}

describe("a batch running here", () => {
  it("keeps its repository's next pushes from taking a second slot: that slot goes to another repository", async () => {
    const { store: grouped, runner, add, batches, finish } = await batchingRunner("grouped");
    try {
      await add("a:1");
      expect(await runner.fill()).toBe(1);
      await until(() => batches.length === 1);
      await add("a:2");
      await add("b:1");
      // The free slot takes b's push, not a's: a:2 waits for a's batch without holding a slot.
      expect(await runner.fill()).toBe(1);
      await until(() => batches.length === 2);
      expect(batches[1]).toEqual(["b:1"]);
      expect((await grouped.jobs.byKey("a:2"))?.state).toBe("pending");
      finish();
      await runner.drain(5_000);
      expect(batches).toEqual([["a:1"], ["b:1"], ["a:2"]]);
    } finally {
      finish();
      await runner.stop();
      await grouped.close();
    }
  });
});

describe("a batch that ends while its repository has more pushes", () => {
  it("goes on with them in the same slot, holding its lock, without a new claim from the queue", async () => {
    const { store: drained, runner, add, batches, finish } = await batchingRunner("drained");
    const claims = vi.spyOn(drained.jobs, "claim");
    try {
      await add("a:1");
      expect(await runner.fill()).toBe(1);
      await until(() => batches.length === 1);
      await add("a:2");
      await add("a:3");
      const looked = claims.mock.calls.length;
      finish();
      await until(() => batches.length === 2);
      expect(batches[1]).toEqual(["a:2", "a:3"]);
      expect(claims.mock.calls.length).toBe(looked);
      await until(() => runner.running === 0);
      for (const key of ["a:2", "a:3"])
        expect(await drained.jobs.byKey(key)).toMatchObject({ state: "done", attempts: 1 });
    } finally {
      finish();
      await runner.stop();
      await drained.close();
    }
  });
});

describe("waking for a job", () => {
  it("is not woken for its batch's repository: the batch takes the push when it ends; another repository's wakes it", async () => {
    // No look at the queue but when woken, or when a job ends.
    const {
      store: grouped,
      runner,
      add,
      batches,
      finish,
    } = await batchingRunner("woken", { pollMs: 60_000 });
    const claims = vi.spyOn(grouped.jobs, "claim");
    try {
      runner.start();
      await add("a:1");
      runner.notify("a:1");
      await until(() => batches.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const looked = claims.mock.calls.length;
      // a's batch runs: a's next push does not wake the runner, which would find nothing it may take.
      await add("a:2");
      runner.notify("a:2");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(claims.mock.calls.length).toBe(looked);
      // Another repository's push does, and takes the free slot.
      await add("b:1");
      runner.notify("b:1");
      await until(() => batches.length === 2);
      expect(batches[1]).toEqual(["b:1"]);
      expect(claims.mock.calls.length).toBeGreaterThan(looked);
      // a's batch ends, and the runner takes a's push at once.
      expect((await grouped.jobs.byKey("a:2"))?.state).toBe("pending");
      finish();
      await until(() => batches.length === 3);
      expect(batches).toEqual([["a:1"], ["b:1"], ["a:2"]]);
    } finally {
      finish();
      await runner.stop();
      await grouped.close();
    }
  });
});

async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(ready()).toBe(true);
}
